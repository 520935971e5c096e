"""Ask a model every sampled bank question over the OpenAI chat API; store every answer as it comes.

The run folder holds the plan (``plan.json``: which questions, against what), the answers
(``answers.jsonl``, appended as they arrive, so an interrupted run resumes where it stopped:
a rerun skips ids already answered), and failed attempts (``errors.jsonl``; retried on rerun).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from hegui.assess.banks import BANKS, BankSet, Question
from hegui.errors import HeguiError, InvalidInputError
from hegui.policy.pack import PolicyPack

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})


def sample_sizes(bankset: BankSet, pack: PolicyPack, sample: int | None) -> dict[str, int]:
    """Per bank: ``sample`` if given, else the pack's minimum; never more than the bank holds."""
    a = pack.figures.assessment
    wanted = {"generated": a.sample_per_method_min, "should_refuse": a.refusal_sample_min,
              "should_not_refuse": a.refusal_sample_min}
    out: dict[str, int] = {}
    for bank in BANKS:
        n = sample if sample is not None else wanted[bank]
        out[bank] = min(n, len(bankset.by_bank(bank)))
    return out


def stratified_sample(questions: Sequence[Question], n: int, seed: int) -> list[Question]:
    """``n`` questions spread evenly over risks/aspects: shuffle each group, then deal round-robin."""
    groups: dict[str, list[Question]] = defaultdict(list)
    for q in questions:
        groups[q.risk or q.aspect or ""].append(q)
    rng = random.Random(seed)
    order = sorted(groups)
    for k in order:
        rng.shuffle(groups[k])
    out: list[Question] = []
    i = 0
    while len(out) < n:
        progressed = False
        for k in order:
            if i < len(groups[k]) and len(out) < n:
                out.append(groups[k][i])
                progressed = True
        if not progressed:
            break
        i += 1
    return out


@dataclass
class Plan:
    run_id: str
    created_at: str
    endpoint: str
    model: str
    via_gateway: bool
    bank_version: str
    seed: int
    sizes: dict[str, int]
    ids: list[str]

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def make_plan(bankset: BankSet, pack: PolicyPack, *, endpoint: str, model: str, via_gateway: bool,
              sample: int | None, seed: int) -> Plan:
    sizes = sample_sizes(bankset, pack, sample)
    ids: list[str] = []
    for bank in BANKS:
        ids.extend(q.id for q in stratified_sample(bankset.by_bank(bank), sizes[bank], seed))
    if not ids:
        raise InvalidInputError("the question banks are empty: nothing to assess")
    return Plan(str(uuid.uuid4()), datetime.now(UTC).isoformat(timespec="seconds"), endpoint, model, via_gateway,
                bankset.version, seed, sizes, ids)


