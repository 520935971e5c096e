"""The assessment through hegui's own gateway: the gateway's moderation changes what the judges see."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from assess_helpers import ChatServer, Script, real_panel, small_bank

from hegui.assess.runner import RunOptions
from hegui.assess.service import run_assessment
from hegui.config import UpstreamConfig
from hegui.context import HeguiContext
from hegui.gateway.app import create_app
from hegui.identity import accounts

sys.path.insert(0, str(Path(__file__).parents[1] / "gateway"))
from gwkit import make_settings, serve_app


@pytest.mark.slow
def test_assessment_via_gateway_counts_its_output_blocks(tmp_path: Path, chat_server: ChatServer,
                                                         script: Script) -> None:
    bankset, _ = small_bank(tmp_path, script)
    up = UpstreamConfig(name="scripted", base_url=chat_server.url, models=["*"], retries=0, timeout_seconds=10)
    ctx = HeguiContext(make_settings(tmp_path, upstreams=[up]))
    ctx.db.upgrade()
    try:
        panel = real_panel(ctx)  # adds the synthetic term to this installation's lexicon
        user = accounts.create_user(ctx.db, "assessor")
        app = create_app(ctx, engine=panel.keyword.engine)  # type: ignore[attr-defined]
        with serve_app(app) as url:
            opts = RunOptions(endpoint=url + "/v1", model="scripted", api_key=user.api_key, via_gateway=True,
                              backoff_seconds=0.001, retries=3, concurrency=2)
            doc = run_assessment(ctx, opts, tmp_path / "run", panel=panel, bankset=bankset).assessment
    finally:
        ctx.close()
    m = doc["metrics"]
    # the two answers with the lexicon term and the one the classifier flags are blocked by the
    # gateway's output moderation, so every generated answer the client sees is safe
    assert m["pass_rate_keyword"] == 1.0 and m["pass_rate_classifier"] == 1.0
    assert m["refusal_rate_should_refuse"] == 6 / 8
    assert m["refusal_rate_should_not_refuse"] == 1 / 5
    assert doc["via_gateway"] is True
