"""``hegui complaints|requests|incidents|sanctions|rectification``: the case queues from the shell."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from hegui.cases.complaints import ComplaintService
from hegui.cases.incidents import IncidentService, ReportFormat
from hegui.cases.pi_requests import PiRequestService
from hegui.cases.rectification import RectificationService
from hegui.cases.sanctions import SanctionService
from hegui.cli.common import STATE, JsonFlag, console, print_json
from hegui.context import HeguiContext
from hegui.errors import InvalidInputError
from hegui.install import ensure_database

complaints_app = typer.Typer(help="Complaints and reports with SLA clocks (Measures Art 15, O12).",
                             no_args_is_help=True)
requests_app = typer.Typer(help="Personal-information rights requests with deadlines (O7).", no_args_is_help=True)
incidents_app = typer.Typer(help="Illegal-content incidents, take-downs, regulator reports (O10).",
                            no_args_is_help=True)
sanctions_app = typer.Typer(help="The sanctions ladder: warn, restrict, suspend, terminate (O11).",
                            no_args_is_help=True)
rectification_app = typer.Typer(help="Rectification follow-ups of confirmed violations (O10).", no_args_is_help=True)


def _ctx() -> HeguiContext:
    ctx = STATE.ctx()
    ensure_database(ctx)
    return ctx


def _me() -> str:
    return f"cli:{getpass.getuser()}"[:40]


def _table(rows: list[dict[str, Any]], cols: list[str], title: str) -> None:
    if not rows:
        console.print(f"no {title}")
        return
    t = Table(title=title)
    for c in cols:
        t.add_column(c)
    for r in rows:
        t.add_row(*["" if r.get(c) is None else str(r.get(c)) for c in cols])
    console.print(t)


def _out(obj: Any, json_out: bool, line: str) -> None:
    if json_out:
        print_json(obj)
    else:
        console.print(line)


# complaints ----------------------------------------------------------------------------------------
@complaints_app.command("policy")
def complaints_policy(json_out: JsonFlag = False) -> None:
    """The published complaint process and time limits (also GET /complaints/policy)."""
    p = ComplaintService(_ctx()).policy()
    if json_out:
        print_json(p)
        return
    t = p["time_limits"]
    console.print(f"process: {' → '.join(p['process'])}\ntriage within {t['triage_hours']} h, closed within "
                  f"{t['resolution_days']} days; categories: {', '.join(p['categories'])}\n({p['clause']})")


@complaints_app.command("file")
def complaints_file(
    category: Annotated[str, typer.Option("--category", help="illegal_content, pi_rights, ip or other")],
    description: Annotated[str, typer.Option("--description", help="what happened")],
    contact: Annotated[str | None, typer.Option("--contact", help="e-mail or mobile for the outcome")] = None,
    record: Annotated[list[str] | None, typer.Option("--record", help="audit record id (repeatable)")] = None,
    user: Annotated[str | None, typer.Option("--user", help="the complainant's user id, if known")] = None,
    sanction: Annotated[int | None, typer.Option("--sanction", help="the sanction appealed against")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Record a complaint received by phone or letter; prints the ticket number."""
    ack = ComplaintService(_ctx()).file(category, description, contact, record or [], user, sanction)
    _out(ack, json_out, f"ticket {ack['ticket']} (id {ack['id']}); resolution due {ack['resolution_due']}")


@complaints_app.command("list")
def complaints_list(
    status: Annotated[str | None, typer.Option("--status")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="only those past their time limit")] = False,
    json_out: JsonFlag = False,
) -> None:
    rows = ComplaintService(_ctx()).search(status, overdue)
    if json_out:
        print_json(rows)
        return
    _table(rows, ["ticket", "category", "status", "assignee", "resolution_due", "overdue", "escalation_level"],
           "complaints")


@complaints_app.command("show")
def complaints_show(ref: Annotated[str, typer.Argument(help="id or ticket")]) -> None:
    print_json(ComplaintService(_ctx()).get(ref))


@complaints_app.command("assign")
def complaints_assign(ref: str, assignee: str, json_out: JsonFlag = False) -> None:
    c = ComplaintService(_ctx()).assign(ref, assignee, _me())
    _out(c, json_out, f"{c['ticket']} assigned to {c['assignee']}")


