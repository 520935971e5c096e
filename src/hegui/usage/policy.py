"""Which limits apply to a user: age bands and curfew from the pack, lowered by a guardian's settings.

Pure functions over the pack and a few facts about the user; no storage here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hegui.errors import InvalidInputError
from hegui.policy.pack import Minors


@dataclass(frozen=True, slots=True)
class GuardianSettings:
    """What a guardian chose for a minor: a lower daily limit and/or an allowed window (local time)."""

    guardian_user_id: str
    daily_minutes: int | None = None
    allowed_from: time | None = None
    allowed_until: time | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    """The rules for one user right now."""

    age: int | None
    minor: bool
    daily_seconds: float | None  # None: no daily budget (adults)
    curfew: tuple[time, time] | None  # forbidden window [start, end) in local time
    allowed: tuple[time, time] | None  # guardian's allowed window [from, until) in local time
    rule: str  # where the limit comes from (pack clause / guardian)


def age_on(birth: date, day: date) -> int:
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years


def parse_hhmm(value: str, what: str) -> time:
    try:
        h, m = value.strip().split(":")
        return time(int(h), int(m))
    except ValueError:
        raise InvalidInputError(f"{what} must be a time of day HH:MM (e.g. 19:30), got {value!r}") from None


def in_window(t: time, start: time, end: time) -> bool:
    """Whether ``t`` lies in [start, end); a window with start > end wraps past midnight."""
    if start == end:
        return False
    if start < end:
        return start <= t < end
    return t >= start or t < end


def local(now: datetime, minors: Minors) -> datetime:
    return now.astimezone(ZoneInfo(minors.timezone))


def limits_for(minors: Minors, birth: date | None, now: datetime, guardian: GuardianSettings | None) -> Limits:
    """Unknown age counts as adult (the real-name gate decides whether unknown ages may use the service)."""
    today = local(now, minors).date()
    age = age_on(birth, today) if birth is not None else None
    if age is None or age >= minors.adult_age:
        return Limits(age, False, None, None, None, "adult")
    band = next((b for b in minors.age_bands if age < b.under_age), None)
    daily = float(band.daily_minutes * 60) if band is not None else None
    rule = f"age band under {band.under_age}: {band.daily_minutes} min/day ({band.clause})" if band else "minor"
    curfew = (minors.curfew.start, minors.curfew.end) if minors.curfew is not None else None
    allowed = None
    if guardian is not None:
        if guardian.daily_minutes is not None and (daily is None or guardian.daily_minutes * 60 < daily):
            daily = float(guardian.daily_minutes * 60)
            rule = f"guardian limit: {guardian.daily_minutes} min/day"
        if guardian.allowed_from is not None and guardian.allowed_until is not None:
            allowed = (guardian.allowed_from, guardian.allowed_until)
    return Limits(age, True, daily, curfew, allowed, rule)


def blocked_by_clock(limits: Limits, now_local: datetime) -> str | None:
    """``"curfew"`` or ``"guardian_hours"`` when the time of day forbids use, else None."""
    t = now_local.time()
    if limits.curfew is not None and in_window(t, *limits.curfew):
        return "curfew"
    if limits.allowed is not None and not in_window(t, *limits.allowed):
        return "guardian_hours"
    return None


def resumes_at(limits: Limits, now_local: datetime, budget_spent: bool) -> datetime:
    """The first moment (local time, minute resolution) at which the user may use the service again."""
    t = now_local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if budget_spent:
        t = datetime.combine(now_local.date() + timedelta(days=1), time(0, 0), tzinfo=now_local.tzinfo)
    for _ in range(2 * 24 * 60):  # at most two days of minutes: a window always opens within a day
        if blocked_by_clock(limits, t) is None:
            return t
        t += timedelta(minutes=1)
    return t
