"""The audit report: TC260-003 gates with their numbers, per source and for the whole corpus, as JSON
and as one self-contained HTML page with inline SVG charts (no scripts, no network)."""

from __future__ import annotations

import html
import json
import os
from typing import Any

from hegui.corpus.steps import LENGTH_BUCKETS
from hegui.policy.pack import CorpusGates
from hegui.policy.taxonomy import RISKS

PENDING = "pending"


def gate(passed: bool | None, value: float | int | None, threshold: float | int, clause: str,
         detail: str = "") -> dict[str, Any]:
    """One gate: ``passed`` is ``None`` (status ``pending``) while the data it needs is missing."""
    status = PENDING if passed is None else ("pass" if passed else "fail")
    return {"status": status, "passed": passed, "value": value, "threshold": threshold, "clause": clause,
            "detail": detail}


def unsafe_estimate(items: int, unsafe: int, keyword_unsafe: int, classified: int, classifier_only: int,
                    share: float) -> dict[str, Any]:
    """The unsafe ratio of ``items``, and how it was obtained.

    At classifier share 1.0 it is counted: ``unsafe / items``. Below, the classifier saw only
    ``classified`` of the items, so the ratio is estimated: the keyword detectors' unsafe items (all
    items were scanned by them) plus the classifier-only rate measured on the share, extrapolated to
    the items outside it. ``ratio`` is None when no item fell in the share (nothing to extrapolate)."""
    out: dict[str, Any] = {"estimated": share < 1.0, "classifier_share": share, "found_unsafe": unsafe,
                           "keyword_unsafe": keyword_unsafe, "classified": classified,
                           "classifier_only_unsafe": classifier_only,
                           "classifier_only_rate": classifier_only / classified if classified else None}
    if not items:
        return {**out, "ratio": None, "text": "no items read"}
    if share >= 1.0:
        return {**out, "ratio": unsafe / items, "text": f"{unsafe} of {items} items, every item scanned by all "
                                                        "detectors"}
    if not classified:
        return {**out, "ratio": None,
                "text": f"ESTIMATE NOT POSSIBLE: the classifier ran on a {share:.0%} share and no item of these "
                        f"{items} fell in it; keyword detectors alone find {keyword_unsafe} unsafe"}
    rate = classifier_only / classified
    ratio = min(1.0, keyword_unsafe / items + rate)
    return {**out, "ratio": ratio,
            "text": f"ESTIMATED: keyword detectors on all {items} items find {keyword_unsafe} unsafe "
                    f"({keyword_unsafe / items:.2%}); the classifier ran on a {share:.0%} share ({classified} items) "
                    f"and found {classifier_only} more unsafe ({rate:.2%}), extrapolated to all items"}


def source_gates(items: int, unsafe: int, missing_evidence: list[str], g: CorpusGates,
                 estimate: dict[str, Any] | None = None) -> dict[str, Any]:
    """``estimate`` (``unsafe_estimate``): the unsafe ratio to gate on when the classifier ran on a share."""
    ratio = unsafe / items if items else None
    detail = ("share of items the moderation engine refuses or blocks; above the threshold the source must not "
              "be collected / trained on" if items else "no items read")
    if estimate is not None and estimate["estimated"]:
        ratio = estimate["ratio"]
        detail = f"{detail}; {estimate['text']}" if items else detail
    return {
        "unsafe_ratio": gate(None if ratio is None else ratio <= g.source_unsafe_max, ratio, g.source_unsafe_max,
                             g.clause, detail),
        "provenance": gate(not missing_evidence, len(missing_evidence), 0, "TC260-003 §5.1 (verify)",
                           "missing evidence: " + ", ".join(missing_evidence) if missing_evidence
                           else "all evidence required for this kind of source is on file"),
    }


def review_gates(total: int, sample_size: int, reviewed: int, passed_count: int, g: CorpusGates) -> dict[str, Any]:
    need = min(g.manual_sample_min, total)
    rate = passed_count / reviewed if reviewed else None
    if reviewed < sample_size or sample_size == 0:
        review = gate(None, rate, g.manual_pass_min, g.clause,
                      f"{reviewed} of {sample_size} sampled items have a reviewer verdict; "
                      "import verdicts with `hegui corpus review import`")
    else:
        assert rate is not None
        review = gate(rate >= g.manual_pass_min, rate, g.manual_pass_min, g.clause,
                      f"{passed_count} of {reviewed} reviewed items pass")
    return {
        "manual_review_sample": gate(sample_size >= need if total else None, sample_size, need, g.clause,
                                     f"random sample of min({g.manual_sample_min}, all items) from the whole corpus"),
        "manual_review_pass": review,
    }


