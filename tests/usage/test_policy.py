"""Limits from the pack and guardians: bands, curfew wrap-around, when service resumes."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from hegui.errors import InvalidInputError
from hegui.policy.pack import load_pack
from hegui.usage.policy import GuardianSettings, blocked_by_clock, in_window, limits_for, parse_hhmm, resumes_at

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=SH)
MINORS = load_pack("cn-genai").minors


@pytest.mark.parametrize(("birth", "minutes"), [(date(2019, 1, 1), 40), (date(2011, 1, 1), 60),
                                                (date(2009, 1, 1), 120), (date(2008, 3, 2), None)])
def test_age_bands_from_the_pack(birth: date, minutes: int | None) -> None:
    lim = limits_for(MINORS, birth, NOW, None)
    assert (lim.daily_seconds / 60 if lim.daily_seconds else None) == minutes
    assert lim.minor is (minutes is not None)


def test_unknown_age_is_treated_as_adult() -> None:
    assert limits_for(MINORS, None, NOW, None).minor is False


def test_guardian_can_lower_but_not_raise_the_limit() -> None:
    lower = limits_for(MINORS, date(2011, 1, 1), NOW, GuardianSettings("g", daily_minutes=20))
    higher = limits_for(MINORS, date(2011, 1, 1), NOW, GuardianSettings("g", daily_minutes=300))
    assert lower.daily_seconds == 1200 and higher.daily_seconds == 3600


def test_curfew_window_wraps_past_midnight() -> None:
    assert in_window(time(23, 0), time(22, 0), time(6, 0)) and in_window(time(5, 59), time(22, 0), time(6, 0))
    assert not in_window(time(6, 0), time(22, 0), time(6, 0))
    lim = limits_for(MINORS, date(2011, 1, 1), NOW, None)
    assert blocked_by_clock(lim, NOW.replace(hour=22)) == "curfew"
    assert blocked_by_clock(lim, NOW) is None


def test_service_resumes_after_curfew_and_after_midnight_when_budget_is_spent() -> None:
    lim = limits_for(MINORS, date(2011, 1, 1), NOW, GuardianSettings("g", allowed_from=time(8), allowed_until=time(20)))
    assert resumes_at(lim, NOW.replace(hour=23), False) == datetime(2026, 3, 3, 8, 0, tzinfo=SH)
    assert resumes_at(lim, NOW, True) == datetime(2026, 3, 3, 8, 0, tzinfo=SH)


def test_bad_time_of_day_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="HH:MM"):
        parse_hhmm("25:00", "allowed_from")
