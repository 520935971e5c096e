"""O4–O6 report live evidence from the identity and usage tables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hegui.context import HeguiContext
from hegui.identity import agreements
from hegui.identity.accounts import create_user
from hegui.identity.service import IdentityService
from hegui.obligations import report
from hegui.usage.clock import ManualClock
from hegui.usage.store import DbUsageStore

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def _rows(ctx: HeguiContext) -> dict[str, dict[str, tuple[str, str]]]:
    return {r.id: {e.control: (e.status, e.detail) for e in r.controls} for r in report(ctx)}


def test_fresh_installation_is_configured_but_not_yet_working(ctx: HeguiContext) -> None:
    rows = _rows(ctx)
    assert rows["O4"]["identity.real_name"][0] == "configured"
    assert rows["O5"]["identity.agreement"] == ("not_configured", rows["O5"]["identity.agreement"][1])
    assert "hegui identity agreement publish" in rows["O5"]["identity.agreement"][1]
    assert rows["O6"]["usage.minors_mode"][0] == "configured"
    assert "<16: 60 min/day" in rows["O6"]["usage.minors_mode"][1]


def test_live_records_make_the_controls_working(ctx: HeguiContext) -> None:
    svc = IdentityService(ctx, clock=ManualClock(NOW))
    uid = create_user(ctx.db, "svc").user_id
    svc.attest(uid, "ops", "service account", date(2011, 1, 1))
    agreements.publish(ctx.db, "v1", "协议", "agreement", "legal", NOW)
    agreements.accept(ctx.db, uid, "v1", "cli", NOW)
    store, tz = DbUsageStore(ctx.db), ZoneInfo("Asia/Shanghai")
    store.touch(uid, NOW, timedelta(minutes=10), tz)
    store.touch(uid, NOW + timedelta(minutes=3), timedelta(minutes=10), tz)
    rows = _rows(ctx)
    assert rows["O4"]["identity.real_name"][0] == "working"
    assert "1 verified (operator-attested: 1)" in rows["O4"]["identity.real_name"][1]
    assert rows["O5"]["identity.agreement"][0] == "working"
    assert "accepted by 1 of 1" in rows["O5"]["identity.agreement"][1]
    assert rows["O6"]["usage.anti_addiction"][0] == "working"
    assert rows["O6"]["usage.minors_mode"][0] == "working"


def test_real_name_switched_off_is_reported(ctx: HeguiContext) -> None:
    pack = ctx.pack
    ctx.__dict__["pack"] = pack.model_copy(update={"identity": pack.identity.model_copy(
        update={"real_name_required": False})})
    assert _rows(ctx)["O4"]["identity.real_name"][0] == "not_configured"