def auto_gates(total: int, scanned: int, unsafe: int, detectors: list[str], g: CorpusGates,
               estimate: dict[str, Any] | None = None) -> dict[str, Any]:
    """``scanned``: items the keyword detectors AND the classifier looked at (an item where a detector
    failed, or outside the classifier share, does not count). ``estimate`` (``unsafe_estimate`` of the
    whole corpus): with a classifier share below 1 the pass rate is estimated, and the gate says so;
    a share below the pack's ``auto_sample_ratio`` fails the sample gate whatever the items drawn."""
    ratio = scanned / total if total else None
    rate = 1 - unsafe / total if total else None
    share = estimate["classifier_share"] if estimate is not None else 1.0
    det = ("detectors: " + ", ".join(detectors)) if detectors else "detectors: as configured in the engine"
    has_classifier = any("classifier" in d or d.startswith("guard") for d in detectors)
    note = "" if has_classifier or not detectors else "; no classifier detector ran (keywords only)"
    sample_ok = None if ratio is None else ratio >= g.auto_sample_ratio and share >= g.auto_sample_ratio
    if share < 1.0:
        note += (f"; keyword detectors on every item, the classifier on a pseudo-random {share:.0%} share "
                 "(--classifier-share)")
        if share < g.auto_sample_ratio:
            note += f", below the required {g.auto_sample_ratio:.0%}"
    pass_detail = f"{total - unsafe} of {total} items pass"
    if estimate is not None and estimate["estimated"] and total:
        est = estimate["ratio"]
        rate = None if est is None else 1 - est
        pass_detail = estimate["text"]
    return {
        "auto_sample": gate(sample_ok, ratio, g.auto_sample_ratio, g.clause,
                            f"{scanned} of {total} items fully scanned by keyword and classifier "
                            f"detection; {det}{note}"),
        "auto_pass": gate(None if rate is None else rate >= g.auto_pass_min, rate, g.auto_pass_min, g.clause,
                          pass_detail),
    }


def apply_review(report: dict[str, Any], reviewed: int, passed_count: int, g: CorpusGates) -> dict[str, Any]:
    """Recompute the manual-review gates of a stored report after verdicts were imported."""
    report["gates"].update(review_gates(report["totals"]["items"], report["review"]["sample_size"], reviewed,
                                        passed_count, g))
    report["review"].update({"reviewed": reviewed, "passed": passed_count})
    return report


# -- HTML ------------------------------------------------------------------------------------------

_COLORS = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#be185d", "#4b5563")


def bar_chart(title: str, rows: list[tuple[str, float]], fmt: str = "{:,.0f}",
              threshold: float | None = None, color: str = "#2563eb") -> str:
    """A horizontal bar chart as inline SVG; an optional dashed threshold line."""
    esc = html.escape
    if not rows:
        return f'<figure><figcaption>{esc(title)}</figcaption><p class="muted">no data</p></figure>'
    label_w, bar_w, row_h = 170, 360, 22
    top = max([v for _, v in rows] + ([threshold] if threshold is not None else []) + [1e-12])
    h = row_h * len(rows) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 110}" height="{h}" '
             f'role="img" aria-label="{esc(title)}">']
    for i, (label, v) in enumerate(rows):
        y = 5 + i * row_h
        w = max(1.0, bar_w * v / top) if v > 0 else 0
        fill = "#dc2626" if threshold is not None and v > threshold else color
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12">{esc(label[:28])}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{fill}" rx="2"/>'
                     f'<text x="{label_w + w + 5:.1f}" y="{y + 15}" font-size="12">{esc(fmt.format(v))}</text>')
    if threshold is not None:
        x = label_w + bar_w * threshold / top
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{h}" stroke="#111" stroke-dasharray="4 3"/>'
                     f'<text x="{x + 3:.1f}" y="{h - 2}" font-size="10">limit {esc(fmt.format(threshold))}</text>')
    parts.append("</svg>")
    return f'<figure><figcaption>{esc(title)}</figcaption>{"".join(parts)}</figure>'


def _risk_label(code: str) -> str:
    r = RISKS.get(code)
    return f"{code} {r.name_zh}" if r else code


def _gate_rows(gates: dict[str, Any]) -> str:
    out = []
    for name, gt in gates.items():
        v = gt["value"]
        val = "—" if v is None else (f"{v:.2%}" if isinstance(v, float) else str(v))
        thr = gt["threshold"]
        thr_s = f"{thr:.2%}" if isinstance(thr, float) else str(thr)
        out.append(f'<tr><td>{html.escape(name)}</td><td class="{gt["status"]}">{gt["status"].upper()}</td>'
                   f"<td>{val}</td><td>{thr_s}</td><td>{html.escape(gt['clause'])}</td>"
                   f"<td>{html.escape(gt['detail'])}</td></tr>")
    return "".join(out)


_CSS = """
body{font-family:"WenQuanYi Micro Hei","Noto Sans CJK SC",system-ui,sans-serif;margin:24px;color:#111;max-width:1100px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f4f6}.pass{color:#15803d;font-weight:bold}.fail{color:#b91c1c;font-weight:bold}
.pending{color:#a16207;font-weight:bold}.muted{color:#6b7280}figure{display:inline-block;margin:8px 16px 8px 0;
vertical-align:top}figcaption{font-weight:bold;font-size:13px;margin-bottom:4px}
"""


