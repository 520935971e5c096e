"""The FastAPI app factory: wires context, upstream pool, moderation engine, audit writer, routes."""

from __future__ import annotations

import gc
import logging
import os
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from hegui import __version__
from hegui.audit.writer import AuditWriter
from hegui.config import Settings, UpstreamConfig, load_settings
from hegui.console import install as install_console
from hegui.context import HeguiContext
from hegui.errors import HeguiError, InvalidInputError, NotFoundError
from hegui.gateway import admin_api, cases_api, identity_api, openai_api, ops_api
from hegui.gateway.errors import ApiError, db_unavailable
from hegui.gateway.metrics import Metrics
from hegui.gateway.pipeline import Gateway, UsageCheck
from hegui.gateway.ratelimit import limiter_for
from hegui.gateway.upstream import UpstreamPool
from hegui.store.db import DatabaseUnavailable

log = logging.getLogger("hegui.gateway")

SERVE_UPSTREAM_ENV = "HEGUI_SERVE_UPSTREAM"


def single_upstream(url: str) -> UpstreamConfig:
    """The upstream ``hegui serve --upstream URL`` means: one endpoint for every model."""
    return UpstreamConfig(name="default", base_url=url, models=["*"])


def create_app(ctx: HeguiContext, *, engine: Any = None, usage_checks: Sequence[UsageCheck] = ()) -> FastAPI:
    """The gateway app for ``ctx``. ``engine`` defaults to ``ModerationEngine.from_context(ctx)``."""
    if engine is None:
        from hegui.moderation.engine import ModerationEngine

        engine = ModerationEngine.from_context(ctx)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        writer = AuditWriter(ctx.db, ctx.keys, max_queue=ctx.settings.gateway.audit_queue_size)
        writer.start()
        await anyio.to_thread.run_sync(_warm_up, engine)
        pool = UpstreamPool(list(ctx.settings.upstreams), max_response_bytes=ctx.settings.gateway.max_upstream_bytes)
        gate = cases_api.SanctionGate(ctx)  # suspended/terminated/restricted users (hegui.cases.sanctions)
        app.state.gateway = Gateway(ctx, pool, engine, writer, metrics, [gate, *usage_checks])
        app.state.gateway.after_refusal = cases_api.refusal_hook(ctx, gate=gate)
        app.state.gateway.rate_limiter = limiter = limiter_for(ctx.settings)
        # Lexicon automata, models and tables stay loaded for the process's life: hundreds of thousands of
        # objects that every full garbage collection would walk again (~2 ms a request measured). Freeze them.
        gc.collect()
        gc.freeze()
        app.state.kernels = None
        if ctx.settings.gateway.compiled_kernels and hasattr(engine, "compile_kernels"):
            # off the request path: until they are in, checks take the plain path (same results)
            app.state.kernels = threading.Thread(target=_load_kernels, args=(engine,), name="hegui-kernels",
                                                 daemon=True)
            app.state.kernels.start()
        try:
            yield
        finally:
            gc.unfreeze()
            for check in app.state.gateway.usage_checks:  # usage touches still gathering (up to 0.25 s) are written
                flush = getattr(check, "flush", None)
                if flush is not None:
                    await anyio.to_thread.run_sync(flush)
            await writer.close()  # everything queued is committed before the process exits
            await pool.aclose()
            if limiter is not None:
                await limiter.aclose()

    app = FastAPI(title="hegui gateway", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json")
    app.include_router(openai_api.router)
    app.include_router(admin_api.router)
    app.include_router(ops_api.router)
    install_console(app, ctx)
    app.include_router(identity_api.router)
    cases_api.install(app)
    _install_error_handlers(app, metrics)
    return app


def _load_kernels(engine: Any) -> None:
    """``engine.compile_kernels()``, in a thread: numba's import and its cached machine code take ~1 s (the
    first start after installing compiles, ~10 s); a failure leaves the plain path serving."""
    try:
        engine.compile_kernels()
        log.info("compiled moderation kernels loaded")
    except Exception as err:  # e.g. numba missing or its cache unreadable: keep serving, say why
        log.warning("compiled moderation kernels not loaded (the plain path serves): %s: %s",
                    type(err).__name__, err)


def _warm_up(engine: Any) -> None:
    """Load lexicons and models before the first request instead of during it."""
    engine.moderate("warm-up", "input")
    engine.moderate_conversation([{"role": "user", "content": "warm-up"}])


def _install_error_handlers(app: FastAPI, metrics: Metrics) -> None:
    @app.exception_handler(ApiError)
    async def _api(request: Request, err: ApiError) -> JSONResponse:
        metrics.requests.labels(request.url.path, str(err.status)).inc()
        return err.response()

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        return ApiError(400, f"invalid request: {where}: {first['msg']}", param=where or None).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, err: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(err.status_code)
        return ApiError(err.status_code, str(err.detail), "invalid_request_error", None, code).response()

    @app.exception_handler(NotFoundError)
    async def _not_found(_: Request, err: NotFoundError) -> JSONResponse:
        return ApiError(404, str(err), "invalid_request_error", None, "not_found").response()

    @app.exception_handler(InvalidInputError)
    async def _invalid(_: Request, err: InvalidInputError) -> JSONResponse:
        return ApiError(400, str(err)).response()

    @app.exception_handler(DatabaseUnavailable)
    async def _db_down(_: Request, err: DatabaseUnavailable) -> JSONResponse:
        return db_unavailable().response()

    @app.exception_handler(SQLAlchemyError)
    async def _db_error(_: Request, err: SQLAlchemyError) -> JSONResponse:
        log.error("database error: %s: %s", type(err).__name__, getattr(err, "orig", None) or "")
        return db_unavailable().response()

    @app.exception_handler(HeguiError)
    async def _hegui(_: Request, err: HeguiError) -> JSONResponse:
        return ApiError(400, str(err)).response()

    @app.exception_handler(Exception)
    async def _internal(_: Request, err: Exception) -> JSONResponse:
        log.exception("internal error")
        return ApiError(500, f"internal error ({type(err).__name__}); the request was not served",
                        "server_error", None, "internal_error").response()


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory`` (each worker process builds its own app).

    Reads the config like the CLI does (``$HEGUI_CONFIG``/``./hegui.yaml`` + ``HEGUI_*``) and the
    single upstream ``hegui serve --upstream`` put in ``$HEGUI_SERVE_UPSTREAM``.
    """
    settings = load_settings()
    url = os.environ.get(SERVE_UPSTREAM_ENV)
    if url:
        settings = with_single_upstream(settings, url)
    from hegui.usage.gate import gateway_checks  # identity + usage steps (real name, agreement, minors)

    ctx = HeguiContext(settings)
    return create_app(ctx, usage_checks=gateway_checks(ctx))


def with_single_upstream(settings: Settings, url: str) -> Settings:
    return settings.model_copy(update={"upstreams": [single_upstream(url)]})
