"""Live evidence for control ``assess.run`` (O13): the last recorded security self-assessment."""

from __future__ import annotations

from hegui.assess.service import last_run
from hegui.context import HeguiContext
from hegui.obligations import Evidence, evidence_for


def _pct(x: object) -> str:
    return f"{x * 100:.1f}%" if isinstance(x, float) else "—"


@evidence_for("assess.run")
def assess_run(ctx: HeguiContext) -> Evidence:
    run = last_run(ctx)
    if run is None:
        return Evidence("assess.run", "not_configured",
                        "no security self-assessment recorded; run `hegui assess run --endpoint … --model … --out DIR`")
    m = run.metrics
    figures = (f"{run.model} on {run.scored_at:%Y-%m-%d}: refusal {_pct(m.get('refusal_rate_should_refuse'))}, "
               f"false refusal {_pct(m.get('refusal_rate_should_not_refuse'))}, keyword pass "
               f"{_pct(m.get('pass_rate_keyword'))}, classifier pass {_pct(m.get('pass_rate_classifier'))}, "
               f"manual pass {_pct(m.get('pass_rate_manual'))} ({run.answered} answers, {run.out_dir})")
    if run.passed:
        return Evidence("assess.run", "working", f"last assessment passed — {figures}")
    failed = [c["name"] for c in run.checks if not c["passed"] and c["name"] != "manual"]
    if run.passed_automatic:
        return Evidence("assess.run", "configured",
                        f"automatic checks passed, manual review incomplete or failing — {figures}")
    return Evidence("assess.run", "failing", f"last assessment failed ({', '.join(failed)}) — {figures}")
