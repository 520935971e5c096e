"""Obligation rows O7, O10, O11, O12 report live evidence from the case tables."""

from __future__ import annotations

from casekit import clock, new_user, record

import hegui.cases.evidence
import hegui.privacy.evidence  # noqa: F401  (register the evidence functions)
from hegui.cases.complaints import ComplaintService
from hegui.cases.incidents import IncidentService
from hegui.cases.notify import LogNotifier
from hegui.cases.sanctions import SanctionService
from hegui.context import HeguiContext
from hegui.obligations import control_evidence


def test_fresh_install_reports_configured(ctx: HeguiContext) -> None:
    for control in ("cases.complaints", "cases.pi_requests", "cases.incidents", "cases.rectification",
                    "cases.sanctions", "privacy.encryption", "privacy.retention"):
        assert control_evidence(ctx, control).status == "configured", control


def test_overdue_complaint_makes_o12_fail(ctx: HeguiContext) -> None:
    from datetime import timedelta

    from hegui.cases.common import utc_now

    ComplaintService(ctx, clock(utc_now() - timedelta(days=30)), LogNotifier()).file("ip", "x")
    ev = control_evidence(ctx, "cases.complaints")
    assert ev.status == "failing" and "past the time limit" in ev.detail


def test_activity_is_reported_as_working(ctx: HeguiContext) -> None:
    u = new_user(ctx)
    record(ctx, u, "refuse")
    IncidentService(ctx).open("x", 3)
    SanctionService(ctx).apply(u, "warn", "x", "staff")
    ComplaintService(ctx, notifier=LogNotifier()).file("ip", "x")
    for control in ("cases.incidents", "cases.sanctions", "cases.complaints", "privacy.encryption"):
        assert control_evidence(ctx, control).status == "working", control


def test_egress_without_upstreams_is_not_configured(ctx: HeguiContext) -> None:
    assert control_evidence(ctx, "privacy.egress").status == "not_configured"
