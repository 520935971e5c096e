"""A new user through the real gateway: register, verify by code, accept the agreement, use the key."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from idkit import bad_check, make_id
from usage_kit import Gw, running

from hegui.context import HeguiContext
from hegui.identity import agreements

START = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PHONE = "13812345678"


def _h(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def _register(gw: Gw, number: str) -> dict[str, str]:
    r = gw.http.post("/v1/identity/register", json={"name": "赵六", "document_number": number, "mobile": PHONE})
    assert r.status_code == 201, r.text
    out: dict[str, str] = r.json()
    return out


def test_new_user_registers_verifies_accepts_and_uses_the_key(ctx: HeguiContext,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    number = make_id("19950505")
    with running(ctx, START) as gw:
        agreements.publish(ctx.db, "2026-01", "服务协议正文", "Service agreement text", "legal", gw.clock())
        reg = _register(gw, number)
        key = reg["api_key"]
        r = gw.chat(key)
        assert r.status_code == 403 and r.json()["error"]["code"] == "real_name_required"

        assert gw.http.post("/v1/identity/code", headers=_h(key)).status_code == 200
        r = gw.http.post("/v1/identity/verify", headers=_h(key), json={"code": gw.sms.last_code})
        assert r.status_code == 200 and r.json()["state"] == "verified" and r.json()["age"] == 30

        r = gw.chat(key)
        err = r.json()["error"]
        assert r.status_code == 403 and err["code"] == "agreement_not_accepted"
        assert "version 2026-01" in err["message"] and "/v1/identity/agreement/accept" in err["message"]
        assert gw.http.get("/v1/identity/agreement").json()["text_zh"] == "服务协议正文"
        r = gw.http.post("/v1/identity/agreement/accept", headers=_h(key), json={"version": "2026-01"})
        assert r.status_code == 200 and r.json()["accepted_at"].startswith("2026-03-02T02:00")

        r = gw.chat(key)
        assert r.status_code == 200, r.text
        assert r.json()["choices"][0]["message"]["content"].startswith("你好")

        gw.clock.advance(days=30)
        agreements.publish(ctx.db, "2026-02", "新版协议", "New version", "legal", gw.clock())
        r = gw.chat(key)
        assert r.status_code == 403 and "version 2026-02" in r.json()["error"]["message"]
        status = gw.http.get("/v1/identity/status", headers=_h(key)).json()
        assert status["agreement_to_accept"] == "2026-02"
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert number not in logged and PHONE not in logged


def test_registration_errors_are_precise_and_change_nothing(sqlite_ctx: HeguiContext) -> None:
    with running(sqlite_ctx, START) as gw:
        r = gw.http.post("/v1/identity/register", json={"name": "赵六", "document_number": bad_check(make_id()),
                                                         "mobile": PHONE})
        assert r.status_code == 400 and "check character" in r.json()["error"]["message"]
        _register(gw, make_id())
        r = gw.http.post("/v1/identity/register", json={"name": "赵六", "document_number": make_id(),
                                                         "mobile": PHONE})
        assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
        r = gw.http.post("/v1/identity/register", json={"name": "赵六", "mobile": PHONE})
        assert r.status_code == 400 and "document_number" in r.json()["error"]["message"]


def test_too_many_code_requests_get_429(sqlite_ctx: HeguiContext) -> None:
    with running(sqlite_ctx, START) as gw:
        key = _register(gw, make_id())["api_key"]
        for _ in range(5):
            assert gw.http.post("/v1/identity/code", headers=_h(key)).status_code == 200
        r = gw.http.post("/v1/identity/code", headers=_h(key))
        assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_code_requests"
        assert r.headers["x-hegui-retry-at"].startswith("2026-03-02T03:00")


def test_accepting_an_old_version_is_refused(sqlite_ctx: HeguiContext) -> None:
    with running(sqlite_ctx, START) as gw:
        agreements.publish(sqlite_ctx.db, "v1", "一", "one", "legal", gw.clock())
        gw.clock.advance(minutes=1)
        agreements.publish(sqlite_ctx.db, "v2", "二", "two", "legal", gw.clock())
        key = _register(gw, make_id())["api_key"]
        r = gw.http.post("/v1/identity/agreement/accept", headers=_h(key), json={"version": "v1"})
        assert r.status_code == 400 and "accept 'v2'" in r.json()["error"]["message"]


def test_identity_routes_need_the_accounts_key(sqlite_ctx: HeguiContext) -> None:
    with running(sqlite_ctx, START) as gw:
        assert gw.http.post("/v1/identity/code").status_code == 401
        assert gw.http.post("/v1/identity/code", headers=_h("hg-nope")).status_code == 401
