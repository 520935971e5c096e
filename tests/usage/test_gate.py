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
