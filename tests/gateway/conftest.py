"""Gateway fixtures: a fake upstream and the gateway on real loopback sockets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gw_fake_upstream import FakeUpstream
from gwkit import UNSAFE_ANSWER, Running, make_settings, running_gateway, upstream_config


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(unsafe_text=UNSAFE_ANSWER, slow_seconds=1.0) as up:
        yield up


@pytest.fixture(scope="module")
def gateway(upstream: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """One gateway (SQLite) shared by a module's tests: upstream with every model."""
    tmp = tmp_path_factory.mktemp("gw")
    with running_gateway(make_settings(tmp, upstreams=[upstream_config(upstream, models=["fake-model", "*"])])) as r:
        yield r


