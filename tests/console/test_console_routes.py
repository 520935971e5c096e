"""Every route of the real app under /console and /admin checks the caller's role.

The test walks ``app.routes``: a new console route without ``Depends(require(...))`` that is not in
the public allow-list fails here, and so does an /admin route that lets a wrong role through.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from consolekit import ROLES, Console, console
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from hegui.console.auth import PUBLIC_ROUTES, route_roles
from hegui.context import HeguiContext
from hegui.identity import accounts

SAMPLE_PARAMS = {"record_id": "00000000-0000-4000-8000-000000000000", "queue": "complaints", "ref": "HG-none",
                 "action": "note", "name": "console.css", "code": "en", "user_id": "u_none", "sanction_id": "1",
                 "ticket": "HG-none", "incident_id": "none", "rid": "none", "iid": "none", "item_id": "1"}


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: SAMPLE_PARAMS.get(m.group(1), "x"), path)


def _routes(con: Console, prefix: str) -> list[tuple[str, str, Any]]:
    """(method, full path, route) of every route of the real app under ``prefix``, routers flattened."""
    out = []
    for r in iter_route_contexts(con.app.routes):
        path = r.path or ""
        if (path == prefix or path.startswith(prefix + "/")) and r.methods:
            out.extend((m, path, r) for m in sorted(set(r.methods) - {"HEAD"}))
    assert out, f"no routes under {prefix}"
    return out


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    from hegui.config import Settings
    from hegui.privacy.crypto import generate_key

    tmp = tmp_path_factory.mktemp("routes")
    ctx = HeguiContext(Settings(data_dir=tmp / ".hegui", database_url=f"sqlite:///{tmp / 'c.db'}",
                                secret_key=generate_key()))
    with console(ctx) as c:
        yield c
    ctx.close()


@pytest.fixture(scope="module")
def clients(con: Console) -> dict[str, TestClient]:
    return {role: con.login(role) for role in ROLES}


def _csrf(c: TestClient) -> str:
    page = c.get("/console/dashboard")
    m = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert m
    return m.group(1)


def test_every_console_route_declares_roles_or_is_public(con: Console) -> None:
    unchecked = [(m, p) for m, p, r in _routes(con, "/console")
                 if route_roles(r) is None and (m, p) not in PUBLIC_ROUTES]
    assert unchecked == [], f"console routes without a role check and not in PUBLIC_ROUTES: {unchecked}"


def test_public_allow_list_names_only_existing_routes(con: Console) -> None:
    existing = {(m, p) for m, p, _ in _routes(con, "/console")}
    assert existing >= PUBLIC_ROUTES, f"stale public entries: {PUBLIC_ROUTES - existing}"


def test_protected_console_routes_refuse_without_a_session(con: Console) -> None:
    c = TestClient(con.app, follow_redirects=False)
    checked = 0
    for method, path, _r in _routes(con, "/console"):
        if (method, path) in PUBLIC_ROUTES:
            continue
        resp = c.request(method, _url(path), data={"csrf": "x"} if method == "POST" else None)
        if method == "GET":
            assert resp.status_code == 303 and resp.headers["location"].startswith("/console/login"), (method, path)
        else:
            assert resp.status_code == 401, (method, path, resp.status_code)
        checked += 1
    assert checked >= 20


def test_protected_console_routes_refuse_roles_they_do_not_list(con: Console) -> None:
    clients = {role: con.login(role) for role in ROLES}  # own sessions: this test ends them with /logout
    tokens = {role: _csrf(c) for role, c in clients.items()}
    refused = 0
    routes = sorted(_routes(con, "/console"), key=lambda x: x[1] == "/console/logout")  # log out last
    for method, path, r in routes:
        roles = route_roles(r)
        if roles is None:
            continue
        for role in ROLES:
            c = clients[role]
            data = {"csrf": tokens[role]} if method == "POST" else None
            resp = c.request(method, _url(path), data=data)
            if role in roles:
                assert resp.status_code not in (401, 403), (method, path, role, resp.status_code)
            else:
                assert resp.status_code == 403, (method, path, role, resp.status_code)
                refused += 1
    assert refused > 0


def test_console_posts_refuse_a_missing_or_wrong_csrf_token(con: Console, clients: dict[str, TestClient]) -> None:
    c = clients["admin"]
    assert c.get("/console/dashboard").status_code == 200
    for method, path, _r in _routes(con, "/console"):
        if method != "POST":
            continue
        for data in ({}, {"csrf": "forged"}):
            resp = c.post(_url(path), data=data)
            assert resp.status_code == 403, (path, data, resp.status_code)


def test_admin_routes_refuse_missing_keys_and_wrong_roles(con: Console) -> None:
    keys = {role: accounts.create_user(con.ctx.db, f"k-{role}", role).api_key for role in (*ROLES, "user")}
    c = con.http
    checked = 0
    for method, path, r in _routes(con, "/admin"):
        allowed: set[str] = set(ROLES)
        stack = list(r.dependant.dependencies)
        while stack:
            d = stack.pop()
            if getattr(d.call, "roles", None) is not None:
                allowed &= set(d.call.roles)
            stack.extend(d.dependencies)
        assert c.request(method, _url(path)).status_code == 401, (method, path)
        for role, key in keys.items():
            resp = c.request(method, _url(path), headers={"authorization": f"Bearer {key}"})
            if role in allowed:
                assert resp.status_code not in (401, 403), (method, path, role, resp.status_code)
            else:
                assert resp.status_code == 403, (method, path, role, resp.status_code)
        checked += 1
    assert checked >= 5
