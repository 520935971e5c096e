"""Usage fixtures: Redis URL for the shared-counter tests (db 15, a unique key prefix per test)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from hegui.usage.store import RedisUsageStore, unique_prefix

REDIS_URL = os.environ.get("HEGUI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")  # as tests/conftest.py


@pytest.fixture
def redis_store() -> Iterator[RedisUsageStore]:
    store = RedisUsageStore(REDIS_URL, unique_prefix())
    yield store
    for k in store.r.scan_iter(store.prefix + "*"):
        store.r.delete(k)
