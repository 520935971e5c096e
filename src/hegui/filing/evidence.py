"""Live evidence for control ``filing.documents`` (O13, O14): the last filing build."""

from __future__ import annotations

from sqlalchemy import select

from hegui.context import HeguiContext
from hegui.obligations import Evidence, evidence_for
from hegui.store.models.assess import FilingBuild


@evidence_for("filing.documents")
def filing_documents(ctx: HeguiContext) -> Evidence:
    with ctx.db.session() as s:
        b = s.scalar(select(FilingBuild).order_by(FilingBuild.built_at.desc(), FilingBuild.id.desc()).limit(1))
    if b is None:
        return Evidence("filing.documents", "not_configured",
                        "no filing documents built; run `hegui filing build --out DIR`")
    summary = ", ".join(f"{k} {v}" for k, v in b.clause_summary.items())
    detail = (f"built {b.built_at:%Y-%m-%d} in {b.out_dir}: clauses {summary}; "
              f"assessment {b.assessment_run_id[:8] if b.assessment_run_id else 'none'}")
    if b.missing_facts or not b.assessment_run_id:
        missing = f"; missing facts: {', '.join(f.split(' ', 1)[0] for f in b.missing_facts)}" if b.missing_facts \
            else ""
        return Evidence("filing.documents", "configured", detail + missing)
    return Evidence("filing.documents", "working", detail)
