"""Complaints, user rights and enforcement over HTTP.

* Public: ``POST /complaints`` (no key needed; a valid key links the complaint to its user),
  ``GET /complaints/policy`` (the published process and time limits), ``GET /complaints/{ticket}``.
* The authenticated user: ``/v1/privacy/consent``, ``/v1/privacy/export``, ``/v1/privacy/requests``.
* Staff, role-checked, under ``/admin``: complaints, PI requests, incidents, sanctions,
  rectification, retention purge.
* Gateway hooks: ``SanctionGate`` (a usage check: suspended/terminated/restricted users are
  refused with an OpenAI-shaped 403) and ``refusal_hook`` (incidents and the sanctions ladder).

Handlers only call ``hegui.cases`` / ``hegui.privacy`` services, off the event loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, TypeVar

import anyio
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from hegui.cases.common import Clock, iso, utc_now
from hegui.cases.complaints import ComplaintService
from hegui.cases.incidents import IncidentService, RefusedExchange, after_refusal, worst_severity
from hegui.cases.pi_requests import PiRequestService
from hegui.cases.rectification import RectificationService
from hegui.cases.sanctions import Block, SanctionService
from hegui.context import HeguiContext
from hegui.gateway.admin_api import STAFF, require_role
from hegui.gateway.bodies import read_json, validate
from hegui.gateway.errors import ApiError
from hegui.gateway.pipeline import REFUSING, ExchangeState, Gateway
from hegui.identity.accounts import Principal, authenticate
from hegui.privacy import consent, rights
from hegui.privacy.retention import purge

log = logging.getLogger("hegui.gateway")
T = TypeVar("T")
MAX_BODY = 256 * 1024

public = APIRouter()
user = APIRouter(prefix="/v1/privacy")
admin = APIRouter(prefix="/admin", dependencies=[Depends(require_role(*STAFF))])
WORKERS = ("admin", "compliance", "reviewer")
MANAGERS = ("admin", "compliance")
READERS = ("admin", "compliance", "reviewer", "auditor")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ComplaintIn(_Body):
    category: str = Field(description="illegal_content, pi_rights, ip or other")
    description: str = Field(max_length=5000)
    contact: str | None = Field(default=None, max_length=200)
    record_ids: list[str] = Field(default_factory=list, max_length=20)
    sanction_id: int | None = None


class ConsentIn(_Body):
    training_use: bool


class RequestIn(_Body):
    kind: Literal["access", "export", "correction", "deletion", "cancellation"]
    detail: dict[str, Any] | None = None


class AssignIn(_Body):
    assignee: str = Field(min_length=1, max_length=40)


class StatusIn(_Body):
    status: str
    outcome: str | None = Field(default=None, max_length=4000)
    note: str | None = Field(default=None, max_length=4000)


class NoteIn(_Body):
    text: str = Field(min_length=1, max_length=4000)


class ReasonIn(_Body):
    reason: str = Field(min_length=1, max_length=400)


class IncidentIn(_Body):
    summary: str = Field(min_length=1, max_length=4000)
    severity: int = Field(ge=1, le=3)
    record_id: str | None = None
    categories: list[str] = Field(default_factory=list)


class ConfirmIn(_Body):
    follow_ups: list[str] | None = None
    description: str | None = Field(default=None, max_length=4000)


class IncidentStatusIn(_Body):
    status: str


class TakeDownIn(_Body):
    record_id: str
    reason: str = Field(min_length=1, max_length=400)


class SanctionIn(_Body):
    user_id: str = Field(min_length=1, max_length=40)
    step: str
    reason: str = Field(min_length=1, max_length=400)
    evidence: list[str] = Field(default_factory=list)
    days: int | None = Field(default=None, gt=0)


class RectIn(_Body):
    kind: str
    description: str = Field(min_length=1, max_length=4000)
    incident_id: str | None = None


class RectUpdateIn(_Body):
    status: str
    note: str | None = Field(default=None, max_length=4000)


def _gw(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw


def _clock(request: Request) -> Clock:
    """Tests put a manual clock on ``app.state.clock``; production uses the wall clock."""
    c: Clock = getattr(request.app.state, "clock", utc_now)
    return c


async def _run(fn: Callable[..., T], *args: Any) -> T:
    return await anyio.to_thread.run_sync(fn, *args)


async def _body(request: Request, model: type[Any]) -> Any:
    return validate(model, await read_json(request, MAX_BODY))


# public ------------------------------------------------------------------------------------------
@public.get("/complaints/policy")
async def complaints_policy(request: Request) -> dict[str, Any]:
    return ComplaintService(_gw(request).ctx, _clock(request)).policy()


@public.post("/complaints", status_code=201)
async def file_complaint(request: Request) -> dict[str, Any]:
    """Committed before the 201 is sent: an acknowledged complaint survives a crash."""
    gw = _gw(request)
    body: ComplaintIn = await _body(request, ComplaintIn)
    user_id = None
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and key.strip():
        p = await _run(authenticate, gw.ctx.db, key.strip())
        if p is None:
            raise ApiError(401, "invalid API key: leave out the Authorization header to complain anonymously",
                           "invalid_request_error", None, "invalid_api_key")
        user_id = p.user_id
    svc = ComplaintService(gw.ctx, _clock(request))
    return await _run(lambda: svc.file(body.category, body.description, body.contact, body.record_ids, user_id,
                                       body.sanction_id))


@public.get("/complaints/{ticket}")
async def complaint_status(request: Request, ticket: str) -> dict[str, Any]:
    return await _run(ComplaintService(_gw(request).ctx, _clock(request)).status_for_ticket, ticket)


# the authenticated user --------------------------------------------------------------------------
async def _me(request: Request) -> Principal:
    gw = _gw(request)
    return await gw.identify(request, gw.begin(request, "privacy"))


Me = Annotated[Principal, Depends(_me)]


@user.get("/consent")
async def get_consent(request: Request, me: Me) -> dict[str, Any]:
    return await _run(consent.get_consent, _gw(request).ctx, me.user_id)


@user.put("/consent")
async def put_consent(request: Request, me: Me) -> dict[str, Any]:
    body: ConsentIn = await _body(request, ConsentIn)
    return await _run(consent.set_consent, _gw(request).ctx, me.user_id, body.training_use, _clock(request))


@user.get("/export", response_model=None)
async def export(request: Request, me: Me, format: Literal["json", "text"] = "json") -> Response:
    """A copy of everything held on the caller (recorded as a completed access request)."""
    ctx = _gw(request).ctx
    await _run(PiRequestService(ctx, _clock(request)).submit, me.user_id, "export" if format == "json" else "access")
    doc = await _run(rights.export_user_data, ctx, me.user_id)
    if format == "text":
        return PlainTextResponse(rights.render_text(doc), media_type="text/markdown; charset=utf-8")
    return JSONResponse(doc)


@user.post("/requests", status_code=201)
async def submit_request(request: Request, me: Me) -> dict[str, Any]:
    body: RequestIn = await _body(request, RequestIn)
    return await _run(PiRequestService(_gw(request).ctx, _clock(request)).submit, me.user_id, body.kind, body.detail)


@user.get("/requests")
async def my_requests(request: Request, me: Me) -> dict[str, Any]:
    rows = await _run(PiRequestService(_gw(request).ctx, _clock(request)).search, me.user_id)
    return {"object": "list", "data": rows}


# staff -------------------------------------------------------------------------------------------
def _role(*roles: str) -> Any:
    return Depends(require_role(*roles))


@admin.get("/complaints")
async def list_complaints(request: Request, _: Annotated[Principal, _role(*READERS)],
                          status: Annotated[str | None, Query()] = None, overdue: bool = False) -> dict[str, Any]:
    rows = await _run(ComplaintService(_gw(request).ctx, _clock(request)).search, status, overdue)
    return {"object": "list", "data": rows}


@admin.post("/complaints/escalate")
async def escalate(request: Request, _: Annotated[Principal, _role(*MANAGERS)]) -> dict[str, Any]:
    done = await _run(ComplaintService(_gw(request).ctx, _clock(request)).escalate_overdue)
    return {"escalated": [{"ticket": e.ticket, "level": e.level, "reason": e.reason} for e in done]}


@admin.get("/complaints/{ref}")
async def get_complaint(request: Request, ref: str, _: Annotated[Principal, _role(*WORKERS)]) -> dict[str, Any]:
    return await _run(ComplaintService(_gw(request).ctx, _clock(request)).get, ref)


@admin.post("/complaints/{ref}/assign")
async def assign(request: Request, ref: str, me: Annotated[Principal, _role(*WORKERS)]) -> dict[str, Any]:
    body: AssignIn = await _body(request, AssignIn)
    return await _run(ComplaintService(_gw(request).ctx, _clock(request)).assign, ref, body.assignee, me.user_id)


@admin.post("/complaints/{ref}/status")
async def move(request: Request, ref: str, me: Annotated[Principal, _role(*WORKERS)]) -> dict[str, Any]:
    body: StatusIn = await _body(request, StatusIn)
    svc = ComplaintService(_gw(request).ctx, _clock(request))
    return await _run(lambda: svc.move(ref, body.status, me.user_id, body.outcome, body.note))


@admin.post("/complaints/{ref}/notes")
async def add_note(request: Request, ref: str, me: Annotated[Principal, _role(*WORKERS)]) -> dict[str, Any]:
    body: NoteIn = await _body(request, NoteIn)
    return await _run(ComplaintService(_gw(request).ctx, _clock(request)).add_note, ref, me.user_id, body.text)


@admin.get("/pi-requests")
async def list_requests(request: Request, _: Annotated[Principal, _role(*READERS)],
                        status: Annotated[str | None, Query()] = None, overdue: bool = False) -> dict[str, Any]:
    rows = await _run(PiRequestService(_gw(request).ctx, _clock(request)).search, None, status, overdue)
    return {"object": "list", "data": rows}


@admin.post("/pi-requests/{rid}/complete")
async def complete_request(request: Request, rid: str, me: Annotated[Principal, _role(*MANAGERS)]) -> dict[str, Any]:
    return await _run(PiRequestService(_gw(request).ctx, _clock(request)).complete, rid, me.user_id)


@admin.post("/pi-requests/{rid}/reject")
async def reject_request(request: Request, rid: str, me: Annotated[Principal, _role(*MANAGERS)]) -> dict[str, Any]:
    body: ReasonIn = await _body(request, ReasonIn)
    return await _run(PiRequestService(_gw(request).ctx, _clock(request)).reject, rid, body.reason, me.user_id)


@admin.get("/incidents")
async def list_incidents(request: Request, _: Annotated[Principal, _role(*READERS)],
                         status: Annotated[str | None, Query()] = None) -> dict[str, Any]:
    return {"object": "list",
            "data": await _run(IncidentService(_gw(request).ctx, _clock(request)).search, status)}


@admin.post("/incidents", status_code=201)
async def open_incident(request: Request, _: Annotated[Principal, _role(*WORKERS)]) -> dict[str, Any]:
    body: IncidentIn = await _body(request, IncidentIn)
    svc = IncidentService(_gw(request).ctx, _clock(request))
    return await _run(lambda: svc.open(body.summary, body.severity, "manual", body.record_id, None, body.categories))


@admin.post("/incidents/{iid}/confirm")
async def confirm_incident(request: Request, iid: str, _: Annotated[Principal, _role(*MANAGERS)]) -> dict[str, Any]:
    body: ConfirmIn = await _body(request, ConfirmIn)
    return await _run(IncidentService(_gw(request).ctx, _clock(request)).confirm, iid, body.follow_ups,
                      body.description)


@admin.post("/incidents/{iid}/status")
async def incident_status(request: Request, iid: str, _: Annotated[Principal, _role(*MANAGERS)]) -> dict[str, Any]:
    body: IncidentStatusIn = await _body(request, IncidentStatusIn)
    return await _run(IncidentService(_gw(request).ctx, _clock(request)).set_status, iid, body.status)


@admin.post("/incidents/{iid}/takedown")
async def take_down(request: Request, iid: str, me: Annotated[Principal, _role(*MANAGERS)]) -> dict[str, Any]:
    body: TakeDownIn = await _body(request, TakeDownIn)
    return await _run(IncidentService(_gw(request).ctx, _clock(request)).take_down, body.record_id, body.reason,
                      me.user_id, iid)


_MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8",
          "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


@admin.get("/incidents/{iid}/report", response_model=None)
async def incident_report(request: Request, iid: str, _: Annotated[Principal, _role(*READERS)],
                          format: Literal["json", "csv", "docx"] = "json") -> Response:
    data = await _run(IncidentService(_gw(request).ctx, _clock(request)).export, iid, format)
    return Response(data, media_type=_MEDIA[format],
                    headers={"content-disposition": f'attachment; filename="incident-{iid}.{format}"'})


@admin.get("/sanctions")
async def list_sanctions(request: Request, _: Annotated[Principal, _role(*READERS)],
                         user_id: Annotated[str | None, Query()] = None) -> dict[str, Any]:
    return {"object": "list", "data": await _run(SanctionService(_gw(request).ctx, _clock(request)).history, user_id)}


@admin.post("/sanctions", status_code=201)
async def apply_sanction(request: Request, me: Annotated[Principal, _role(*MANAGERS)]) -> dict[str, Any]:
    b: SanctionIn = await _body(request, SanctionIn)
    svc = SanctionService(_gw(request).ctx, _clock(request))
    out = await _run(lambda: svc.apply(b.user_id, b.step, b.reason, me.user_id, b.evidence, b.days))
    _forget(request, b.user_id)
    return out


@admin.post("/sanctions/{sid}/lift")
async def lift_sanction(request: Request, sid: int, me: Annotated[Principal, _role(*MANAGERS)]) -> dict[str, Any]:
    body: ReasonIn = await _body(request, ReasonIn)
    out = await _run(SanctionService(_gw(request).ctx, _clock(request)).lift, sid, body.reason, me.user_id)
    _forget(request, str(out["user_id"]))
    return out


@admin.get("/rectification")
async def list_rectification(request: Request, _: Annotated[Principal, _role(*READERS)],
                             status: Annotated[str | None, Query()] = None, overdue: bool = False) -> dict[str, Any]:
    rows = await _run(RectificationService(_gw(request).ctx, _clock(request)).search, status, overdue)
    return {"object": "list", "data": rows}


@admin.post("/rectification", status_code=201)
async def add_rectification(request: Request, _: Annotated[Principal, _role(*MANAGERS)]) -> dict[str, Any]:
    body: RectIn = await _body(request, RectIn)
    return await _run(RectificationService(_gw(request).ctx, _clock(request)).add, body.kind, body.description,
                      body.incident_id)


@admin.post("/rectification/{item_id}")
async def update_rectification(request: Request, item_id: int,
                               _: Annotated[Principal, _role(*WORKERS)]) -> dict[str, Any]:
    body: RectUpdateIn = await _body(request, RectUpdateIn)
    return await _run(RectificationService(_gw(request).ctx, _clock(request)).update, item_id, body.status,
                      body.note)


@admin.post("/privacy/purge")
async def privacy_purge(request: Request, _: Annotated[Principal, _role("admin")]) -> dict[str, Any]:
    return {"purged": await _run(purge, _gw(request).ctx, _clock(request))}


# gateway hooks -----------------------------------------------------------------------------------
class SanctionGate:
    """A usage check: refuse a user whose active sanction covers this request (403, OpenAI-shaped).

    Look-ups are cached per user for ``ttl`` seconds (one indexed query otherwise runs on every
    request); this process forgets a user at once when it applies or lifts a step, other processes
    (a CLI, other workers) take effect within ``ttl``.
    """

    def __init__(self, ctx: HeguiContext, clock: Clock = utc_now, ttl: float = 2.0) -> None:
        self.svc, self.ttl = SanctionService(ctx, clock), ttl
        self.restricted: list[str] = list(ctx.pack.sanctions.restricted_functions)
        self._cache: dict[str, tuple[float, Block | None]] = {}

    def forget(self, user_id: str | None = None) -> None:
        if user_id is None:
            self._cache.clear()
        else:
            self._cache.pop(user_id, None)

    def block(self, user_id: str) -> Block | None:
        now = time.monotonic()
        hit = self._cache.get(user_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        block = self.svc.block_for(user_id)
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[user_id] = (now + self.ttl, block)
        return block

    def ready(self, st: ExchangeState) -> bool:
        """True when the check needs no database call (see ``Gateway.check_usage_async``)."""
        hit = self._cache.get(st.principal.user_id) if st.principal is not None else None
        return st.principal is None or (hit is not None and hit[0] > time.monotonic())

    def __call__(self, st: ExchangeState) -> None:
        if st.principal is None:
            return
        block = self.block(st.principal.user_id)
        if block is None or not block.stops(st.endpoint, st.stream, self.restricted):
            return
        until = f" until {iso(block.until)}" if block.until else ""
        what = {"suspend": "suspended", "terminate": "terminated", "restrict": "restricted"}[block.step]
        scope = "" if block.step != "restrict" else f" ({', '.join(self.restricted)} not available)"
        raise ApiError(403, f"your account is {what}{until}{scope}: {block.reason}. To appeal, file a complaint "
                       f"(POST /complaints, category 'other', sanction_id {block.sanction_id}).",
                       "permission_error", None, f"account_{what}")


def _forget(request: Request, user_id: str | None = None) -> None:
    for check in _gw(request).usage_checks:
        if isinstance(check, SanctionGate):
            check.forget(user_id)


def refusal_hook(ctx: HeguiContext, clock: Clock = utc_now,
                 gate: SanctionGate | None = None) -> Callable[[ExchangeState], Awaitable[None]]:
    """After a refused exchange is audited: open an incident per severity, count the violation."""

    async def hook(st: ExchangeState) -> None:
        if st.endpoint not in ("chat.completions", "embeddings"):
            return
        input_refused = bool(st.input_decision and st.input_decision.get("action") in REFUSING)
        ex = RefusedExchange(st.record_id, st.principal.user_id if st.principal else None, sorted(st.categories),
                             worst_severity(st.input_decision, st.output_decision), input_refused,
                             "input" if input_refused else "output")
        try:
            out = await anyio.to_thread.run_sync(after_refusal, ctx, ex, clock)
            if "sanction" in out and gate is not None:
                gate.forget(ex.user_id)
        except Exception as err:  # enforcement bookkeeping never fails the (already audited) answer
            log.error("incident/sanction hook failed for %s: %s", st.record_id, type(err).__name__)

    return hook


def install(app: Any) -> None:
    """Add the routers to the gateway app (one line in the app factory)."""
    app.include_router(public)
    app.include_router(user)
    app.include_router(admin)
