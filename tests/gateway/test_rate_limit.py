"""The per-API-key request-rate limit: 429 with Retry-After before any work, per key, refilled by the clock.

Refill is driven by a manual clock (``hegui.usage.clock.ManualClock``): no test sleeps or times anything.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from gw_fake_upstream import FakeUpstream
from gwkit import BANNED, Running, make_settings, running_gateway, upstream_config

from hegui.config import RateLimitConfig, load_settings
from hegui.errors import ConfigError
from hegui.gateway.errors import ApiError
from hegui.gateway.ratelimit import MemoryRateLimiter, RedisRateLimiter, admit, limiter_for
from hegui.identity import accounts
from hegui.usage.clock import ManualClock

REDIS_URL = os.environ.get("HEGUI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")  # as tests/conftest.py
# 6 per minute = one request every 10 s; 3 may come at once.
LIMIT = {"requests_per_minute": 6, "burst": 3}
START = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
CHAT = ("/v1/chat/completions", {"model": "fake-model", "messages": [{"role": "user", "content": "你好"}]})
ENDPOINTS = {
    "chat": CHAT,
    "embeddings": ("/v1/embeddings", {"model": "fake-model", "input": "你好"}),
    "moderations": ("/v1/moderations", {"input": "你好"}),
}


def _gateway(tmp: Path, up: FakeUpstream, **extra: Any) -> Iterator[Running]:
    settings = make_settings(tmp, upstreams=[upstream_config(up, models=["*"])], rate_limit=LIMIT)
    if extra:
        settings = settings.model_copy(update=extra)
    with running_gateway(settings) as r:
        yield r


@pytest.fixture(scope="module")
def up() -> Iterator[FakeUpstream]:
    with FakeUpstream() as u:
        yield u


@pytest.fixture(scope="module")
def limited(up: FakeUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    yield from _gateway(tmp_path_factory.mktemp("rl"), up)


@pytest.fixture
def clock(limited: Running) -> ManualClock:
    """The gateway's limiter on a manual clock (buckets are per key and each test uses a fresh key)."""
    c = ManualClock(START)
    limiter = limited.gw.rate_limiter
    assert isinstance(limiter, MemoryRateLimiter)
    limiter.clock = c
    return c


def _key(r: Running, name: str = "rl user") -> str:
    return accounts.create_user(r.ctx.db, name).api_key


def _post(r: Running, key: str, endpoint: str = "chat", body: dict[str, Any] | None = None) -> httpx.Response:
    path, default = ENDPOINTS[endpoint]
    return httpx.post(r.url + path, json=body or default, headers={"authorization": f"Bearer {key}"}, timeout=30)


# the bucket ------------------------------------------------------------------------------------------
def test_bucket_admits_a_burst_then_refuses_with_the_exact_wait() -> None:
    tat: float | None = None
    for _ in range(3):
        tat, wait = admit(tat, 100.0, 10.0, 30.0)
        assert tat is not None and wait == 0.0
    refused, wait = admit(tat, 100.0, 10.0, 30.0)
    assert refused is None and wait == pytest.approx(10.0)
    again, _ = admit(tat, 110.0, 10.0, 30.0)
    assert again == pytest.approx(140.0)


def test_bucket_forgives_a_clock_that_stepped_back() -> None:
    tat, _ = admit(None, 1000.0, 10.0, 30.0)
    new, wait = admit(tat, 0.0, 10.0, 30.0)  # wall clock set back by 1,000 s
    assert new == pytest.approx(10.0) and wait == 0.0


# the gateway -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_over_the_limit_is_429_rate_limit_exceeded_with_retry_after(limited: Running, clock: ManualClock,
                                                                     endpoint: str) -> None:
    key = _key(limited)
    assert [_post(limited, key, endpoint).status_code for _ in range(3)] == [200, 200, 200]
    r = _post(limited, key, endpoint)
    assert r.status_code == 429
    assert r.json()["error"] == {"message": r.json()["error"]["message"], "type": "requests", "param": None,
                                 "code": "rate_limit_exceeded"}
    assert r.headers["retry-after"] == "10" and r.headers["retry-after-ms"] == "10000"
    assert r.headers["x-ratelimit-limit-requests"] == "6"


def test_the_limit_is_checked_before_moderation_upstream_and_audit(limited: Running, up: FakeUpstream,
                                                                   clock: ManualClock) -> None:
    key = _key(limited)
    for _ in range(3):
        assert _post(limited, key).status_code == 200
    seen, records = len(up.seen), limited.gw.writer.records
    refused_before = limited.gw.metrics.rate_limited.labels("chat.completions")._value.get()
    body = {"model": "fake-model", "messages": [{"role": "user", "content": BANNED}]}
    r = _post(limited, key, body=body)
    assert r.status_code == 429 and "x-hegui-decision" not in r.headers  # never moderated
    assert len(up.seen) == seen and limited.gw.writer.records == records  # no upstream call, no record
    assert limited.gw.metrics.rate_limited.labels("chat.completions")._value.get() == refused_before + 1


