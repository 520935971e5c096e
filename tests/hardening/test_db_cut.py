"""Cutting the database connections mid-load (``pg_terminate_backend``): fail closed, lose nothing.

Clients keep sending chats, complaints and PI-rights requests while another thread terminates every
backend of the gateway's PostgreSQL database, round after round (bounded). Whatever the moment of
each cut: every answer is a 2xx or a documented error (503 ``database_unavailable`` or a 5xx in the
OpenAI error shape, never a traceback), every 2xx has its row, and the audit chain verifies.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from crashkit import LONG, check_durable, drive
from gw_fake_upstream import FakeUpstream
from gwkit import make_settings, running_gateway, upstream_config
from sqlalchemy import create_engine, text

from hegui.identity.service import IdentityService

pytestmark = pytest.mark.postgres


def _cutter(pg_url: str, stop: threading.Event, rounds: int, counts: list[int]) -> None:
    """Terminate every backend of the test database ``rounds`` times (or until ``stop``)."""
    base, name = pg_url.rsplit("/", 1)
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for _ in range(rounds):
                if stop.wait(0.05):
                    return
                n = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                      "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": name}).scalar()
                counts.append(int(n or 0))
    finally:
        admin.dispose()


def test_terminated_backends_fail_closed_and_lose_no_acknowledged_record(tmp_path: Path, pg_url: str) -> None:
    with FakeUpstream(record=False) as up, running_gateway(make_settings(
            tmp_path, db_url=pg_url, upstreams=[upstream_config(up, models=["*"])])) as gw:
        IdentityService(gw.ctx).attest(gw.user_id, "hardening-test", "db cut test")
        stop, counts = threading.Event(), []  # type: ignore[var-annotated]
        cutter = threading.Thread(target=_cutter, args=(pg_url, stop, 200 if LONG else 40, counts), daemon=True)
        cutter.start()
        try:
            out = asyncio.run(drive(gw.url, gw.user_key, clients=8, kill_after=0, server=None,
                                    max_requests=2000 if LONG else 240, max_seconds=120))
        finally:
            stop.set()
            cutter.join(30)
        assert sum(counts) > 0, "no backend was ever terminated: the test did not test anything"
        assert out.transport_errors == 0
        assert set(out.other_status) <= {502, 503}, out.other_status
        assert out.acknowledged > 0
        report = check_durable(gw.ctx, out)
        assert report["missing"] == {"chat": [], "complaints": [], "pi_requests": []}, report
        assert report["verify_ok"], report["problems"]
        print(f"db cut: {sum(counts)} backends terminated, {out.acknowledged} acknowledged, "
              f"{len(out.other_status)} refused ({sorted(set(out.other_status))})")
