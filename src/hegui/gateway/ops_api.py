"""Operations endpoints: liveness, readiness (database reachable, schema current), Prometheus metrics."""

from __future__ import annotations

import hmac
from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from hegui import __version__
from hegui.gateway.errors import forbidden, unauthorized
from hegui.gateway.pipeline import Gateway

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, Any]:
    """The process is up and its event loop answers."""
    return {"status": "ok", "version": __version__}


def _db_state(gw: Gateway) -> tuple[bool, str]:
    try:
        with gw.ctx.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        current, heads = gw.ctx.db.current_revisions(), gw.ctx.db.head_revisions()
    except Exception as err:
        return False, f"database unreachable ({type(err).__name__})"
    if current != heads:
        return False, f"migrations not current: at {sorted(current)}, newest {sorted(heads)} (run `hegui db upgrade`)"
    return True, "ok"


@router.get("/readyz", response_model=None)
async def readyz(request: Request) -> Response:
    """Ready to serve: the database answers and its schema is current (else 503, fail closed)."""
    gw: Gateway = request.app.state.gateway
    ok, detail = await anyio.to_thread.run_sync(_db_state, gw)
    body = {"status": "ready" if ok else "not_ready", "database": detail,
            "upstreams": [u.name for u in gw.pool.upstreams], "audit_queue": gw.writer.queued}
    return JSONResponse(body, status_code=200 if ok else 503)


METRICS_ROLES = ("admin", "auditor")


async def _may_read_metrics(request: Request, gw: Gateway) -> None:
    """``gateway.metrics_public``, else the Bearer ``gateway.metrics_token``, else an admin/auditor API key."""
    cfg = gw.ctx.settings.gateway
    if cfg.metrics_public:
        return
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    given = given.strip()
    if scheme.lower() == "bearer" and cfg.metrics_token and hmac.compare_digest(given.encode(),
                                                                              cfg.metrics_token.encode()):
        return
    if scheme.lower() != "bearer" or not given:
        raise unauthorized("/metrics needs `Authorization: Bearer <gateway.metrics_token or an admin/auditor API "
                           "key>` (or gateway.metrics_public: true on a private network)")
    p = await gw.identify(request, gw.begin(request, "metrics"))
    if p.role not in METRICS_ROLES:
        raise forbidden(f"/metrics needs role admin or auditor (or gateway.metrics_token); your key's user has "
                        f"role {p.role!r}")


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus metrics, for the metrics token or an admin/auditor key (see docs/gateway.md)."""
    gw: Gateway = request.app.state.gateway
    await _may_read_metrics(request, gw)
    return Response(gw.metrics.render(), media_type=gw.metrics.content_type)
