"""Evidence for O9 (safe, stable, continuous service): the gateway's database and upstreams."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hegui.obligations import Evidence, evidence_for

if TYPE_CHECKING:
    from hegui.context import HeguiContext


@evidence_for("gateway.health")
def gateway_health(ctx: HeguiContext) -> Evidence:
    try:
        current_ok = ctx.db.is_up_to_date()
    except Exception as err:
        return Evidence("gateway.health", "failing", f"database unreachable ({type(err).__name__})")
    if not current_ok:
        return Evidence("gateway.health", "failing", "database migrations are not current (run `hegui db upgrade`)")
    ups = ctx.settings.upstreams
    if not ups:
        return Evidence("gateway.health", "not_configured",
                        "no upstream model configured; /healthz, /readyz and /metrics are served by `hegui serve`")
    return Evidence("gateway.health", "configured",
                    f"{len(ups)} upstream(s) ({', '.join(u.name for u in ups)}) with timeouts and connect retries; "
                    "/healthz, /readyz (database + schema), Prometheus /metrics; fails closed without the database")
