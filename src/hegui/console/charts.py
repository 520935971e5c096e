"""Inline SVG charts drawn on the server: no chart library, no script, readable without JavaScript.

Every function returns ``Markup`` (safe to embed) built only from numbers and escaped labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

# one colour per top-level risk category (A1 … A5, J) and for "allow" traffic
PALETTE: dict[str, str] = {
    "A1": "#c0392b", "A2": "#d35400", "A3": "#8e44ad", "A4": "#2471a3", "A5": "#16a085", "J": "#7f8c8d",
    "other": "#95a5a6",
}


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    mag = 10 ** (len(str(int(v))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if v <= step * mag:
            return float(step * mag)
    return float(10 * mag)


def stacked_bars(days: Sequence[str], series: Mapping[str, Sequence[int]], *, title: str, width: int = 640,
                 height: int = 220, colours: dict[str, str] | None = None, legend: bool = True) -> Markup:
    """Stacked columns, one per day, one colour per series key, with a y axis and (``legend``) a legend
    of the keys (pass ``legend=False`` and draw an HTML legend when the labels are long)."""
    colours = colours or PALETTE
    left, bottom, top, right = 40, 28, 12, 10
    plot_w, plot_h = width - left - right, height - bottom - top
    totals = [sum(s[i] for s in series.values()) for i in range(len(days))]
    ymax = _nice_max(max(totals, default=0))
    n = max(len(days), 1)
    slot = plot_w / n
    bar = max(min(slot * 0.7, 36), 2)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height + (22 if legend else 0)}" role="img" '
             f'aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>"]
    for k in range(5):
        y = top + plot_h - plot_h * k / 4
        label = ymax * k / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">{label:g}</text>')
    for i, day in enumerate(days):
        x = left + slot * i + (slot - bar) / 2
        y = top + plot_h
        for key, values in series.items():
            v = values[i]
            if not v:
                continue
            h = plot_h * v / ymax
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{colours.get(key, PALETTE["other"])}"><title>{escape(day)} {escape(key)}: {v}'
                         "</title></rect>")
        if n <= 14 or i % max(n // 7, 1) == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 16}" class="axis" '
                         f'text-anchor="middle">{escape(day[5:])}</text>')
    lx = left
    for key in series if legend else ():
        parts.append(f'<rect x="{lx}" y="{height + 8}" width="10" height="10" '
                     f'fill="{colours.get(key, PALETTE["other"])}"/>')
        parts.append(f'<text x="{lx + 14}" y="{height + 17}" class="legend">{escape(key)}</text>')
        lx += 24 + 8 * len(key)
    parts.append("</svg>")
    return Markup("".join(parts))


def hbars(items: Sequence[tuple[str, int]], *, title: str, width: int = 360, colour: str = "#2471a3") -> Markup:
    """Horizontal bars with labels on the left (top terms, counts per category)."""
    row, label_w = 22, 120
    height = max(len(items), 1) * row + 4
    vmax = max((v for _, v in items), default=0) or 1
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f"<title>{escape(title)}</title>"]
    for i, (label, v) in enumerate(items):
        y = i * row + 2
        w = (width - label_w - 40) * v / vmax
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" class="axis" text-anchor="end">{escape(label[:14])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row - 8}" rx="2" '
                     f'fill="{colour}"/>')
        parts.append(f'<text x="{label_w + w + 5:.1f}" y="{y + 14}" class="axis">{v}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline(values: Sequence[int], *, width: int = 120, height: int = 28, colour: str = "#2471a3") -> Markup:
    """A small trend line for a figure card."""
    if not values:
        return Markup("")
    vmax = max(values) or 1
    step = width / max(len(values) - 1, 1)
    pts = " ".join(f"{i * step:.1f},{height - 2 - (height - 4) * v / vmax:.1f}" for i, v in enumerate(values))
    return Markup(f'<svg class="spark" viewBox="0 0 {width} {height}" aria-hidden="true">'
                  f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/></svg>')
