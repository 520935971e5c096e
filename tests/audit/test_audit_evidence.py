"""O15 evidence reflects the real state of the audit chain."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import update

from hegui.audit import log as audit_log
from hegui.audit.evidence import audit_log_evidence, audit_retention_evidence
from hegui.audit.log import Exchange
from hegui.context import HeguiContext
from hegui.store.models.audit import AuditRecord


def _append(ctx: HeguiContext, n: int) -> None:
    audit_log.append(ctx.db, ctx.keys, [Exchange(record_id=str(uuid.uuid4()), ts=datetime.now(UTC),
                                                 endpoint="chat.completions", status_code=200, decision="allow")
                                        for _ in range(n)])


def test_empty_log_is_configured(ctx: HeguiContext) -> None:
    assert audit_log_evidence(ctx).status == "configured"


def test_recorded_chain_is_working_and_tampering_is_failing(ctx: HeguiContext) -> None:
    _append(ctx, 2)
    ev = audit_log_evidence(ctx)
    assert ev.status == "working" and "2 exchanges" in ev.detail
    with ctx.db.engine.begin() as c:
        c.execute(update(AuditRecord).where(AuditRecord.seq == 1).values(status_code=500))
    assert audit_log_evidence(ctx).status == "failing"


def test_retention_follows_the_pack(ctx: HeguiContext) -> None:
    ev = audit_retention_evidence(ctx)
    assert ev.status == "configured" and str(ctx.pack.retention.audit_content_days) in ev.detail
