"""The audit writer: a bounded queue drained by one thread that appends records in batches.

Why a thread: database drivers here are blocking, and one writer per process batches many
concurrent exchanges into one transaction (one fsync) instead of one each. Guarantees:

* ``submit`` never drops a record: when the queue is full it waits (back-pressure on requests);
* ``write`` returns only after the record's transaction has committed (durable), or raises;
* a failing batch is retried a few times, then every waiting caller gets the error (fail closed);
* ``close`` drains everything already submitted before returning.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from concurrent.futures import Future

from hegui.audit.log import Exchange, append
from hegui.privacy.crypto import KeyRing
from hegui.store.db import Database

log = logging.getLogger("hegui.audit")

_STOP = object()
RETRY_DELAYS = (0.05, 0.2, 0.5)


class AuditWriterClosed(RuntimeError):
    """The writer no longer accepts records (the service is shutting down)."""


class AuditWriter:
    def __init__(self, db: Database, keys: KeyRing, max_queue: int = 10_000, max_batch: int = 256) -> None:
        self.db, self.keys, self.max_batch = db, keys, max_batch
        self._q: queue.Queue[object] = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        self._closed = False
        self.batches = 0
        self.records = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="hegui-audit-writer", daemon=True)
            self._thread.start()

    @property
    def queued(self) -> int:
        return self._q.qsize()

    # request side ---------------------------------------------------------------------------
    async def submit(self, ex: Exchange) -> Future[int]:
        """Queue one record; waits (without blocking the event loop) while the queue is full."""
        if self._closed:
            raise AuditWriterClosed("audit writer is closed")
        fut: Future[int] = Future()
        item = (ex, fut)
        try:
            self._q.put_nowait(item)
        except queue.Full:
            await asyncio.to_thread(self._q.put, item)
        return fut

    async def write(self, ex: Exchange) -> int:
        """Queue one record and wait until it is committed; returns its sequence number.

        Cancelling the caller does not cancel the write: the record is already queued and will be
        committed (shielded), only the wait is abandoned.
        """
        fut = await self.submit(ex)
        return await asyncio.shield(asyncio.wrap_future(fut))

    def write_sync(self, ex: Exchange) -> int:
        """Blocking variant for threads without an event loop."""
        if self._closed:
            raise AuditWriterClosed("audit writer is closed")
        fut: Future[int] = Future()
        self._q.put((ex, fut))
        return fut.result()

    async def close(self) -> None:
        """Stop accepting records, write everything queued, stop the thread."""
        if self._closed:
            return
        self._closed = True
        if self._thread is None:
            return
        await asyncio.to_thread(self._q.put, _STOP)
        await asyncio.to_thread(self._thread.join)

    # writer thread --------------------------------------------------------------------------
    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._q.get()
            if first is _STOP:
                break
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                batch.append(nxt)
            try:
                self._flush(batch)  # type: ignore[arg-type]
            except BaseException:  # the writer thread must outlive any one batch
                log.exception("audit writer: unexpected error in a batch")

    def _flush(self, batch: list[tuple[Exchange, Future[int]]]) -> None:
        exchanges = [ex for ex, _ in batch]
        err: BaseException | None = None
        for delay in (0.0, *RETRY_DELAYS):
            if delay:
                time.sleep(delay)
            try:
                seqs = self._append(exchanges)
            except Exception as e:  # retried, then reported to every waiting request
                err = e
                log.warning("audit batch of %d failed: %s", len(batch), type(e).__name__)
                continue
            self.batches += 1
            self.records += len(batch)
            for (_, fut), seq in zip(batch, seqs, strict=True):
                if not fut.done():  # a waiter may have given up; the record is committed anyway
                    fut.set_result(seq)
            return
        assert err is not None
        for _, fut in batch:
            if not fut.done():
                fut.set_exception(err)

    def _append(self, exchanges: list[Exchange]) -> list[int]:
        return append(self.db, self.keys, exchanges)
