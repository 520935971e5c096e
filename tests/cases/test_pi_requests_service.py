"""PI-rights requests: deadlines (calendar and working days), and what completing each kind does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from casekit import clock, new_user, record
from sqlalchemy import select

from hegui.audit import log as audit_log
from hegui.cases.common import add_working_days
from hegui.cases.complaints import ComplaintService
from hegui.cases.notify import LogNotifier
from hegui.cases.pi_requests import PiRequestService
from hegui.context import HeguiContext
from hegui.errors import InvalidInputError
from hegui.identity import accounts
from hegui.privacy import consent
from hegui.store.models.audit import AuditRecord


def test_working_days_skip_weekends() -> None:
    fri = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)
    assert add_working_days(fri, 1) == datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    assert add_working_days(fri, 15) == datetime(2026, 3, 27, 10, 0, tzinfo=UTC)  # three weeks of Mon–Fri


def test_deadlines_come_from_the_pack(ctx: HeguiContext) -> None:
    u = new_user(ctx)
    svc = PiRequestService(ctx, clock())
    assert svc.submit(u, "deletion")["due_at"] == "2026-04-01T09:00:00Z"  # 30 days
    assert svc.submit(u, "cancellation")["due_at"] == "2026-03-23T09:00:00Z"  # 15 working days from a Monday


def test_export_is_self_service_and_recorded(ctx: HeguiContext) -> None:
    u = new_user(ctx)
    record(ctx, u)
    r = PiRequestService(ctx, clock()).submit(u, "export")
    assert r["status"] == "completed" and r["result"]["records"] == 1


def test_deletion_request_really_removes_content(ctx: HeguiContext) -> None:
    u, other = new_user(ctx), new_user(ctx, "李四")
    mine = [record(ctx, u, text="我的身份证号110101199003074514") for _ in range(2)]
    theirs = record(ctx, other, text="别人的对话")
    ComplaintService(ctx, clock(), LogNotifier()).file("pi_rights", "我的投诉正文", "a@example.com", user_id=u)
    consent.set_consent(ctx, u, True)
    svc = PiRequestService(ctx, clock())
    req = svc.submit(u, "deletion")
    assert req["status"] == "open"  # staff carry it out
    done = svc.complete(req["id"], "compliance")
    assert done["status"] == "completed" and done["result"]["audit_contents"] == 2
    with ctx.db.session() as s:
        rows = {r.record_id: r for r in s.scalars(select(AuditRecord))}
        for rid in mine:
            assert rows[rid].content is None and rows[rid].content_purged_at is not None  # ciphertext gone
            assert rows[rid].user_id == u and rows[rid].record_hash  # metadata kept
        assert rows[theirs].content is not None
    exported = {r["record_id"]: r for r in audit_log.export(ctx.db, ctx.keys, decrypt=True)}
    assert all(exported[rid]["content"] is None for rid in mine)
    assert audit_log.verify(ctx.db).ok
    [c] = ComplaintService(ctx, clock(), LogNotifier()).search()
    assert ComplaintService(ctx).get(c["id"])["description"] is None
    assert consent.get_consent(ctx, u)["default"] is True


def test_cancellation_deletes_and_disables_the_account(ctx: HeguiContext) -> None:
    issued = accounts.create_user(ctx.db, "王五")
    record(ctx, issued.user_id)
    svc = PiRequestService(ctx, clock())
    done = svc.complete(svc.submit(issued.user_id, "cancellation")["id"], "compliance")
    assert done["result"]["account"] == "cancelled"
    assert accounts.authenticate(ctx.db, issued.api_key) is None
    assert audit_log.verify(ctx.db).ok


def test_correction_changes_the_name(ctx: HeguiContext) -> None:
    u = new_user(ctx, "张3")
    svc = PiRequestService(ctx, clock())
    req = svc.submit(u, "correction", {"field": "name", "value": "张三"})
    assert svc.get(req["id"], with_detail=True)["detail"] == {"field": "name", "value": "张三"}
    svc.complete(req["id"], "staff")
    assert accounts.get_user(ctx.db, u).name == "张三"


def test_bad_requests_are_refused(ctx: HeguiContext) -> None:
    u = new_user(ctx)
    svc = PiRequestService(ctx, clock())
    with pytest.raises(InvalidInputError, match="kind"):
        svc.submit(u, "forget-me-not")
    with pytest.raises(InvalidInputError, match="correction"):
        svc.submit(u, "correction", {"field": "name"})
    with pytest.raises(InvalidInputError, match="only name"):
        svc.submit(u, "correction", {"field": "role", "value": "admin"})
    req = svc.submit(u, "deletion")
    svc.reject(req["id"], "identity not confirmed", "staff")
    with pytest.raises(InvalidInputError, match="already rejected"):
        svc.complete(req["id"], "staff")


def test_overdue_requests_are_listed(ctx: HeguiContext) -> None:
    c = clock()
    u = new_user(ctx)
    svc = PiRequestService(ctx, c)
    req = svc.submit(u, "deletion")
    c.advance(days=31)
    assert [r["id"] for r in svc.search(overdue=True)] == [req["id"]]