def test_refused_requests_are_counted_in_metrics(limited: Running, clock: ManualClock) -> None:
    key = _key(limited)
    statuses = [_post(limited, key, "moderations").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    text = httpx.get(limited.url + "/metrics", headers={"authorization": f"Bearer {limited.admin_key}"}).text
    line = next(x for x in text.splitlines() if x.startswith('hegui_rate_limited_total{endpoint="moderations"}'))
    assert float(line.rsplit(" ", 1)[1]) >= 2


def test_keys_have_separate_buckets(limited: Running, clock: ManualClock) -> None:
    a, b = _key(limited, "a"), _key(limited, "b")
    assert [_post(limited, a, "moderations").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert [_post(limited, b, "moderations").status_code for _ in range(3)] == [200, 200, 200]


def test_one_bucket_per_key_across_endpoints(limited: Running, clock: ManualClock) -> None:
    key = _key(limited)
    assert [_post(limited, key, e).status_code for e in ("chat", "embeddings", "moderations")] == [200, 200, 200]
    assert _post(limited, key, "embeddings").status_code == 429


def test_the_bucket_refills_as_the_clock_moves(limited: Running, clock: ManualClock) -> None:
    key = _key(limited)
    assert [_post(limited, key, "moderations").status_code for _ in range(4)] == [200, 200, 200, 429]
    clock.advance(seconds=9)
    r = _post(limited, key, "moderations")
    assert r.status_code == 429 and r.headers["retry-after-ms"] == "1000"
    clock.advance(seconds=1)
    assert [_post(limited, key, "moderations").status_code for _ in range(2)] == [200, 429]
    clock.advance(seconds=60)  # a minute idle: the full burst again, not more
    assert [_post(limited, key, "moderations").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_admin_and_privacy_routes_count_against_the_key_too(limited: Running, clock: ManualClock) -> None:
    admin = accounts.create_user(limited.ctx.db, "rl admin", role="admin").api_key
    auth = {"authorization": f"Bearer {admin}"}
    statuses = [httpx.get(limited.url + "/admin/users", headers=auth, timeout=30).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    key = _key(limited)
    auth = {"authorization": f"Bearer {key}"}
    statuses = [httpx.get(limited.url + "/v1/privacy/consent", headers=auth, timeout=30).status_code
                for _ in range(4)]
    assert statuses[-1] == 429 and 429 not in statuses[:3]


def test_a_wrong_key_is_401_not_429(limited: Running, clock: ManualClock) -> None:
    r = httpx.post(limited.url + "/v1/moderations", json={"input": "x"}, headers={"authorization": "Bearer nope"})
    assert r.status_code == 401


# configuration ---------------------------------------------------------------------------------------
def test_without_redis_the_limit_lives_in_the_process(limited: Running) -> None:
    assert isinstance(limited.gw.rate_limiter, MemoryRateLimiter)
    assert limited.gw.rate_limiter.limit == RateLimitConfig(**LIMIT)


def test_default_limit_is_on_and_generous() -> None:
    limit = load_settings().gateway.rate_limit
    assert limit.enabled and limit.requests_per_minute == 600 and limit.burst == 60


def test_a_disabled_limit_builds_no_limiter(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, gateway={"rate_limit": {"enabled": False}})
    assert limiter_for(settings) is None


@pytest.mark.parametrize("value,field", [({"requests_per_minute": 0}, "requests_per_minute"),
                                         ({"burst": -5}, "burst"), ({"burst": "lots"}, "burst"),
                                         ({"per_second": 5}, "per_second")])
def test_a_bad_rate_limit_setting_names_the_key(value: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=rf"'gateway\.rate_limit\.{field}'.*HEGUI_GATEWAY__RATE_LIMIT__"):
        load_settings(gateway={"rate_limit": value})


def test_a_bad_rate_limit_in_the_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEGUI_GATEWAY__RATE_LIMIT__REQUESTS_PER_MINUTE", "fast")
    with pytest.raises(ConfigError, match=r"HEGUI_GATEWAY__RATE_LIMIT__REQUESTS_PER_MINUTE.*valid integer"):
        load_settings()


def test_the_removed_fail_closed_setting_is_refused_not_ignored() -> None:
    with pytest.raises(ConfigError, match=r"'gateway\.fail_closed'.*unknown setting"):
        load_settings(gateway={"fail_closed": False})


# Redis: one limit for every worker -------------------------------------------------------------------
def test_with_redis_two_gateways_share_one_bucket_per_key(up: FakeUpstream, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, upstreams=[upstream_config(up, models=["*"])], rate_limit=LIMIT)
    settings = settings.model_copy(update={"redis_url": REDIS_URL})
    clock = ManualClock(START)
    with running_gateway(settings) as one, running_gateway(settings) as two:  # same database, same Redis
        for r in (one, two):
            assert isinstance(r.gw.rate_limiter, RedisRateLimiter)
            r.gw.rate_limiter.clock = clock
        key = _key(one)
        got = [_post(r, key, "moderations").status_code for r in (one, two, one, two)]
        assert got == [200, 200, 200, 429]
        other = _key(two, "other")
        assert _post(one, other, "moderations").status_code == 200  # its own bucket
        clock.advance(seconds=10)
        assert [_post(r, key, "moderations").status_code for r in (two, one)] == [200, 429]


def test_redis_limiter_on_the_servers_clock_refuses_past_the_burst() -> None:
    """Without an injected clock the Redis server's clock times the bucket (one request a minute here)."""
    limiter = RedisRateLimiter(RateLimitConfig(requests_per_minute=1, burst=2), REDIS_URL)
    key = "server-clock-" + os.urandom(6).hex()

    async def go() -> list[tuple[bool, float]]:
        try:
            return [((v := await limiter.hit(key)).allowed, v.retry_after) for _ in range(3)]
        finally:
            await limiter.aclose()

    got = asyncio.run(go())
    assert [a for a, _ in got] == [True, True, False]
    assert 0 < got[2][1] <= 60


def test_an_unreachable_redis_fails_closed_with_503() -> None:
    limiter = RedisRateLimiter(RateLimitConfig(), "redis://127.0.0.1:1/0")

    async def go() -> None:
        try:
            await limiter.hit("k")
        finally:
            await limiter.aclose()

    with pytest.raises(ApiError) as ei:
        asyncio.run(go())
    assert ei.value.status == 503 and ei.value.code == "rate_limiter_unavailable"
