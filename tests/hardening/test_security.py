"""Security checks over the whole gateway app: auth on every route, secrets hashed, no PII in logs, limits.

Complements tests/gateway/test_auth_admin.py (admin_api routes), tests/console/test_console_routes.py
(/console and /admin per role) and tests/privacy/test_privacy_egress.py (SSRF): here the walk covers
EVERY route of the assembled app, so a new router mounted without an auth check fails.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from gw_fake_upstream import FakeUpstream
from gwkit import Running, make_settings, running_gateway, upstream_config
from sqlalchemy import String, Text, inspect, select

import hegui.store.models  # noqa: F401  (every table registered on Base)
from hegui.console.auth import PUBLIC_ROUTES as CONSOLE_PUBLIC
from hegui.console.staff import create_staff
from hegui.store.models.base import Base

# Routes meant for anonymous callers (probes, the public complaint channel, self-registration).
PUBLIC = {
    ("GET", "/openapi.json"), ("GET", "/healthz"), ("GET", "/readyz"),
    ("POST", "/v1/identity/register"), ("GET", "/v1/identity/agreement"),
    ("GET", "/complaints/policy"), ("POST", "/complaints"), ("GET", "/complaints/{ticket}"),
} | set(CONSOLE_PUBLIC)
# Routes an ordinary API user may call with their own key (their own data only).
USER_SELF = re.compile(r"^/v1/")
REFUSED = {401, 403}


def _id_number(prefix17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(prefix17, weights, strict=True)) % 11]
    return prefix17 + check


ID_NUMBER = _id_number("11010519900307123")  # synthetic, valid checksum
MOBILE = "13912345678"
PASSWORD = "correct-horse-battery-9!"


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with FakeUpstream(answer_text="好的。") as up:
        tmp = tmp_path_factory.mktemp("sec")
        with running_gateway(make_settings(tmp, upstreams=[upstream_config(up, models=["*"])])) as r:
            yield r


def _routes(gw: Running) -> list[tuple[str, str]]:
    out = []
    for r in iter_route_contexts(gw.app.routes):
        for m in sorted(set(r.methods or ()) - {"HEAD"}):
            out.append((m, r.path or ""))
    return out


def _call(gw: Running, method: str, path: str, key: str | None = None) -> httpx.Response:
    url = gw.url + re.sub(r"\{(\w+)(?::\w+)?\}", "x1", path)
    headers = {"authorization": f"Bearer {key}"} if key else {}
    return httpx.request(method, url, json={}, headers=headers, timeout=30, follow_redirects=False)


def _refused(r: httpx.Response) -> bool:
    """401/403, or the console's redirect to its login page."""
    return r.status_code in REFUSED or (r.status_code in (302, 303, 307) and "/login" in r.headers.get("location", ""))


def test_every_route_of_the_app_refuses_anonymous_callers_unless_listed_public(gw: Running) -> None:
    routes = _routes(gw)
    assert len(routes) >= 60, "the walk must see the whole app"
    open_routes = [(m, p, r.status_code) for m, p in routes if (m, p) not in PUBLIC
                   for r in [_call(gw, m, p)] if not _refused(r)]
    assert open_routes == [], f"routes answering without credentials: {open_routes}"


def test_public_list_names_only_existing_routes(gw: Running) -> None:
    assert PUBLIC - set(_routes(gw)) == set()


def test_metrics_are_walked_as_a_staff_route(gw: Running) -> None:
    """/metrics tells request volumes and refusal categories: token or admin/auditor key (docs/gateway.md)."""
    assert ("GET", "/metrics") in _routes(gw) and ("GET", "/metrics") not in PUBLIC


def test_staff_routes_refuse_an_ordinary_users_api_key(gw: Running) -> None:
    staff = [(m, p) for m, p in _routes(gw) if (m, p) not in PUBLIC and not USER_SELF.match(p)
             and p not in ("/console/logout",)]
    assert any(p.startswith("/admin") for _, p in staff) and any(p.startswith("/console") for _, p in staff)
    let_through = [(m, p, r.status_code) for m, p in staff for r in [_call(gw, m, p, gw.user_key)] if not _refused(r)]
    assert let_through == [], f"staff routes open to an ordinary user: {let_through}"


