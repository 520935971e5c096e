"""Incidents: the refusal hook's severity policy, confirmation into rectification, take-down, reports."""

from __future__ import annotations

import csv
import io
import json

import pytest
from casekit import clock, new_user, record

from hegui.audit import log as audit_log
from hegui.cases.incidents import IncidentService, RefusedExchange, after_refusal, worst_severity
from hegui.cases.rectification import RectificationService
from hegui.context import HeguiContext
from hegui.errors import InvalidInputError, NotFoundError


def test_refusal_at_the_pack_severity_opens_an_incident(ctx: HeguiContext) -> None:
    u = new_user(ctx)
    rid = record(ctx, u, "refuse")
    out = after_refusal(ctx, RefusedExchange(rid, u, ["A1.4"], 3, True), clock())
    [inc] = IncidentService(ctx).search()
    assert out["incident"] == inc["id"] and inc["record_id"] == rid and inc["user_id"] == u
    assert out["sanction"]["step"] == "warn"


def test_refusal_below_the_pack_severity_opens_none(ctx: HeguiContext) -> None:
    rid = record(ctx, None, "refuse")
    assert "incident" not in after_refusal(ctx, RefusedExchange(rid, None, ["A3.1"], 1, False), clock())
    assert IncidentService(ctx).search() == []


def test_refused_output_is_not_the_users_violation(ctx: HeguiContext) -> None:
    u = new_user(ctx)
    rid = record(ctx, u, "refuse")
    out = after_refusal(ctx, RefusedExchange(rid, u, ["A1.4"], 3, False, "output"), clock())
    assert "sanction" not in out and "incident" in out


def test_worst_severity_reads_decision_findings() -> None:
    assert worst_severity({"findings": [{"severity": 1}, {"severity": 3}]}, None, {"findings": []}) == 3
    assert worst_severity(None) == 0


def test_confirming_yields_follow_ups_due_after_rectification_days(ctx: HeguiContext) -> None:
    c = clock()
    svc = IncidentService(ctx, c)
    iid = svc.open("model described weapons", 3)["id"]
    svc.confirm(iid)
    items = RectificationService(ctx, c).search(incident_id=iid)
    assert sorted(i["kind"] for i in items) == ["classifier_example", "lexicon_term", "model_fix", "test_question"]
    assert {i["due_at"] for i in items} == {"2026-05-31T09:00:00Z"}  # rectification_days: 90


def test_overdue_follow_ups_are_listed(ctx: HeguiContext) -> None:
    c = clock()
    r = RectificationService(ctx, c)
    a = r.add("lexicon_term", "add 测试违禁词乙")
    b = r.add("model_fix", "re-align")
    r.update(int(b["id"]), "done", "fine-tuned v2")
    c.advance(days=91)
    assert [i["id"] for i in r.search(overdue=True)] == [a["id"]]


def test_take_down_removes_content_and_the_chain_still_verifies(ctx: HeguiContext) -> None:
    u = new_user(ctx)
    rid = record(ctx, u, "refuse", text="违法内容")
    record(ctx, u)
    svc = IncidentService(ctx, clock())
    iid = svc.open("report", 3, record_id=rid)["id"]
    assert svc.get(iid)["user_id"] == u
    svc.take_down(rid, "illegal content", "staff", iid)
    [rec] = [r for r in audit_log.export(ctx.db, ctx.keys, decrypt=True) if r["record_id"] == rid]
    assert rec["content"] is None and rec["content_purged_at"] is not None
    assert audit_log.verify(ctx.db).ok
    assert svc.report(iid)["takedowns"][0]["record_id"] == rid


def test_take_down_of_an_unknown_record_is_refused(ctx: HeguiContext) -> None:
    with pytest.raises(NotFoundError):
        IncidentService(ctx).take_down("00000000-0000-0000-0000-000000000000", "x", "staff")


def test_report_exports_as_json_csv_and_docx(ctx: HeguiContext) -> None:
    from docx import Document

    u = new_user(ctx)
    rid = record(ctx, u, "refuse")
    svc = IncidentService(ctx, clock())
    iid = svc.open("违法内容事件", 3, record_id=rid)["id"]
    svc.confirm(iid, ["lexicon_term"])
    doc = json.loads(svc.export(iid, "json"))
    assert doc["incident"]["id"] == iid and doc["audit_record"]["record_id"] == rid
    assert doc["rectification"][0]["kind"] == "lexicon_term"
    rows = list(csv.reader(io.StringIO(svc.export(iid, "csv").decode("utf-8"))))
    assert rows[0] == ["section", "field", "value"] and ["incident", "id", iid] in rows
    word = Document(io.BytesIO(svc.export(iid, "docx")))
    cells = {c.text for t in word.tables for row in t.rows for c in row.cells}
    assert iid in cells and rid in cells


def test_incident_input_is_validated(ctx: HeguiContext) -> None:
    svc = IncidentService(ctx)
    with pytest.raises(InvalidInputError, match="severity"):
        svc.open("x", 7)
    with pytest.raises(InvalidInputError, match="record_id"):
        svc.open("x", 2, record_id="00000000-0000-0000-0000-000000000000")
    iid = svc.open("x", 2)["id"]
    with pytest.raises(InvalidInputError, match="follow-up"):
        svc.confirm(iid, ["prayer"])
