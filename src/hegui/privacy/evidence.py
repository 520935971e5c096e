"""Live evidence for O7: encryption at rest, the egress allow-list, retention purges."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from hegui.cases.common import aware, utc_now
from hegui.obligations import Evidence, evidence_for
from hegui.privacy.egress import EgressDenied, allowed_hosts, check_destination
from hegui.store.models.audit import AuditRecord
from hegui.store.models.privacy import PurgeRun

if TYPE_CHECKING:
    from hegui.context import HeguiContext


@evidence_for("privacy.encryption")
def encryption_evidence(ctx: HeguiContext) -> Evidence:
    keys = ctx.keys
    with ctx.db.session() as s:
        sealed = s.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.content.is_not(None))) or 0
        clear = s.scalar(select(func.count()).select_from(AuditRecord).where(
            AuditRecord.content.is_not(None), AuditRecord.content.not_like("v1.%"))) or 0
        sample = s.execute(select(AuditRecord.record_id, AuditRecord.content).where(
            AuditRecord.content.is_not(None)).order_by(AuditRecord.seq.desc()).limit(1)).first()
    if clear:
        return Evidence("privacy.encryption", "failing", f"{clear} audit record(s) hold content that is not sealed")
    if sample is not None:
        from hegui.audit.log import open_content

        open_content(keys, sample.record_id, sample.content)  # raises (→ failing) if the key ring cannot read it
        return Evidence("privacy.encryption", "working", f"{sealed} conversation(s) sealed with AES-GCM "
                        f"(current key {keys.current_key_id}); newest one opens with the key ring")
    return Evidence("privacy.encryption", "configured", f"AES-GCM key ring ready (key {keys.current_key_id})")


@evidence_for("privacy.egress")
def egress_evidence(ctx: HeguiContext) -> Evidence:
    hosts = sorted(allowed_hosts(ctx.settings))
    outside = []
    for u in ctx.settings.upstreams:
        try:
            check_destination(ctx.settings, u.base_url)
        except EgressDenied:
            outside.append(u.name)
    if outside:
        return Evidence("privacy.egress", "failing", f"upstream(s) {', '.join(outside)} outside the egress allow-list "
                        "(their requests are refused)")
    if not hosts:
        return Evidence("privacy.egress", "not_configured", "no upstream configured: user content goes nowhere")
    masked = "PII tokenised toward the upstream" if ctx.settings.privacy.mask_pii_upstream else \
        "PII sent as typed (privacy.mask_pii_upstream: false)"
    return Evidence("privacy.egress", "working", f"user content only to {', '.join(hosts)}; {masked}")


@evidence_for("privacy.retention")
def retention_evidence(ctx: HeguiContext) -> Evidence:
    r = ctx.pack.retention
    with ctx.db.session() as s:
        last = s.scalar(select(func.max(PurgeRun.ts)))
    rule = (f"conversation content {max(r.audit_content_days, r.conversation_days)} d, closed cases "
            f"{r.closed_case_days} d ({r.clause})")
    if last is None:
        return Evidence("privacy.retention", "configured", f"{rule}; no purge has run yet (`hegui privacy purge`)")
    hours = ctx.settings.privacy.purge_interval_hours or 24
    if aware(last) < utc_now() - timedelta(hours=2 * hours + 1):
        return Evidence("privacy.retention", "failing", f"{rule}; last purge {aware(last).isoformat()} is overdue")
    return Evidence("privacy.retention", "working", f"{rule}; last purge {aware(last).isoformat()}")
