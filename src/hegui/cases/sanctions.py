"""The sanctions ladder (Measures Art 14; TC260-003 §7): warn → restrict → suspend (timed) → terminate.

Every step is a row with its reason and evidence (audit record ids) and who applied it; nothing is
ever deleted, a lifted step keeps its row with the lift reason (e.g. an upheld appeal).

Automatic steps, driven by the pack's ``sanctions`` section: each violating input (an input the
policy refused) is recorded; the first of a (local) day earns a ``warn``; reaching
``consecutive_violations`` in a row (no accepted input between them) or ``daily_violations`` in one
day earns the next severe step of the ladder (``suspend`` for ``suspend_days``, then
``terminate``). ``restrict`` is applied by staff and blocks the pack's ``restricted_functions``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hegui.cases.common import Clock, aware, iso, utc_now
from hegui.errors import InvalidInputError, NotFoundError
from hegui.store.models.audit import AuditRecord
from hegui.store.models.cases import Sanction, Violation

if TYPE_CHECKING:
    from hegui.context import HeguiContext

STEPS = ("warn", "restrict", "suspend", "terminate")
BLOCKING_STEPS = ("terminate", "suspend", "restrict")  # strongest first
USER_INPUT_ENDPOINTS = ("chat.completions", "embeddings")


@dataclass(frozen=True, slots=True)
class Block:
    """An active sanction that limits what a user may do."""

    sanction_id: int
    step: str
    until: datetime | None
    reason: str

    def stops(self, endpoint: str, stream: bool, restricted: list[str]) -> bool:
        if self.step in ("suspend", "terminate"):
            return True
        fn = "stream" if stream and endpoint == "chat.completions" else \
            ("embeddings" if endpoint == "embeddings" else "chat")
        return fn in restricted or (fn == "stream" and "chat" in restricted)


def _view(r: Sanction) -> dict[str, Any]:
    return {"id": r.id, "user_id": r.user_id, "step": r.step, "reason": r.reason,
            "evidence": [e for e in r.evidence.split(",") if e], "created_at": iso(r.created_at),
            "created_by": r.created_by, "until": iso(r.until), "lifted_at": iso(r.lifted_at),
            "lift_reason": r.lift_reason}


class SanctionService:
    def __init__(self, ctx: HeguiContext, clock: Clock = utc_now) -> None:
        self.ctx, self.clock = ctx, clock
        self.rules = ctx.pack.sanctions

    # staff actions -------------------------------------------------------------------------------
    def apply(self, user_id: str, step: str, reason: str, by: str, evidence: list[str] | None = None,
              days: int | None = None) -> dict[str, Any]:
        if step not in STEPS:
            raise InvalidInputError(f"step: expected one of {', '.join(STEPS)}, got {step!r}")
        if step not in self.rules.ladder:
            raise InvalidInputError(f"step {step!r} is not on this policy pack's ladder "
                                    f"({', '.join(self.rules.ladder)})")
        if not reason.strip():
            raise InvalidInputError("reason: every sanction needs a reason")
        if days is not None and days <= 0:
            raise InvalidInputError("days: must be positive")
        with self.ctx.db.session() as s:
            return _view(self._apply(s, user_id, step, reason.strip(), by, evidence or [], days))

    def _apply(self, s: Session, user_id: str, step: str, reason: str, by: str, evidence: list[str],
               days: int | None) -> Sanction:
        now = self.clock()
        until = None
        if step == "suspend":
            until = now + timedelta(days=days or self.rules.suspend_days)
        elif step == "restrict" and days:
            until = now + timedelta(days=days)
        row = Sanction(user_id=user_id, step=step, reason=reason[:400], evidence=",".join(evidence), created_at=now,
                       created_by=by[:40], until=until)
        s.add(row)
        s.flush()
        return row

    def lift(self, sanction_id: int, reason: str, by: str) -> dict[str, Any]:
        """End a step early (upheld appeal, error); the row stays with the lift reason."""
        if not reason.strip():
            raise InvalidInputError("reason: lifting a sanction needs a reason (e.g. the appeal's ticket)")
        with self.ctx.db.session() as s:
            r = s.get(Sanction, sanction_id)
            if r is None:
                raise NotFoundError(f"no sanction {sanction_id}")
            if r.lifted_at is not None:
                raise InvalidInputError(f"sanction {sanction_id} was already lifted")
            r.lifted_at, r.lift_reason = self.clock(), f"{reason.strip()} (by {by})"[:400]
            return _view(r)

    # reading -------------------------------------------------------------------------------------
    def history(self, user_id: str | None = None) -> list[dict[str, Any]]:
        stmt = select(Sanction).order_by(Sanction.id)
        if user_id:
            stmt = stmt.where(Sanction.user_id == user_id)
        with self.ctx.db.session() as s:
            return [_view(r) for r in s.scalars(stmt)]

    def block_for(self, user_id: str) -> Block | None:
        """The strongest active limiting step for a user, or None (one indexed query; runs per request)."""
        now = self.clock()
        t = Sanction.__table__.c
        stmt = (select(t.id, t.step, t.until, t.reason)
                .where(t.user_id == user_id, t.lifted_at.is_(None), t.step.in_(BLOCKING_STEPS),
                       or_(t.until.is_(None), t.until > now)))
        with self.ctx.db.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        if not rows:
            return None
        best = min(rows, key=lambda r: BLOCKING_STEPS.index(r.step))
        return Block(best.id, best.step, aware(best.until) if best.until else None, best.reason)

    # automatic ladder ----------------------------------------------------------------------------
    def _day_start(self, now: datetime) -> datetime:
        local = now.astimezone(ZoneInfo(self.ctx.pack.minors.timezone))
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    def record_violation(self, user_id: str, record_id: str, categories: list[str]) -> dict[str, Any] | None:
        """Count one violating input; apply the ladder's next step when due. Returns the sanction applied."""
        now = self.clock()
        try:
            with self.ctx.db.session() as s:
                s.add(Violation(user_id=user_id, record_id=record_id, ts=now, categories=",".join(categories)[:400]))
        except IntegrityError:
            return None  # already counted
        with self.ctx.db.session() as s:
            if self._blocked_now(s, user_id, now):
                return None
            since = self._last_severe(s, user_id)  # a served suspension starts the count afresh
            start = max(self._day_start(now), since) if since else self._day_start(now)
            today = s.scalar(select(func.count()).select_from(Violation).where(
                Violation.user_id == user_id, Violation.ts >= start,
                *([Violation.ts > since] if since else []))) or 0
            streak = self._streak(s, user_id, since)
            r = self.rules
            if streak >= r.consecutive_violations or today >= r.daily_violations:
                why = (f"{streak} consecutive violating inputs" if streak >= r.consecutive_violations
                       else f"{today} violating inputs today")
                step = self._severe_step(s, user_id)
                ev = list(s.scalars(select(Violation.record_id).where(Violation.user_id == user_id)
                                    .order_by(Violation.id.desc()).limit(max(r.consecutive_violations,
                                                                             r.daily_violations))))
                return _view(self._apply(s, user_id, step, f"automatic: {why} ({r.clause})", "system", ev, None))
            if today == 1 and "warn" in r.ladder:
                return _view(self._apply(s, user_id, "warn", f"automatic: violating input ({', '.join(categories)})",
                                         "system", [record_id], None))
        return None

    def _blocked_now(self, s: Session, user_id: str, now: datetime) -> bool:
        return s.scalar(select(func.count()).select_from(Sanction).where(
            Sanction.user_id == user_id, Sanction.lifted_at.is_(None), Sanction.step.in_(("suspend", "terminate")),
            or_(Sanction.until.is_(None), Sanction.until > now))) != 0

    def _last_severe(self, s: Session, user_id: str) -> datetime | None:
        last = s.scalar(select(func.max(Sanction.created_at)).where(
            Sanction.user_id == user_id, Sanction.step.in_(("suspend", "terminate"))))
        return aware(last) if last else None

    def _streak(self, s: Session, user_id: str, since: datetime | None) -> int:
        """How many of the user's latest inputs (audit records after ``since``) in a row were violations."""
        n = self.rules.consecutive_violations
        stmt = select(AuditRecord.record_id).where(
            AuditRecord.user_id == user_id, AuditRecord.endpoint.in_(USER_INPUT_ENDPOINTS))
        if since is not None:
            stmt = stmt.where(AuditRecord.ts > since)
        recent = list(s.scalars(stmt.order_by(AuditRecord.seq.desc()).limit(n)))
        if not recent:
            return 0
        bad = set(s.scalars(select(Violation.record_id).where(Violation.record_id.in_(recent))))
        streak = 0
        for rid in recent:
            if rid not in bad:
                break
            streak += 1
        return streak

    def _severe_step(self, s: Session, user_id: str) -> str:
        severe = [x for x in self.rules.ladder if x in ("suspend", "terminate")]
        if not severe:
            return "restrict" if "restrict" in self.rules.ladder else "warn"
        done = s.scalar(select(func.count()).select_from(Sanction).where(
            Sanction.user_id == user_id, Sanction.step == "suspend", Sanction.lifted_at.is_(None))) or 0
        return severe[min(done, len(severe) - 1)]
