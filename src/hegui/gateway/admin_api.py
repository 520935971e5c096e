"""Admin API under ``/admin``: what the ``hegui users`` and ``hegui audit`` commands do, over HTTP.

Every route depends on ``require_role``; the router itself also refuses plain users, so a route
added later without its own check is still closed to them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from hegui.audit import log as audit_log
from hegui.gateway.bodies import read_json, validate
from hegui.gateway.errors import ApiError, forbidden
from hegui.gateway.pipeline import Gateway
from hegui.identity import accounts
from hegui.identity.accounts import Principal

T = TypeVar("T")
STAFF = ("admin", "compliance", "reviewer", "auditor")


def require_role(*roles: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: the caller's key must belong to a user with one of ``roles``."""

    async def dep(request: Request) -> Principal:
        gw: Gateway = request.app.state.gateway
        st = gw.begin(request, "admin")
        p = await gw.identify(request, st)
        if p.role not in roles:
            raise forbidden(f"this admin route needs role {' or '.join(roles)}; your key's user has role {p.role!r}")
        return p

    dep.roles = roles  # type: ignore[attr-defined]
    return dep


router = APIRouter(prefix="/admin", dependencies=[Depends(require_role(*STAFF))])


def _gw(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    role: str = "user"


async def _run(fn: Callable[..., T], *args: Any) -> T:
    return await anyio.to_thread.run_sync(fn, *args)


@router.get("/users")
async def list_users(request: Request, _: Annotated[Principal, Depends(require_role("admin"))]) -> dict[str, Any]:
    users = await _run(accounts.list_users, _gw(request).ctx.db)
    return {"object": "list", "data": [u.to_dict() for u in users]}


@router.post("/users", status_code=201)
async def create_user(request: Request, _: Annotated[Principal, Depends(require_role("admin"))]) -> dict[str, Any]:
    gw = _gw(request)
    body = validate(NewUser, await read_json(request, gw.max_body))
    issued = await _run(accounts.create_user, gw.ctx.db, body.name, body.role)
    return {"user_id": issued.user_id, "key_id": issued.key_id, "api_key": issued.api_key}


@router.get("/users/{user_id}")
async def get_user(request: Request, user_id: str,
                   _: Annotated[Principal, Depends(require_role("admin"))]) -> dict[str, Any]:
    return (await _run(accounts.get_user, _gw(request).ctx.db, user_id)).to_dict()


@router.post("/users/{user_id}/disable")
async def disable_user(request: Request, user_id: str,
                       _: Annotated[Principal, Depends(require_role("admin"))]) -> dict[str, Any]:
    gw = _gw(request)
    info = await _run(accounts.disable_user, gw.ctx.db, user_id)
    gw.forget_keys()
    return info.to_dict()


@router.post("/users/{user_id}/rotate-key")
async def rotate_key(request: Request, user_id: str,
                     _: Annotated[Principal, Depends(require_role("admin"))]) -> dict[str, Any]:
    gw = _gw(request)
    issued = await _run(accounts.rotate_key, gw.ctx.db, user_id)
    gw.forget_keys()
    return {"user_id": issued.user_id, "key_id": issued.key_id, "api_key": issued.api_key}


@router.get("/audit/verify")
async def audit_verify(request: Request,
                       _: Annotated[Principal, Depends(require_role("admin", "auditor", "compliance"))]
                       ) -> dict[str, Any]:
    return (await _run(audit_log.verify, _gw(request).ctx.db)).to_dict()


def _parse_time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"{name}: expected an ISO-8601 time such as 2026-01-31T00:00:00Z, got {value!r}",
                       "invalid_request_error", name, "invalid_time") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@router.get("/audit/export")
async def audit_export(request: Request,
                       _: Annotated[Principal, Depends(require_role("admin", "auditor"))],
                       since: Annotated[str | None, Query()] = None,
                       until: Annotated[str | None, Query()] = None,
                       decrypt: bool = False) -> StreamingResponse:
    """JSONL of the records in ``[since, until)``; content decrypted only with ``decrypt=true``."""
    gw = _gw(request)
    s, u = _parse_time(since, "since"), _parse_time(until, "until")
    rows = await _run(lambda: list(audit_log.export(gw.ctx.db, gw.ctx.keys, s, u, decrypt)))

    async def lines() -> AsyncIterator[bytes]:
        for r in rows:
            yield (json.dumps(r, ensure_ascii=False, default=str) + "\n").encode("utf-8")

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.post("/audit/purge")
async def audit_purge(request: Request, _: Annotated[Principal, Depends(require_role("admin"))]) -> dict[str, Any]:
    gw = _gw(request)
    days = gw.pack.retention.audit_content_days
    n = await _run(audit_log.purge_content, gw.ctx.db, days)
    return {"content_purged": n, "older_than_days": days}
