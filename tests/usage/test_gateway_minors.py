"""Minors mode and anti-addiction through the real gateway app (uvicorn on loopback, injected clock)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from usage_kit import MINOR_ONLY_TERM, Gw, running

from hegui.context import HeguiContext
from hegui.identity.accounts import create_user
from hegui.usage.store import RedisUsageStore

SH = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 3, 2, 10, 0, tzinfo=SH)


def _user(gw: Gw, birth: date | None) -> str:
    issued = create_user(gw.ctx.db, "test account")
    gw.identity.attest(issued.user_id, "tester", "test account", birth)
    return issued.api_key


def test_fifteen_year_old_stops_after_one_hour_of_use(ctx: HeguiContext) -> None:
    with running(ctx, MORNING) as gw:
        key = _user(gw, date(2010, 7, 1))
        for _ in range(12):  # a request every 5 minutes: 0, 5, …, 55 minutes of use
            r = gw.chat(key)
            assert r.status_code == 200, r.text
            gw.clock.advance(minutes=5)
        r = gw.chat(key)  # 60 minutes used
        assert r.status_code == 429
        err = r.json()["error"]
        assert err["code"] == "usage_limit_reached"
        assert "60 min used of 60 min" in err["message"]
        assert "2026-03-03T06:00+08:00" in err["message"]  # midnight is in curfew: 06:00 next day
        assert r.headers["x-should-retry"] == "false"
        assert r.headers["x-hegui-resumes-at"].startswith("2026-03-03T06:00")


def test_limit_holds_with_redis_counters(sqlite_ctx: HeguiContext, redis_store: RedisUsageStore) -> None:
    with running(sqlite_ctx, MORNING, store=redis_store) as gw:
        key = _user(gw, date(2010, 7, 1))
        for _ in range(12):
            assert gw.chat(key).status_code == 200
            gw.clock.advance(minutes=5)
        assert gw.chat(key).status_code == 429
        assert redis_store.peek(_uid(gw, key), gw.clock(), SH).today_seconds == 3600


def _uid(gw: Gw, key: str) -> str:
    from hegui.identity.accounts import authenticate

    p = authenticate(gw.ctx.db, key)
    assert p is not None
    return p.user_id


def test_remaining_minutes_are_announced_to_minors(sqlite_ctx: HeguiContext) -> None:
    with running(sqlite_ctx, MORNING) as gw:
        key = _user(gw, date(2010, 7, 1))
        gw.chat(key)
        gw.clock.advance(minutes=7)
        r = gw.chat(key)
        assert r.status_code == 200
        assert r.headers["x-hegui-usage-remaining-seconds"] == str(53 * 60)


def test_gap_longer_than_session_gap_is_not_counted(sqlite_ctx: HeguiContext) -> None:
    with running(sqlite_ctx, MORNING) as gw:
        key = _user(gw, date(2010, 7, 1))
        gw.chat(key)
        gw.clock.advance(minutes=50)  # > session_gap_minutes (10): a new session, 0 s added
        r = gw.chat(key)
        assert r.headers["x-hegui-usage-remaining-seconds"] == str(60 * 60)


def test_fifteen_year_old_is_refused_during_curfew(ctx: HeguiContext) -> None:
    with running(ctx, datetime(2026, 3, 2, 22, 30, tzinfo=SH)) as gw:
        key = _user(gw, date(2010, 7, 1))
        r = gw.chat(key)
        assert r.status_code == 403
        err = r.json()["error"]
        assert err["code"] == "curfew"
        assert "22:00–06:00" in err["message"] and "2026-03-03T06:00+08:00" in err["message"]
        gw.clock.now = datetime(2026, 3, 3, 6, 0, tzinfo=SH)
        assert gw.chat(key).status_code == 200


def test_adult_is_not_limited_and_gets_a_rest_reminder(sqlite_ctx: HeguiContext) -> None:
    with running(sqlite_ctx, datetime(2026, 3, 2, 23, 0, tzinfo=SH)) as gw:
        key = _user(gw, date(1990, 1, 1))
        for _ in range(24):  # two hours of continuous use at night
            r = gw.chat(key)
            assert r.status_code == 200
            assert "x-hegui-notice" not in r.headers
            gw.clock.advance(minutes=5)
        r = gw.chat(key)
        assert r.status_code == 200
        assert r.headers["x-hegui-notice"].startswith("rest-reminder: you have been using this service for 120")


def test_minor_gets_the_stricter_content_policy(sqlite_ctx: HeguiContext) -> None:
    with running(sqlite_ctx, MORNING) as gw:
        adult, minor = _user(gw, date(1990, 1, 1)), _user(gw, date(2012, 1, 1))
        a = gw.chat(adult, f"讲讲{MINOR_ONLY_TERM}")
        m = gw.chat(minor, f"讲讲{MINOR_ONLY_TERM}")
        assert a.headers["x-hegui-decision"] == "disclaim"
        assert m.headers["x-hegui-decision"] == "refuse"
        assert m.json()["choices"][0]["finish_reason"] == "content_filter"


def test_streaming_exchange_is_counted_until_its_end(sqlite_ctx: HeguiContext) -> None:
    with running(sqlite_ctx, MORNING) as gw:
        key = _user(gw, date(2010, 7, 1))
        r = gw.chat(key, stream=True)
        assert r.status_code == 200 and "[DONE]" in r.text
        gw.clock.advance(minutes=3)
        assert gw.chat(key).headers["x-hegui-usage-remaining-seconds"] == str(57 * 60)


def test_guardian_lowers_limit_and_sets_hours(sqlite_ctx: HeguiContext) -> None:
    with running(sqlite_ctx, MORNING) as gw:
        minor = create_user(gw.ctx.db, "child")
        guardian = create_user(gw.ctx.db, "parent")
        gw.identity.attest(minor.user_id, "tester", "test", date(2012, 1, 1))
        gw.identity.attest(guardian.user_id, "tester", "test", date(1980, 1, 1))
        h = {"authorization": f"Bearer {minor.api_key}"}
        assert gw.http.post("/v1/identity/guardian", json={"guardian_user_id": guardian.user_id},
                            headers=h).status_code == 200
        hg = {"authorization": f"Bearer {guardian.api_key}"}
        r = gw.http.put(f"/v1/identity/guardian/minors/{minor.user_id}", headers=hg,
                        json={"daily_minutes": 10, "allowed_from": "09:00", "allowed_until": "11:00"})
        assert r.status_code == 200, r.text
        gw.chat(minor.api_key)
        gw.clock.advance(minutes=5)
        assert gw.chat(minor.api_key).headers["x-hegui-usage-remaining-seconds"] == str(5 * 60)
        gw.clock.now = MORNING.replace(hour=12)
        r = gw.chat(minor.api_key)
        assert r.status_code == 403 and r.json()["error"]["code"] == "guardian_hours"
        assert "2026-03-03T09:00+08:00" in r.json()["error"]["message"]


def test_only_the_named_guardian_can_set_controls(sqlite_ctx: HeguiContext) -> None:
    with running(sqlite_ctx, MORNING) as gw:
        minor, stranger = create_user(gw.ctx.db, "child"), create_user(gw.ctx.db, "stranger")
        r = gw.http.put(f"/v1/identity/guardian/minors/{minor.user_id}", json={"daily_minutes": 1},
                        headers={"authorization": f"Bearer {stranger.api_key}"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "not_guardian"


def test_naming_an_unknown_guardian_is_refused(sqlite_ctx: HeguiContext) -> None:
    with running(sqlite_ctx, MORNING) as gw:
        minor = create_user(gw.ctx.db, "child")
        r = gw.http.post("/v1/identity/guardian", json={"guardian_user_id": "u_nobody"},
                         headers={"authorization": f"Bearer {minor.api_key}"})
        assert r.status_code == 404 and "unknown guardian" in r.json()["error"]["message"]


def test_usage_touches_still_gathering_are_written_when_the_gateway_stops(
        sqlite_ctx: HeguiContext, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from hegui.identity.accounts import authenticate
    from hegui.usage.gate import _TouchWriter
    from hegui.usage.store import DbUsageStore

    monkeypatch.setattr(_TouchWriter, "LINGER_SECONDS", 600.0)  # nothing after the first batch goes by itself
    with running(sqlite_ctx, MORNING) as gw:
        key = _user(gw, date(1990, 1, 1))
        for _ in range(3):  # the background writer gathers these touches for a while before writing them
            assert gw.chat(key).status_code == 200
            gw.clock.advance(minutes=2)
    principal = authenticate(sqlite_ctx.db, key)
    assert principal is not None
    snap = DbUsageStore(sqlite_ctx.db).peek(principal.user_id, MORNING, SH)
    assert snap.last_seen == MORNING + timedelta(minutes=4)  # the last exchange, written at shutdown
    assert snap.today_seconds == 4 * 60