def render_html(report: dict[str, Any]) -> str:
    esc = html.escape
    t = report["totals"]
    total = max(1, t["items"])
    srcs = report["sources"]
    charts = [
        bar_chart("Unsafe rate per source (不合格率)", [(s["name"], s["unsafe_ratio"] or 0.0) for s in srcs],
                  "{:.2%}", threshold=report["thresholds"]["source_unsafe_max"]),
        bar_chart("Unsafe rate per risk (whole corpus)",
                  [(_risk_label(c), n / total) for c, n in sorted(t["unsafe_by_risk"].items())], "{:.2%}",
                  color="#dc2626"),
        bar_chart("Personal information per type (个人信息)", sorted(t["pii_by_type"].items(), key=lambda x: -x[1]),
                  color="#7c3aed"),
        bar_chart("Languages (documents)", sorted(t["languages"].items(), key=lambda x: -x[1]), color="#0891b2"),
        bar_chart("Lengths (characters)", [(b, float(t["lengths"].get(b, 0))) for b, _ in LENGTH_BUCKETS],
                  color="#16a34a"),
        bar_chart("Duplicates per source (exact)", [(s["name"], float(s["exact_duplicates"])) for s in srcs],
                  color="#d97706"),
        bar_chart("Duplicates per source (near, MinHash)", [(s["name"], float(s["near_duplicates"])) for s in srcs],
                  color="#d97706"),
        bar_chart("Copyright / licence markers", sorted(t["markers"].items(), key=lambda x: -x[1]), color="#4b5563"),
    ]
    src_rows = "".join(
        f"<tr><td>{esc(s['name'])}</td><td>{esc(s['kind'])}</td><td>{s['items']:,}</td>"
        f"<td>{'—' if s['unsafe_ratio'] is None else format(s['unsafe_ratio'], '.2%')}</td>"
        f"<td>{s['pii_docs']:,}</td><td>{s['exact_duplicates']:,} / {s['near_duplicates']:,}</td>"
        f"<td>{s['restricted']:,}</td><td class=\"{'pass' if s['passed'] else 'fail'}\">"
        f"{'PASS' if s['passed'] else 'FAIL'}</td></tr>" for s in srcs)
    per_source = "".join(
        f"<h3>{esc(s['name'])} ({esc(s['kind'])})</h3><table><tr><th>gate</th><th>status</th><th>value</th>"
        f"<th>threshold</th><th>clause</th><th>detail</th></tr>{_gate_rows(s['gates'])}</table>"
        + _file_table(s) for s in srcs)
    findings = "".join(f"<li><b>{esc(f['severity'])}</b> {esc(f.get('source') or 'corpus')}: {esc(f['message'])}</li>"
                       for f in report["findings"]) or "<li>none</li>"
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>Corpus audit {esc(report['audit_id'])}</title><style>{_CSS}</style></head><body>
<h1>训练语料安全评估 · Training-corpus audit</h1>
<p class="muted">audit {esc(report['audit_id'])} · {esc(report['generated_at'])}
· policy pack {esc(report['pack']['name'])} {esc(report['pack']['version'])} · backend {esc(report['backend'])}
· {t['items']:,} items · {t['bytes']:,} bytes</p>
<h2>Whole-corpus gates (全部语料)</h2>
<table><tr><th>gate</th><th>status</th><th>value</th><th>threshold</th><th>clause</th><th>detail</th></tr>
{_gate_rows(report['gates'])}</table>
<h2>Sources (语料来源)</h2>
<table><tr><th>source</th><th>kind</th><th>items</th><th>unsafe</th><th>with PI</th><th>duplicates exact / near</th>
<th>no-reprint notices</th><th>result</th></tr>{src_rows}</table>
<h2>Charts</h2>{''.join(charts)}
<h2>Findings</h2><ul>{findings}</ul>
<h2>Per-source gates and files</h2>{per_source}
</body></html>"""


def _file_table(s: dict[str, Any]) -> str:
    bad = [f for f in s["files"] if f["problems"]]
    head = (f"<p class=\"muted\">{len(s['files'])} file(s); {len(bad)} with problems"
            + (" (first 50 shown)" if len(bad) > 50 else "") + "</p>")
    if not bad:
        return head
    rows = "".join(
        f"<tr><td>{html.escape(f['path'])}</td><td>{f['items']:,}</td><td>{f['broken']}</td><td>{f['bad_encoding']}</td>"
        f"<td>{f['recoded']}</td><td>{f['missing_text']}</td><td>{f['empty_text']}</td>"
        f"<td>{'yes' if f['empty_file'] else ''}</td><td>{html.escape(f['error'] or '')}</td></tr>" for f in bad[:50])
    return (head + "<table><tr><th>file</th><th>items</th><th>broken</th><th>bad encoding</th><th>recoded</th>"
            f"<th>missing text</th><th>empty text</th><th>empty file</th><th>error</th></tr>{rows}</table>")


def write_report(report: dict[str, Any], out_dir: str) -> None:
    """``report.json`` and ``report.html``, each written to a temporary name and renamed."""
    os.makedirs(out_dir, exist_ok=True)
    for name, body in (("report.json", json.dumps(report, ensure_ascii=False, indent=2)),
                       ("report.html", render_html(report))):
        tmp = os.path.join(out_dir, name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(body)
        os.replace(tmp, os.path.join(out_dir, name))
