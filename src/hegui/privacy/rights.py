"""User rights over personal information (PIPL Arts 44–47; Measures Art 11): access/export,
correction, deletion, account cancellation.

Deletion removes the *content* a user gave or received — the sealed conversation in every audit
record, complaint texts and contacts, request details, consent — while the audit *metadata* (time,
endpoint, decision, hashes) stays, because network logs must be kept ≥ 6 months (Cybersecurity
Law Art 21) and the hash chain must keep verifying. Sanction records stay as the law requires
records of measures taken (Measures Art 14).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update

from hegui.audit.log import open_content
from hegui.cases.common import iso, open_text, rowcount
from hegui.errors import InvalidInputError, NotFoundError
from hegui.privacy.consent import get_consent
from hegui.privacy.crypto import DecryptionError
from hegui.store.models.audit import AuditRecord
from hegui.store.models.cases import CaseNote, Complaint, PiRequest, Sanction
from hegui.store.models.identity import User
from hegui.store.models.privacy import PrivacyConsent

if TYPE_CHECKING:
    from hegui.context import HeguiContext

CORRECTABLE = ("name",)


def export_user_data(ctx: HeguiContext, user_id: str) -> dict[str, Any]:
    """Everything hegui holds about a user, decrypted, as one JSON-able document."""
    keys = ctx.keys
    with ctx.db.session() as s:
        user = s.get(User, user_id)
        if user is None:
            raise NotFoundError(f"no user with id {user_id!r}")
        account = {"user_id": user.id, "name": user.name, "role": user.role, "status": user.status,
                   "created_at": iso(user.created_at)}
        records = []
        for r in s.scalars(select(AuditRecord).where(AuditRecord.user_id == user_id).order_by(AuditRecord.seq)):
            content: Any = None
            if r.content is not None:
                try:
                    content = open_content(keys, r.record_id, r.content)
                except DecryptionError:
                    content = "(sealed with a key this installation no longer holds)"
            records.append({"record_id": r.record_id, "ts": iso(r.ts), "endpoint": r.endpoint, "model": r.model,
                            "decision": r.decision, "categories": [c for c in r.categories.split(",") if c],
                            "content": content, "content_deleted_at": iso(r.content_purged_at)})
        complaints = [{"ticket": c.ticket, "category": c.category, "status": c.status,
                       "created_at": iso(c.created_at), "outcome": c.outcome,
                       "description": open_text(keys, c.description, f"description:{c.id}")}
                      for c in s.scalars(select(Complaint).where(Complaint.user_id == user_id)
                                         .order_by(Complaint.created_at))]
        requests = [{"id": p.id, "kind": p.kind, "status": p.status, "created_at": iso(p.created_at),
                     "due_at": iso(p.due_at), "completed_at": iso(p.completed_at)}
                    for p in s.scalars(select(PiRequest).where(PiRequest.user_id == user_id)
                                       .order_by(PiRequest.created_at))]
        sanctions = [{"step": x.step, "reason": x.reason, "created_at": iso(x.created_at), "until": iso(x.until),
                      "lifted_at": iso(x.lifted_at)}
                     for x in s.scalars(select(Sanction).where(Sanction.user_id == user_id).order_by(Sanction.id))]
    return {"account": account, "consent": get_consent(ctx, user_id), "conversations": records,
            "complaints": complaints, "requests": requests, "sanctions": sanctions}


def render_text(doc: dict[str, Any]) -> str:
    """The export as readable text (Markdown): what a user sees when they ask "what do you hold on me"."""
    a = doc["account"]
    lines = ["# Your personal data at this service (个人信息副本)", "",
             f"- Account: {a['name']} ({a['user_id']}), status {a['status']}, since {a['created_at']}",
             f"- Training use of your conversations: {'allowed' if doc['consent']['training_use'] else 'not allowed'}",
             "", f"## Conversations ({len(doc['conversations'])})", ""]
    for r in doc["conversations"]:
        lines.append(f"### {r['ts']} — {r['endpoint']} ({r['decision']})")
        c = r["content"]
        if isinstance(c, dict):
            req = c.get("request")
            if isinstance(req, list):
                for m in req:
                    if isinstance(m, dict):
                        lines.append(f"- **{m.get('role', '?')}**: {m.get('content', '')}")
            elif req is not None:
                lines.append(f"- **input**: {req}")
            if c.get("answer") is not None:
                lines.append(f"- **answer**: {c['answer']}")
        elif r["content_deleted_at"]:
            lines.append(f"- content deleted {r['content_deleted_at']}")
        lines.append("")
    for title, key in (("Complaints", "complaints"), ("Requests", "requests"), ("Sanctions", "sanctions")):
        lines += [f"## {title} ({len(doc[key])})", ""]
        lines += ["- " + ", ".join(f"{k}: {v}" for k, v in item.items() if v is not None) for item in doc[key]]
        lines.append("")
    return "\n".join(lines)


def delete_user_content(ctx: HeguiContext, user_id: str, now: datetime, keep_request: str | None = None
                        ) -> dict[str, int]:
    """Delete a user's content and derived personal data; audit metadata and sanctions stay."""
    with ctx.db.session() as s:
        if s.get(User, user_id) is None:
            raise NotFoundError(f"no user with id {user_id!r}")
        audit = rowcount(s.execute(update(AuditRecord).where(
            AuditRecord.user_id == user_id, AuditRecord.content.is_not(None)).values(
            content=None, content_purged_at=now)))
        cids = list(s.scalars(select(Complaint.id).where(Complaint.user_id == user_id)))
        comp = 0
        if cids:
            comp = rowcount(s.execute(update(Complaint).where(Complaint.id.in_(cids))
                             .values(description=None, contact=None, contact_kind="none", text_purged_at=now)
                             ))
            s.execute(update(CaseNote).where(CaseNote.case_id.in_(cids)).values(text=None))
        stmt = update(PiRequest).where(PiRequest.user_id == user_id, PiRequest.detail.is_not(None))
        if keep_request:
            stmt = stmt.where(PiRequest.id != keep_request)
        reqs = rowcount(s.execute(stmt.values(detail=None)))
        consent = rowcount(s.execute(delete(PrivacyConsent).where(PrivacyConsent.user_id == user_id)))
    return {"audit_contents": int(audit), "complaint_texts": int(comp), "request_details": int(reqs),
            "consents": int(consent)}


def correct(ctx: HeguiContext, user_id: str, field: str, value: str) -> dict[str, str]:
    """Apply a correction to a field hegui holds (only the account name is user-supplied data)."""
    if field not in CORRECTABLE:
        raise InvalidInputError(f"field: only {', '.join(CORRECTABLE)} can be corrected here; "
                                "conversations can be deleted, not edited (they are the audit record)")
    value = value.strip()
    if not value or len(value) > 200:
        raise InvalidInputError("value: 1–200 characters")
    with ctx.db.session() as s:
        user = s.get(User, user_id)
        if user is None:
            raise NotFoundError(f"no user with id {user_id!r}")
        old = user.name
        user.name = value
    return {"field": field, "old": old, "new": value}