def load_or_create_plan(out_dir: Path, bankset: BankSet, pack: PolicyPack, *, endpoint: str, model: str,
                        via_gateway: bool, sample: int | None, seed: int) -> tuple[Plan, bool]:
    """Reuse ``plan.json`` when resuming (same model and endpoint), else write a new one."""
    path = out_dir / "plan.json"
    if path.is_file():
        try:
            plan = Plan(**json.loads(path.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, TypeError) as err:
            raise InvalidInputError(f"{path}: not a hegui assessment plan ({err})") from None
        if plan.model != model or plan.endpoint != endpoint:
            raise InvalidInputError(
                f"{out_dir} holds a run against {plan.model} at {plan.endpoint}; use a new --out folder")
        if sample is not None and sample_sizes(bankset, pack, sample) != plan.sizes:
            raise InvalidInputError(f"{out_dir} was planned with samples {plan.sizes}; resume without --sample "
                                    "or use a new --out folder")
        missing = [i for i in plan.ids if i not in bankset.by_id()]
        if missing:
            raise InvalidInputError(f"{path}: {len(missing)} planned question(s) no longer in the banks, "
                                    f"e.g. {missing[0]!r}; use a new --out folder")
        return plan, False
    plan = make_plan(bankset, pack, endpoint=endpoint, model=model, via_gateway=via_gateway,
                     sample=sample, seed=seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(plan.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    return plan, True


def read_answers(out_dir: Path) -> dict[str, dict[str, Any]]:
    """Answers stored so far (the last one per id wins); a torn last line is dropped and repaired."""
    path = out_dir / "answers.jsonl"
    if not path.is_file():
        return {}
    raw = path.read_bytes()
    out: dict[str, dict[str, Any]] = {}
    good_until = 0
    pos = 0
    for line in raw.splitlines(keepends=True):
        pos += len(line)
        try:
            rec = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            if pos == len(raw):  # interrupted mid-write: drop the fragment
                with path.open("r+b") as fh:
                    fh.truncate(good_until)
                break
            raise InvalidInputError(f"{path}: corrupt line at byte {pos - len(line)}") from None
        if line.endswith(b"\n"):
            good_until = pos
        if isinstance(rec, dict) and isinstance(rec.get("id"), str):
            out[rec["id"]] = rec
    return out


def chat_url(endpoint: str) -> str:
    e = endpoint.rstrip("/")
    if not e.startswith(("http://", "https://")):
        raise InvalidInputError(f"--endpoint {endpoint!r} must start with http:// or https://")
    return e if e.endswith("/chat/completions") else e + "/chat/completions"


class RateLimiter:
    """At most ``rate`` request starts per second (``None`` = unlimited)."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            delay = self._next - now
            self._next = max(now, self._next) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


@dataclass
class RunOptions:
    endpoint: str
    model: str
    api_key: str | None = None
    via_gateway: bool = False
    concurrency: int = 4
    rate: float | None = None
    retries: int = 4
    backoff_seconds: float = 1.0
    timeout_seconds: float = 120.0
    max_tokens: int | None = 1024
    temperature: float | None = None


class AskError(Exception):
    pass


def _retry_after(resp: httpx.Response, default: float) -> float:
    value = resp.headers.get("retry-after")
    if value:
        try:
            return min(max(float(value), 0.0), 60.0)
        except ValueError:
            pass
    return default


async def ask_one(client: httpx.AsyncClient, url: str, opts: RunOptions, limiter: RateLimiter,
                  question: str) -> tuple[str, str | None, int]:
    """One question → (answer text, finish_reason, attempts). Retries 429/5xx and network errors."""
    body: dict[str, Any] = {"model": opts.model, "messages": [{"role": "user", "content": question}],
                            "stream": False}
    if opts.max_tokens:
        body["max_tokens"] = opts.max_tokens
    if opts.temperature is not None:
        body["temperature"] = opts.temperature
    last = ""
    for attempt in range(1, opts.retries + 2):
        await limiter.wait()
        delay = opts.backoff_seconds * (2 ** (attempt - 1)) * (0.5 + random.random() / 2)
        try:
            resp = await client.post(url, json=body)
        except httpx.HTTPError as err:
            last = f"{type(err).__name__}: {err}"
        else:
            if resp.status_code == 200:
                try:
                    data = resp.json()
                    choice = data["choices"][0]
                    content = choice["message"].get("content") or ""
                except (ValueError, KeyError, IndexError, TypeError, AttributeError) as err:
                    raise AskError(f"malformed chat completion: {type(err).__name__}") from None
                return str(content), choice.get("finish_reason"), attempt
            last = f"HTTP {resp.status_code}: {resp.text[:200]}"
            if resp.status_code not in RETRY_STATUS:
                raise AskError(last)
            delay = _retry_after(resp, delay)
        if attempt <= opts.retries:
            await asyncio.sleep(delay)
    raise AskError(f"gave up after {opts.retries + 1} attempts: {last}")


ProgressFn = Callable[[int, int], None]


class AnswerLog:
    """Append-only JSONL writer: each record is written and flushed as it comes (an interrupted
    process loses nothing already answered); fsync every ``sync_every`` records and at close."""

    def __init__(self, path: Path, sync_every: int = 25) -> None:
        self.fh = path.open("a", encoding="utf-8")
        self.sync_every = sync_every
        self.pending = 0

    def append(self, rec: dict[str, Any]) -> None:
        self.fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        self.fh.flush()
        self.pending += 1
        if self.pending >= self.sync_every:
            os.fsync(self.fh.fileno())
            self.pending = 0

    def close(self) -> None:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()


async def collect(out_dir: Path, plan: Plan, bankset: BankSet, opts: RunOptions,
                  progress: ProgressFn | None = None) -> tuple[int, int]:
    """Ask every planned question not answered yet. Returns (newly answered, failed)."""
    url = chat_url(opts.endpoint)
    done = read_answers(out_dir)
    todo = [bankset.by_id()[i] for i in plan.ids if i not in done]
    total = len(plan.ids)
    answered = len(plan.ids) - len(todo)
    if progress:
        progress(answered, total)
    headers = {"Authorization": f"Bearer {opts.api_key}"} if opts.api_key else {}
    limiter = RateLimiter(opts.rate)
    sem = asyncio.Semaphore(max(1, opts.concurrency))
    lock = asyncio.Lock()
    answers_log, errors_log = AnswerLog(out_dir / "answers.jsonl"), AnswerLog(out_dir / "errors.jsonl", 1)
    counts = {"new": 0, "failed": 0}
    timeout = httpx.Timeout(opts.timeout_seconds, connect=10.0)

    try:
        async with httpx.AsyncClient(headers=headers, timeout=timeout) as client:
            async def work(q: Question) -> None:
                nonlocal answered
                async with sem:
                    t0 = time.perf_counter()
                    try:
                        text, finish, attempts = await ask_one(client, url, opts, limiter, q.question)
                    except AskError as err:
                        async with lock:
                            errors_log.append({"id": q.id, "error": str(err),
                                               "at": datetime.now(UTC).isoformat(timespec="seconds")})
                            counts["failed"] += 1
                        return
                    rec = {"id": q.id, "bank": q.bank, "risk": q.risk, "aspect": q.aspect, "lang": q.lang,
                           "framing": q.framing, "question": q.question, "answer": text, "finish_reason": finish,
                           "attempts": attempts, "latency_ms": round((time.perf_counter() - t0) * 1000),
                           "at": datetime.now(UTC).isoformat(timespec="seconds")}
                    async with lock:
                        answers_log.append(rec)
                        counts["new"] += 1
                        answered += 1
                        if progress:
                            progress(answered, total)

            await asyncio.gather(*(work(q) for q in todo))
    finally:
        answers_log.close()
        errors_log.close()
    return counts["new"], counts["failed"]


def check_endpoint_reachable(endpoint: str) -> None:
    """Fail early with one clear line when nothing listens at the endpoint."""
    url = chat_url(endpoint)
    try:
        httpx.get(url.rsplit("/chat/completions", 1)[0] + "/models", timeout=5.0)
    except httpx.ConnectError as err:
        raise HeguiError(f"cannot reach {endpoint}: {err}") from None
    except httpx.HTTPError:
        return
