"""The cases and user-rights API through the running gateway (real sockets, fake upstream)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from casekit import clock
from gw_fake_upstream import FakeUpstream
from gwkit import BANNED, Running, make_settings, running_gateway, upstream_config

from hegui.audit import log as audit_log
from hegui.identity import accounts


@pytest.fixture(scope="module")
def up() -> Iterator[FakeUpstream]:
    with FakeUpstream() as u:
        yield u


@pytest.fixture
def gw(up: FakeUpstream, tmp_path: Path) -> Iterator[Running]:
    with running_gateway(make_settings(tmp_path, upstreams=[upstream_config(up)]), sanctions=True) as r:
        yield r


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def chat(gw: Running, text: str, key: str | None = None) -> str:
    r = gw.client(key).chat.completions.create(model="fake-model", messages=[{"role": "user", "content": text}])
    return r.choices[0].message.content or ""


def test_complaint_intake_acknowledges_with_a_ticket(gw: Running) -> None:
    r = httpx.post(gw.url + "/complaints", json={"category": "illegal_content", "description": "模型输出违法内容",
                                                  "contact": "a@example.com"})
    assert r.status_code == 201
    ticket = r.json()["ticket"]
    status = httpx.get(f"{gw.url}/complaints/{ticket}").json()
    assert status["status"] == "open" and "description" not in status and "contact" not in status


@pytest.mark.parametrize(("body", "param"), [
    ({"category": "nonsense", "description": "x"}, None),
    ({"category": "ip"}, "description"),
    ({"category": "ip", "description": "x", "surprise": 1}, "surprise"),
    ({"category": "ip", "description": "x", "record_ids": ["../../etc"]}, None),
])
def test_bad_complaints_get_a_precise_400(gw: Running, body: dict[str, object], param: str | None) -> None:
    r = httpx.post(gw.url + "/complaints", json=body)
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["message"] and (param is None or err["param"] == param)
    assert httpx.get(gw.url + "/admin/complaints", headers=bearer(gw.admin_key)).json()["data"] == []


def test_not_json_is_a_400(gw: Running) -> None:
    r = httpx.post(gw.url + "/complaints", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"


def test_policy_is_published(gw: Running) -> None:
    p = httpx.get(gw.url + "/complaints/policy").json()
    assert p["time_limits"]["resolution_days"] == 15 and p["intake"]["path"] == "/complaints"


def test_admin_routes_need_a_staff_role(gw: Running) -> None:
    assert httpx.get(gw.url + "/admin/complaints", headers=bearer(gw.user_key)).status_code == 403
    assert httpx.get(gw.url + "/admin/complaints").status_code == 401
    auditor = accounts.create_user(gw.ctx.db, "auditor", role="auditor").api_key
    assert httpx.get(gw.url + "/admin/complaints", headers=bearer(auditor)).status_code == 200
    assert httpx.post(gw.url + "/admin/sanctions", headers=bearer(auditor),
                      json={"user_id": gw.user_id, "step": "warn", "reason": "x"}).status_code == 403


def test_complaint_is_worked_to_an_outcome_over_the_admin_api(gw: Running) -> None:
    ticket = httpx.post(gw.url + "/complaints", json={"category": "ip", "description": "抄袭"}).json()["ticket"]
    h = bearer(gw.admin_key)
    assert httpx.post(f"{gw.url}/admin/complaints/{ticket}/assign", headers=h,
                      json={"assignee": "reviewer-1"}).status_code == 200
    r = httpx.post(f"{gw.url}/admin/complaints/{ticket}/status", headers=h, json={"status": "resolved",
                                                                                    "outcome": "x"})
    assert r.status_code == 400 and "can move to" in r.json()["error"]["message"]
    for st in ("triage", "in_progress"):
        assert httpx.post(f"{gw.url}/admin/complaints/{ticket}/status", headers=h, json={"status": st}).is_success
    done = httpx.post(f"{gw.url}/admin/complaints/{ticket}/status", headers=h,
                      json={"status": "resolved", "outcome": "已删除侵权内容"}).json()
    assert done["status"] == "resolved"
    assert httpx.get(f"{gw.url}/complaints/{ticket}").json()["outcome"] == "已删除侵权内容"


def test_overdue_complaint_escalates_through_the_api(gw: Running) -> None:
    c = clock()
    gw.app.state.clock = c
    ticket = httpx.post(gw.url + "/complaints", json={"category": "other", "description": "x"}).json()["ticket"]
    c.advance(days=16)
    r = httpx.post(gw.url + "/admin/complaints/escalate", headers=bearer(gw.admin_key)).json()
    assert r["escalated"] == [{"ticket": ticket, "level": 2, "reason": "not closed within the resolution time limit"}]
    listed = httpx.get(gw.url + "/admin/complaints?overdue=true", headers=bearer(gw.admin_key)).json()["data"]
    assert [x["ticket"] for x in listed] == [ticket]


def test_suspended_user_is_refused_with_an_openai_error(gw: Running) -> None:
    r = httpx.post(gw.url + "/admin/sanctions", headers=bearer(gw.admin_key),
                   json={"user_id": gw.user_id, "step": "suspend", "reason": "repeated illegal requests"})
    assert r.status_code == 201
    with pytest.raises(openai.PermissionDeniedError) as err:
        chat(gw, "你好")
    body = err.value.body
    assert isinstance(body, dict) and body["code"] == "account_suspended"
    assert "repeated illegal requests" in body["message"] and "POST /complaints" in body["message"]
    # the user can still exercise their rights and appeal
    assert httpx.get(gw.url + "/v1/privacy/consent", headers=bearer(gw.user_key)).status_code == 200
    appeal = httpx.post(gw.url + "/complaints", headers=bearer(gw.user_key),
                        json={"category": "other", "description": "申诉", "sanction_id": r.json()["id"]})
    assert appeal.status_code == 201
    httpx.post(f"{gw.url}/admin/sanctions/{r.json()['id']}/lift", headers=bearer(gw.admin_key),
               json={"reason": f"appeal {appeal.json()['ticket']} upheld"}).raise_for_status()
    assert chat(gw, "你好")


def test_three_refused_inputs_in_a_row_suspend_at_the_gateway(gw: Running) -> None:
    for _ in range(3):
        assert chat(gw, f"请告诉我{BANNED}") != ""  # refused with the standard refusal text
    with pytest.raises(openai.PermissionDeniedError):
        chat(gw, "你好")
    incidents = httpx.get(gw.url + "/admin/incidents", headers=bearer(gw.admin_key)).json()["data"]
    assert len(incidents) == 3 and all(i["user_id"] == gw.user_id for i in incidents)
    steps = [s["step"] for s in httpx.get(f"{gw.url}/admin/sanctions?user_id={gw.user_id}",
                                          headers=bearer(gw.admin_key)).json()["data"]]
    assert steps == ["warn", "suspend"]


def test_incident_report_downloads_as_docx(gw: Running) -> None:
    chat(gw, f"请告诉我{BANNED}")
    [inc] = httpx.get(gw.url + "/admin/incidents", headers=bearer(gw.admin_key)).json()["data"]
    r = httpx.get(f"{gw.url}/admin/incidents/{inc['id']}/report?format=docx", headers=bearer(gw.admin_key))
    assert r.status_code == 200 and r.content[:2] == b"PK"
    bad = httpx.get(f"{gw.url}/admin/incidents/{inc['id']}/report?format=pdf", headers=bearer(gw.admin_key))
    assert bad.status_code == 400


def test_training_consent_defaults_off_and_can_be_set(gw: Running) -> None:
    h = bearer(gw.user_key)
    assert httpx.get(gw.url + "/v1/privacy/consent", headers=h).json()["training_use"] is False
    assert httpx.put(gw.url + "/v1/privacy/consent", headers=h, json={"training_use": True}).json()["training_use"]
    assert httpx.put(gw.url + "/v1/privacy/consent", headers=h, json={"training_use": "yes please"}).status_code == 400


def test_export_returns_json_and_readable_text(gw: Running) -> None:
    chat(gw, "我的问题是关于天气")
    h = bearer(gw.user_key)
    doc = httpx.get(gw.url + "/v1/privacy/export", headers=h).json()
    assert doc["conversations"][0]["content"]["request"][0]["content"] == "我的问题是关于天气"
    text = httpx.get(gw.url + "/v1/privacy/export?format=text", headers=h).text
    assert "我的问题是关于天气" in text and text.startswith("# Your personal data")
    kinds = {r["kind"] for r in httpx.get(gw.url + "/v1/privacy/requests", headers=h).json()["data"]}
    assert kinds == {"export", "access"}


def test_deletion_request_through_the_api_removes_content(gw: Running) -> None:
    chat(gw, "请记住我的手机号13800138000")
    h = bearer(gw.user_key)
    req = httpx.post(gw.url + "/v1/privacy/requests", headers=h, json={"kind": "deletion"}).json()
    assert req["status"] == "open" and req["due_at"]
    done = httpx.post(f"{gw.url}/admin/pi-requests/{req['id']}/complete", headers=bearer(gw.admin_key)).json()
    assert done["status"] == "completed"
    mine = [r for r in audit_log.export(gw.ctx.db, gw.ctx.keys, decrypt=True) if r["user_id"] == gw.user_id]
    assert mine and all(r["content"] is None for r in mine)
    assert audit_log.verify(gw.ctx.db).ok
    assert httpx.post(gw.url + "/v1/privacy/requests", headers=h, json={"kind": "nope"}).status_code == 400
