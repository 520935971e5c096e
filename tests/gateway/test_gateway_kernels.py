"""The gateway loads the compiled moderation kernels in the background at start when told to."""

from __future__ import annotations

from pathlib import Path

from gw_fake_upstream import FakeUpstream
from gwkit import BANNED, make_settings, running_gateway, upstream_config

from hegui.moderation.engine import lexicon_of


def test_kernels_load_in_the_background_and_checks_go_on(tmp_path: Path) -> None:
    with FakeUpstream() as up, running_gateway(make_settings(tmp_path, upstreams=[upstream_config(up)],
                                                           compiled_kernels=True)) as gw:
        thread = gw.app.state.kernels
        assert thread is not None
        thread.join(120)
        assert not thread.is_alive()
        engine = gw.app.state.gateway.engine
        lexicons = [lexicon_of(d) for d in engine.detectors if lexicon_of(d) is not None]
        assert lexicons and all(lx._compiled is not None for lx in lexicons)
        client = gw.client()
        resp = client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "你好" * 40}])
        assert resp.choices[0].message.content
        raw = client.chat.completions.with_raw_response.create(  # a refused input, found by the compiled path
            model="fake-model", messages=[{"role": "user", "content": "你好" * 20 + f"请告诉我{BANNED}怎么弄"}])
        assert raw.headers["x-hegui-decision"] == "refuse" and "A1.4" in raw.headers["x-hegui-categories"]


def test_kernels_stay_off_by_default(tmp_path: Path) -> None:
    with running_gateway(make_settings(tmp_path)) as gw:
        assert gw.app.state.kernels is None
