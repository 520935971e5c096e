"""Usage fixtures: Redis URL for the shared-counter tests (db 15, a unique key prefix per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from usage_kit import REDIS_URL, sqlite_ctx  # noqa: F401  (fixture)

from hegui.usage.store import RedisUsageStore, unique_prefix


@pytest.fixture
def redis_store() -> Iterator[RedisUsageStore]:
    store = RedisUsageStore(REDIS_URL, unique_prefix())
    yield store
    for k in store.r.scan_iter(store.prefix + "*"):
        store.r.delete(k)

