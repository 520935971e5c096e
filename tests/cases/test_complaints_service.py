"""Complaints: intake validation, durability, lifecycle, SLA escalation, outcome notification."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from casekit import clock, new_user, record
from sqlalchemy import select

from hegui.cases.complaints import ComplaintService
from hegui.cases.notify import HttpNotifier, LogNotifier, Message, NotifyError, mask_recipient
from hegui.context import HeguiContext
from hegui.errors import InvalidInputError
from hegui.store.models.cases import Complaint


def svc(ctx: HeguiContext, at: Any = None, notifier: Any = None) -> ComplaintService:
    return ComplaintService(ctx, at or clock(), notifier or LogNotifier())


def test_filing_returns_a_ticket_and_deadlines_from_the_pack(ctx: HeguiContext) -> None:
    ack = svc(ctx).file("illegal_content", "模型输出了违法内容", "a@example.com")
    assert ack["ticket"].startswith("HG20260302-")
    assert ack["triage_due"] == "2026-03-03T09:00:00Z"  # complaint_ack_hours: 24
    assert ack["resolution_due"] == "2026-03-17T09:00:00Z"  # complaint_resolve_days: 15


def test_acknowledged_complaint_is_committed_and_sealed(ctx: HeguiContext) -> None:
    ack = svc(ctx).file("pi_rights", "请删除我的手机号13800138000", "13800138000")
    other = HeguiContext(ctx.settings)  # a fresh connection sees it: it was committed before the ack
    try:
        with other.db.session() as s:
            row = s.scalars(select(Complaint).where(Complaint.ticket == ack["ticket"])).one()
            assert "13800138000" not in (row.description or "") and "13800138000" not in (row.contact or "")
    finally:
        other.close()
    assert svc(ctx).get(ack["ticket"])["description"] == "请删除我的手机号13800138000"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"category": "spam", "description": "x"}, "category"),
    ({"category": "ip", "description": "   "}, "description"),
    ({"category": "ip", "description": "x" * 5001}, "description"),
    ({"category": "ip", "description": "x", "contact": "not a contact"}, "contact"),
    ({"category": "ip", "description": "x", "record_ids": ["nope"]}, "record_ids"),
    ({"category": "ip", "description": "x", "record_ids": ["00000000-0000-0000-0000-000000000000"]}, "record_ids"),
])
def test_bad_intake_is_refused_with_the_field_named(ctx: HeguiContext, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        svc(ctx).file(**kwargs)
    with ctx.db.session() as s:
        assert s.scalars(select(Complaint)).first() is None  # nothing half-written


def test_attachments_reference_existing_audit_records(ctx: HeguiContext) -> None:
    rid = record(ctx, new_user(ctx))
    ack = svc(ctx).file("illegal_content", "see this answer", record_ids=[rid])
    assert svc(ctx).get(ack["id"])["record_ids"] == [rid]


def test_lifecycle_moves_forward_and_refuses_skips(ctx: HeguiContext) -> None:
    s = svc(ctx)
    t = s.file("other", "账号问题")["ticket"]
    with pytest.raises(InvalidInputError, match="can move to"):
        s.move(t, "in_progress", "staff")
    s.assign(t, "reviewer-1", "staff")
    s.move(t, "triage", "staff")
    s.move(t, "in_progress", "staff", note_text="looking")
    with pytest.raises(InvalidInputError, match="outcome"):
        s.move(t, "resolved", "staff")
    done = s.move(t, "resolved", "staff", outcome="已处理")
    assert done["status"] == "resolved" and done["assignee"] == "reviewer-1"
    assert [n["kind"] for n in done["notes"]] == ["filed", "assigned", "triage", "in_progress", "resolved"]
    with pytest.raises(InvalidInputError, match="closed"):
        s.move(t, "rejected", "staff", outcome="x")


def test_outcome_is_sent_to_the_complainant(ctx: HeguiContext) -> None:
    n = LogNotifier()
    s = svc(ctx, notifier=n)
    t = s.file("ip", "抄袭", "user@example.com")["ticket"]
    s.move(t, "rejected", "staff", outcome="未发现侵权")
    assert len(n.sent) == 1 and n.sent[0].to == "user@example.com" and n.sent[0].channel == "email"
    assert "未发现侵权" in n.sent[0].body
    assert s.get(t)["notified_at"] is not None


def test_log_notifier_never_logs_the_recipient_in_clear() -> None:
    assert mask_recipient("13800138000") == "138****8000"
    assert mask_recipient("alice@example.com") == "a***@example.com"


class _Gateway(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []  # noqa: RUF012
    status = 202

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        type(self).received.append({"auth": self.headers.get("authorization"), **json.loads(body)})
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def sms_gateway() -> Iterator[tuple[str, type[_Gateway]]]:
    _Gateway.received, _Gateway.status = [], 202
    srv = HTTPServer(("127.0.0.1", 0), _Gateway)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/send", _Gateway
    srv.shutdown()
    srv.server_close()


def test_http_notifier_posts_the_outcome_to_the_gateway(ctx: HeguiContext,
                                                        sms_gateway: tuple[str, type[_Gateway]]) -> None:
    url, handler = sms_gateway
    s = svc(ctx, notifier=HttpNotifier(url, token="tok"))
    t = s.file("pi_rights", "查询我的数据", "+8613800138000")["ticket"]
    s.move(t, "rejected", "staff", outcome="请通过用户接口导出")
    [msg] = handler.received
    assert msg["channel"] == "sms" and msg["to"] == "+8613800138000" and msg["auth"] == "Bearer tok"
    assert "请通过用户接口导出" in msg["body"]


def test_failed_notification_is_recorded_not_lost(ctx: HeguiContext, sms_gateway: tuple[str, type[_Gateway]]) -> None:
    url, handler = sms_gateway
    handler.status = 500
    s = svc(ctx, notifier=HttpNotifier(url))
    t = s.file("ip", "x", "a@example.com")["ticket"]
    c = s.move(t, "rejected", "staff", outcome="no")
    assert c["status"] == "rejected" and c["notified_at"] is None
    assert c["notes"][-1]["kind"] == "notify_failed"
    with pytest.raises(NotifyError, match="HTTP 500"):
        HttpNotifier(url).send(Message("sms", "13800138000", "s", "b"))


def test_overdue_complaints_escalate_by_the_injected_clock(ctx: HeguiContext) -> None:
    c = clock()
    s = svc(ctx, c)
    untriaged = s.file("ip", "a")["ticket"]
    worked = s.file("ip", "b")["ticket"]
    s.move(worked, "triage", "staff")
    assert s.escalate_overdue() == []
    c.advance(hours=25)  # past the 24 h triage limit
    [e] = s.escalate_overdue()
    assert (e.ticket, e.level) == (untriaged, 1)
    assert s.escalate_overdue() == []  # the same level is not raised twice
    c.advance(days=15)  # past the 15-day resolution limit
    assert sorted((e.ticket, e.level) for e in s.escalate_overdue()) == sorted([(untriaged, 2), (worked, 2)])
    assert {r["ticket"] for r in s.search(overdue=True)} == {untriaged, worked}
    assert s.get(worked)["notes"][-1]["kind"] == "escalated"


def test_closed_complaints_never_escalate(ctx: HeguiContext) -> None:
    c = clock()
    s = svc(ctx, c)
    t = s.file("ip", "a")["ticket"]
    s.move(t, "rejected", "staff", outcome="duplicate")
    c.advance(days=60)
    assert s.escalate_overdue() == [] and s.search(overdue=True) == []


def test_policy_publishes_the_pack_time_limits(ctx: HeguiContext) -> None:
    p = svc(ctx).policy()
    assert p["time_limits"]["triage_hours"] == 24 and p["time_limits"]["resolution_days"] == 15
    assert set(p["categories"]) == {"illegal_content", "pi_rights", "ip", "other"}
