"""``hegui serve``: the gateway on embedded defaults (SQLite and a key under ./.hegui/)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from hegui.cli.common import STATE, console
from hegui.config import CONFIG_ENV
from hegui.errors import ConfigError


def serve(
    host: Annotated[str | None, typer.Option("--host", help="bind address (default: gateway.host)")] = None,
    port: Annotated[int | None, typer.Option("--port", help="port (default: gateway.port)", min=1, max=65535)] = None,
    upstream: Annotated[str | None, typer.Option(
        "--upstream", help="one OpenAI-compatible base URL for every model, e.g. http://127.0.0.1:8001/v1")] = None,
    workers: Annotated[int | None, typer.Option("--workers", help="worker processes (default: gateway.workers)",
                                                min=1)] = None,
) -> None:
    """Start the OpenAI-compatible compliance gateway (chat, embeddings, moderations, admin, metrics)."""
    import uvicorn

    from hegui.gateway.app import SERVE_UPSTREAM_ENV, create_app, single_upstream, with_single_upstream
    from hegui.install import ensure_database
    from hegui.privacy.retention import start_purge_thread
    from hegui.usage.gate import gateway_checks

    ctx = STATE.ctx()
    if upstream is not None:
        try:
            single_upstream(upstream)
        except ValueError as err:
            raise ConfigError(f"--upstream {upstream!r}: must be an http:// or https:// base URL ({err})") from None
        ctx.settings = with_single_upstream(ctx.settings, upstream)
    gw = ctx.settings.gateway
    host, port, workers = host or gw.host, port or gw.port, workers or gw.workers
    ensure_database(ctx)
    start_purge_thread(ctx)  # retention purge on a schedule (privacy.purge_interval_hours)
    ups = ", ".join(f"{u.name}={u.base_url}" for u in ctx.settings.upstreams) or "none (chat answers 503)"
    console.print(f"hegui gateway on http://{host}:{port}/v1  workers={workers}  upstreams: {ups}", soft_wrap=True)
    if workers == 1:
        uvicorn.run(create_app(ctx, usage_checks=gateway_checks(ctx)), host=host, port=port, log_level="warning",
                    access_log=False)
        return
    if gw.rate_limit.enabled and not ctx.settings.redis_url:
        console.print(f"note: no redis_url, so each worker keeps its own rate-limit buckets: a key may reach "
                      f"{workers}× gateway.rate_limit", soft_wrap=True)
    # Several processes: each worker builds its own app from the same config and environment.
    if STATE.config_file is not None:
        os.environ[CONFIG_ENV] = str(STATE.config_file.resolve())
    if upstream is not None:
        os.environ[SERVE_UPSTREAM_ENV] = upstream
    os.environ.setdefault("HEGUI_DATA_DIR", str(ctx.settings.data_dir.resolve()))
    uvicorn.run("hegui.gateway.app:app_from_environment", factory=True, host=host, port=port, workers=workers,
                log_level="warning", access_log=False)
