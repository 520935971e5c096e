"""Retention purge per data kind; the audit chain stays verifiable; runs are logged for evidence."""

from __future__ import annotations

from datetime import timedelta

from casekit import T0, clock, new_user, record

import hegui.privacy.evidence  # noqa: F401  (registers the evidence functions)
from hegui.audit import log as audit_log
from hegui.cases.complaints import ComplaintService
from hegui.cases.notify import LogNotifier
from hegui.context import HeguiContext
from hegui.obligations import control_evidence
from hegui.privacy.retention import last_runs, purge


def test_purge_removes_old_conversations_and_the_chain_still_verifies(ctx: HeguiContext) -> None:
    u = new_user(ctx)
    old = record(ctx, u, ts=T0 - timedelta(days=200))
    new = record(ctx, u, ts=T0 - timedelta(days=10))
    res = {r["kind"]: r for r in purge(ctx, clock())}
    assert res["audit_content"]["removed"] == 1 and res["audit_content"]["older_than_days"] == 183
    content = {r["record_id"]: r["content"] for r in audit_log.export(ctx.db, ctx.keys, decrypt=True)}
    assert content[old] is None and content[new] is not None
    v = audit_log.verify(ctx.db)
    assert v.ok and v.purged == 1


def test_purge_removes_text_of_long_closed_cases_only(ctx: HeguiContext) -> None:
    long_ago = clock(T0 - timedelta(days=1200))
    cs = ComplaintService(ctx, long_ago, LogNotifier())
    old = cs.file("ip", "旧投诉正文", "a@example.com")["id"]
    cs.move(old, "rejected", "staff", outcome="no")
    still_open = cs.file("ip", "仍在处理")["id"]
    purge(ctx, clock())
    now = ComplaintService(ctx, clock(), LogNotifier())
    assert now.get(old)["description"] is None and now.get(old)["contact"] is None
    assert now.get(old)["outcome"] == "no"  # the outcome (no personal data) stays
    assert now.get(still_open)["description"] == "仍在处理"


def test_purge_runs_are_logged_and_feed_the_evidence(ctx: HeguiContext) -> None:
    assert control_evidence(ctx, "privacy.retention").status == "configured"
    purge(ctx)
    assert {r["kind"] for r in last_runs(ctx)} == {"audit_content", "closed_cases"}
    ev = control_evidence(ctx, "privacy.retention")
    assert ev.status == "working" and "last purge" in ev.detail
