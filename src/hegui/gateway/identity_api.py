"""Public identity API: registration, one-time codes, agreement acceptance, guardian controls.

``POST /v1/identity/register`` needs no key (it creates the account and its key); every other
route takes the account's own key. The key cannot call models until the account is in an allowed
state and has accepted the current agreement (see ``hegui.identity.gate``). Errors are OpenAI-shaped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from hegui.errors import HeguiError, InvalidInputError, NotFoundError
from hegui.gateway.bodies import read_json, validate
from hegui.gateway.errors import ApiError, unauthorized
from hegui.identity import agreements
from hegui.identity.accounts import Principal, authenticate
from hegui.identity.service import ConflictError, IdentityService, RateLimitedError
from hegui.identity.sms import SmsError
from hegui.identity.verification import parse_birth_date
from hegui.identity.verifiers import VerifierError
from hegui.usage import guardians

router = APIRouter(prefix="/v1/identity")
T = TypeVar("T")
MAX_BODY = 64 * 1024


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterBody(_Body):
    name: str = Field(description="real name as on the document")
    document_type: str = "resident_id"
    document_number: str
    mobile: str
    display_name: str | None = None
    birth_date: str | None = Field(default=None, description="YYYY-MM-DD; used when the document has none")


class CodeBody(_Body):
    code: str


class AcceptBody(_Body):
    version: str


class NominateBody(_Body):
    guardian_user_id: str


class ControlsBody(_Body):
    daily_minutes: int | None = None
    allowed_from: str | None = None
    allowed_until: str | None = None
    birth_date: str | None = None


def service(request: Request) -> IdentityService:
    """The app's identity service (tests install one with their own clock and SMS sender)."""
    svc: IdentityService | None = getattr(request.app.state, "identity_service", None)
    if svc is None:
        svc = IdentityService(request.app.state.gateway.ctx)
        request.app.state.identity_service = svc
    return svc


async def _run(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking service call in a thread, turning domain errors into precise 4xx answers."""
    try:
        return await anyio.to_thread.run_sync(fn, *args)
    except RateLimitedError as err:
        raise ApiError(429, str(err), "rate_limit_error", None, "too_many_code_requests",
                       {"x-should-retry": "false", "x-hegui-retry-at": err.retry_at.isoformat()}) from None
    except (ConflictError, guardians.GuardianConflict) as err:
        raise ApiError(409, str(err), "invalid_request_error", None, "conflict") from None
    except NotFoundError as err:
        raise ApiError(404, str(err), "invalid_request_error", None, "not_found") from None
    except InvalidInputError as err:
        raise ApiError(400, str(err), "invalid_request_error", None, "invalid_input") from None
    except (SmsError, VerifierError) as err:
        raise ApiError(502, str(err), "upstream_error", None, "provider_unavailable") from None
    except HeguiError as err:
        raise ApiError(400, str(err)) from None


async def _principal(request: Request) -> Principal:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise unauthorized("missing API key: send `Authorization: Bearer <key>` (the key registration returned)")
    p = await anyio.to_thread.run_sync(authenticate, request.app.state.gateway.ctx.db, key.strip())
    if p is None:
        raise unauthorized("invalid API key (unknown, revoked, or its user is disabled)")
    await request.app.state.gateway.throttle(p, "identity")  # the per-key request rate (429)
    return p


@router.post("/register", status_code=201)
async def register(request: Request) -> JSONResponse:
    body = validate(RegisterBody, await read_json(request, MAX_BODY))
    svc = service(request)
    reg = await _run(svc.register, body.name, body.document_type, body.document_number, body.mobile,
                     body.display_name, body.birth_date)
    return JSONResponse({"user_id": reg.issued.user_id, "api_key": reg.issued.api_key, "state": reg.status.state,
                         "next": "POST /v1/identity/code to receive a one-time code on your mobile, then "
                                 "POST /v1/identity/verify {\"code\": …}, then accept the agreement"},
                        status_code=201)


@router.post("/code")
async def send_code(request: Request) -> dict[str, Any]:
    p = await _principal(request)
    expires = await _run(service(request).send_code, p.user_id)
    return {"sent": True, "expires_at": expires.isoformat()}


@router.post("/verify")
async def verify(request: Request) -> dict[str, Any]:
    p = await _principal(request)
    body = validate(CodeBody, await read_json(request, MAX_BODY))
    svc = service(request)
    st = await _run(svc.confirm_code, p.user_id, body.code)
    return st.to_dict(svc._today())


@router.get("/status")
async def status(request: Request) -> dict[str, Any]:
    p = await _principal(request)
    svc = service(request)
    st = await _run(svc.status, p.user_id)
    pending = await _run(agreements.pending_version, svc.db, p.user_id)
    return {**st.to_dict(svc._today()), "agreement_to_accept": pending}


@router.get("/agreement")
async def agreement(request: Request) -> dict[str, Any]:
    cur = await _run(agreements.current, service(request).db)
    if cur is None:
        raise ApiError(404, "no service agreement has been published", "invalid_request_error", None, "not_found")
    return cur.to_dict()


@router.post("/agreement/accept")
async def accept(request: Request) -> dict[str, Any]:
    p = await _principal(request)
    body = validate(AcceptBody, await read_json(request, MAX_BODY))
    svc = service(request)
    when = await _run(agreements.accept, svc.db, p.user_id, body.version, "api", svc.clock())
    return {"user_id": p.user_id, "version": body.version, "accepted_at": when.isoformat()}


@router.post("/guardian")
async def nominate(request: Request) -> dict[str, Any]:
    """A minor's account names its guardian; the guardian may then lower limits and set hours."""
    p = await _principal(request)
    body = validate(NominateBody, await read_json(request, MAX_BODY))
    svc = service(request)
    g = await _run(guardians.nominate, svc.db, body.guardian_user_id, p.user_id, svc.clock())
    return {"minor_user_id": p.user_id, "guardian_user_id": g.guardian_user_id}


@router.put("/guardian/minors/{minor_user_id}")
async def set_controls(request: Request, minor_user_id: str) -> dict[str, Any]:
    """The linked guardian sets a lower daily limit, allowed hours, and (if no document gives it) a birth date."""
    p = await _principal(request)
    body = validate(ControlsBody, await read_json(request, MAX_BODY))
    svc = service(request)
    if not await anyio.to_thread.run_sync(guardians.is_guardian_of, svc.db, p.user_id, minor_user_id):
        raise ApiError(403, f"you are not the guardian of user {minor_user_id} (the minor's account must name you "
                       "first: POST /v1/identity/guardian)", "permission_error", None, "not_guardian")
    born: date | None = None
    if body.birth_date is not None:
        born = await _run(parse_birth_date, body.birth_date, svc._today())
        if (await _run(svc.status, minor_user_id)).birth_source == "document":
            raise ApiError(409, f"user {minor_user_id}'s age comes from the verified document and cannot be changed",
                           "invalid_request_error", "birth_date", "conflict")
    g = await _run(guardians.set_controls, svc.db, p.user_id, minor_user_id, svc.clock(), body.daily_minutes,
                   body.allowed_from, body.allowed_until)
    if born is not None:
        await _run(svc.set_birth_date, minor_user_id, born, "guardian")
    return {"minor_user_id": minor_user_id, "guardian_user_id": g.guardian_user_id,
            "daily_minutes": g.daily_minutes,
            "allowed_from": g.allowed_from.strftime("%H:%M") if g.allowed_from else None,
            "allowed_until": g.allowed_until.strftime("%H:%M") if g.allowed_until else None}
