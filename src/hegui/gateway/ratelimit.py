"""Per-API-key request-rate limit: a token bucket per key, in this process or shared through Redis.

The bucket is kept in its GCRA form: one number per key, the time at which the bucket would be
full again (``tat``). A request costs ``interval = 60 / requests_per_minute`` seconds of it; it is
allowed while ``tat`` stays within ``burst * interval`` of now. So a key may send ``burst`` requests
at once and then one per ``interval``, and a refused request tells exactly when the next one fits
(``Retry-After``). Refused requests cost nothing from the bucket.

Without Redis the buckets live in the process (one worker: exact). With ``redis_url`` set, every
worker and node updates the same bucket in one atomic Lua script, timed by the Redis server's clock
(no skew between nodes). Tests inject a clock (``hegui.usage.clock``) so refill is checked without
sleeping.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

from hegui.config import RateLimitConfig, Settings
from hegui.gateway.errors import ApiError
from hegui.usage.clock import Clock

log = logging.getLogger("hegui.gateway")

MEMORY_MAX_KEYS = 100_000
"""In-process buckets kept before the idle ones (full again, so equal to a fresh bucket) are dropped."""
REDIS_PREFIX = "hegui:ratelimit:"
REDIS_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: float = 0.0  # seconds until this key's next request fits (0 when allowed)


def admit(tat: float | None, now: float, interval: float, capacity: float) -> tuple[float | None, float]:
    """One request against a bucket: (the new ``tat`` to store, or None when refused; seconds to wait)."""
    base = now if tat is None or tat < now else tat
    if base - now > capacity + interval:  # the clock stepped back: never refuse for that, start afresh
        base = now
    new = base + interval
    excess = new - now - capacity
    if excess > 1e-9:
        return None, excess
    return new, 0.0


class RateLimiter(Protocol):
    limit: RateLimitConfig

    async def hit(self, key: str) -> Verdict: ...

    async def aclose(self) -> None: ...


class _Bucket:
    def __init__(self, limit: RateLimitConfig) -> None:
        self.limit = limit
        self.interval = 60.0 / limit.requests_per_minute
        self.capacity = limit.burst * self.interval


class MemoryRateLimiter(_Bucket):
    """Buckets in this process: exact for one worker; with N workers each allows the full rate."""

    def __init__(self, limit: RateLimitConfig, clock: Clock | None = None) -> None:
        super().__init__(limit)
        self.clock = clock
        self._tat: dict[str, float] = {}

    def _now(self) -> float:
        return self.clock().timestamp() if self.clock is not None else time.monotonic()

    def hit_now(self, key: str) -> Verdict:
        """The check itself (no I/O; runs on the event loop, so it needs no lock)."""
        now = self._now()
        new, wait = admit(self._tat.get(key), now, self.interval, self.capacity)
        if new is None:
            return Verdict(False, wait)
        if len(self._tat) >= MEMORY_MAX_KEYS and key not in self._tat:
            self._tat = {k: t for k, t in self._tat.items() if t > now}  # idle buckets are full again
            if len(self._tat) >= MEMORY_MAX_KEYS:  # that many keys busy at once: forget the oldest half
                keep = sorted(self._tat.items(), key=lambda kv: kv[1])[MEMORY_MAX_KEYS // 2:]
                self._tat = dict(keep)
        self._tat[key] = new
        return Verdict(True)

    async def hit(self, key: str) -> Verdict:
        return self.hit_now(key)

    async def aclose(self) -> None:
        self._tat.clear()


# KEYS[1] bucket; ARGV: interval, capacity, now (empty: the Redis server's clock).
# Returns {allowed (1/0), seconds to wait as a string} (Lua numbers come back as integers).
_GCRA_LUA = """
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local tat = tonumber(redis.call('GET', KEYS[1]))
local base = now
if tat ~= nil and tat > now then base = tat end
if base - now > capacity + interval then base = now end
local new = base + interval
local excess = new - now - capacity
if excess > 1e-9 then
  return {0, tostring(excess)}
end
redis.call('SET', KEYS[1], string.format('%.6f', new), 'PX', math.ceil((new - now) * 1000) + 1000)
return {1, '0'}
"""


class RedisRateLimiter(_Bucket):
    """Buckets in Redis (``settings.redis_url``): one limit shared by every worker and node."""

    def __init__(self, limit: RateLimitConfig, url: str, clock: Clock | None = None,
                 prefix: str = REDIS_PREFIX) -> None:
        super().__init__(limit)
        import redis.asyncio as aioredis

        self.url, self.prefix, self.clock = url, prefix, clock
        self.r = aioredis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                         socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
        self._script: Any = self.r.register_script(_GCRA_LUA)

    async def hit(self, key: str) -> Verdict:
        now = "" if self.clock is None else repr(self.clock().timestamp())
        try:
            allowed, wait = await self._script(keys=[self.prefix + key],
                                               args=[repr(self.interval), repr(self.capacity), now])
        except Exception as err:  # Redis unreachable or failing: fail closed, like every other check
            log.error("rate limiter: Redis failed (%s); refusing the request", type(err).__name__)
            raise ApiError(503, "the rate limiter's Redis is unavailable; hegui fails closed",
                           "service_unavailable", None, "rate_limiter_unavailable") from None
        return Verdict(bool(int(allowed)), float(wait))

    async def aclose(self) -> None:
        await self.r.aclose()


def limiter_for(settings: Settings, clock: Clock | None = None, prefix: str = REDIS_PREFIX) -> RateLimiter | None:
    """Redis when ``redis_url`` is set (workers share one limit), else in process; None when turned off."""
    limit = settings.gateway.rate_limit
    if not limit.enabled:
        return None
    if settings.redis_url:
        return RedisRateLimiter(limit, settings.redis_url, clock, prefix)
    return MemoryRateLimiter(limit, clock)


def rate_limited(limit: RateLimitConfig, wait: float) -> ApiError:
    """429 in OpenAI's shape with the exact wait (``Retry-After`` in whole seconds, ``-ms`` precise)."""
    seconds = max(1, math.ceil(wait))
    return ApiError(429, f"rate limit reached for this API key: {limit.requests_per_minute} requests per minute "
                    f"(bursts of {limit.burst}); retry in {wait:.2f}s", "requests", None, "rate_limit_exceeded",
                    {"retry-after": str(seconds), "retry-after-ms": str(max(1, math.ceil(wait * 1000))),
                     "x-ratelimit-limit-requests": str(limit.requests_per_minute),
                     "x-ratelimit-remaining-requests": "0"})
