"""API keys (401 in OpenAI's shape) and the role-checked admin API."""

from __future__ import annotations

import json

import httpx
import openai
import pytest
from fastapi.routing import APIRoute
from gwkit import Running

from hegui.gateway import admin_api
from hegui.identity import accounts


def test_missing_key_is_401(gateway: Running) -> None:
    resp = httpx.get(gateway.url + "/v1/models", headers={"authorization": "Basic abc"})
    assert resp.status_code == 401 and "missing API key" in resp.json()["error"]["message"]


def test_foreign_key_is_401_for_the_sdk(gateway: Running) -> None:
    with pytest.raises(openai.AuthenticationError, match="invalid API key"):
        gateway.client("sk-proj-someone-elses-openai-key").chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": "x"}])


def test_invalid_key_is_401(gateway: Running) -> None:
    with pytest.raises(openai.AuthenticationError, match="invalid API key"):
        gateway.client("hg-000000000000-nope").models.list()


def test_disabled_user_is_401(gateway: Running) -> None:
    u = accounts.create_user(gateway.ctx.db, "leaver")
    accounts.disable_user(gateway.ctx.db, u.user_id)
    with pytest.raises(openai.AuthenticationError):
        gateway.client(u.api_key).moderations.create(input="x")


def test_401_body_is_openai_shaped(gateway: Running) -> None:
    resp = httpx.post(gateway.url + "/v1/chat/completions", json={})
    assert resp.status_code == 401
    assert resp.json() == {"error": {"message": resp.json()["error"]["message"], "type": "invalid_request_error",
                                     "param": None, "code": "invalid_api_key"}}


def admin_routes(r: Running) -> list[tuple[str, str]]:
    """Every /admin route the running app serves (from its OpenAPI schema and from the router)."""
    schema = httpx.get(r.url + "/openapi.json").json()["paths"]
    out = {(m.upper(), p) for p, ops in schema.items() if p.startswith("/admin") for m in ops}
    for route in admin_api.router.routes:
        assert isinstance(route, APIRoute)
        out |= {(m, route.path) for m in route.methods}
    return sorted((m, p.replace("{user_id}", "u_x")) for m, p in out)


def test_every_admin_route_refuses_users_without_a_role(gateway: Running) -> None:
    routes = admin_routes(gateway)
    assert len(routes) >= 8
    reviewer = accounts.create_user(gateway.ctx.db, "reviewer", role="reviewer").api_key
    for method, path in routes:
        anon = httpx.request(method, gateway.url + path, json={"name": "x"})
        assert anon.status_code == 401, (method, path)
        plain = httpx.request(method, gateway.url + path, json={"name": "x"},
                              headers={"authorization": f"Bearer {gateway.user_key}"})
        assert plain.status_code == 403 and plain.json()["error"]["code"] == "insufficient_role", (method, path)
        if path.startswith("/admin/users"):  # user management is admin-only
            rv = httpx.request(method, gateway.url + path, json={"name": "x"},
                               headers={"authorization": f"Bearer {reviewer}"})
            assert rv.status_code == 403, (method, path)


def admin(r: Running, method: str, path: str, **kw: object) -> httpx.Response:
    return httpx.request(method, r.url + path, headers={"authorization": f"Bearer {r.admin_key}"},
                         timeout=30, **kw)  # type: ignore[arg-type]


def test_admin_creates_disables_and_rotates_users(gateway: Running) -> None:
    created = admin(gateway, "POST", "/admin/users", json={"name": "new app"})
    assert created.status_code == 201
    uid, key = created.json()["user_id"], created.json()["api_key"]
    assert gateway.client(key).moderations.create(input="hi").results
    rotated = admin(gateway, "POST", f"/admin/users/{uid}/rotate-key").json()
    with pytest.raises(openai.AuthenticationError):
        gateway.client(key).moderations.create(input="hi")
    assert gateway.client(rotated["api_key"]).moderations.create(input="hi").results
    assert admin(gateway, "POST", f"/admin/users/{uid}/disable").json()["status"] == "disabled"
    listed = {u["user_id"]: u for u in admin(gateway, "GET", "/admin/users").json()["data"]}
    assert listed[uid]["status"] == "disabled"
    assert admin(gateway, "GET", "/admin/users/u_nobody").status_code == 404


def test_admin_bad_body_is_400(gateway: Running) -> None:
    resp = admin(gateway, "POST", "/admin/users", json={"name": "x", "role": "god"})
    assert resp.status_code == 400 and "unknown role" in resp.json()["error"]["message"]


def test_auditor_verifies_and_exports_the_log(gateway: Running) -> None:
    auditor = accounts.create_user(gateway.ctx.db, "auditor", role="auditor").api_key
    gateway.client().moderations.create(input="记录我")
    h = {"authorization": f"Bearer {auditor}"}
    v = httpx.get(gateway.url + "/admin/audit/verify", headers=h).json()
    assert v["ok"] and v["records"] >= 1
    lines = httpx.get(gateway.url + "/admin/audit/export", params={"decrypt": "true"}, headers=h).text.splitlines()
    recs = [json.loads(x) for x in lines]
    assert any(r["content"] and r["content"]["request"] == ["记录我"] for r in recs)
    bad = httpx.get(gateway.url + "/admin/audit/export", params={"since": "yesterday"}, headers=h)
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "since"
    assert httpx.post(gateway.url + "/admin/audit/purge", headers=h).status_code == 403  # admin only


def test_admin_purge_uses_the_pack_retention(gateway: Running) -> None:
    resp = admin(gateway, "POST", "/admin/audit/purge")
    assert resp.status_code == 200 and resp.json()["older_than_days"] == gateway.ctx.pack.retention.audit_content_days
