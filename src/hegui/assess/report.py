"""``report.html``: the assessment on one self-contained page (inline SVG charts, no scripts)."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from hegui.policy.taxonomy import RISKS

_CSS = """
body{font-family:"WenQuanYi Micro Hei","Noto Sans CJK SC",sans-serif;margin:2em auto;max-width:1000px;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;font-size:.9em}td,th{border:1px solid #ddd;padding:4px 6px;text-align:left;
vertical-align:top}th{background:#f4f4f4}.ok{color:#1a7f37;font-weight:bold}.bad{color:#c62828;font-weight:bold}
.warn{color:#b26a00;font-weight:bold}.muted{color:#777}.verdict{font-size:1.3em;padding:.5em 1em;border-radius:4px;
display:inline-block}.verdict.ok{background:#e6f4ea}.verdict.bad{background:#fdecea}
"""


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def _status(check: dict[str, Any]) -> str:
    if check["passed"]:
        return '<span class="ok">通过 PASS</span>'
    if check["n"] == 0:
        return '<span class="warn">无数据 NO DATA</span>'
    if check["meets_threshold"] and not check["sample_sufficient"]:
        return '<span class="warn">样本不足 SAMPLE TOO SMALL</span>'
    return '<span class="bad">未通过 FAIL</span>'


def bar_chart(rows: list[tuple[str, float | None, float, str, tuple[float, float] | None]], width: int = 900) -> str:
    """Horizontal bars with a threshold tick and the 95% interval: (label, rate, threshold, op, ci)."""
    label_w, bar_w, row_h = 260, width - 260 - 70, 26
    h = row_h * len(rows) + 24
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" role="img" '
             f'font-size="12" font-family="sans-serif">']
    for pct in (0, 25, 50, 75, 100):
        x = label_w + bar_w * pct / 100
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{h - 18}" stroke="#eee"/>'
                     f'<text x="{x:.1f}" y="{h - 4}" text-anchor="middle" fill="#777">{pct}%</text>')
    for i, (label, rate, thr, op, ci) in enumerate(rows):
        y = i * row_h + 4
        ok = rate is not None and (rate >= thr if op == ">=" else rate <= thr)
        colour = "#2e7d32" if ok else "#c62828"
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="18" fill="#f5f5f5"/>')
        if rate is not None:
            parts.append(f'<rect x="{label_w}" y="{y}" width="{bar_w * rate:.1f}" height="18" fill="{colour}"/>')
            if ci:
                x1, x2 = label_w + bar_w * ci[0], label_w + bar_w * ci[1]
                parts.append(f'<line x1="{x1:.1f}" y1="{y + 9}" x2="{x2:.1f}" y2="{y + 9}" stroke="#000" '
                             f'stroke-width="1.5"/>')
            parts.append(f'<text x="{label_w + bar_w + 6}" y="{y + 14}">{_pct(rate)}</text>')
        else:
            parts.append(f'<text x="{label_w + 6}" y="{y + 14}" fill="#777">no data</text>')
        tx = label_w + bar_w * thr
        parts.append(f'<line x1="{tx:.1f}" y1="{y - 2}" x2="{tx:.1f}" y2="{y + 20}" stroke="#1565c0" '
                     f'stroke-width="2" stroke-dasharray="3,2"/>')
    parts.append("</svg>")
    return "".join(parts)


def render(doc: dict[str, Any]) -> str:
    """The HTML text of the report for one ``assessment.json`` document."""
    checks = doc["checks"]
    verdict = ('<span class="verdict ok">评估结论：通过 (PASSED)</span>' if doc["passed"] else
               '<span class="verdict bad">评估结论：未通过 (NOT PASSED)</span>')
    summary = bar_chart([(c["title"].split(" ", 1)[0], c["rate"], c["threshold"], c["op"],
                          tuple(c["ci95"]) if c["n"] else None) for c in checks])
    rows = "".join(
        f"<tr><td>{escape(c['title'])}</td><td>{_pct(c['rate'])}</td><td>{c['n']}</td>"
        f"<td>[{_pct(c['ci95'][0])}, {_pct(c['ci95'][1])}]</td><td>{c['op']} {_pct(c['threshold'])}</td>"
        f"<td>≥ {c['sample_min']}</td><td>{_status(c)}</td><td class='muted'>{escape(c['note'])}</td></tr>"
        for c in checks)
    thr = doc["thresholds"]["pass_rate_min"]
    risk_rows: list[tuple[str, float | None, float, str, tuple[float, float] | None]] = []
    for code, m in doc["per_risk"].items():
        name = RISKS[code].name_zh[:10] if code in RISKS else code
        risk_rows.append((f"{code} {name} 关键词", m["keyword"]["rate"], thr, ">=", None))
        risk_rows.append((f"{code} {name} 分类模型", m["classifier"]["rate"], thr, ">=", None))
    ref_rows: list[tuple[str, float | None, float, str, tuple[float, float] | None]] = [
        (f"{code} {RISKS[code].name_zh[:12] if code in RISKS else ''}", m["rate"],
         doc["thresholds"]["refusal_rate_should_refuse_min"], ">=", None)
        for code, m in doc["refusal_by_risk"].items()]
    nr_rows: list[tuple[str, float | None, float, str, tuple[float, float] | None]] = [
        (asp, m["rate"], doc["thresholds"]["refusal_rate_should_not_refuse_max"], "<=", None)
        for asp, m in doc["false_refusal_by_aspect"].items()]
    examples = []
    for c in checks:
        if not c["failing_examples"]:
            continue
        items = "".join(
            f"<tr><td>{escape(e['id'])}</td><td>{escape(e.get('risk') or e.get('aspect') or '')}</td>"
            f"<td>{escape(e['question'])}</td><td>{escape(e['answer'])}</td><td>{escape(e['why'] or '')}</td></tr>"
            for e in c["failing_examples"])
        examples.append(f"<h3>{escape(c['title'])}</h3><table><tr><th>id</th><th>risk</th><th>question</th>"
                        f"<th>answer</th><th>why</th></tr>{items}</table>")
    planned = ", ".join(f"{k}: {v}" for k, v in doc["planned"].items())
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>生成式人工智能服务安全评估报告 — {escape(doc['model'])}</title>
<style>{_CSS}</style></head><body>
<h1>生成内容安全评估与拒答评估报告<br><small>Security assessment of generated content and refusals</small></h1>
<p>{verdict}</p>
<table><tr><th>模型 model</th><td>{escape(doc['model'])}</td><th>接口 endpoint</th><td>{escape(doc['endpoint'])}
{' (via hegui gateway)' if doc['via_gateway'] else ''}</td></tr>
<tr><th>题库版本 banks</th><td>{escape(doc['bank_version'])}</td><th>策略包 pack</th>
<td>{escape(doc['pack']['name'])} {escape(doc['pack']['version'])}</td></tr>
<tr><th>抽样 planned</th><td>{escape(planned)}</td><th>已作答 answered</th>
<td>{doc['answered']} (unanswered {doc['unanswered']})</td></tr>
<tr><th>开始 started</th><td>{escape(doc['started_at'])}</td>
<th>评分 scored</th><td>{escape(doc['scored_at'])}</td></tr>
<tr><th>依据 clause</th><td colspan="3">{escape(doc['thresholds']['clause'])}</td></tr></table>
<h2>总体指标 Metrics against thresholds</h2>
{summary}
<p class="muted">Bars: rate; black line: Wilson 95% interval; dashed blue line: threshold.</p>
<table><tr><th>check</th><th>rate</th><th>n</th><th>95% CI</th><th>threshold</th><th>sample</th><th>result</th>
<th>note</th></tr>{rows}</table>
<h2>按风险的生成内容合格率 Pass rate per risk (generated-content bank)</h2>
{bar_chart(risk_rows) if risk_rows else '<p class="muted">no data</p>'}
<h2>按风险的应拒答率 Refusal rate per risk (should-refuse bank)</h2>
{bar_chart(ref_rows) if ref_rows else '<p class="muted">no data</p>'}
<h2>按方面的误拒率 False-refusal rate per aspect (should-not-refuse bank)</h2>
{bar_chart(nr_rows) if nr_rows else '<p class="muted">no data</p>'}
<h2>未通过样例 Failing examples</h2>
{''.join(examples) or '<p class="muted">none</p>'}
</body></html>
"""


def write_report(out_dir: Path, doc: dict[str, Any]) -> Path:
    path = out_dir / "report.html"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(render(doc), encoding="utf-8")
    tmp.replace(path)
    return path
