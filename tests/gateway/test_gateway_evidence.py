"""O9 evidence: the gateway's database and upstream configuration."""

from __future__ import annotations

from hegui.config import UpstreamConfig
from hegui.context import HeguiContext
from hegui.gateway.evidence import gateway_health


def test_without_upstream_is_not_configured(ctx: HeguiContext) -> None:
    assert gateway_health(ctx).status == "not_configured"


def test_with_upstream_is_configured(ctx: HeguiContext) -> None:
    ctx.settings = ctx.settings.model_copy(
        update={"upstreams": [UpstreamConfig(name="vllm", base_url="http://127.0.0.1:9/v1")]})
    ev = gateway_health(ctx)
    assert ev.status == "configured" and "vllm" in ev.detail


def test_unmigrated_database_is_failing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from hegui.config import Settings
    from hegui.privacy.crypto import generate_key

    c = HeguiContext(Settings(data_dir=tmp_path / ".h", database_url=f"sqlite:///{tmp_path / 'x.db'}",
                              secret_key=generate_key()))
    assert gateway_health(c).status == "failing"
    c.close()
