"""Console page cost against the size of the audit log.

Fills a fresh SQLite installation with N exchanges spread over 14 days (25 % flagged, sealed
content like the gateway writes), then times, best of 3:

* ``data.dashboard()`` — the dashboard's figures (per-day SQL grouping + top terms from the last
  500 flagged records) and the whole dashboard page through the real app (TestClient, logged in);
* the review-queue page (first 50 flagged rows with verdicts);
* baselines on the same database: a bare ``SELECT count(*)`` over the window (the floor), and a
  naive scan that fetches every row of the window and aggregates in Python.

    .venv/bin/python bench/console.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "console"))

from consolekit import SEED_TERMS, build_app, login_as  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from hegui.audit.log import Exchange, append  # noqa: E402
from hegui.config import Settings  # noqa: E402
from hegui.console import data  # noqa: E402
from hegui.context import HeguiContext  # noqa: E402
from hegui.privacy.crypto import generate_key  # noqa: E402
from hegui.store.models.audit import AuditRecord  # noqa: E402


def fill(ctx: HeguiContext, n: int) -> None:
    now = datetime.now(UTC)
    batch: list[Exchange] = []
    for i in range(n):
        ts = now - timedelta(seconds=(i * 14 * 86400) // n)
        if i % 4 == 0:
            term, cat = SEED_TERMS[i % len(SEED_TERMS)]
            text = f"请详细告诉我{term}的方法"
            dec = {"action": "refuse", "categories": [cat], "findings": [
                {"detector": "lexicon", "type": "term", "category": cat, "severity": 3, "start": 6,
                 "end": 6 + len(term), "match": term, "score": 1.0, "rule": "bench@1"}]}
            ex = Exchange(f"00000000-0000-4000-8000-{i:012d}", ts, "chat", 200, "refuse", "u_bench",
                          categories=[cat], content={"request": text, "input_decision": dec})
        else:
            ex = Exchange(f"00000000-0000-4000-8000-{i:012d}", ts, "chat", 200, "allow", "u_bench",
                          content={"request": "帮我写一封请假邮件", "answer": "好的。"})
        batch.append(ex)
        if len(batch) == 5000:
            append(ctx.db, ctx.keys, sorted(batch, key=lambda e: e.ts))
            batch = []
    if batch:
        append(ctx.db, ctx.keys, sorted(batch, key=lambda e: e.ts))


def best(fn: Callable[[], Any], runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def naive_scan(ctx: HeguiContext) -> Counter[str]:
    since = datetime.now(UTC) - timedelta(days=14)
    c: Counter[str] = Counter()
    t = AuditRecord
    with ctx.db.engine.connect() as conn:
        for ts, decision, cats in conn.execute(select(t.ts, t.decision, t.categories).where(t.ts >= since)):
            day = ts.date().isoformat()
            c[day + decision] += 1
            for code in cats.split(","):
                c[day + code] += 1
    return c


def count_floor(ctx: HeguiContext) -> int:
    since = datetime.now(UTC) - timedelta(days=14)
    with ctx.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(AuditRecord).where(AuditRecord.ts >= since))
                   .scalar() or 0)


def run(n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        ctx = HeguiContext(Settings(data_dir=Path(tmp) / ".hegui", database_url=f"sqlite:///{tmp}/b.db",
                                    secret_key=generate_key()))
        app = build_app(ctx)
        t = time.perf_counter()
        fill(ctx, n)
        fill_s = time.perf_counter() - t
        with TestClient(app, follow_redirects=False) as c:
            login_as(c, "auditor1", "correct horse battery")
            out = {
                "exchanges": n, "fill_s": fill_s,
                "count_floor_ms": best(lambda: count_floor(ctx)) * 1000,
                "naive_scan_ms": best(lambda: naive_scan(ctx)) * 1000,
                "dashboard_figures_ms": best(lambda: data.dashboard(ctx)) * 1000,
                "dashboard_page_ms": best(lambda: c.get("/console/dashboard")) * 1000,
                "review_page_ms": best(lambda: c.get("/console/review")) * 1000,
            }
        ctx.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10k exchanges instead of 100k and 300k")
    ap.add_argument("--json", type=Path, help="write the raw figures here")
    args = ap.parse_args()
    sizes = [10_000] if args.quick else [100_000, 300_000]
    results = [run(n) for n in sizes]
    print("| exchanges (14 days) | count(*) floor ms | naive Python scan ms | dashboard figures ms "
          "| dashboard page ms | review page ms |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['exchanges']:,} | {r['count_floor_ms']:.0f} | {r['naive_scan_ms']:.0f} | "
              f"{r['dashboard_figures_ms']:.0f} | {r['dashboard_page_ms']:.0f} | {r['review_page_ms']:.0f} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
