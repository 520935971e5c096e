"""Complaints and reports (投诉举报, Measures Art 15): intake, lifecycle, SLA clock, escalation, outcome.

Lifecycle: ``open → triage → in_progress → resolved | rejected`` (rejecting is possible from any
open state). The clock comes from the pack's ``deadlines``: acknowledged at once with a ticket
number, triaged within ``complaint_ack_hours``, closed within ``complaint_resolve_days``.
``escalate_overdue`` raises the escalation level of late complaints (1 = not triaged in time,
2 = not closed in time) and tells the operator. A complaint is committed before its ticket is
returned, so an acknowledged complaint survives a crash.
"""

from __future__ import annotations

import logging
import re
import secrets
import string
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hegui.cases.common import Clock, aware, iso, new_id, note, notes, open_text, seal_text, utc_now
from hegui.cases.notify import Message, Notifier, NotifyError, notifier_from_config
from hegui.errors import InvalidInputError, NotFoundError
from hegui.store.models.audit import AuditRecord
from hegui.store.models.cases import Complaint, Sanction

if TYPE_CHECKING:
    from hegui.context import HeguiContext

log = logging.getLogger("hegui.cases")

CATEGORIES: dict[str, str] = {
    "illegal_content": "illegal or harmful generated content (违法不良信息)",
    "pi_rights": "personal-information rights (个人信息权益)",
    "ip": "intellectual-property infringement (知识产权)",
    "other": "anything else, including appeals against a sanction (申诉)",
}
STATUSES = ("open", "triage", "in_progress", "resolved", "rejected")
CLOSED = frozenset({"resolved", "rejected"})
NEXT: dict[str, frozenset[str]] = {
    "open": frozenset({"triage", "rejected"}),
    "triage": frozenset({"in_progress", "resolved", "rejected"}),
    "in_progress": frozenset({"resolved", "rejected"}),
}
MAX_DESCRIPTION = 5000
MAX_RECORDS = 20
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_PHONE = re.compile(r"^\+?\d{6,15}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def contact_kind(contact: str | None) -> str:
    """``email``, ``sms`` or ``none``; anything else is refused so an outcome can always be delivered."""
    if contact is None or not contact.strip():
        return "none"
    c = contact.strip()
    if _EMAIL.match(c):
        return "email"
    if _PHONE.match(c.replace(" ", "").replace("-", "")):
        return "sms"
    raise InvalidInputError("contact: expected an e-mail address or a mobile number (digits, optional +)")


@dataclass(frozen=True, slots=True)
class Escalation:
    ticket: str
    level: int
    reason: str


class ComplaintService:
    """Every complaint operation; ``clock`` and ``notifier`` are injectable (tests never sleep)."""

    def __init__(self, ctx: HeguiContext, clock: Clock = utc_now, notifier: Notifier | None = None) -> None:
        self.ctx, self.clock = ctx, clock
        self.notifier = notifier if notifier is not None else notifier_from_config(ctx.settings.notify)

    # published process --------------------------------------------------------------------------
    def policy(self) -> dict[str, Any]:
        d = self.ctx.pack.deadlines
        return {
            "categories": CATEGORIES,
            "process": ["open", "triage", "in_progress", "resolved or rejected"],
            "time_limits": {"acknowledgement": "immediately, with a ticket number",
                            "triage_hours": d.complaint_ack_hours, "resolution_days": d.complaint_resolve_days,
                            "pi_request_days": d.pi_request_days,
                            "account_cancellation_working_days": d.cancellation_working_days},
            "feedback": "the outcome is sent to the contact given with the complaint (e-mail or SMS)",
            "appeals": "appeal a sanction by filing a complaint in category 'other' with the sanction id",
            "intake": {"method": "POST", "path": "/complaints"},
            "clause": d.clause,
        }

    # intake ------------------------------------------------------------------------------------
    def file(self, category: str, description: str, contact: str | None = None,
             record_ids: list[str] | tuple[str, ...] = (), user_id: str | None = None,
             sanction_id: int | None = None) -> dict[str, Any]:
        """Validate, commit, and return the acknowledgement (ticket number and deadlines)."""
        if category not in CATEGORIES:
            raise InvalidInputError(f"category: expected one of {', '.join(CATEGORIES)}, got {category!r}")
        text = (description or "").strip()
        if not text:
            raise InvalidInputError("description: must not be empty")
        if len(text) > MAX_DESCRIPTION:
            raise InvalidInputError(f"description: longer than {MAX_DESCRIPTION} characters")
        kind = contact_kind(contact)
        ids = list(dict.fromkeys(record_ids))
        if len(ids) > MAX_RECORDS:
            raise InvalidInputError(f"record_ids: at most {MAX_RECORDS} audit records per complaint")
        bad = [r for r in ids if not _UUID.match(r)]
        if bad:
            raise InvalidInputError(f"record_ids: {bad[0]!r} is not an audit record id (the x-hegui-request-id "
                                    "header of an answer)")
        now = self.clock()
        d = self.ctx.pack.deadlines
        cid = new_id("cmp")
        ticket = "HG" + now.strftime("%Y%m%d") + "-" + "".join(
            secrets.choice(string.ascii_uppercase + string.digits) for _ in range(6))
        keys = self.ctx.keys
        with self.ctx.db.session() as s:
            if ids:
                found = set(s.scalars(select(AuditRecord.record_id).where(AuditRecord.record_id.in_(ids))))
                missing = [r for r in ids if r not in found]
                if missing:
                    raise InvalidInputError(f"record_ids: no audit record {missing[0]!r}")
            if sanction_id is not None and s.get(Sanction, sanction_id) is None:
                raise InvalidInputError(f"sanction_id: no sanction {sanction_id}")
            c = Complaint(id=cid, ticket=ticket, category=category, status="open", user_id=user_id,
                          contact_kind=kind, contact=seal_text(keys, contact.strip() if contact else None,
                                                               f"contact:{cid}") if kind != "none" else None,
                          description=seal_text(keys, text, f"description:{cid}"), record_ids=",".join(ids),
                          sanction_id=sanction_id, created_at=now,
                          ack_due=now + timedelta(hours=d.complaint_ack_hours),
                          due_at=now + timedelta(days=d.complaint_resolve_days), escalation_level=0)
            s.add(c)
            note(s, keys, cid, user_id or "public", "filed", None, now)
        return {"ticket": ticket, "id": cid, "status": "open", "received_at": iso(now),
                "triage_due": iso(now + timedelta(hours=d.complaint_ack_hours)),
                "resolution_due": iso(now + timedelta(days=d.complaint_resolve_days))}

    # reading -------------------------------------------------------------------------------------
    def _find(self, s: Session, ref: str) -> Complaint:
        c = s.get(Complaint, ref) or s.scalars(select(Complaint).where(Complaint.ticket == ref)).first()
        if c is None:
            raise NotFoundError(f"no complaint with id or ticket {ref!r}")
        return c

    def _view(self, s: Session, c: Complaint, full: bool) -> dict[str, Any]:
        now = self.clock()
        out: dict[str, Any] = {
            "id": c.id, "ticket": c.ticket, "category": c.category, "status": c.status, "user_id": c.user_id,
            "assignee": c.assignee, "record_ids": [r for r in c.record_ids.split(",") if r],
            "sanction_id": c.sanction_id, "created_at": iso(c.created_at), "triage_due": iso(c.ack_due),
            "resolution_due": iso(c.due_at), "overdue": c.status not in CLOSED and aware(c.due_at) < now,
            "escalation_level": c.escalation_level, "closed_at": iso(c.closed_at), "outcome": c.outcome,
            "notified_at": iso(c.notified_at), "contact_kind": c.contact_kind,
        }
        if full:
            keys = self.ctx.keys
            out["description"] = open_text(keys, c.description, f"description:{c.id}")
            out["contact"] = open_text(keys, c.contact, f"contact:{c.id}")
            out["notes"] = notes(s, keys, c.id)
        return out

    def get(self, ref: str, full: bool = True) -> dict[str, Any]:
        with self.ctx.db.session() as s:
            return self._view(s, self._find(s, ref), full)

    def status_for_ticket(self, ticket: str) -> dict[str, Any]:
        """What the public may see by ticket number: status, deadlines, outcome; no text, no contact."""
        with self.ctx.db.session() as s:
            c = s.scalars(select(Complaint).where(Complaint.ticket == ticket)).first()
            if c is None:
                raise NotFoundError(f"no complaint with ticket {ticket!r}")
            return {"ticket": c.ticket, "status": c.status, "category": c.category,
                    "received_at": iso(c.created_at), "resolution_due": iso(c.due_at), "outcome": c.outcome}

    def search(self, status: str | None = None, overdue: bool = False) -> list[dict[str, Any]]:
        if status is not None and status not in STATUSES:
            raise InvalidInputError(f"status: expected one of {', '.join(STATUSES)}, got {status!r}")
        stmt = select(Complaint).order_by(Complaint.due_at)
        if status:
            stmt = stmt.where(Complaint.status == status)
        if overdue:
            stmt = stmt.where(Complaint.status.not_in(CLOSED), Complaint.due_at < self.clock())
        with self.ctx.db.session() as s:
            return [self._view(s, c, False) for c in s.scalars(stmt)]

    # working a complaint -------------------------------------------------------------------------
    def assign(self, ref: str, assignee: str, by: str) -> dict[str, Any]:
        if not assignee.strip():
            raise InvalidInputError("assignee: must not be empty")
        with self.ctx.db.session() as s:
            c = self._find(s, ref)
            c.assignee = assignee.strip()[:40]
            note(s, self.ctx.keys, c.id, by, "assigned", c.assignee, self.clock())
            return self._view(s, c, False)

    def add_note(self, ref: str, by: str, text: str) -> dict[str, Any]:
        if not text.strip():
            raise InvalidInputError("note: must not be empty")
        with self.ctx.db.session() as s:
            c = self._find(s, ref)
            note(s, self.ctx.keys, c.id, by, "note", text.strip(), self.clock())
            return self._view(s, c, True)

    def move(self, ref: str, status: str, by: str, outcome: str | None = None,
             note_text: str | None = None) -> dict[str, Any]:
        """Change the status; closing needs an outcome, which is then sent to the complainant."""
        if status not in STATUSES:
            raise InvalidInputError(f"status: expected one of {', '.join(STATUSES)}, got {status!r}")
        if status in CLOSED and not (outcome or "").strip():
            raise InvalidInputError(f"an outcome text is required to mark a complaint {status}")
        now = self.clock()
        with self.ctx.db.session() as s:
            c = self._find(s, ref)
            allowed = NEXT.get(c.status, frozenset())
            if status not in allowed:
                raise InvalidInputError(f"complaint {c.ticket} is {c.status}; it can move to "
                                        f"{', '.join(sorted(allowed)) or 'nothing (closed)'}, not {status}")
            c.status = status
            if status in CLOSED:
                c.closed_at, c.outcome = now, (outcome or "").strip()[:4000]
            note(s, self.ctx.keys, c.id, by, status, note_text, now)
            cid = c.id
        if status in CLOSED:
            self.notify_outcome(cid)
        return self.get(cid)

    def notify_outcome(self, ref: str) -> bool:
        """Send the outcome to the complainant; the attempt (sent or failed) is written to the history."""
        keys = self.ctx.keys
        with self.ctx.db.session() as s:
            c = self._find(s, ref)
            if c.status not in CLOSED or c.contact_kind == "none" or c.contact is None:
                return False
            to = open_text(keys, c.contact, f"contact:{c.id}") or ""
            msg = Message("email" if c.contact_kind == "email" else "sms", to,
                          f"Complaint {c.ticket}: {c.status}", f"Your complaint {c.ticket} was {c.status}. "
                          f"{c.outcome or ''}".strip())
            cid = c.id
        now = self.clock()
        try:
            self.notifier.send(msg)
        except NotifyError as err:
            with self.ctx.db.session() as s:
                note(s, keys, cid, "system", "notify_failed", f"{self.notifier.name}: {err}", now)
            return False
        with self.ctx.db.session() as s:
            c = self._find(s, cid)
            c.notified_at = now
            note(s, keys, cid, "system", "notified", f"outcome sent by {self.notifier.name} ({c.contact_kind})", now)
        return True

    def escalate_overdue(self) -> list[Escalation]:
        """Raise the level of every late complaint and tell the operator; idempotent for one level."""
        now = self.clock()
        out: list[Escalation] = []
        with self.ctx.db.session() as s:
            late = s.scalars(select(Complaint).where(
                Complaint.status.not_in(CLOSED),
                or_(Complaint.due_at < now, (Complaint.status == "open") & (Complaint.ack_due < now)))).all()
            for c in late:
                level, reason = (2, "not closed within the resolution time limit") if aware(c.due_at) < now else \
                    (1, "not triaged within the acknowledgement time limit")
                if c.escalation_level >= level:
                    continue
                c.escalation_level, c.escalated_at = level, now
                note(s, self.ctx.keys, c.id, "system", "escalated", f"level {level}: {reason}", now)
                out.append(Escalation(c.ticket, level, reason))
        for e in out:
            log.warning("complaint %s escalated to level %d: %s", e.ticket, e.level, e.reason)
        return out
