"""Complaints worked through the console: filed on the public form, resolved by a compliance officer."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from consolekit import Console, console, csrf_of
from fastapi.testclient import TestClient

from hegui.config import Settings
from hegui.console import staff as staff_mod
from hegui.context import HeguiContext
from hegui.privacy.crypto import generate_key

pytest.importorskip("hegui.cases.complaints")


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    tmp = tmp_path_factory.mktemp("cases")
    ctx = HeguiContext(Settings(data_dir=tmp / ".hegui", database_url=f"sqlite:///{tmp / 'c.db'}",
                                secret_key=generate_key()))
    with console(ctx) as c:
        yield c
    ctx.close()


def _file(con: Console, text: str) -> str:
    c = TestClient(con.app, follow_redirects=False)
    page = c.get("/console/public/complaint")
    r = c.post("/console/public/complaint", data={"csrf": csrf_of(page.text), "category": "illegal_content",
                                                  "description": text, "contact": "someone@example.com"})
    assert r.status_code == 200, r.text
    return re.search(r'id="ticket">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]


def _act(c: TestClient, ticket: str, action: str, **data: str) -> None:
    page = c.get(f"/console/cases/complaints/{ticket}")
    r = c.post(f"/console/cases/complaints/{ticket}/{action}", data={"csrf": csrf_of(page.text), **data})
    assert r.status_code == 303, r.text


def test_public_complaint_is_worked_to_resolution_in_the_console(con: Console) -> None:
    ticket = _file(con, "模型输出了不良信息")
    c = con.login("compliance")
    assert ticket in c.get("/console/cases/complaints").text
    _act(c, ticket, "move", status="triage")
    _act(c, ticket, "move", status="resolved", outcome="已核实并整改词库")
    page = c.get(f"/console/cases/complaints/{ticket}").text
    assert 'id="case-status">已解决<' in page and "已核实并整改词库" in page
    status = TestClient(con.app).get(f"/console/public/status?ticket={ticket}").text
    assert "已解决" in status
    events, _ = staff_mod.events(con.ctx.db, action="case_move")
    assert [e.target for e in events] == [f"complaints:{ticket}"] * 2


def test_reviewer_may_note_but_not_move_a_complaint(con: Console) -> None:
    ticket = _file(con, "另一条投诉")
    c = con.login("reviewer")
    _act(c, ticket, "note", note="已查看")
    page = c.get(f"/console/cases/complaints/{ticket}")
    r = c.post(f"/console/cases/complaints/{ticket}/move", data={"csrf": csrf_of(page.text), "status": "triage"})
    assert r.status_code == 403


def test_auditor_sees_the_complaint_without_its_text(con: Console) -> None:
    ticket = _file(con, "只有处理人能看到的投诉内容")
    html = con.login("auditor").get(f"/console/cases/complaints/{ticket}").text
    assert ticket in html and "只有处理人能看到的投诉内容" not in html


def test_bad_complaint_input_is_a_clear_400(con: Console) -> None:
    c = TestClient(con.app, follow_redirects=False)
    page = c.get("/console/public/complaint")
    r = c.post("/console/public/complaint", data={"csrf": csrf_of(page.text), "category": "illegal_content",
                                                  "description": "  "})
    assert r.status_code == 400 and "description" in r.text
