"""The usage step on its own: a stream's duration counts when the exchange ends; refused exchanges don't."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from hegui.context import HeguiContext
from hegui.gateway.errors import ApiError
from hegui.gateway.pipeline import ExchangeState
from hegui.identity.accounts import Principal, create_user
from hegui.identity.service import IdentityService
from hegui.usage.clock import ManualClock
from hegui.usage.gate import UsageGate

SH = ZoneInfo("Asia/Shanghai")


def _minor(ctx: HeguiContext, clock: ManualClock) -> Principal:
    uid = create_user(ctx.db, "child").user_id
    IdentityService(ctx, clock=clock).attest(uid, "t", "test", date(2011, 1, 1))
    return Principal(uid, "child", "user", "k")


def _exchange(p: Principal) -> ExchangeState:
    st = ExchangeState("chat.completions", None, None)
    st.principal = p
    return st


def test_long_stream_counts_until_it_ends(sqlite_ctx: HeguiContext) -> None:
    clock = ManualClock(datetime(2026, 3, 2, 10, 0, tzinfo=SH))
    gate, p = UsageGate(sqlite_ctx, clock=clock), _minor(sqlite_ctx, clock)
    st = _exchange(p)
    gate(st)
    assert st.minor is True
    clock.advance(minutes=4)  # the answer streams for four minutes
    gate.finish(st)
    gate.flush()
    assert gate.store.peek(p.user_id, clock(), SH).today_seconds == 240


def test_refused_exchange_is_not_counted_at_its_end(sqlite_ctx: HeguiContext) -> None:
    clock = ManualClock(datetime(2026, 3, 2, 23, 0, tzinfo=SH))
    gate, p = UsageGate(sqlite_ctx, clock=clock), _minor(sqlite_ctx, clock)
    st = _exchange(p)
    with pytest.raises(ApiError) as exc:
        gate(st)
    assert exc.value.status == 403 and exc.value.code == "curfew"
    gate.finish(st)
    gate.flush()
    assert gate.store.peek(p.user_id, clock(), SH).session_start is None


def _adult(ctx: HeguiContext, clock: ManualClock) -> Principal:
    uid = create_user(ctx.db, "adult").user_id
    IdentityService(ctx, clock=clock).attest(uid, "t", "test", date(1990, 1, 1))
    return Principal(uid, "adult", "user", "k")


def test_adult_activity_is_counted_off_the_request_path(sqlite_ctx: HeguiContext) -> None:
    clock = ManualClock(datetime(2026, 3, 2, 10, 0, tzinfo=SH))
    gate, p = UsageGate(sqlite_ctx, clock=clock), _adult(sqlite_ctx, clock)
    for _ in range(3):
        st = _exchange(p)
        gate(st)
        clock.advance(minutes=2)
        gate.finish(st)
    gate.flush()
    snap = gate.store.peek(p.user_id, clock(), SH)
    assert snap.today_seconds == 6 * 60
    assert snap.session_start == datetime(2026, 3, 2, 10, 0, tzinfo=SH)


def test_guardian_limit_set_here_applies_at_once(sqlite_ctx: HeguiContext) -> None:
    from hegui.usage.guardians import set_controls

    clock = ManualClock(datetime(2026, 3, 2, 10, 0, tzinfo=SH))
    gate, p = UsageGate(sqlite_ctx, clock=clock), _minor(sqlite_ctx, clock)
    gate(_exchange(p))  # facts now cached
    guardian = create_user(sqlite_ctx.db, "parent").user_id
    set_controls(sqlite_ctx.db, guardian, p.user_id, clock(), allowed_from="20:00", allowed_until="21:00")
    with pytest.raises(ApiError) as exc:
        gate(_exchange(p))
    assert exc.value.code == "guardian_hours"


def test_cached_adult_is_checked_without_io_but_a_minor_never(sqlite_ctx: HeguiContext) -> None:
    clock = ManualClock(datetime(2026, 3, 2, 10, 0, tzinfo=SH))
    gate = UsageGate(sqlite_ctx, clock=clock)
    adult, minor = _exchange(_adult(sqlite_ctx, clock)), _exchange(_minor(sqlite_ctx, clock))
    assert not gate.ready(adult)  # nothing cached yet
    gate(adult)
    gate(minor)
    assert gate.ready(adult)
    assert not gate.ready(minor)  # a hard limit: counted in the shared store before admitting


@pytest.mark.parametrize("minutes", [
    [0, 1, 2, 3],  # one busy session
    [0, 3, 1, 2, 3],  # a late touch older than the latest
    [0, 1, 50, 51],  # a pause longer than the gap: a new session (kept touch by touch)
    [0, 0, 0],  # the same instant
])
def test_coalesced_touches_count_what_every_touch_counts(sqlite_ctx: HeguiContext, minutes: list[int]) -> None:
    from datetime import timedelta

    from hegui.usage.gate import coalesced
    from hegui.usage.store import DbUsageStore

    store, gap = DbUsageStore(sqlite_ctx.db), timedelta(minutes=30)
    start = datetime(2026, 3, 2, 23, 58, tzinfo=SH)  # crosses midnight: seconds split over two days
    every = [(u, start + timedelta(minutes=m)) for u in ("u_every", "u_other") for m in minutes]
    store.touch_many(every, gap, SH)
    store.touch_many([("u_coal", t) if u == "u_every" else (u + "2", t) for u, t in coalesced(every, gap)], gap, SH)
    if max(minutes) - min(minutes) <= 30 and len(minutes) > 2:
        assert len(coalesced(every, gap)) == 4  # two per user
    end = start + timedelta(minutes=max(minutes))
    for day in (end, start):
        a, b = store.peek("u_every", day, SH), store.peek("u_coal", day, SH)
        assert (a.today_seconds, a.session_start, a.last_seen) == (b.today_seconds, b.session_start, b.last_seen)
