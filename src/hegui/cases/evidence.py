"""Live evidence for O7 (PI requests), O10 (incidents, rectification), O11 (sanctions), O12 (complaints)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from hegui.cases.common import utc_now
from hegui.cases.complaints import CLOSED
from hegui.obligations import Evidence, evidence_for
from hegui.store.models.cases import Complaint, Incident, PiRequest, RectificationItem, Sanction, TakeDown

if TYPE_CHECKING:
    from hegui.context import HeguiContext


def _count(ctx: HeguiContext, stmt: object) -> int:
    with ctx.db.session() as s:
        return int(s.scalar(stmt) or 0)  # type: ignore[call-overload]


@evidence_for("cases.complaints")
def complaints_evidence(ctx: HeguiContext) -> Evidence:
    d = ctx.pack.deadlines
    now = utc_now()
    total = _count(ctx, select(func.count()).select_from(Complaint))
    late = _count(ctx, select(func.count()).select_from(Complaint).where(
        Complaint.status.not_in(CLOSED), Complaint.due_at < now))
    closed = _count(ctx, select(func.count()).select_from(Complaint).where(Complaint.status.in_(CLOSED)))
    limits = (f"published at GET /complaints/policy: triage {d.complaint_ack_hours} h, "
              f"close {d.complaint_resolve_days} d")
    if late:
        return Evidence("cases.complaints", "failing", f"{late} complaint(s) past the time limit; {limits}")
    if total == 0:
        return Evidence("cases.complaints", "configured", f"intake at POST /complaints; none filed yet; {limits}")
    return Evidence("cases.complaints", "working", f"{total} complaint(s), {closed} closed, none overdue; {limits}")


@evidence_for("cases.pi_requests")
def pi_requests_evidence(ctx: HeguiContext) -> Evidence:
    d = ctx.pack.deadlines
    total = _count(ctx, select(func.count()).select_from(PiRequest))
    late = _count(ctx, select(func.count()).select_from(PiRequest).where(
        PiRequest.status == "open", PiRequest.due_at < utc_now()))
    limits = f"deadline {d.pi_request_days} d, cancellation {d.cancellation_working_days} working days"
    if late:
        return Evidence("cases.pi_requests", "failing", f"{late} PI request(s) past their deadline ({limits})")
    if total == 0:
        return Evidence("cases.pi_requests", "configured", f"user API /v1/privacy/requests ready; none yet ({limits})")
    return Evidence("cases.pi_requests", "working", f"{total} PI request(s), none overdue ({limits})")


@evidence_for("cases.incidents")
def incidents_evidence(ctx: HeguiContext) -> Evidence:
    total = _count(ctx, select(func.count()).select_from(Incident))
    tds = _count(ctx, select(func.count()).select_from(TakeDown))
    sev = ctx.pack.sanctions.incident_min_severity
    if total == 0:
        return Evidence("cases.incidents", "configured",
                        f"refused exchanges with severity ≥ {sev} open incidents; none yet")
    return Evidence("cases.incidents", "working", f"{total} incident(s), {tds} take-down(s); reports exportable "
                    "as JSON/CSV/DOCX")


@evidence_for("cases.rectification")
def rectification_evidence(ctx: HeguiContext) -> Evidence:
    days = ctx.pack.deadlines.rectification_days
    total = _count(ctx, select(func.count()).select_from(RectificationItem))
    late = _count(ctx, select(func.count()).select_from(RectificationItem).where(
        RectificationItem.status.in_(("open", "in_progress")), RectificationItem.due_at < utc_now()))
    if late:
        return Evidence("cases.rectification", "failing", f"{late} rectification item(s) past the {days}-day deadline")
    if total == 0:
        return Evidence("cases.rectification", "configured", f"confirmed incidents yield follow-ups due in {days} d; "
                        "none yet")
    return Evidence("cases.rectification", "working", f"{total} follow-up(s), none overdue ({days}-day deadline)")


@evidence_for("cases.sanctions")
def sanctions_evidence(ctx: HeguiContext) -> Evidence:
    r = ctx.pack.sanctions
    total = _count(ctx, select(func.count()).select_from(Sanction))
    rule = (f"ladder {' → '.join(r.ladder)}; suspend {r.suspend_days} d after {r.consecutive_violations} "
            f"consecutive or {r.daily_violations} daily violating inputs ({r.clause})")
    if total == 0:
        return Evidence("cases.sanctions", "configured", f"{rule}; no sanction applied yet")
    return Evidence("cases.sanctions", "working", f"{total} recorded step(s); {rule}")