def _full_flow(gw: Running) -> dict[str, Any]:
    """Registration with ID and mobile, chats mentioning them, a complaint with a phone contact, a PI request."""
    c = httpx.Client(base_url=gw.url, timeout=30)
    reg = c.post("/v1/identity/register", json={"name": "测试用户", "document_number": ID_NUMBER, "mobile": MOBILE})
    assert reg.status_code == 201, reg.text
    key = reg.json()["api_key"]
    auth = {"authorization": f"Bearer {key}"}
    c.post("/v1/identity/code", headers=auth)
    for who in (key, gw.user_key):
        text = f"我的身份证号是{ID_NUMBER}，手机{MOBILE}"
        c.post("/v1/chat/completions", headers={"authorization": f"Bearer {who}"},
               json={"model": "fake-model", "messages": [{"role": "user", "content": text}]})
    cmp = c.post("/complaints", json={"category": "pi_rights", "description": f"请删除我的号码{MOBILE}和{ID_NUMBER}",
                                      "contact": MOBILE})
    assert cmp.status_code == 201, cmp.text
    pi = c.post("/v1/privacy/requests", headers={"authorization": f"Bearer {gw.user_key}"},
                json={"kind": "deletion", "detail": {"mobile": MOBILE}})
    assert pi.status_code == 201, pi.text
    staff = create_staff(gw.ctx.db, "sec-admin", "admin", PASSWORD)
    c.close()
    return {"api_key": key, "staff": staff}


def _all_text_cells(gw: Running) -> list[str]:
    cells: list[str] = []
    with gw.ctx.db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if not inspect(gw.ctx.db.engine).has_table(table.name):
                continue
            cols = [c for c in table.columns if isinstance(c.type, String | Text)]
            if cols:
                cells.extend(str(v) for row in conn.execute(select(*cols)) for v in row if v is not None)
    return cells


def test_full_flow_keeps_personal_data_and_secrets_out_of_logs_and_clear_text_columns(
        gw: Running, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    with caplog.at_level(logging.DEBUG):
        flow = _full_flow(gw)
    logged = caplog.text + "".join(capfd.readouterr())
    assert caplog.records, "the flow logs something (the check must see real log output)"
    for secret in (ID_NUMBER, MOBILE, MOBILE[-8:], flow["api_key"], gw.user_key, PASSWORD):
        assert secret not in logged, f"{secret[:4]}… appears in the log output"
    cells = _all_text_cells(gw)
    assert len(cells) > 50
    for secret in (ID_NUMBER, MOBILE, flow["api_key"], flow["api_key"].split("-", 2)[2], gw.user_key,
                   gw.admin_key, PASSWORD):
        hits = [c[:40] for c in cells if secret in c]
        assert hits == [], f"{secret[:4]}… stored in clear: {hits[:3]}"


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/embeddings", "/v1/moderations", "/complaints",
                                  "/v1/identity/register", "/v1/privacy/requests"])
def test_oversized_bodies_are_refused_with_413_before_any_work(gw: Running, path: str) -> None:
    big = b'{"x": "' + b"a" * (5 * 1024 * 1024) + b'"}'
    r = httpx.post(gw.url + path, content=big, timeout=60, headers={
        "authorization": f"Bearer {gw.user_key}", "content-type": "application/json"})
    assert r.status_code == 413, (path, r.status_code, r.text[:200])
    assert set(r.json()["error"]) == {"message", "type", "param", "code"}


def test_one_time_code_requests_are_rate_limited(gw: Running) -> None:
    reg = httpx.post(gw.url + "/v1/identity/register", timeout=30, json={
        "name": "限速用户", "document_number": _id_number("11010519900307456"), "mobile": "13700001111"})
    auth = {"authorization": f"Bearer {reg.json()['api_key']}"}
    statuses = [httpx.post(gw.url + "/v1/identity/code", headers=auth, timeout=30).status_code for _ in range(8)]
    assert statuses[0] == 200 and 429 in statuses, statuses


def test_openapi_document_lists_no_console_or_admin_secrets(gw: Running) -> None:
    doc = httpx.get(gw.url + "/openapi.json", timeout=30).text
    assert gw.admin_key not in doc and gw.user_key not in doc and "upstream-secret" not in doc

