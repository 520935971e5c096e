"""Guardian controls (监护人): a guardian account lowers a minor's daily limit and sets allowed hours.

The first guardian to link a minor owns the controls; another account gets a precise refusal.
A guardian can also declare the minor's birth date when no document gives it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from hegui.errors import InvalidInputError, NotFoundError
from hegui.store.db import Database
from hegui.store.models.identity import User
from hegui.store.models.usage import GuardianControl
from hegui.usage.policy import GuardianSettings, parse_hhmm


class GuardianConflict(InvalidInputError):
    """Another guardian already controls this minor."""


def settings_of(row: GuardianControl) -> GuardianSettings:
    return GuardianSettings(row.guardian_user_id, row.daily_minutes,
                            parse_hhmm(row.allowed_from, "allowed_from") if row.allowed_from else None,
                            parse_hhmm(row.allowed_until, "allowed_until") if row.allowed_until else None)


def set_controls(db: Database, guardian_user_id: str, minor_user_id: str, now: datetime,
                 daily_minutes: int | None = None, allowed_from: str | None = None,
                 allowed_until: str | None = None) -> GuardianSettings:
    """Create or change a minor's guardian controls; every input is checked before anything is written."""
    if guardian_user_id == minor_user_id:
        raise InvalidInputError("a user cannot be their own guardian")
    if daily_minutes is not None and not 1 <= daily_minutes <= 24 * 60:
        raise InvalidInputError("daily_minutes must be between 1 and 1440")
    if (allowed_from is None) != (allowed_until is None):
        raise InvalidInputError("give both allowed_from and allowed_until (HH:MM), or neither")
    start = parse_hhmm(allowed_from, "allowed_from") if allowed_from else None
    end = parse_hhmm(allowed_until, "allowed_until") if allowed_until else None
    if start is not None and start == end:
        raise InvalidInputError("allowed_from and allowed_until must differ")
    with db.session() as s:
        g = s.get(User, guardian_user_id)
        if g is None or g.status != "active":
            raise NotFoundError(f"unknown guardian {guardian_user_id!r} (no active user with that id)")
        if s.get(User, minor_user_id) is None:
            raise NotFoundError(f"no user with id {minor_user_id!r}")
        row = s.get(GuardianControl, minor_user_id)
        if row is not None and row.guardian_user_id != guardian_user_id:
            raise GuardianConflict(f"user {minor_user_id} is already under another guardian's controls")
        if row is None:
            row = GuardianControl(minor_user_id=minor_user_id, guardian_user_id=guardian_user_id, created_at=now,
                                  updated_at=now)
            s.add(row)
        row.daily_minutes = daily_minutes
        row.allowed_from = start.strftime("%H:%M") if start else None
        row.allowed_until = end.strftime("%H:%M") if end else None
        row.updated_at = now
        s.flush()
        return settings_of(row)


def nominate(db: Database, guardian_user_id: str, minor_user_id: str, now: datetime) -> GuardianSettings:
    """The minor's own account names its guardian (no limits yet); naming the same one again changes nothing."""
    with db.session() as s:
        row = s.get(GuardianControl, minor_user_id)
        if row is not None:
            if row.guardian_user_id != guardian_user_id:
                raise GuardianConflict(f"user {minor_user_id} is already under another guardian's controls")
            return settings_of(row)
    return set_controls(db, guardian_user_id, minor_user_id, now)


def get_controls(db: Database, minor_user_id: str) -> GuardianSettings | None:
    with db.session() as s:
        row = s.get(GuardianControl, minor_user_id)
        return settings_of(row) if row is not None else None


def is_guardian_of(db: Database, guardian_user_id: str, minor_user_id: str) -> bool:
    with db.session() as s:
        return s.scalar(select(GuardianControl.minor_user_id).where(
            GuardianControl.minor_user_id == minor_user_id,
            GuardianControl.guardian_user_id == guardian_user_id)) is not None
