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


def _queue_action(c: TestClient, queue: str, ref: str, action: str, **data: str) -> str:
    page = c.get(f"/console/cases/{queue}/{ref}")
    assert page.status_code == 200, page.text
    r = c.post(f"/console/cases/{queue}/{ref}/{action}", data={"csrf": csrf_of(page.text), **data})
    assert r.status_code == 303, r.text
    return c.get(f"/console/cases/{queue}/{ref}").text


def test_pi_request_is_rejected_with_a_reason_from_the_console(con: Console) -> None:
    from hegui.cases.pi_requests import PiRequestService
    from hegui.identity import accounts

    uid = accounts.create_user(con.ctx.db, "请求人").user_id
    req = PiRequestService(con.ctx).submit(uid, "correction", {"field": "name", "value": "新名字"})
    c = con.login("compliance")
    assert req["id"] in c.get("/console/cases/pi_requests").text
    html = _queue_action(c, "pi_requests", req["id"], "reject", reason="无法核实身份")
    assert 'id="case-status">已驳回<' in html


def test_incident_is_confirmed_and_its_rectification_items_appear(con: Console) -> None:
    from hegui.cases.incidents import IncidentService

    inc = IncidentService(con.ctx).open("模型输出了违规内容", 3)
    c = con.login("admin")
    html = _queue_action(c, "incidents", inc["id"], "confirm")
    assert 'id="case-status">确认违规<' in html
    rect = c.get("/console/cases/rectification").text
    assert inc["id"] in rect


def test_sanction_is_lifted_from_the_console(con: Console) -> None:
    from hegui.cases.sanctions import SanctionService
    from hegui.identity import accounts

    uid = accounts.create_user(con.ctx.db, "被处置用户").user_id
    svc = SanctionService(con.ctx)
    sn = svc.apply(uid, svc.rules.ladder[0], "多次违规输入", "officer")
    c = con.login("compliance")
    html = _queue_action(c, "sanctions", str(sn["id"]), "lift", reason="申诉成立")
    assert svc.history(uid)[0]["lifted_at"] is not None and "申诉成立" in html
