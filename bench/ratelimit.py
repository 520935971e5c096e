"""Per-request cost of the per-key rate limit (``hegui.gateway.ratelimit``), in process and in Redis.

The load test (``bench/load.py --rate-limit both``) cannot resolve microseconds on a shared machine,
so this measures the check itself: CPU time of the measuring thread per call, many keys (10,000
users' buckets, round robin), limit high enough never to refuse. Baselines in the same run: the
SHA-256 of the API key every request already pays (``hash_key``), and for Redis a bare ``PING``
round trip on the same connection (the floor of any Redis-backed check).

    .venv/bin/python bench/ratelimit.py [--quick] [--redis redis://127.0.0.1:6379/15] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from hegui.config import RateLimitConfig
from hegui.gateway.ratelimit import MemoryRateLimiter, RedisRateLimiter
from hegui.identity.accounts import hash_key

LIMIT = RateLimitConfig(requests_per_minute=10**9, burst=10**9)


def measure_sync(name: str, fn: Callable[[int], object], n: int) -> dict[str, Any]:
    for i in range(min(n, 2000)):  # warm-up
        fn(i)
    samples = []
    for _ in range(5):
        t0, w0 = time.thread_time(), time.perf_counter()
        for i in range(n):
            fn(i)
        samples.append(((time.thread_time() - t0) / n * 1e6, (time.perf_counter() - w0) / n * 1e6))
    return _row(name, samples)


async def measure_async(name: str, fn: Callable[[int], Awaitable[object]], n: int) -> dict[str, Any]:
    for i in range(min(n, 500)):
        await fn(i)
    samples = []
    for _ in range(5):
        t0, w0 = time.thread_time(), time.perf_counter()
        for i in range(n):
            await fn(i)
        samples.append(((time.thread_time() - t0) / n * 1e6, (time.perf_counter() - w0) / n * 1e6))
    return _row(name, samples)


def _row(name: str, samples: list[tuple[float, float]]) -> dict[str, Any]:
    return {"what": name, "cpu_us": statistics.median(s[0] for s in samples),
            "wall_us": statistics.median(s[1] for s in samples)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/15", help="Redis URL; 'none' to skip")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    n = 20_000 if args.quick else 200_000
    keys = [f"k_{uuid.uuid4().hex[:20]}" for _ in range(10_000)]
    api_keys = [f"hg-{uuid.uuid4().hex[:12]}-{uuid.uuid4().hex}" for _ in range(10_000)]
    mem = MemoryRateLimiter(LIMIT)
    rows = [
        measure_sync("baseline: hash_key(API key) (paid by every request)", lambda i: hash_key(api_keys[i % 10_000]),
                     n),
        measure_sync("in process: MemoryRateLimiter.hit_now", lambda i: mem.hit_now(keys[i % 10_000]), n),
    ]

    async def in_loop() -> list[dict[str, Any]]:
        out = [await measure_async("in process: await MemoryRateLimiter.hit (the gateway's call)",
                                   lambda i: mem.hit(keys[i % 10_000]), n)]
        if args.redis != "none":
            rl = RedisRateLimiter(LIMIT, args.redis, prefix=f"hegui:bench-rl:{uuid.uuid4().hex[:6]}:")
            m = max(2000, n // 20)
            try:
                out.append(await measure_async("baseline: Redis PING (same client)", lambda i: rl.r.ping(), m))
                out.append(await measure_async("Redis: await RedisRateLimiter.hit", lambda i: rl.hit(keys[i % 10_000]),
                                               m))
            finally:
                await rl.aclose()
        return out

    rows += asyncio.run(in_loop())
    print(f"calls per sample: {n} (Redis: {max(2000, n // 20)}), median of 5 samples", file=sys.stderr)
    print("| check | CPU µs/call | wall µs/call |")
    print("|---|---:|---:|")
    for r in rows:
        print(f"| {r['what']} | {r['cpu_us']:.2f} | {r['wall_us']:.2f} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
