"""Evidence for O15 (network logs ≥ 6 months): the chain verifies, and retention keeps ≥ 183 days."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hegui.audit import log as audit_log
from hegui.obligations import Evidence, evidence_for

if TYPE_CHECKING:
    from hegui.context import HeguiContext


@evidence_for("audit.log")
def audit_log_evidence(ctx: HeguiContext) -> Evidence:
    res = audit_log.verify(ctx.db, max_problems=3)
    if not res.ok:
        return Evidence("audit.log", "failing", f"audit chain broken: {'; '.join(res.problems)}")
    if res.records == 0:
        return Evidence("audit.log", "configured", "hash-chained audit log ready; no exchange recorded yet")
    st = audit_log.stats(ctx.db)
    return Evidence("audit.log", "working",
                    f"{res.records} exchanges recorded {st['first']} … {st['last']}; hash chain verifies")


@evidence_for("audit.retention")
def audit_retention_evidence(ctx: HeguiContext) -> Evidence:
    r = ctx.pack.retention
    if r.audit_content_days < 183 or r.audit_metadata_days < 183:
        return Evidence("audit.retention", "failing", f"retention below 6 months ({r.clause})")
    return Evidence("audit.retention", "configured",
                    f"content kept {r.audit_content_days} days, then purged by `hegui audit purge` "
                    f"(metadata chain kept; metadata retention {r.audit_metadata_days} days) — {r.clause}")
