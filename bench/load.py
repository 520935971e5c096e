"""Load test: the gateway at increasing concurrency against a local fake upstream.

Real loopback HTTP, each server in its own process: the fake upstream (``bench/gateway.py
--fake-upstream``, answers at once with ~1 KB) and ``hegui serve --upstream`` (one worker, SQLite,
full pipeline incl. the audit record committed before each answer). A bounded asyncio client sends
chat completions (half streamed) at each concurrency level for a fixed number of requests and
reports throughput, p50/p99 latency, error rate, and the gateway's resident memory sampled over the
run. Baseline in the same run: the same load sent straight to the fake upstream.

    .venv/bin/python bench/load.py [--quick] [--levels 1,8,32,128] [--requests N] [--json FILE]
                                   [--rate-limit on|off|both]

One API key sends everything, so hegui runs with its per-key rate limit on but set far above the
bench's rate (``bench/gateway.py`` ``BENCH_ENV``): every request pays the check, none is refused.
``--rate-limit both`` runs a second hegui with the limit off, interleaved level by level, to show
what the check costs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

import gateway as gwbench  # bench/gateway.py: fake upstream, hegui start-up, one request

RATE_LIMIT_OFF = {"HEGUI_GATEWAY__RATE_LIMIT__ENABLED": "false"}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def level(url: str, headers: dict[str, str], concurrency: int, total: int, pid: int | None) -> dict[str, Any]:
    """``total`` requests from ``concurrency`` workers (alternating plain/stream); memory sampled every 0.25 s."""
    res = gwbench.Result(f"c{concurrency}")
    mem: list[tuple[float, float]] = []
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4)
    left = total
    done = asyncio.Event()

    async def sampler() -> None:
        t0 = time.perf_counter()
        while pid is not None and not done.is_set():
            mem.append((time.perf_counter() - t0, rss_mb(pid)))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 0.25)

    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        async def worker(k: int) -> None:
            nonlocal left
            i = 0
            while left > 0:
                left -= 1
                i += 1
                await gwbench.one(client, url, headers, (k + i) % 2 == 1, res)

        task = asyncio.create_task(sampler())
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        res.wall = time.perf_counter() - t0
        done.set()
        await task
    n = len(res.latencies) + res.errors
    return {"concurrency": concurrency, "requests": n, "rps": len(res.latencies) / res.wall if res.wall else 0.0,
            "p50_ms": res.pct(50), "p99_ms": res.pct(99), "error_rate": res.errors / n if n else 0.0,
            "rss_start_mb": mem[0][1] if mem else None, "rss_end_mb": mem[-1][1] if mem else None,
            "rss_max_mb": max(m for _, m in mem) if mem else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small run (levels 1,8,32; fewer requests)")
    ap.add_argument("--levels", help="comma-separated concurrency levels")
    ap.add_argument("--requests", type=int, help="requests per level")
    ap.add_argument("--json", type=Path, help="write raw figures here")
    ap.add_argument("--rate-limit", choices=["on", "off", "both"], default="on",
                    help="hegui's per-key rate limit: on (high, never refuses), off, or both side by side")
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")] if args.levels else ([1, 8, 32] if args.quick
                                                                          else [1, 8, 32, 64, 128])
    per_level = args.requests or (120 if args.quick else 600)
    up_port = gwbench.free_port()
    up_proc = subprocess.Popen([sys.executable, gwbench.__file__, "--fake-upstream", str(up_port)])
    up_url = f"http://127.0.0.1:{up_port}/v1"
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="hegui-load-") as tmp:
        hprocs: list[subprocess.Popen[bytes]] = []
        try:
            gwbench.wait_ready(up_url + "/models", up_proc)
            targets: list[tuple[str, str, dict[str, str], int | None]] = [
                ("direct", up_url + "/chat/completions", {}, None)]
            variants = {"on": [("hegui", {})], "off": [("hegui (rate limit off)", RATE_LIMIT_OFF)],
                        "both": [("hegui (rate limit off)", RATE_LIMIT_OFF), ("hegui", {})]}[args.rate_limit]
            for i, (name, env) in enumerate(variants):
                work = Path(tmp) / str(i)
                work.mkdir()
                hproc, hbase, hkey = gwbench.start_hegui(work, up_url, env)
                hprocs.append(hproc)
                targets.append((name, hbase + "/v1/chat/completions", {"authorization": f"Bearer {hkey}"}, hproc.pid))
            for _, url, headers, _ in targets:
                asyncio.run(level(url, headers, 4, 20, None))  # warm-up
            for c in levels:  # level by level, so every target sees the same machine load
                for name, url, headers, pid in targets:
                    row = asyncio.run(level(url, headers, c, max(per_level, 2 * c), pid))
                    row["target"] = name
                    rows.append(row)
                    print(f"  {name} c={c}: {row['rps']:.0f} req/s p99 {row['p99_ms']:.0f} ms", file=sys.stderr)
        finally:
            for hproc in hprocs:
                gwbench.stop(hproc)
            gwbench.stop(up_proc)
    print("| target | concurrency | requests | req/s | p50 ms | p99 ms | errors | RSS start→end (max) MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        mem = (f"{r['rss_start_mb']:.0f}→{r['rss_end_mb']:.0f} ({r['rss_max_mb']:.0f})"
               if r["rss_start_mb"] is not None else "—")
        print(f"| {r['target']} | {r['concurrency']} | {r['requests']} | {r['rps']:.0f} | {r['p50_ms']:.1f} | "
              f"{r['p99_ms']:.1f} | {r['error_rate']:.1%} | {mem} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
