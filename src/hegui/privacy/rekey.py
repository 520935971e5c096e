"""Re-seal stored personal data under the current key after a key rotation.

Covers the case tables' sealed columns (complaint text and contact, notes, request details).
Audit content is NOT re-sealed: its hash is part of the tamper-evident chain, so it stays under the
key it was written with — keep that key in ``old_secret_keys`` until the content is purged
(``retention.audit_content_days``); ``hegui privacy rekey`` reports how many such records remain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from hegui.privacy.crypto import reseal
from hegui.store.models.audit import AuditRecord
from hegui.store.models.cases import CaseNote, Complaint, PiRequest

if TYPE_CHECKING:
    from hegui.context import HeguiContext


def rekey(ctx: HeguiContext) -> dict[str, Any]:
    keys = ctx.keys
    counts = {"complaints": 0, "case_notes": 0, "pi_requests": 0}
    with ctx.db.session() as s:
        for c in s.scalars(select(Complaint)):
            for col, purpose in (("description", f"description:{c.id}"), ("contact", f"contact:{c.id}")):
                v = getattr(c, col)
                new = reseal(keys, v, purpose.encode("utf-8")) if v else None
                if new:
                    setattr(c, col, new)
                    counts["complaints"] += 1
        for n in s.scalars(select(CaseNote).where(CaseNote.text.is_not(None))):
            new = reseal(keys, n.text or "", f"note:{n.case_id}".encode())
            if new:
                n.text = new
                counts["case_notes"] += 1
        for p in s.scalars(select(PiRequest).where(PiRequest.detail.is_not(None))):
            new = reseal(keys, p.detail or "", f"request:{p.id}".encode())
            if new:
                p.detail = new
                counts["pi_requests"] += 1
        old_audit = s.scalar(select(func.count()).select_from(AuditRecord).where(
            AuditRecord.content.is_not(None), AuditRecord.content.not_like(f"v1.{keys.current_key_id}.%"))) or 0
    return {"resealed": counts, "current_key_id": keys.current_key_id,
            "audit_records_under_old_keys": int(old_audit)}
