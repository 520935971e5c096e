"""Fixtures: the scripted chat server (see assess_helpers)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from assess_helpers import ChatServer, Script


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def chat_server(script: Script) -> Iterator[ChatServer]:
    srv = ChatServer(script)
    yield srv
    srv.close()
