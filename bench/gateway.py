"""Gateway overhead: direct-to-upstream vs through hegui vs through LiteLLM's proxy.

Everything runs over real loopback HTTP, each server in its own process so that the load
generator does not share a GIL with them:

* a fake OpenAI-compatible upstream (tests/gateway/gw_fake_upstream.py) that answers at once
  with a ~1 KB answer (streamed in 16-character pieces);
* ``hegui serve --upstream`` (one worker, SQLite, full pipeline: key check, input moderation of
  the ~1 KB prompt, output moderation (stream moderator for streams), label, audit record
  committed before the answer completes);
* LiteLLM's proxy from /work/bench-venv (``litellm[proxy]``, no guardrails), if installed.

Latency is measured by the client per request (stream: to ``[DONE]``; TTFT to the first content
piece). Overhead = percentile(via proxy) − percentile(direct), at 1 and 64 concurrent clients.

    .venv/bin/python bench/gateway.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
LITELLM = Path("/work/bench-venv/bin/litellm")
SENTENCE = ("The museum opens at nine and the guided tour of the river valley starts from the east gate. "
            "博物馆九点开门，河谷导览从东门出发。")
TEXT_1KB = (SENTENCE * 12)[:1000]
PROMPT_1KB = ("Please summarise the following notes for a visitor. " + TEXT_1KB)[:1000]


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 180,
               headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2, headers=headers).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{url}: not ready after {timeout}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_fake_upstream(port: int) -> None:
    """Child mode: serve the fake upstream forever on ``port``."""
    sys.path.insert(0, str(ROOT / "tests" / "gateway"))
    from gw_fake_upstream import FakeUpstream

    up = FakeUpstream(answer_text=TEXT_1KB, piece_chars=16, record=False)

    async def serve() -> None:
        server = await asyncio.start_server(up._handle, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    ttft: list[float] = field(default_factory=list)
    errors: int = 0
    wall: float = 0.0

    def pct(self, p: float, which: str = "latencies") -> float:
        xs = sorted(getattr(self, which))
        if not xs:
            return float("nan")
        return float(xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]) * 1000


def _has_content(line: str) -> bool:
    choices = json.loads(line[6:]).get("choices") or [{}]
    return bool((choices[0].get("delta") or {}).get("content"))


async def one(client: httpx.AsyncClient, url: str, headers: dict[str, str], stream: bool, res: Result) -> None:
    body = {"model": "fake-model", "messages": [{"role": "user", "content": PROMPT_1KB}], "stream": stream}
    t0 = time.perf_counter()
    try:
        if not stream:
            r = await client.post(url, json=body, headers=headers)
            ok = r.status_code == 200 and "choices" in r.json()
        else:
            ok, first = False, None
            async with client.stream("POST", url, json=body, headers=headers) as r:
                async for line in r.aiter_lines():
                    if first is None and line.startswith("data: {") and _has_content(line):
                        first = time.perf_counter() - t0
                    if line == "data: [DONE]":
                        ok = r.status_code == 200
                        break
            if first is not None:
                res.ttft.append(first)
    except httpx.HTTPError:
        ok = False
    if ok:
        res.latencies.append(time.perf_counter() - t0)
    else:
        res.errors += 1


async def load(name: str, url: str, headers: dict[str, str], stream: bool, concurrency: int, total: int,
               warmup: int) -> Result:
    res = Result(name)
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        warm = Result("warm")
        for _ in range(warmup):
            await one(client, url, headers, stream, warm)
        left = total

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                await one(client, url, headers, stream, res)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        res.wall = time.perf_counter() - t0
    return res


# One key sends the whole bench: the per-key rate limit stays on (every request pays its check) but
# high enough never to refuse; /metrics is read without a key (loopback).
BENCH_ENV = {"HEGUI_GATEWAY__RATE_LIMIT__REQUESTS_PER_MINUTE": "1000000000",
             "HEGUI_GATEWAY__RATE_LIMIT__BURST": "1000000000", "HEGUI_GATEWAY__METRICS_PUBLIC": "true"}


def start_hegui(workdir: Path, upstream_url: str,
                extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEGUI_")}
    env.update(BENCH_ENV)
    env.update(extra_env or {})
    port = free_port()
    created = subprocess.run([sys.executable, "-m", "hegui", "users", "create", "--name", "bench", "--verified",
                              "--reason", "benchmark service account", "--json"],
                             cwd=workdir, env=env, capture_output=True, text=True, check=True)
    key = json.loads(created.stdout)["api_key"]
    log = os.environ.get("BENCH_HEGUI_LOG")  # keep the server's log (errors under load) in this file
    err = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen([sys.executable, "-m", "hegui", "serve", "--port", str(port), "--upstream", upstream_url],
                            cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=err)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base + "/readyz", proc)
    return proc, base, key


def start_litellm(workdir: Path, upstream_url: str) -> tuple[subprocess.Popen[bytes], str, str]:
    port = free_port()
    cfg = workdir / "litellm.yaml"
    cfg.write_text(
        "model_list:\n"
        "  - model_name: fake-model\n"
        "    litellm_params:\n"
        "      model: openai/fake-model\n"
        f"      api_base: {upstream_url}\n"
        "      api_key: sk-fake-upstream\n"
        "general_settings:\n"
        "  master_key: sk-bench-master\n"
        "litellm_settings:\n"
        "  drop_params: true\n"
        "  telemetry: false\n", encoding="utf-8")
    env = dict(os.environ, LITELLM_LOG="ERROR", LITELLM_TELEMETRY="False", DISABLE_SCHEMA_UPDATE="true")
    proc = subprocess.Popen([str(LITELLM), "--config", str(cfg), "--port", str(port), "--host", "127.0.0.1",
                             "--num_workers", "1"], cwd=workdir, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base + "/health/liveliness", proc, timeout=300)
    return proc, base, "sk-bench-master"


def audit_breakdown(workdir: Path, base: str, windows: dict[str, tuple[str, str]]) -> dict[str, dict[str, float]]:
    """Server-side split of each exchange (from its audit record): moderation engine vs the rest."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEGUI_")}
    out = subprocess.run([sys.executable, "-m", "hegui", "audit", "export"], cwd=workdir, env=env,
                         capture_output=True, text=True, check=True).stdout
    rows = [json.loads(x) for x in out.splitlines()]
    split: dict[str, dict[str, float]] = {}
    for kind, (t0, t1) in windows.items():
        rs = [r for r in rows if r["status_code"] == 200 and t0 <= r["ts"] <= t1]
        if not rs:
            continue

        def p50(xs: list[float]) -> float:
            return sorted(xs)[len(xs) // 2] / 1000

        mod = [float(r["moderation_us"]) for r in rs]
        rest = [float(r["total_us"] - r["upstream_us"] - r["moderation_us"]) for r in rs]
        split[kind] = {"moderation_p50_ms": p50(mod), "plumbing_p50_ms": p50(rest), "n": len(rs)}
    text = httpx.get(base + "/metrics").text
    s = c = 0.0
    for line in text.splitlines():
        if line.startswith("hegui_audit_write_seconds_sum"):
            s = float(line.rsplit(" ", 1)[1])
        if line.startswith("hegui_audit_write_seconds_count"):
            c = float(line.rsplit(" ", 1)[1])
    split["audit_wait"] = {"mean_ms": s / c * 1000 if c else float("nan")}
    return split


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small run (seconds)")
    ap.add_argument("--json", type=Path, help="write raw figures here")
    ap.add_argument("--no-litellm", action="store_true", help="skip the LiteLLM comparison")
    ap.add_argument("--fake-upstream", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.fake_upstream:
        run_fake_upstream(args.fake_upstream)
        return
    n1, n64 = (40, 256) if args.quick else (200, 640)
    up_port = free_port()
    up_proc = subprocess.Popen([sys.executable, __file__, "--fake-upstream", str(up_port)])
    up_url = f"http://127.0.0.1:{up_port}/v1"
    procs = [up_proc]
    results: dict[str, dict[str, Any]] = {}
    windows: dict[str, tuple[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="hegui-bench-") as tmp:
        work = Path(tmp)
        try:
            wait_ready(up_url + "/models", up_proc)
            targets: list[tuple[str, str, dict[str, str]]] = [("direct", up_url + "/chat/completions", {})]
            hproc, hbase, hkey = start_hegui(work, up_url)
            procs.append(hproc)
            targets.append(("hegui", hbase + "/v1/chat/completions", {"authorization": f"Bearer {hkey}"}))
            probe = httpx.post(targets[-1][1], headers=targets[-1][2], timeout=30,
                               json={"model": "fake-model", "messages": [{"role": "user", "content": PROMPT_1KB}]})
            decision = probe.headers.get("x-hegui-decision")
            if probe.status_code != 200:
                raise SystemExit(f"hegui refused the benchmark request: HTTP {probe.status_code} {probe.text[:300]}")
            litellm_note = ""
            if args.no_litellm:
                litellm_note = "litellm skipped (--no-litellm)"
            elif not LITELLM.exists():
                litellm_note = "litellm not installed (python3 -m venv /work/bench-venv && " \
                               "/work/bench-venv/bin/pip install 'litellm[proxy]')"
            else:
                try:
                    lproc, lbase, lkey = start_litellm(work, up_url)
                    procs.append(lproc)
                    targets.append(("litellm", lbase + "/v1/chat/completions", {"authorization": f"Bearer {lkey}"}))
                except RuntimeError as err:
                    litellm_note = f"litellm proxy did not start: {err}"
            for stream in (False, True):
                for conc, total in ((1, n1), (64, n64)):
                    for name, url, headers in targets:
                        t_start = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                        r = asyncio.run(load(name, url, headers, stream, conc, total, warmup=min(20, total)))
                        if name == "hegui":
                            windows[f"{'stream' if stream else 'json'}|{conc}"] = (
                                t_start, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
                        results[f"{name}|{'stream' if stream else 'json'}|{conc}"] = {
                            "p50_ms": r.pct(50), "p99_ms": r.pct(99), "ttft_p50_ms": r.pct(50, "ttft"),
                            "rps": len(r.latencies) / r.wall if r.wall else 0.0, "errors": r.errors,
                            "n": len(r.latencies)}
            split = audit_breakdown(work, hbase, windows)
        finally:
            for p in reversed(procs):
                stop(p)

    print(f"## Gateway overhead (1 KB prompt, 1 KB answer; machine: {os.cpu_count()} cores)\n")
    print(f"hegui decision on the bench prompt: `{decision}` (moderation on: lexicon, PII, jailbreak, classifier "
          "when installed; stream moderator on streams; audit record committed before each answer completes)\n")
    print("| mode | clients | proxy | p50 ms | p99 ms | overhead p50 ms | overhead p99 ms | TTFT p50 ms | req/s "
          "| errors |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for mode in ("json", "stream"):
        for conc in (1, 64):
            base = results[f"direct|{mode}|{conc}"]
            for name in ("direct", "hegui", "litellm"):
                row = results.get(f"{name}|{mode}|{conc}")
                if row is None:
                    continue
                oh50 = "—" if name == "direct" else f"{row['p50_ms'] - base['p50_ms']:.2f}"
                oh99 = "—" if name == "direct" else f"{row['p99_ms'] - base['p99_ms']:.2f}"
                ttft = f"{row['ttft_p50_ms']:.2f}" if mode == "stream" else "—"
                print(f"| {mode} | {conc} | {name} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {oh50} | {oh99} | "
                      f"{ttft} | {row['rps']:.0f} | {row['errors']} |")
    print("\nWhere hegui's time goes (server side, from the audit records; p50 per exchange):\n")
    print("| mode | clients | moderation engine ms | rest of hegui ms (auth, parsing, relay, label, queueing) "
          "| exchanges |")
    print("|---|---|---|---|---|")
    for kind, x in split.items():
        if kind != "audit_wait":
            mode, conc = kind.split("|")
            print(f"| {mode} | {conc} | {x['moderation_p50_ms']:.2f} | {x['plumbing_p50_ms']:.2f} | {int(x['n'])} |")
    print(f"\nwaiting for the audit commit (group commit, SQLite WAL, synchronous=FULL): "
          f"mean {split['audit_wait']['mean_ms']:.2f} ms per exchange")
    if litellm_note:
        print(f"\n{litellm_note}")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "decision": decision, "litellm": litellm_note,
                                         "server_split": split},
                                        indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
