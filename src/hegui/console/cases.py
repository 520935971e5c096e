"""The console's queues over ``hegui.cases``: complaints, PI-rights requests, incidents, sanctions,
rectification. Each queue names its service, how to list and read an item, its columns and its
actions (with the roles allowed to take them).

When this installation lacks a service (``hegui.cases`` not installed or older), the page shows a
clear "not available in this installation" slot instead of inventing data.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hegui.context import HeguiContext
from hegui.errors import InvalidInputError

WORKERS = ("admin", "compliance")
NOTERS = ("admin", "compliance", "reviewer")
Form = dict[str, str]


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text | textarea | select
    choices: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    roles: tuple[str, ...]
    fields: tuple[Field, ...]
    run: Callable[[Any, str, Form, str], Any]
    # item → whether the action applies now, and choices computed from the item (e.g. next statuses)
    applies: Callable[[dict[str, Any]], bool] = lambda item: True
    choices: Callable[[dict[str, Any]], tuple[str, ...]] | None = None


@dataclass(frozen=True)
class Queue:
    name: str
    title: str
    module: str
    cls: str
    statuses: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]
    ref_key: str
    list_items: Callable[[Any, str | None], list[dict[str, Any]]]
    get_item: Callable[[Any, str, bool], dict[str, Any]]
    actions: tuple[Action, ...] = field(default=())


def _complaint_next(item: dict[str, Any]) -> tuple[str, ...]:
    try:
        from hegui.cases.complaints import NEXT
    except ImportError:
        return ()
    return tuple(sorted(NEXT.get(str(item.get("status")), ())))


def _need(form: Form, name: str) -> str:
    v = form.get(name, "").strip()
    if not v:
        raise InvalidInputError(f"{name}: must not be empty")
    return v


def _int_ref(ref: str) -> int:
    if not ref.isdigit():
        raise InvalidInputError(f"expected a numeric id, got {ref!r}")
    return int(ref)


def _one(items: list[dict[str, Any]], key: str, ref: str, what: str) -> dict[str, Any]:
    from hegui.errors import NotFoundError

    for it in items:
        if str(it.get(key)) == ref:
            return it
    raise NotFoundError(f"no {what} {ref!r}")


QUEUES: dict[str, Queue] = {q.name: q for q in (
    Queue("complaints", "Complaints", "hegui.cases.complaints", "ComplaintService",
          ("open", "triage", "in_progress", "resolved", "rejected"),
          (("Ticket", "ticket"), ("Category", "category"), ("Status", "status"), ("Received", "created_at"),
           ("Due", "resolution_due"), ("Assignee", "assignee")),
          "ticket",
          lambda svc, status: svc.search(status=status),
          lambda svc, ref, full: svc.get(ref, full=full),
          (Action("move", "Move to", WORKERS,
                  (Field("status", "Status", "select", required=True), Field("outcome", "Outcome", "textarea"),
                   Field("note", "Note")),
                  lambda svc, ref, f, by: svc.move(ref, _need(f, "status"), by, f.get("outcome") or None,
                                                   f.get("note") or None),
                  applies=lambda it: bool(_complaint_next(it)), choices=_complaint_next),
           Action("assign", "Assignee", WORKERS, (Field("assignee", "Assignee", required=True),),
                  lambda svc, ref, f, by: svc.assign(ref, _need(f, "assignee"), by),
                  applies=lambda it: it.get("status") not in ("resolved", "rejected")),
           Action("note", "Add note", NOTERS, (Field("note", "Note", "textarea", required=True),),
                  lambda svc, ref, f, by: svc.add_note(ref, by, _need(f, "note"))))),
    Queue("pi_requests", "PI requests", "hegui.cases.pi_requests", "PiRequestService",
          ("open", "completed", "rejected"),
          (("ID", "id"), ("Kind", "kind"), ("Status", "status"), ("Received", "created_at"), ("Due", "due_at")),
          "id",
          lambda svc, status: svc.search(status=status),
          lambda svc, ref, full: svc.get(ref, with_detail=full),
          (Action("complete", "Complete", WORKERS, (), lambda svc, ref, f, by: svc.complete(ref, by),
                  applies=lambda it: it.get("status") == "open"),
           Action("reject", "Reject", WORKERS, (Field("reason", "Reason", "textarea", required=True),),
                  lambda svc, ref, f, by: svc.reject(ref, _need(f, "reason"), by),
                  applies=lambda it: it.get("status") == "open"))),
    Queue("incidents", "Incidents", "hegui.cases.incidents", "IncidentService",
          ("open", "confirmed", "dismissed", "reported", "closed"),
          (("ID", "id"), ("Severity", "severity"), ("Status", "status"), ("Source", "source"),
           ("Received", "opened_at"), ("Summary", "summary")),
          "id",
          lambda svc, status: svc.search(status=status),
          lambda svc, ref, full: svc.get(ref),
          (Action("confirm", "Confirm", WORKERS, (), lambda svc, ref, f, by: svc.confirm(ref),
                  applies=lambda it: it.get("status") == "open"),
           Action("status", "Status", WORKERS,
                  (Field("status", "Status", "select", ("dismissed", "reported", "closed"), True),),
                  lambda svc, ref, f, by: svc.set_status(ref, _need(f, "status")),
                  applies=lambda it: it.get("status") != "closed"))),
    Queue("sanctions", "Sanctions", "hegui.cases.sanctions", "SanctionService",
          (),
          (("ID", "id"), ("Step", "step"), ("User", "user_id"), ("Reason", "reason"), ("Created", "created_at"),
           ("Until", "until"), ("Lifted", "lifted_at")),
          "id",
          lambda svc, status: list(reversed(svc.history())),
          lambda svc, ref, full: _one(svc.history(), "id", ref, "sanction"),
          (Action("lift", "Lift", WORKERS, (Field("reason", "Reason", "textarea", required=True),),
                  lambda svc, ref, f, by: svc.lift(_int_ref(ref), _need(f, "reason"), by),
                  applies=lambda it: not it.get("lifted_at")),)),
    Queue("rectification", "Rectification", "hegui.cases.rectification", "RectificationService",
          ("open", "in_progress", "done", "cancelled"),
          (("ID", "id"), ("Kind", "kind"), ("Status", "status"), ("Incident", "incident_id"), ("Due", "due_at"),
           ("Description", "description")),
          "id",
          lambda svc, status: svc.search(status=status),
          lambda svc, ref, full: _one(svc.search(), "id", ref, "rectification item"),
          (Action("update", "Status", WORKERS,
                  (Field("status", "Status", "select", ("open", "in_progress", "done", "cancelled"), True),
                   Field("note", "Note")),
                  lambda svc, ref, f, by: svc.update(_int_ref(ref), _need(f, "status"), f.get("note") or None),
                  applies=lambda it: it.get("status") not in ("done", "cancelled")),)),
)}


def service(ctx: HeguiContext, queue: str) -> Any | None:
    """An instance of the queue's service, or None when this installation does not have it."""
    q = QUEUES[queue]
    try:
        mod = importlib.import_module(q.module)
        return getattr(mod, q.cls)(ctx)
    except (ImportError, AttributeError, TypeError):
        return None


def mask_user(item: dict[str, Any]) -> dict[str, Any]:
    """Items as the console shows them: user ids shortened (names and contacts are not in list views)."""
    from hegui.console.data import mask_id

    out = dict(item)
    if out.get("user_id"):
        out["user_id"] = mask_id(str(out["user_id"]))
    return out
