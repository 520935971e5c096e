"""Assessment runner throughput: questions/s asked and stored, against a bare httpx loop.

A local OpenAI-compatible server (instant answers) stands in for the model, so the figures are
the runner's own overhead: hegui's ``collect`` (concurrency, retries, rate limiter, fsync'd
append of every answer) against the same requests sent by a bare ``httpx.AsyncClient`` loop with
the same concurrency that keeps nothing. Then judging: answers/s through the real judges
(moderation engine with the shipped lexicon and classifier, refusal detector).

    .venv/bin/python bench/assess.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from hegui.assess.banks import load_banks
from hegui.assess.runner import RunOptions, collect, load_or_create_plan
from hegui.policy.pack import load_pack

ANSWER = "长江是中国第一长河，全长约六千三百公里，流经十一个省级行政区。抱歉，其余内容我无法提供。"


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        data = json.dumps({"choices": [{"index": 0, "finish_reason": "stop",
                                        "message": {"role": "assistant", "content": ANSWER}}]},
                          ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default backlog of 5 resets connections under concurrency
    daemon_threads = True


async def bare(url: str, questions: list[str], concurrency: int) -> None:
    sem = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(timeout=30) as client:
        async def one(q: str) -> None:
            async with sem:
                r = await client.post(url + "/chat/completions",
                                      json={"model": "m", "messages": [{"role": "user", "content": q}]})
                r.json()["choices"][0]["message"]["content"]

        await asyncio.gather(*(one(q) for q in questions))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    n = 150 if args.quick else 1000
    srv = _Server(("127.0.0.1", 0), _Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_port}/v1"
    pack = load_pack("cn-genai")
    bs = load_banks()
    rows: list[dict[str, Any]] = []
    for conc in (1, 8, 32):
        with tempfile.TemporaryDirectory() as tmp:
            plan, _ = load_or_create_plan(Path(tmp), bs, pack, endpoint=url, model="m", via_gateway=False,
                                          sample=n, seed=0)
            plan.ids = plan.ids[:n]
            t0 = time.perf_counter()
            asyncio.run(collect(Path(tmp), plan, bs, RunOptions(endpoint=url, model="m", concurrency=conc)))
            hegui_s = time.perf_counter() - t0
        qs = [bs.by_id()[i].question for i in plan.ids]
        t0 = time.perf_counter()
        asyncio.run(bare(url, qs, conc))
        bare_s = time.perf_counter() - t0
        rows.append({"what": f"ask + store, concurrency {conc}", "n": n, "hegui_per_s": n / hegui_s,
                     "baseline_per_s": n / bare_s})
    srv.shutdown()

    from hegui.assess.judges import panel_for
    from hegui.moderation.engine import ModerationEngine

    engine = ModerationEngine.default(pack, models=True)
    panel = panel_for(engine, pack)
    answers = [q.question + ANSWER for q in bs.questions[:n]]
    panel.keyword.judge(answers[0])
    t0 = time.perf_counter()
    for a in answers:
        panel.keyword.judge(a)
        panel.classifier.judge(a)
        panel.refusal.judge(a)
    judge_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for a in answers:
        engine.moderate(a, direction="output")
    engine_s = time.perf_counter() - t0
    rows.append({"what": "judge (keyword + classifier + refusal)", "n": n, "hegui_per_s": n / judge_s,
                 "baseline_per_s": n / engine_s})

    print("| measure | n | hegui /s | baseline /s | baseline |")
    print("|---|---|---|---|---|")
    for r in rows:
        base = "bare httpx loop, nothing stored" if r["what"].startswith("ask") else "one engine.moderate() call"
        print(f"| {r['what']} | {r['n']} | {r['hegui_per_s']:.0f} | {r['baseline_per_s']:.0f} | {base} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
