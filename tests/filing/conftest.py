"""Fixtures: the scripted chat server from tests/assess (assessment runs cited by the filing)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "assess"))
from assess_helpers import ChatServer, Script


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def chat_server(script: Script) -> Iterator[ChatServer]:
    srv = ChatServer(script)
    yield srv
    srv.close()
