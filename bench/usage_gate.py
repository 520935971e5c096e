"""Per-request cost of the identity and usage steps (real name, agreement, minors' budget) at the gateway.

Measures, in one process on one core, how long the steps take per admitted request for an adult and
for a 15-year-old, with counters in SQLite and in Redis, against the baseline every gateway request
already pays: the API-key look-up (``authenticate``) on the same database.

    .venv/bin/python bench/usage_gate.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hegui.config import Settings
from hegui.context import HeguiContext
from hegui.gateway.pipeline import ExchangeState
from hegui.identity import agreements
from hegui.identity.accounts import authenticate, create_user
from hegui.identity.gate import IdentityGate
from hegui.identity.service import IdentityService
from hegui.privacy.crypto import generate_key
from hegui.usage.clock import ManualClock
from hegui.usage.gate import UsageGate
from hegui.usage.store import DbUsageStore, RedisUsageStore, UsageStore, unique_prefix

REDIS_URL = "redis://127.0.0.1:6379/15"


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1e6)
    return out


def row(name: str, us: list[float]) -> dict[str, float | str]:
    us = sorted(us)
    return {"case": name, "p50_us": statistics.median(us), "p99_us": us[int(len(us) * 0.99) - 1],
            "per_s": 1e6 / statistics.mean(us)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    n = 300 if args.quick else 3000
    tmp = Path(tempfile.mkdtemp())
    ctx = HeguiContext(Settings(data_dir=tmp, database_url=f"sqlite:///{tmp / 'b.db'}", secret_key=generate_key()))
    ctx.db.upgrade()
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    svc = IdentityService(ctx, clock=clock)
    agreements.publish(ctx.db, "v1", "协议", "agreement", "bench", clock())
    users = {}
    for who, born in (("adult", date(1990, 1, 1)), ("minor15", date(2011, 1, 1))):
        issued = create_user(ctx.db, who)
        svc.attest(issued.user_id, "bench", "bench", born)
        agreements.accept(ctx.db, issued.user_id, "v1", "cli", clock())
        users[who] = issued
    rows = [row("baseline: API-key look-up (authenticate)",
                timed(lambda: authenticate(ctx.db, users["adult"].api_key), n))]
    ident = IdentityGate(ctx)
    stores: list[tuple[str, UsageStore]] = [("sqlite", DbUsageStore(ctx.db))]
    try:
        r = RedisUsageStore(REDIS_URL, unique_prefix())
        r.r.ping()
        stores.append(("redis", r))
    except Exception as err:  # Redis is optional for the benchmark
        print(f"(redis skipped: {type(err).__name__})", file=sys.stderr)
    for who in ("adult", "minor15"):
        p = authenticate(ctx.db, users[who].api_key)
        assert p is not None
        st = ExchangeState("chat.completions", None, None)
        st.principal = p
        rows.append(row(f"identity step ({who})", timed(lambda st=st: ident(st), n)))  # type: ignore[misc]
        if hasattr(ident, "_check"):  # the database look-up the cache saves (first request, after the TTL)
            rows.append(row(f"identity step, uncached ({who})",
                            timed(lambda p=p: ident._check(p.user_id), n)))  # type: ignore[misc]
        for sname, store in stores:
            gate = UsageGate(ctx, store=store, clock=clock)

            def one(gate: UsageGate = gate, st: ExchangeState = st) -> None:
                clock.now += timedelta(milliseconds=200)  # a 60-minute budget lasts 18 000 requests
                gate(st)
                gate.finish(st)
                gate.flush()  # counted in full here; in the gateway the end touch is off the request path

            rows.append(row(f"usage step + end-of-exchange touch ({who}, {sname})", timed(one, n)))

            def path(gate: UsageGate = gate, st: ExchangeState = st) -> None:
                clock.now += timedelta(milliseconds=200)
                gate(st)
                gate.finish(st)  # written by the background thread, as in the gateway

            rows.append(row(f"usage step, request path only ({who}, {sname})", timed(path, n)))
            gate.flush()
    print(f"\n{n} requests per case, one thread\n")
    print("| case | p50 µs | p99 µs | per s |\n|---|---:|---:|---:|")
    for r_ in rows:
        print(f"| {r_['case']} | {r_['p50_us']:.0f} | {r_['p99_us']:.0f} | {r_['per_s']:.0f} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    for _, store in stores:
        if isinstance(store, RedisUsageStore):
            for k in store.r.scan_iter(store.prefix + "*"):
                store.r.delete(k)


if __name__ == "__main__":
    main()
