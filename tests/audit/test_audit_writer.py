"""The audit writer: durable on return, back-pressure instead of drops, drain on close, linear chain
with several writer processes."""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import threading
import uuid
from datetime import UTC, datetime

import pytest

from hegui.audit import log as audit_log
from hegui.audit import writer as writer_mod
from hegui.audit.log import Exchange
from hegui.audit.writer import AuditWriter, AuditWriterClosed
from hegui.context import HeguiContext
from hegui.privacy.crypto import KeyRing, generate_key
from hegui.store.db import Database


def ex(n: int = 0) -> Exchange:
    return Exchange(record_id=str(uuid.uuid4()), ts=datetime.now(UTC), endpoint="chat.completions",
                    status_code=200, decision="allow", content={"n": n})


def count(ctx: HeguiContext) -> int:
    return audit_log.verify(ctx.db).records


def test_write_returns_only_after_commit(ctx: HeguiContext) -> None:
    async def go() -> None:
        w = AuditWriter(ctx.db, ctx.keys)
        w.start()
        seq = await w.write(ex())
        assert seq == 1 and count(ctx) == 1  # visible to another connection at once
        await w.close()

    asyncio.run(go())


def test_close_drains_everything_submitted(ctx: HeguiContext) -> None:
    async def go() -> None:
        w = AuditWriter(ctx.db, ctx.keys, max_batch=7)
        futs = [await w.submit(ex(i)) for i in range(50)]  # queued before the thread even runs
        w.start()
        await w.close()
        assert all(f.done() and f.exception() is None for f in futs)

    asyncio.run(go())
    res = audit_log.verify(ctx.db)
    assert res.ok and res.records == 50


class GatedWriter(AuditWriter):
    def __init__(self, *a: object, **kw: object) -> None:
        super().__init__(*a, **kw)  # type: ignore[arg-type]
        self.entered = threading.Event()
        self.gate = threading.Event()

    def _append(self, exchanges: list[Exchange]) -> list[int]:
        self.entered.set()
        self.gate.wait(30)
        return super()._append(exchanges)


def test_full_queue_makes_submitters_wait_and_loses_nothing(ctx: HeguiContext) -> None:
    async def go() -> None:
        w = GatedWriter(ctx.db, ctx.keys, max_queue=1)
        w.start()
        first = asyncio.ensure_future(w.write(ex(1)))
        await asyncio.to_thread(w.entered.wait, 30)  # the thread holds record 1
        second = asyncio.ensure_future(w.write(ex(2)))  # fills the queue
        third = asyncio.ensure_future(w.submit(ex(3)))  # must wait for room
        for _ in range(20):
            await asyncio.sleep(0)
        assert not third.done() and w.queued == 1
        w.gate.set()
        await asyncio.gather(first, second)
        await asyncio.wrap_future(await third)
        await w.close()

    asyncio.run(go())
    assert count(ctx) == 3


def test_failing_database_reaches_the_caller(ctx: HeguiContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer_mod, "RETRY_DELAYS", (0.0,))

    class Broken(AuditWriter):
        def _append(self, exchanges: list[Exchange]) -> list[int]:
            raise OSError("disk gone")

    async def go() -> None:
        w = Broken(ctx.db, ctx.keys)
        w.start()
        with pytest.raises(OSError, match="disk gone"):
            await w.write(ex())
        await w.close()
        with pytest.raises(AuditWriterClosed):
            await w.submit(ex())

    asyncio.run(go())


def _child(url: str, key: str, n: int, start: mp.synchronize.Event) -> None:  # type: ignore[name-defined]
    db = Database(url)
    keys = KeyRing(key)
    start.wait(30)
    for i in range(n):
        audit_log.append(db, keys, [ex(i)] * 1 if i % 2 else [ex(i), ex(i + 1000)])
    db.dispose()


def test_several_processes_keep_one_linear_chain(ctx: HeguiContext) -> None:
    """Writers in separate processes (as with `hegui serve --workers N`) never fork the chain."""
    spawn = mp.get_context("spawn")
    start = spawn.Event()
    key = generate_key()
    procs = [spawn.Process(target=_child, args=(ctx.db.url, key, 20, start)) for _ in range(3)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    res = audit_log.verify(ctx.db)
    assert res.ok, res.problems
    assert res.records == 3 * (10 * 2 + 10)