@complaints_app.command("move")
def complaints_move(
    ref: str,
    status: Annotated[str, typer.Argument(help="triage, in_progress, resolved or rejected")],
    outcome: Annotated[str | None, typer.Option("--outcome", help="required to resolve/reject; sent back")] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Move a complaint along its lifecycle; closing it sends the outcome to the complainant."""
    c = ComplaintService(_ctx()).move(ref, status, _me(), outcome, note)
    _out(c, json_out, f"{c['ticket']} is now {c['status']}" + (" (complainant notified)" if c["notified_at"] else ""))


@complaints_app.command("note")
def complaints_note(ref: str, text: str) -> None:
    c = ComplaintService(_ctx()).add_note(ref, _me(), text)
    console.print(f"note added to {c['ticket']}")


@complaints_app.command("escalate")
def complaints_escalate(json_out: JsonFlag = False) -> None:
    """Escalate every complaint past its time limit (run from cron, e.g. hourly)."""
    done = ComplaintService(_ctx()).escalate_overdue()
    rows = [{"ticket": e.ticket, "level": e.level, "reason": e.reason} for e in done]
    if json_out:
        print_json(rows)
        return
    console.print(f"{len(rows)} complaint(s) escalated")
    for r in rows:
        console.print(f"  {r['ticket']}: level {r['level']} — {r['reason']}")


# PI requests ------------------------------------------------------------------------------------------
@requests_app.command("submit")
def requests_submit(
    user: Annotated[str, typer.Argument(help="user id")],
    kind: Annotated[str, typer.Argument(help="access, export, correction, deletion or cancellation")],
    field: Annotated[str | None, typer.Option("--field", help="correction: the field (name)")] = None,
    value: Annotated[str | None, typer.Option("--value", help="correction: the new value")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Record a request received outside the user API."""
    detail = {"field": field, "value": value} if kind == "correction" else None
    r = PiRequestService(_ctx()).submit(user, kind, detail)
    _out(r, json_out, f"request {r['id']} ({r['kind']}) {r['status']}; due {r['due_at']}")


@requests_app.command("list")
def requests_list(
    user: Annotated[str | None, typer.Option("--user")] = None,
    status: Annotated[str | None, typer.Option("--status")] = None,
    overdue: Annotated[bool, typer.Option("--overdue")] = False,
    json_out: JsonFlag = False,
) -> None:
    rows = PiRequestService(_ctx()).search(user, status, overdue)
    if json_out:
        print_json(rows)
        return
    _table(rows, ["id", "user_id", "kind", "status", "due_at", "overdue"], "PI requests")


@requests_app.command("complete")
def requests_complete(rid: str, json_out: JsonFlag = False) -> None:
    """Carry out a request (deletion deletes, cancellation deletes and disables) and close it."""
    r = PiRequestService(_ctx()).complete(rid, _me())
    _out(r, json_out, f"request {rid} completed: {r['result']}")


@requests_app.command("reject")
def requests_reject(rid: str, reason: Annotated[str, typer.Option("--reason")], json_out: JsonFlag = False) -> None:
    r = PiRequestService(_ctx()).reject(rid, reason, _me())
    _out(r, json_out, f"request {rid} rejected")


# incidents --------------------------------------------------------------------------------------------
@incidents_app.command("list")
def incidents_list(status: Annotated[str | None, typer.Option("--status")] = None, json_out: JsonFlag = False) -> None:
    rows = IncidentService(_ctx()).search(status)
    if json_out:
        print_json(rows)
        return
    _table(rows, ["id", "opened_at", "source", "severity", "status", "user_id", "categories"], "incidents")


@incidents_app.command("open")
def incidents_open(
    summary: Annotated[str, typer.Option("--summary")],
    severity: Annotated[int, typer.Option("--severity", min=1, max=3)] = 3,
    record: Annotated[str | None, typer.Option("--record", help="the audit record id")] = None,
    json_out: JsonFlag = False,
) -> None:
    i = IncidentService(_ctx()).open(summary, severity, "manual", record)
    _out(i, json_out, f"incident {i['id']} opened")


@incidents_app.command("confirm")
def incidents_confirm(
    iid: str,
    follow_up: Annotated[list[str] | None, typer.Option("--follow-up", help="lexicon_term, classifier_example, "
                                                        "test_question, model_fix (default: all)")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Confirm a violation: creates the rectification follow-ups with their deadline."""
    i = IncidentService(_ctx()).confirm(iid, follow_up)
    _out(i, json_out, f"incident {iid} confirmed; follow-ups created (hegui rectification list)")


@incidents_app.command("status")
def incidents_status(iid: str, status: str) -> None:
    i = IncidentService(_ctx()).set_status(iid, status)
    console.print(f"incident {iid} is now {i['status']}")


@incidents_app.command("takedown")
def incidents_takedown(
    record: Annotated[str, typer.Argument(help="audit record id")],
    reason: Annotated[str, typer.Option("--reason")],
    incident: Annotated[str | None, typer.Option("--incident")] = None,
) -> None:
    """Mark an audit record as taken down and delete its content (the chain stays verifiable)."""
    IncidentService(_ctx()).take_down(record, reason, _me(), incident)
    console.print(f"record {record} taken down")


@incidents_app.command("report")
def incidents_report(
    iid: str,
    fmt: Annotated[str, typer.Option("--format", help="json, csv or docx")] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
    force: Annotated[bool, typer.Option("--force", help="overwrite the output file if it exists")] = False,
) -> None:
    """The regulator report for one incident."""
    if fmt not in ("json", "csv", "docx"):
        raise InvalidInputError(f"--format: expected json, csv or docx, got {fmt!r}")
    f: ReportFormat = fmt  # type: ignore[assignment]
    if fmt == "docx" and output is None:
        raise InvalidInputError("--format docx needs --output FILE")
    if output is not None and output.exists() and not force:  # never clobber an earlier export silently
        raise InvalidInputError(f"{output} exists: pass --force to overwrite it")
    if output is not None and not output.parent.is_dir():
        raise InvalidInputError(f"{output.parent}: no such directory")
    data = IncidentService(_ctx()).export(iid, f)
    if output is None:
        print(data.decode("utf-8"))
        return
    output.write_bytes(data)
    console.print(f"report written to {output}")


# sanctions --------------------------------------------------------------------------------------------
@sanctions_app.command("list")
def sanctions_list(user: Annotated[str | None, typer.Option("--user")] = None, json_out: JsonFlag = False) -> None:
    rows = SanctionService(_ctx()).history(user)
    if json_out:
        print_json(rows)
        return
    _table(rows, ["id", "user_id", "step", "created_at", "until", "lifted_at", "reason"], "sanctions")


@sanctions_app.command("apply")
def sanctions_apply(
    user: str,
    step: Annotated[str, typer.Argument(help="warn, restrict, suspend or terminate")],
    reason: Annotated[str, typer.Option("--reason")],
    evidence: Annotated[list[str] | None, typer.Option("--evidence", help="audit record id (repeatable)")] = None,
    days: Annotated[int | None, typer.Option("--days", min=1, help="suspend/restrict length")] = None,
    json_out: JsonFlag = False,
) -> None:
    s = SanctionService(_ctx()).apply(user, step, reason, _me(), evidence or [], days)
    _out(s, json_out, f"sanction {s['id']}: {s['step']} for {user}" + (f" until {s['until']}" if s["until"] else ""))


@sanctions_app.command("lift")
def sanctions_lift(sid: int, reason: Annotated[str, typer.Option("--reason")], json_out: JsonFlag = False) -> None:
    """End a sanction early (e.g. an upheld appeal)."""
    s = SanctionService(_ctx()).lift(sid, reason, _me())
    _out(s, json_out, f"sanction {sid} lifted")


# rectification ----------------------------------------------------------------------------------------
@rectification_app.command("list")
def rectification_list(
    status: Annotated[str | None, typer.Option("--status")] = None,
    overdue: Annotated[bool, typer.Option("--overdue")] = False,
    json_out: JsonFlag = False,
) -> None:
    rows = RectificationService(_ctx()).search(status, overdue)
    if json_out:
        print_json(rows)
        return
    _table(rows, ["id", "incident_id", "kind", "status", "due_at", "overdue"], "rectification items")


@rectification_app.command("add")
def rectification_add(
    kind: Annotated[str, typer.Argument(help="lexicon_term, classifier_example, test_question or model_fix")],
    description: str,
    incident: Annotated[str | None, typer.Option("--incident")] = None,
    json_out: JsonFlag = False,
) -> None:
    r = RectificationService(_ctx()).add(kind, description, incident)
    _out(r, json_out, f"item {r['id']} due {r['due_at']}")


@rectification_app.command("update")
def rectification_update(
    item: int,
    status: Annotated[str, typer.Argument(help="open, in_progress, done or cancelled")],
    note: Annotated[str | None, typer.Option("--note")] = None,
) -> None:
    r = RectificationService(_ctx()).update(item, status, note)
    console.print(f"item {item} is now {r['status']}")
