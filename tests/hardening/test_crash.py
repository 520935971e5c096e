"""Crash durability: ``kill -9`` of a loaded ``hegui serve`` loses nothing it acknowledged.

Each test runs a real ``hegui serve`` subprocess against the fake upstream, drives it with
concurrent clients (chat plain and streamed, complaints, PI-rights requests), SIGKILLs it once
enough requests were acknowledged, and then checks in the database: every 2xx has its row, the
audit chain verifies, every sealed record opens. Pass/fail never depends on timing: whatever the
moment of the kill, the invariant must hold.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from crashkit import LONG, check_durable, clean_env, drive, prepare, start_serve
from gw_fake_upstream import FakeUpstream

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(record=False, piece_chars=8) as up:
        yield up


def _kill_and_check(work: Path, db_url: str, upstream: FakeUpstream, restart: bool) -> None:
    ctx, key = prepare(work, db_url)
    server = start_serve(work, db_url, upstream.url)
    try:
        out = asyncio.run(drive(server.base, key, clients=12, kill_after=40, server=server))
    finally:
        server.stop()
    assert server.proc.returncode == -9, "the server was not killed mid-load"
    assert out.chats and out.complaints and out.pi_requests, out
    report = check_durable(ctx, out)
    assert report["missing"] == {"chat": [], "complaints": [], "pi_requests": []}, report
    assert report["verify_ok"], report["problems"]
    assert report["records"] >= len(out.chats)
    print(f"kill -9: {out.acknowledged} acknowledged ({len(out.chats)} chats, {len(out.complaints)} complaints, "
          f"{len(out.pi_requests)} PI requests), {report['records']} audit records, chain ok")
    if restart:  # the chain continues after the crash, and the operator's CLI agrees
        server = start_serve(work, db_url, upstream.url)
        try:
            again = asyncio.run(drive(server.base, key, clients=4, kill_after=0, server=None, max_requests=16))
        finally:
            server.stop()
        assert len(again.chats) >= 4 and not again.transport_errors, again
        after = check_durable(ctx, again)
        assert after["verify_ok"] and after["records"] > report["records"], after
    if restart and LONG:  # the operator's CLI agrees (a second process start: long version only)
        cli = subprocess.run([sys.executable, "-m", "hegui", "audit", "verify"], cwd=work, env=clean_env(work, db_url),
                             capture_output=True, text=True, timeout=300)
        assert cli.returncode == 0, cli.stdout + cli.stderr
    ctx.close()


def test_kill9_mid_load_loses_no_acknowledged_record_sqlite(tmp_path: Path, upstream: FakeUpstream) -> None:
    _kill_and_check(tmp_path, f"sqlite:///{tmp_path / 'hegui.db'}", upstream, restart=True)


@pytest.mark.postgres
def test_kill9_mid_load_loses_no_acknowledged_record_postgres(tmp_path: Path, pg_url: str,
                                                               upstream: FakeUpstream) -> None:
    _kill_and_check(tmp_path, pg_url, upstream, restart=LONG)

