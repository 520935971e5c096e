"""Usage counters: sessions from request activity and daily totals, in the database or in Redis.

"Time of use" for an API is reconstructed from activity: each request (its start, and its end,
so a long stream counts) is a *touch*. Two touches less than ``session_gap`` apart belong to one
session and the time between them is use; a longer gap ends the session and is not counted. The
seconds are added to the local calendar day(s) they fall on.

Both stores make the read-modify-write of one touch atomic: the database by upserting the row
first (``INSERT … ON CONFLICT``, so concurrent first touches of one user never collide) and then a
row lock (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises writers from that INSERT on),
daily totals with an additive upsert; Redis with WATCH/MULTI, so
several gateway workers can share the counters.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hegui.store.db import Database
from hegui.store.models.usage import UsageDaily, UsageSession


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A user's counters after a touch (or a peek)."""

    today_seconds: float
    session_start: datetime | None
    last_seen: datetime | None

    def continuous_seconds(self, now: datetime) -> float:
        if self.session_start is None:
            return 0.0
        return max(0.0, (now - self.session_start).total_seconds())


def split_by_day(start: datetime, end: datetime, tz: tzinfo) -> dict[str, float]:
    """Seconds of [start, end) per local calendar day (YYYY-MM-DD)."""
    out: dict[str, float] = {}
    cur = start.astimezone(tz)
    stop = end.astimezone(tz)
    while cur < stop:
        midnight = datetime.combine(cur.date() + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        piece_end = min(midnight, stop)
        out[cur.date().isoformat()] = out.get(cur.date().isoformat(), 0.0) + (piece_end - cur).total_seconds()
        cur = piece_end
    return out


def advance(session_start: datetime | None, last_seen: datetime | None, now: datetime,
            gap: timedelta) -> tuple[datetime, datetime, tuple[datetime, datetime] | None]:
    """New (session_start, last_seen) after a touch at ``now`` and the interval of use it adds, if any."""
    if session_start is None or last_seen is None or now - last_seen > gap:
        return now, now, None
    if now <= last_seen:  # an older touch arriving late (concurrent requests): nothing new
        return session_start, last_seen, None
    return session_start, now, (last_seen, now)


class UsageStore(Protocol):
    def touch(self, user_id: str, now: datetime, gap: timedelta, tz: tzinfo) -> Snapshot: ...

    def peek(self, user_id: str, now: datetime, tz: tzinfo) -> Snapshot: ...


def _aware(dt: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


class DbUsageStore:
    """Counters in the hegui database (default)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _insert(self, table: Any) -> Any:
        """The dialect's INSERT, which has ``on_conflict_do_nothing/update`` (SQLite and PostgreSQL)."""
        return pg_insert(table) if self.db.engine.dialect.name == "postgresql" else sqlite_insert(table)

    def touch(self, user_id: str, now: datetime, gap: timedelta, tz: tzinfo) -> Snapshot:
        with self.db.session() as s:
            return self._touch(s, user_id, now, gap, tz)

    def touch_many(self, touches: Sequence[tuple[str, datetime]], gap: timedelta, tz: tzinfo) -> None:
        """Several touches, in order, in ONE transaction (one commit, one fsync) — the background writer's path."""
        with self.db.session() as s:
            # stable sort: one user's touches keep their order; row locks are taken in one global
            # order, so two workers' batches cannot deadlock on PostgreSQL
            for user_id, now in sorted(touches, key=lambda x: x[0]):
                self._touch(s, user_id, now, gap, tz)

    def _touch(self, s: Session, user_id: str, now: datetime, gap: timedelta, tz: tzinfo) -> Snapshot:
        now = now.astimezone(UTC)  # SQLite keeps no offset: store UTC only
        today = now.astimezone(tz).date().isoformat()
        # Make sure the row exists first (an upsert that does nothing if it does), so concurrent
        # first requests of one user never collide on the primary key, and the row lock below
        # (PostgreSQL) / the write lock this INSERT takes (SQLite) serialises the read-modify-write.
        # A fresh row is (now, now): ``advance`` then adds nothing, exactly as for a missing row.
        s.execute(self._insert(UsageSession).values(user_id=user_id, session_start=now, last_seen=now)
                  .on_conflict_do_nothing(index_elements=["user_id"]))
        row = s.scalars(select(UsageSession).where(UsageSession.user_id == user_id).with_for_update()).one()
        start, last = _aware(row.session_start), _aware(row.last_seen)
        new_start, new_last, added = advance(start, last, now, gap)
        row.session_start, row.last_seen = new_start, new_last
        if added is not None:
            for day, secs in split_by_day(added[0], added[1], tz).items():
                ins = self._insert(UsageDaily).values(user_id=user_id, day=day, seconds=secs)
                s.execute(ins.on_conflict_do_update(index_elements=["user_id", "day"],
                                                    set_={"seconds": UsageDaily.seconds + ins.excluded.seconds}))
        s.flush()
        total = s.scalar(select(UsageDaily.seconds).where(UsageDaily.user_id == user_id, UsageDaily.day == today))
        return Snapshot(float(total or 0.0), new_start, new_last)

    def peek(self, user_id: str, now: datetime, tz: tzinfo) -> Snapshot:
        today = now.astimezone(tz).date().isoformat()
        with self.db.session() as s:
            row = s.get(UsageSession, user_id)
            total = s.scalar(select(UsageDaily.seconds).where(UsageDaily.user_id == user_id, UsageDaily.day == today))
            if row is None:
                return Snapshot(float(total or 0.0), None, None)
            return Snapshot(float(total or 0.0), _aware(row.session_start), _aware(row.last_seen))


class RedisUsageStore:
    """Counters in Redis (``settings.redis_url``): shared by every gateway worker, no database writes."""

    DAY_TTL = 3 * 24 * 3600

    def __init__(self, url: str, prefix: str = "hegui:usage:") -> None:
        import redis

        self.r = redis.Redis.from_url(url)
        self.prefix = prefix

    def _sess(self, user_id: str) -> str:
        return f"{self.prefix}sess:{user_id}"

    def _day(self, user_id: str, day: str) -> str:
        return f"{self.prefix}day:{user_id}:{day}"

    def touch(self, user_id: str, now: datetime, gap: timedelta, tz: tzinfo) -> Snapshot:
        import redis

        sess = self._sess(user_id)
        today = now.astimezone(tz).date().isoformat()
        for _ in range(50):
            with self.r.pipeline() as pipe:
                try:
                    pipe.watch(sess)  # type: ignore[no-untyped-call]
                    raw = pipe.hmget(sess, "start", "last")
                    start = _from_ts(raw[0])
                    last = _from_ts(raw[1])
                    new_start, new_last, added = advance(start, last, now, gap)
                    pipe.multi()
                    pipe.hset(sess, mapping={"start": repr(new_start.timestamp()), "last": repr(new_last.timestamp())})
                    pipe.expire(sess, int(gap.total_seconds()) * 2 + 60)
                    if added is not None:
                        for day, secs in split_by_day(added[0], added[1], tz).items():
                            pipe.incrbyfloat(self._day(user_id, day), secs)
                            pipe.expire(self._day(user_id, day), self.DAY_TTL)
                    pipe.get(self._day(user_id, today))
                    res = pipe.execute()
                    return Snapshot(float(res[-1] or 0.0), new_start, new_last)
                except redis.WatchError:
                    continue
        raise RuntimeError("usage counter in Redis kept changing under 50 retries")

    def peek(self, user_id: str, now: datetime, tz: tzinfo) -> Snapshot:
        today = now.astimezone(tz).date().isoformat()
        start, last = self.r.hmget(self._sess(user_id), "start", "last")
        total = self.r.get(self._day(user_id, today))
        return Snapshot(float(total or 0.0), _from_ts(start), _from_ts(last))


def _from_ts(raw: object) -> datetime | None:
    if raw is None:
        return None
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return datetime.fromtimestamp(float(text), UTC)


def unique_prefix() -> str:
    """A fresh key prefix (tests, or several installations on one Redis)."""
    return f"hegui:usage:{uuid.uuid4().hex[:8]}:"
