"""Retention per data kind, from the pack's ``retention`` section, and the purge job.

* ``audit_content`` — conversations live only inside audit records; their sealed content is
  deleted after ``max(audit_content_days, conversation_days)`` by ``hegui.audit.purge_content``
  (the metadata chain stays verifiable: only ``content_hash`` is chained).
* ``closed_cases`` — free text and contacts of complaints and PI requests closed more than
  ``closed_case_days`` ago.
Audit *metadata* is never deleted by hegui (deleting it would break the chain); rotate to a new
database after ``audit_metadata_days`` if needed. Each run is logged in ``privacy_purge_runs``.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from hegui.audit import log as audit_log
from hegui.cases.common import Clock, iso, rowcount, utc_now
from hegui.store.models.cases import CaseNote, Complaint, PiRequest
from hegui.store.models.privacy import PurgeRun

if TYPE_CHECKING:
    from hegui.context import HeguiContext

log = logging.getLogger("hegui.privacy")


def retention_days(ctx: HeguiContext) -> dict[str, int]:
    r = ctx.pack.retention
    return {"audit_content": max(r.audit_content_days, r.conversation_days), "closed_cases": r.closed_case_days}


def purge(ctx: HeguiContext, clock: Clock = utc_now) -> list[dict[str, Any]]:
    """Run every retention rule once; returns what was removed per kind."""
    now = clock()
    days = retention_days(ctx)
    n_audit = audit_log.purge_content(ctx.db, days["audit_content"], now=now)
    n_cases = _purge_closed_cases(ctx, now - timedelta(days=days["closed_cases"]), now)
    out = [{"kind": "audit_content", "older_than_days": days["audit_content"], "removed": n_audit},
           {"kind": "closed_cases", "older_than_days": days["closed_cases"], "removed": n_cases}]
    with ctx.db.session() as s:
        for o in out:
            s.add(PurgeRun(ts=now, kind=o["kind"], older_than_days=o["older_than_days"], removed=o["removed"]))
    return out


def _purge_closed_cases(ctx: HeguiContext, cutoff: datetime, now: datetime) -> int:
    with ctx.db.session() as s:
        cids = list(s.scalars(select(Complaint.id).where(Complaint.closed_at < cutoff,
                                                         Complaint.text_purged_at.is_(None))))
        n = 0
        if cids:
            n += rowcount(s.execute(update(Complaint).where(Complaint.id.in_(cids))
                           .values(description=None, contact=None, text_purged_at=now)))
            s.execute(update(CaseNote).where(CaseNote.case_id.in_(cids)).values(text=None))
        n += rowcount(s.execute(update(PiRequest).where(PiRequest.completed_at < cutoff, PiRequest.detail.is_not(None))
                       .values(detail=None)))
    return int(n)


def last_runs(ctx: HeguiContext) -> list[dict[str, Any]]:
    with ctx.db.session() as s:
        rows = s.scalars(select(PurgeRun).order_by(PurgeRun.id.desc()).limit(10)).all()
        return [{"ts": iso(r.ts), "kind": r.kind, "older_than_days": r.older_than_days, "removed": r.removed}
                for r in rows]


def start_purge_thread(ctx: HeguiContext, stop: threading.Event | None = None) -> threading.Thread | None:
    """``hegui serve``'s scheduled purge: a daemon thread, once at start-up then every
    ``privacy.purge_interval_hours`` (0 = off). A failed run is logged and retried next time."""
    hours = ctx.settings.privacy.purge_interval_hours
    if hours <= 0:
        return None
    halt = stop or threading.Event()

    def run() -> None:
        while not halt.is_set():
            try:
                res = purge(ctx)
                log.info("retention purge: %s", ", ".join(f"{r['kind']}={r['removed']}" for r in res))
            except Exception as err:  # the gateway keeps serving; the next run tries again
                log.error("retention purge failed: %s", type(err).__name__)
            halt.wait(hours * 3600)

    t = threading.Thread(target=run, name="hegui-retention-purge", daemon=True)
    t.start()
    return t
