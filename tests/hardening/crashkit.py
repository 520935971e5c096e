"""Crash-test kit: a real ``hegui serve`` subprocess, concurrent clients, and the post-mortem checks."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from hegui.audit.log import open_content, verify
from hegui.config import Settings
from hegui.context import HeguiContext
from hegui.identity import accounts
from hegui.identity.service import IdentityService
from hegui.install import ensure_database
from hegui.store.models.audit import AuditRecord
from hegui.store.models.cases import Complaint, PiRequest

READY_TIMEOUT = 240.0
# Long versions (more requests, more faults, more rounds): HEGUI_HARDENING_LONG=1, see docs/reliability.md.
LONG = os.environ.get("HEGUI_HARDENING_LONG") == "1"


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


def clean_env(work: Path, db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEGUI_")}
    env["HEGUI_DATA_DIR"] = str(work / ".hegui")
    env["HEGUI_DATABASE_URL"] = db_url
    env["HEGUI_GATEWAY__RATE_LIMIT__REQUESTS_PER_MINUTE"] = "1000000"  # many requests on one key: limit high
    env["HEGUI_GATEWAY__RATE_LIMIT__BURST"] = "100000"
    return env


def prepare(work: Path, db_url: str) -> tuple[HeguiContext, str]:
    """Migrate the database and create one attested user the way ``hegui users create --verified`` does."""
    ctx = HeguiContext(Settings(data_dir=work / ".hegui", database_url=db_url))
    ensure_database(ctx)
    issued = accounts.create_user(ctx.db, "crash-test service account")
    IdentityService(ctx).attest(issued.user_id, "hardening-test", "crash test service account")
    return ctx, issued.api_key


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    base: str
    log: Path

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_serve(work: Path, db_url: str, upstream_url: str) -> Server:
    """``hegui serve`` in its own process (loopback only); returns once /readyz answers."""
    port = free_port()
    log = work / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "hegui", "serve", "--host", "127.0.0.1", "--port", str(port),
                                 "--upstream", upstream_url], cwd=work, env=clean_env(work, db_url),
                                stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"hegui serve exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return Server(proc, base, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("hegui serve not ready in time")


@dataclass
class Outcome:
    """What the clients saw: every acknowledged (2xx) id per kind, and every other answer."""

    chats: list[str] = field(default_factory=list)
    complaints: list[str] = field(default_factory=list)
    pi_requests: list[str] = field(default_factory=list)
    other_status: list[int] = field(default_factory=list)
    transport_errors: int = 0

    @property
    def acknowledged(self) -> int:
        return len(self.chats) + len(self.complaints) + len(self.pi_requests)


async def _one(client: httpx.AsyncClient, base: str, key: str, i: int, out: Outcome) -> None:
    auth = {"authorization": f"Bearer {key}"}
    kind = i % 4
    try:
        if kind in (0, 1):  # chat, plain and streamed
            body = {"model": "fake-model", "messages": [{"role": "user", "content": f"第{i}个问题：今天天气如何？"}],
                    "stream": kind == 1}
            if kind == 0:
                r = await client.post(base + "/v1/chat/completions", json=body, headers=auth)
                if r.status_code == 200 and r.json().get("choices"):
                    out.chats.append(r.headers["x-hegui-request-id"])
                else:
                    out.other_status.append(r.status_code)
                return
            async with client.stream("POST", base + "/v1/chat/completions", json=body, headers=auth) as r:
                done, rid = False, r.headers.get("x-hegui-request-id")
                async for line in r.aiter_lines():
                    if line == "data: [DONE]":
                        done = True
                if r.status_code == 200 and done and rid:
                    out.chats.append(rid)
                elif r.status_code != 200:
                    out.other_status.append(r.status_code)
            return
        if kind == 2:
            r = await client.post(base + "/complaints", json={"category": "other", "description": f"投诉第{i}号"})
            if r.status_code == 201:
                out.complaints.append(r.json()["id"])
            else:
                out.other_status.append(r.status_code)
            return
        r = await client.post(base + "/v1/privacy/requests", json={"kind": "access"}, headers=auth)
        if r.status_code == 201:
            out.pi_requests.append(r.json()["id"])
        else:
            out.other_status.append(r.status_code)
    except (httpx.HTTPError, KeyError):
        out.transport_errors += 1


async def drive(base: str, key: str, clients: int, kill_after: int, server: Server | None,
                max_requests: int = 2000, max_seconds: float = 60.0) -> Outcome:
    """``clients`` concurrent loops; once ``kill_after`` requests were acknowledged, ``kill -9`` the server.

    Bounded: at most ``max_requests`` requests and ``max_seconds``; loops stop at the first transport
    error after the kill.
    """
    out = Outcome()
    counter = iter(range(max_requests))
    killed = asyncio.Event()
    deadline = time.monotonic() + max_seconds

    async def loop(client: httpx.AsyncClient) -> None:
        for i in counter:
            if time.monotonic() > deadline or (killed.is_set() and out.transport_errors):
                return
            await _one(client, base, key, i, out)
            if server is not None and not killed.is_set() and out.acknowledged >= kill_after:
                killed.set()
                server.kill9()

    limits = httpx.Limits(max_connections=clients + 2)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        await asyncio.gather(*(loop(client) for _ in range(clients)))
    return out


def check_durable(ctx: HeguiContext, out: Outcome) -> dict[str, Any]:
    """Every acknowledged id is in the database, the chain verifies, every record's content opens."""
    with ctx.db.session() as s:
        records = set(s.scalars(select(AuditRecord.record_id)))
        complaints = set(s.scalars(select(Complaint.id)))
        pis = set(s.scalars(select(PiRequest.id)))
        sealed = list(s.execute(select(AuditRecord.record_id, AuditRecord.content)))
    missing = {"chat": [c for c in out.chats if c not in records],
               "complaints": [c for c in out.complaints if c not in complaints],
               "pi_requests": [p for p in out.pi_requests if p not in pis]}
    for rid, content in sealed:  # no half-written record: every sealed content decrypts under its id
        open_content(ctx.keys, rid, content)
    result = verify(ctx.db)
    return {"missing": missing, "verify_ok": result.ok, "problems": result.problems, "records": result.records}
