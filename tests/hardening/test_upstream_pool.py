"""Regression (found by bench/load.py): every streamed chat kept its upstream connection checked out.

The stream pump was cancelled right after ``[DONE]``, before it had read the end of the chunked body;
httpcore then never returned the connection to the pool. After ``max_connections`` (512) streams,
every new stream waited for a free connection and the gateway stopped answering streams.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from gw_fake_upstream import FakeUpstream
from gwkit import Running, make_settings, running_gateway, upstream_config


def _pool(gw: Running) -> list[str]:
    return [str(c) for u in gw.gw.pool.upstreams for c in u.client._transport._pool.connections]  # type: ignore[attr-defined]


def test_streamed_chats_give_their_upstream_connection_back(tmp_path: Path) -> None:
    with FakeUpstream(record=False) as up, running_gateway(make_settings(
            tmp_path, upstreams=[upstream_config(up, models=["*"])])) as gw, httpx.Client(timeout=30) as client:
        for i in range(40):  # one client after another: one upstream connection is enough
            with client.stream("POST", gw.url + "/v1/chat/completions",
                               headers={"authorization": f"Bearer {gw.user_key}"},
                               json={"model": "m", "stream": True, "messages": [{"role": "user", "content": f"问{i}"}]}
                               ) as r:
                body = r.read().decode()
            assert r.status_code == 200 and "data: [DONE]" in body
        conns = _pool(gw)
        assert len(conns) <= 2, conns
        assert not [c for c in conns if "ACTIVE" in c], conns
