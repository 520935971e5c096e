"""The rectification tracker (Measures Art 14; draft Art 15: prevent regeneration within 3 months).

A confirmed violation yields follow-ups — a lexicon term, a classifier example, a test-bank
question, a model fix — each with a deadline of ``deadlines.rectification_days`` and a status.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from hegui.cases.common import Clock, aware, iso, utc_now
from hegui.errors import InvalidInputError, NotFoundError
from hegui.store.models.cases import RectificationItem

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hegui.context import HeguiContext

KINDS: dict[str, str] = {
    "lexicon_term": "add or refine a lexicon term so the input is caught",
    "classifier_example": "add the case as a classifier training example",
    "test_question": "add a question to the assessment bank so the fix is tested",
    "model_fix": "fine-tune / re-align the model so it does not generate this again",
}
STATUSES = ("open", "in_progress", "done", "cancelled")
OPEN = ("open", "in_progress")


class RectificationService:
    def __init__(self, ctx: HeguiContext, clock: Clock = utc_now) -> None:
        self.ctx, self.clock = ctx, clock

    def _view(self, r: RectificationItem) -> dict[str, Any]:
        return {"id": r.id, "incident_id": r.incident_id, "kind": r.kind, "description": r.description,
                "status": r.status, "created_at": iso(r.created_at), "due_at": iso(r.due_at),
                "done_at": iso(r.done_at), "note": r.note,
                "overdue": r.status in OPEN and aware(r.due_at) < self.clock()}

    def create_in(self, s: Session, incident_id: str | None, kind: str, description: str) -> RectificationItem:
        if kind not in KINDS:
            raise InvalidInputError(f"kind: expected one of {', '.join(KINDS)}, got {kind!r}")
        now = self.clock()
        item = RectificationItem(incident_id=incident_id, kind=kind, description=description[:4000], status="open",
                                 created_at=now,
                                 due_at=now + timedelta(days=self.ctx.pack.deadlines.rectification_days))
        s.add(item)
        s.flush()
        return item

    def add(self, kind: str, description: str, incident_id: str | None = None) -> dict[str, Any]:
        if not description.strip():
            raise InvalidInputError("description: must not be empty")
        with self.ctx.db.session() as s:
            return self._view(self.create_in(s, incident_id, kind, description.strip()))

    def update(self, item_id: int, status: str, note: str | None = None) -> dict[str, Any]:
        if status not in STATUSES:
            raise InvalidInputError(f"status: expected one of {', '.join(STATUSES)}, got {status!r}")
        with self.ctx.db.session() as s:
            r = s.get(RectificationItem, item_id)
            if r is None:
                raise NotFoundError(f"no rectification item {item_id}")
            r.status = status
            r.done_at = self.clock() if status in ("done", "cancelled") else None
            if note:
                r.note = note[:4000]
            return self._view(r)

    def search(self, status: str | None = None, overdue: bool = False,
             incident_id: str | None = None) -> list[dict[str, Any]]:
        stmt = select(RectificationItem).order_by(RectificationItem.due_at, RectificationItem.id)
        if status:
            if status not in STATUSES:
                raise InvalidInputError(f"status: expected one of {', '.join(STATUSES)}, got {status!r}")
            stmt = stmt.where(RectificationItem.status == status)
        if incident_id:
            stmt = stmt.where(RectificationItem.incident_id == incident_id)
        if overdue:
            stmt = stmt.where(RectificationItem.status.in_(OPEN), RectificationItem.due_at < self.clock())
        with self.ctx.db.session() as s:
            return [self._view(r) for r in s.scalars(stmt)]
