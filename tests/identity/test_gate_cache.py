"""The identity step caches admitted users; a change made through this process takes effect at once."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from hegui.context import HeguiContext
from hegui.gateway.errors import ApiError
from hegui.gateway.pipeline import ExchangeState
from hegui.identity import agreements
from hegui.identity.accounts import Principal, create_user
from hegui.identity.gate import IdentityGate
from hegui.identity.service import IdentityService

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def _admitted(ctx: HeguiContext) -> tuple[IdentityGate, ExchangeState]:
    uid = create_user(ctx.db, "adult").user_id
    IdentityService(ctx).attest(uid, "tester", "test account", date(1990, 1, 1))
    agreements.publish(ctx.db, "v1", "协议", "agreement", "tester", NOW)
    agreements.accept(ctx.db, uid, "v1", "cli", NOW)
    st = ExchangeState("chat.completions", None, None)
    st.principal = Principal(uid, "adult", "user", "k")
    gate = IdentityGate(ctx)
    gate(st)  # admitted, and now cached
    return gate, st


def test_admitted_user_is_not_looked_up_again(sqlite_ctx: HeguiContext, monkeypatch: pytest.MonkeyPatch) -> None:
    gate, st = _admitted(sqlite_ctx)

    def no_query(_user_id: str) -> None:
        raise AssertionError("looked up again")

    monkeypatch.setattr(gate, "_check", no_query)
    gate(st)


def test_new_agreement_published_here_applies_at_once(sqlite_ctx: HeguiContext) -> None:
    gate, st = _admitted(sqlite_ctx)
    agreements.publish(sqlite_ctx.db, "v2", "协议二", "agreement two", "tester", NOW)
    with pytest.raises(ApiError) as exc:
        gate(st)
    assert exc.value.code == "agreement_not_accepted"


def test_refusals_are_not_cached(sqlite_ctx: HeguiContext) -> None:
    uid = create_user(sqlite_ctx.db, "new").user_id
    st = ExchangeState("chat.completions", None, None)
    st.principal = Principal(uid, "new", "user", "k")
    gate = IdentityGate(sqlite_ctx)
    with pytest.raises(ApiError):
        gate(st)
    IdentityService(sqlite_ctx).attest(uid, "tester", "test account", date(1990, 1, 1))
    gate(st)  # admitted on the very next request (no agreement published in this database)
