"""PI-rights requests as tracked cases with deadlines from the pack (GB/T 35273 §8.7, §8.5).

``access`` and ``export`` are self-service: fulfilled at once and recorded as completed.
``correction``, ``deletion`` and ``cancellation`` wait for staff, who complete them (which carries
out the action) or reject them with a reason, before ``due_at``: ``pi_request_days`` calendar days,
or ``cancellation_working_days`` working days (Mon–Fri) for an account cancellation.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from hegui.cases.common import Clock, add_working_days, aware, dumps, iso, new_id, open_text, seal_text, utc_now
from hegui.errors import InvalidInputError, NotFoundError
from hegui.identity import accounts
from hegui.privacy import rights
from hegui.store.models.cases import PiRequest
from hegui.store.models.identity import User

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hegui.context import HeguiContext

KINDS = ("access", "export", "correction", "deletion", "cancellation")
SELF_SERVICE = ("access", "export")
STATUSES = ("open", "completed", "rejected")


class PiRequestService:
    def __init__(self, ctx: HeguiContext, clock: Clock = utc_now) -> None:
        self.ctx, self.clock = ctx, clock

    def _view(self, p: PiRequest, with_detail: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"id": p.id, "user_id": p.user_id, "kind": p.kind, "status": p.status,
                               "created_at": iso(p.created_at), "due_at": iso(p.due_at),
                               "completed_at": iso(p.completed_at),
                               "result": json.loads(p.result) if p.result else None,
                               "overdue": p.status == "open" and aware(p.due_at) < self.clock()}
        if with_detail:
            raw = open_text(self.ctx.keys, p.detail, f"request:{p.id}")
            out["detail"] = json.loads(raw) if raw else None
        return out

    def due_for(self, kind: str) -> Any:
        now = self.clock()
        d = self.ctx.pack.deadlines
        if kind == "cancellation":
            return add_working_days(now, d.cancellation_working_days)
        return now + timedelta(days=d.pi_request_days)

    def submit(self, user_id: str, kind: str, detail: dict[str, Any] | None = None) -> dict[str, Any]:
        if kind not in KINDS:
            raise InvalidInputError(f"kind: expected one of {', '.join(KINDS)}, got {kind!r}")
        if kind == "correction":
            if not isinstance(detail, dict) or not isinstance(detail.get("field"), str) \
                    or not isinstance(detail.get("value"), str):
                raise InvalidInputError('detail: a correction needs {"field": ..., "value": ...} '
                                        f"(correctable: {', '.join(rights.CORRECTABLE)})")
            if detail["field"] not in rights.CORRECTABLE:
                raise InvalidInputError(f"detail.field: only {', '.join(rights.CORRECTABLE)} can be corrected")
        now = self.clock()
        rid = new_id("pir")
        with self.ctx.db.session() as s:
            if s.get(User, user_id) is None:
                raise NotFoundError(f"no user with id {user_id!r}")
            p = PiRequest(id=rid, user_id=user_id, kind=kind, status="open",
                          detail=seal_text(self.ctx.keys, dumps(detail), f"request:{rid}") if detail else None,
                          created_at=now, due_at=self.due_for(kind))
            s.add(p)
        if kind in SELF_SERVICE:
            return self.complete(rid, by=user_id)
        return self.get(rid)

    def _find(self, s: Session, rid: str) -> PiRequest:
        p = s.get(PiRequest, rid)
        if p is None:
            raise NotFoundError(f"no PI request {rid!r}")
        return p

    def get(self, rid: str, with_detail: bool = False) -> dict[str, Any]:
        with self.ctx.db.session() as s:
            return self._view(self._find(s, rid), with_detail)

    def search(self, user_id: str | None = None, status: str | None = None,
             overdue: bool = False) -> list[dict[str, Any]]:
        stmt = select(PiRequest).order_by(PiRequest.due_at)
        if user_id:
            stmt = stmt.where(PiRequest.user_id == user_id)
        if status:
            if status not in STATUSES:
                raise InvalidInputError(f"status: expected one of {', '.join(STATUSES)}, got {status!r}")
            stmt = stmt.where(PiRequest.status == status)
        if overdue:
            stmt = stmt.where(PiRequest.status == "open", PiRequest.due_at < self.clock())
        with self.ctx.db.session() as s:
            return [self._view(p) for p in s.scalars(stmt)]

    def complete(self, rid: str, by: str) -> dict[str, Any]:
        """Carry out the request and mark it completed (the result summary is kept, no content)."""
        with self.ctx.db.session() as s:
            p = self._find(s, rid)
            if p.status != "open":
                raise InvalidInputError(f"request {rid} is already {p.status}")
            kind, user_id = p.kind, p.user_id
            raw = open_text(self.ctx.keys, p.detail, f"request:{rid}")
        detail = json.loads(raw) if raw else {}
        now = self.clock()
        result: dict[str, Any]
        if kind in SELF_SERVICE:
            doc = rights.export_user_data(self.ctx, user_id)
            result = {"records": len(doc["conversations"]), "delivered": "to the requester via the user API"}
        elif kind == "correction":
            fixed = rights.correct(self.ctx, user_id, str(detail.get("field")), str(detail.get("value")))
            result = {"field": fixed["field"], "corrected": True}
        elif kind == "deletion":
            result = dict(rights.delete_user_content(self.ctx, user_id, now))
        else:  # cancellation
            result = dict(rights.delete_user_content(self.ctx, user_id, now))
            accounts.disable_user(self.ctx.db, user_id)
            result["account"] = "cancelled"
        with self.ctx.db.session() as s:
            p = self._find(s, rid)
            p.status, p.completed_at = "completed", now
            p.result = dumps({**result, "by": by})
            return self._view(p)

    def reject(self, rid: str, reason: str, by: str) -> dict[str, Any]:
        if not reason.strip():
            raise InvalidInputError("reason: rejecting a request needs a reason (it is sent to the requester)")
        with self.ctx.db.session() as s:
            p = self._find(s, rid)
            if p.status != "open":
                raise InvalidInputError(f"request {rid} is already {p.status}")
            p.status, p.completed_at = "rejected", self.clock()
            p.result = dumps({"reason": reason.strip()[:1000], "by": by})
            return self._view(p)
