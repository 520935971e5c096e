"""Gateway overhead: direct-to-upstream vs through hegui vs through LiteLLM's proxy.

Everything runs over real loopback HTTP, each server in its own process so that the load
generator does not share a GIL with them:

* a fake OpenAI-compatible upstream (tests/gateway/gw_fake_upstream.py) that answers at once
  with a ~1 KB answer (streamed in 16-character pieces);
* ``hegui serve --upstream`` (one worker, SQLite, full pipeline: key check, input moderation of
  the ~1 KB prompt, output moderation (stream moderator for streams), label, audit record
  committed before the answer completes);
* LiteLLM's proxy from /work/bench-venv (``litellm[proxy]``, no guardrails), if installed;
* the floor: a bare FastAPI pass-through (same uvicorn, same pooled httpx client as hegui's
  upstream pool) that does no work at all — what any Python proxy of this build pays.

Latency is measured by the client per request (stream: to ``[DONE]``; TTFT to the first content
piece). Overhead = percentile(via proxy) − percentile(direct), at 1 and 64 concurrent clients.
Targets run interleaved in rounds (direct, floor, hegui, litellm, direct, …) so that load from
other jobs on the machine hits all of them alike; the load average is printed with the table.

    .venv/bin/python bench/gateway.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from fastapi import Request  # at module level: FastAPI resolves the floor route's annotation here

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

    with contextlib.suppress(KeyboardInterrupt):  # the parent stops it with SIGINT: no traceback on stderr
        asyncio.run(serve())


def run_floor(port: int, upstream_url: str) -> None:
    """Child mode: the bare pass-through (no key, no parsing, no moderation, no audit)."""
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import Response, StreamingResponse

    from hegui.config import UpstreamConfig
    from hegui.gateway.upstream import UpstreamPool

    client = UpstreamPool._client(UpstreamConfig(name="floor", base_url=upstream_url, models=["*"]))
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        req = client.build_request("POST", "/chat/completions", content=await request.body(),
                                   headers={"content-type": "application/json"})
        resp = await client.send(req, stream=True)
        if resp.headers.get("content-type", "").startswith("text/event-stream"):
            async def relay() -> Any:
                try:
                    async for data in resp.aiter_raw():
                        yield data
                finally:
                    await resp.aclose()

            return StreamingResponse(relay(), media_type="text/event-stream")
        body = await resp.aread()
        await resp.aclose()
        return Response(body, media_type="application/json")

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def start_floor(upstream_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--floor", str(port), upstream_url])
    base = f"http://127.0.0.1:{port}"
    wait_ready(base + "/docs", proc)
    return proc, base


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live descendants (Linux /proc), in seconds.

    What a proxy spends per request, independent of how busy the rest of the machine is."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError, IndexError):
            continue
    return total


def main_thread_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process's main thread alone (the event loop of a uvicorn server)."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{pid}/task/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick
    except (OSError, ValueError, IndexError):
        return float("nan")


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    ttft: list[float] = field(default_factory=list)
    errors: int = 0
    wall: float = 0.0
    cpu: float = 0.0  # the proxy's CPU seconds over ``sent`` requests (warm-up included)
    cpu_main: float = 0.0  # of which its main thread (the event loop); the rest is other threads and children
    sent: int = 0

    def merge(self, other: Result) -> None:
        self.latencies += other.latencies
        self.ttft += other.ttft
        self.errors += other.errors
        self.wall += other.wall
        self.cpu += other.cpu
        self.cpu_main += other.cpu_main
        self.sent += other.sent

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


def audit_breakdown(workdir: Path, base: str, windows: dict[str, list[tuple[str, str]]]
                    ) -> dict[str, dict[str, float]]:
    """Server-side split of each exchange (from its audit record): moderation engine vs the rest."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEGUI_")}
    done = subprocess.run([sys.executable, "-m", "hegui", "audit", "export"], cwd=workdir, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:  # keep the latency figures: report why the split is missing
        print(f"(server-side split unavailable: `hegui audit export` exited {done.returncode}: "
              f"{done.stderr.strip()[-500:]})", file=sys.stderr)
        return {"audit_wait": {"mean_ms": float("nan")}}
    out = done.stdout
    rows = [json.loads(x) for x in out.splitlines()]
    split: dict[str, dict[str, float]] = {}
    for kind, spans in windows.items():
        rs = [r for r in rows if r["status_code"] == 200 and any(t0 <= r["ts"] <= t1 for t0, t1 in spans)]
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


def component_floors(workdir: Path, n: int = 200) -> list[tuple[str, float, float]]:
    """(component, CPU ms p50, wall ms p50) of the work hegui adds, one piece at a time, in this process:
    the floor each piece sets on hegui's overhead on this machine today."""
    import uuid

    from hegui.audit.log import Exchange, append, seal_content
    from hegui.config import Settings
    from hegui.context import HeguiContext
    from hegui.install import ensure_database
    from hegui.moderation import ModerationEngine, StreamModerator
    from hegui.privacy.crypto import generate_key

    ctx = HeguiContext(Settings(data_dir=workdir / "floors" / ".hegui", secret_key=generate_key(),
                                database_url=f"sqlite:///{workdir / 'floors.db'}"))
    ensure_database(ctx)
    engine = ModerationEngine.from_context(ctx)
    conversation = [{"role": "user", "content": PROMPT_1KB}]
    pieces = [TEXT_1KB[:16], TEXT_1KB[16:]]  # as the answer reaches hegui: a first piece, then the rest

    def streamed(parts: list[str] = pieces) -> None:
        sm = StreamModerator(engine)
        for p in parts:
            sm.feed(p)
        sm.finish()

    # a model that sends one 16-character piece at a time, each fed alone (the gateway feeds what has arrived)
    one_by_one = [TEXT_1KB[i:i + 16] for i in range(0, len(TEXT_1KB), 16)]

    def record() -> Exchange:
        return Exchange(record_id=str(uuid.uuid4()), ts=datetime.now(UTC), endpoint="chat.completions",
                        status_code=200, decision="allow", user_id="u_bench", key_id="k_bench",
                        client_ip="127.0.0.1", client_port=40000, model="fake-model", upstream="default",
                        content={"request": conversation, "answer": TEXT_1KB})

    one = record()
    steps: list[tuple[str, Any]] = [
        ("input moderation (conversation, 1 KB)", lambda: engine.moderate_conversation(conversation)),
        ("output moderation (1 KB, non-stream)", lambda: engine.moderate(TEXT_1KB, "output")),
        ("stream moderator (1 KB in 2 pieces + finish)", streamed),
        ("stream moderator (1 KB in 16-char pieces, each fed alone, + finish)", lambda: streamed(one_by_one)),
        ("audit record sealed (JSON + AES-GCM)", lambda: seal_content(ctx.keys, one.record_id, one.content)),
        ("audit record committed alone (SQLite, synchronous=FULL)", lambda: append(ctx.db, ctx.keys, [record()])),
    ]
    out = []
    for name, fn in steps:
        for _ in range(20):
            fn()
        cpu, wall = [], []
        for _ in range(n):
            c, w = time.thread_time(), time.perf_counter()
            fn()
            cpu.append(time.thread_time() - c)
            wall.append(time.perf_counter() - w)
        out.append((name, sorted(cpu)[n // 2] * 1000, sorted(wall)[n // 2] * 1000))
    ctx.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small run (seconds)")
    ap.add_argument("--json", type=Path, help="write raw figures here")
    ap.add_argument("--no-litellm", action="store_true", help="skip the LiteLLM comparison")
    ap.add_argument("--steady", type=int, default=400,
                    help="requests each proxy serves before measuring (default 400: past SQLite's first WAL "
                         "checkpoint, so commits are measured as in a running service, not a fresh database)")
    ap.add_argument("--rounds", type=int, default=4, help="interleaved rounds per mode and load (default 4)")
    ap.add_argument("--kernels", choices=["on", "off"], default="off",
                    help="hegui's gateway.compiled_kernels (default off, as shipped; on: the kernels load in the "
                         "background at start, before the steady-state warm-up ends)")
    ap.add_argument("--fake-upstream", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--floor", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.fake_upstream:
        run_fake_upstream(args.fake_upstream)
        return
    if args.floor:
        run_floor(int(args.floor[0]), args.floor[1])
        return
    n1, n64 = (40, 256) if args.quick else (200, 640)
    rounds = max(1, args.rounds)
    load_before = os.getloadavg()
    up_port = free_port()
    up_proc = subprocess.Popen([sys.executable, __file__, "--fake-upstream", str(up_port)])
    up_url = f"http://127.0.0.1:{up_port}/v1"
    procs = [up_proc]
    results: dict[str, dict[str, Any]] = {}
    windows: dict[str, list[tuple[str, str]]] = {}
    pids = {"direct": up_proc.pid}
    with tempfile.TemporaryDirectory(prefix="hegui-bench-") as tmp:
        work = Path(tmp)
        try:
            wait_ready(up_url + "/models", up_proc)
            targets: list[tuple[str, str, dict[str, str]]] = [("direct", up_url + "/chat/completions", {})]
            fproc, fbase = start_floor(up_url)
            procs.append(fproc)
            pids["floor"] = fproc.pid
            targets.append(("floor", fbase + "/v1/chat/completions", {}))
            hproc, hbase, hkey = start_hegui(work, up_url, {"HEGUI_GATEWAY__COMPILED_KERNELS":
                                                            "true" if args.kernels == "on" else "false"})
            procs.append(hproc)
            pids["hegui"] = hproc.pid
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
                    pids["litellm"] = lproc.pid
                    targets.append(("litellm", lbase + "/v1/chat/completions", {"authorization": f"Bearer {lkey}"}))
                except RuntimeError as err:
                    litellm_note = f"litellm proxy did not start: {err}"
            for name, url, headers in targets[1:]:  # steady state first (see --steady)
                asyncio.run(load(name, url, headers, False, 8, args.steady, warmup=0))
            for stream in (False, True):
                for conc, total in ((1, n1), (64, n64)):
                    kind = f"{'stream' if stream else 'json'}|{conc}"
                    acc = {name: Result(name) for name, _, _ in targets}
                    for rnd in range(rounds):
                        for name, url, headers in targets:
                            t_start = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                            warm = min(20, total) if rnd == 0 else 4
                            cpu0, main0 = cpu_seconds(pids[name]), main_thread_cpu_seconds(pids[name])
                            r = asyncio.run(load(name, url, headers, stream, conc, total // rounds, warmup=warm))
                            r.cpu, r.sent = cpu_seconds(pids[name]) - cpu0, warm + total // rounds
                            r.cpu_main = main_thread_cpu_seconds(pids[name]) - main0
                            acc[name].merge(r)
                            if name == "hegui":
                                windows.setdefault(kind, []).append(
                                    (t_start, datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")))
                    for name, r in acc.items():
                        results[f"{name}|{kind}"] = {
                            "p50_ms": r.pct(50), "p99_ms": r.pct(99), "ttft_p50_ms": r.pct(50, "ttft"),
                            "rps": len(r.latencies) / r.wall if r.wall else 0.0, "errors": r.errors,
                            "n": len(r.latencies), "cpu_ms": r.cpu / r.sent * 1000 if r.sent else float("nan"),
                            "cpu_main_ms": r.cpu_main / r.sent * 1000 if r.sent else float("nan")}
            split = audit_breakdown(work, hbase, windows)
            floors = component_floors(work, 50 if args.quick else 200)
        finally:
            for p in reversed(procs):
                stop(p)

    load_after = os.getloadavg()
    print(f"## Gateway overhead (1 KB prompt, 1 KB answer; machine: {os.cpu_count()} cores)\n")
    print(f"load average (1/5/15 min) before {' '.join(f'{x:.2f}' for x in load_before)}, after "
          f"{' '.join(f'{x:.2f}' for x in load_after)}; {rounds} interleaved rounds\n")
    print(f"hegui decision on the bench prompt: `{decision}` (moderation on: lexicon, PII, jailbreak, classifier "
          "when installed; stream moderator on streams; audit record committed before each answer completes)\n")
    print("| mode | clients | proxy | p50 ms | p99 ms | overhead p50 ms | overhead p99 ms | TTFT p50 ms | req/s "
          "| CPU ms/req | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for mode in ("json", "stream"):
        for conc in (1, 64):
            base = results[f"direct|{mode}|{conc}"]
            for name in ("direct", "floor", "hegui", "litellm"):
                row = results.get(f"{name}|{mode}|{conc}")
                if row is None:
                    continue
                oh50 = "—" if name == "direct" else f"{row['p50_ms'] - base['p50_ms']:.2f}"
                oh99 = "—" if name == "direct" else f"{row['p99_ms'] - base['p99_ms']:.2f}"
                ttft = f"{row['ttft_p50_ms']:.2f}" if mode == "stream" else "—"
                print(f"| {mode} | {conc} | {name} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {oh50} | {oh99} | "
                      f"{ttft} | {row['rps']:.0f} | {row['cpu_ms']:.2f} | {row['errors']} |")
    print("\nCPU ms per request by thread (main thread = the event loop; other = background threads and child "
          "processes: for hegui the audit writer, the usage-counter writer and worker threads):\n")
    print("| mode | clients | proxy | main thread | other threads | total |")
    print("|---|---|---|---|---|---|")
    for mode in ("json", "stream"):
        for conc in (1, 64):
            for name in ("floor", "hegui", "litellm"):
                row = results.get(f"{name}|{mode}|{conc}")
                if row is not None:
                    print(f"| {mode} | {conc} | {name} | {row['cpu_main_ms']:.2f} | "
                          f"{row['cpu_ms'] - row['cpu_main_ms']:.2f} | {row['cpu_ms']:.2f} |")
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
    print("\nComponent floors (measured one at a time in the bench process, same run; CPU = thread time):\n")
    print("| component | CPU ms p50 | wall ms p50 |")
    print("|---|---|---|")
    for name, cpu, wall in floors:
        print(f"| {name} | {cpu:.2f} | {wall:.2f} |")
    if litellm_note:
        print(f"\n{litellm_note}")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "decision": decision, "litellm": litellm_note,
                                         "server_split": split, "component_floors": floors},
                                        indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
