"""The gateway's usage step: minors' curfew, guardian hours, daily budgets, adults' rest reminders.

Each admitted exchange touches the usage counters twice: when it starts (after the checks) and
when it ends (``finish``, called by the pipeline when the exchange is over, so streaming time
counts). Refusals, in OpenAI's error shape, say when service resumes:

* curfew / outside the guardian's hours → **403** ``permission_error``, code ``curfew`` or
  ``guardian_hours``;
* daily budget used up → **429** ``usage_limit_reached`` with ``Retry-After``.

Both carry ``x-hegui-resumes-at`` (ISO 8601, local time) and ``x-should-retry: false`` so SDKs do not
hammer the gateway. Minors' exchanges are moderated with ``st.minor = True`` (the pack's
``minors.content_overrides``).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from datetime import date, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import select

from hegui.context import HeguiContext
from hegui.gateway.errors import ApiError
from hegui.gateway.pipeline import ExchangeState, UsageCheck
from hegui.identity.changes import generation
from hegui.store.models.usage import GuardianControl
from hegui.store.models.verification import IdentityProfile
from hegui.usage.clock import Clock, utc_now
from hegui.usage.guardians import settings_of
from hegui.usage.policy import GuardianSettings, Limits, blocked_by_clock, limits_for, resumes_at
from hegui.usage.store import DbUsageStore, RedisUsageStore, Snapshot, UsageStore, advance

log = logging.getLogger("hegui.usage")
NO_RETRY = {"x-should-retry": "false"}
FACTS_CACHE_SECONDS = 2.0
"""A user's birth date and guardian settings are read again after this long (at once after a change
made through this process, see ``hegui.identity.changes``)."""
SESSION_VIEW_SECONDS = 2.0
"""An unlimited user's (adult's) session is tracked in process and re-read from the shared counters
after this long, so activity through other workers shows up within it."""
CACHE_MAX = 100_000


def store_for(ctx: HeguiContext, prefix: str = "hegui:usage:") -> UsageStore:
    """Redis when ``settings.redis_url`` is set (shared by several workers), else the database."""
    if ctx.settings.redis_url:
        return RedisUsageStore(ctx.settings.redis_url, prefix)
    return DbUsageStore(ctx.db)


def _fmt_minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min"


class UsageGate:
    def __init__(self, ctx: HeguiContext, store: UsageStore | None = None, clock: Clock = utc_now) -> None:
        self.ctx, self.clock = ctx, clock
        self.minors = ctx.pack.minors
        self.tz = ZoneInfo(self.minors.timezone)
        self.gap = timedelta(minutes=self.minors.session_gap_minutes)
        self.store = store if store is not None else store_for(ctx)
        self._open: set[str] = set()
        self._ends = _TouchWriter(self.store, self.gap, self.tz)
        self._last: Future[None] | None = None
        self._gen = generation(IdentityProfile, GuardianControl)
        self._facts: dict[str, tuple[float, int, date | None, GuardianSettings | None]] = {}
        self._views: dict[str, tuple[float, datetime | None, datetime | None]] = {}  # unlimited users' sessions
        self._lock = threading.Lock()

    def facts(self, user_id: str) -> tuple[date | None, GuardianSettings | None]:
        """Birth date and guardian settings, cached for ``FACTS_CACHE_SECONDS`` (no query per request)."""
        gen = self._gen.value
        hit = self._facts.get(user_id)
        if hit is not None and hit[1] == gen and hit[0] > time.monotonic():
            return hit[2], hit[3]
        birth, guardian = self._read_facts(user_id)
        with self._lock:
            if len(self._facts) >= CACHE_MAX:
                self._facts.clear()
            self._facts[user_id] = (time.monotonic() + FACTS_CACHE_SECONDS, gen, birth, guardian)
        return birth, guardian

    def _read_facts(self, user_id: str) -> tuple[date | None, GuardianSettings | None]:
        with self.ctx.db.session() as s:
            birth = s.scalar(select(IdentityProfile.birth_date).where(IdentityProfile.user_id == user_id))
            row = s.get(GuardianControl, user_id)
            return birth, (settings_of(row) if row is not None else None)

    def limits(self, user_id: str, now: datetime) -> Limits:
        birth, guardian = self.facts(user_id)
        return limits_for(self.minors, birth, now, guardian)

    def ready(self, st: ExchangeState) -> bool:
        """True when the step needs no database or Redis call: facts cached and a user without a hard
        limit whose session view is fresh (a limited user's touch is written before admitting)."""
        p = st.principal
        if p is None:
            return True
        mono = time.monotonic()
        hit = self._facts.get(p.user_id)
        if hit is None or hit[1] != self._gen.value or hit[0] <= mono:
            return False
        view = self._views.get(p.user_id)
        if view is None or view[0] <= mono:
            return False
        return limits_for(self.minors, hit[2], self.clock(), hit[3]).daily_seconds is None

    def __call__(self, st: ExchangeState) -> None:
        p = st.principal
        if p is None:
            return
        now = self.clock()
        loc = now.astimezone(self.tz)
        lim = self.limits(p.user_id, now)
        st.minor = lim.minor
        if lim.minor:
            why = blocked_by_clock(lim, loc)
            if why is not None:
                back = resumes_at(lim, loc, budget_spent=False)
                what = ("minors' curfew (未成年人模式 宵禁) " + _window(lim.curfew) if why == "curfew"
                        else "outside the hours your guardian allowed " + _window(lim.allowed))
                raise ApiError(403, f"service unavailable now: {what}; service resumes at "
                               f"{back.isoformat(timespec='minutes')} ({self.minors.timezone})",
                               "permission_error", None, why, {**NO_RETRY, "x-hegui-resumes-at": back.isoformat()})
        if lim.daily_seconds is not None:  # a hard limit: counted in the shared store before admitting
            snap = self.store.touch(p.user_id, now, self.gap, self.tz)
        else:  # no limit, only rest reminders: counted off the request path
            snap = self._touch_unlimited(p.user_id, now)
        if lim.daily_seconds is not None:
            if snap.today_seconds >= lim.daily_seconds:
                back = resumes_at(lim, loc, budget_spent=True)
                wait = max(1, int((back - loc).total_seconds()))
                raise ApiError(429, f"daily usage limit reached (防沉迷): {_fmt_minutes(snap.today_seconds)} used of "
                               f"{_fmt_minutes(lim.daily_seconds)} today ({lim.rule}); service resumes at "
                               f"{back.isoformat(timespec='minutes')} ({self.minors.timezone})",
                               "usage_limit_error", None, "usage_limit_reached",
                               {**NO_RETRY, "retry-after": str(wait), "x-hegui-resumes-at": back.isoformat()})
            st.extra_headers["x-hegui-usage-remaining-seconds"] = str(int(lim.daily_seconds - snap.today_seconds))
        else:
            rest = self.minors.adult_rest_reminder_minutes
            used = snap.continuous_seconds(now)
            if rest is not None and used >= rest * 60:
                mins = int(used // 60)
                st.extra_headers["x-hegui-notice"] = (
                    f"rest-reminder: you have been using this service for {mins} minutes without a break; "
                    "please take a rest")
                st.extra_headers["x-hegui-notice-zh"] = quote(f"休息提醒：您已连续使用本服务 {mins} 分钟，请注意休息。")
        self._open.add(st.record_id)

    def _touch_unlimited(self, user_id: str, now: datetime) -> Snapshot:
        """The session as this process sees it, advanced to ``now``; the shared counters are written
        by the background thread (in order, like end-of-exchange touches)."""
        with self._lock:
            view = self._views.get(user_id)
        if view is None or view[0] <= time.monotonic():
            # re-read the shared counters (other workers' activity); this process's own touches may
            # still be queued, so a shared view that is behind ours is ignored
            shared = self.store.peek(user_id, now, self.tz)
            if view is None or (shared.last_seen is not None and (view[2] is None or shared.last_seen > view[2])):
                start, last = shared.session_start, shared.last_seen
            else:
                start, last = view[1], view[2]
            view = None
        else:
            start, last = view[1], view[2]
        new_start, new_last, _ = advance(start, last, now, self.gap)
        with self._lock:
            if len(self._views) >= CACHE_MAX:
                self._views.clear()
            expires = view[0] if view is not None else time.monotonic() + SESSION_VIEW_SECONDS
            self._views[user_id] = (expires, new_start, new_last)
            self._last = self._ends.submit(user_id, now)
        return Snapshot(0.0, new_start, new_last)

    def finish(self, st: ExchangeState) -> None:
        """Count the exchange's end (a stream's duration is use); never fails the exchange.

        Called on the event loop when the answer is complete, so the counter write goes to a
        background thread (one, so end-of-exchange touches stay in order); ``flush()`` waits for it.
        """
        if st.record_id not in self._open:
            return
        self._open.discard(st.record_id)
        if st.principal is None:
            return
        uid, now = st.principal.user_id, self.clock()
        with self._lock:
            view = self._views.get(uid)
            if view is not None:
                self._views[uid] = (view[0], *advance(view[1], view[2], now, self.gap)[:2])
            self._last = self._ends.submit(uid, now)

    def flush(self) -> None:
        """Wait until every end-of-exchange touch submitted so far is written."""
        if self._last is not None:
            self._ends.hurry()
            self._last.result()


class _TouchWriter:
    """One background thread applying queued touches in order, in batches.

    Whatever queued up while the previous batch was being written goes in the next one: on the
    database that is ONE transaction (one commit, one fsync) for many exchanges instead of one each,
    which keeps the write lock free for the audit writer under load.
    """

    MAX_BATCH = 64  # bounds how long one batch holds SQLite's write lock (the audit writer waits for it)
    LINGER_SECONDS = 0.25
    """At most one batch per this long unless the last one was full. Without it a lone client paid one
    durable commit per touch (two per exchange: ~4.7 ms CPU a request, and the SQLite write lock taken
    away from the audit writer each time); these counters only feed rest reminders, so a quarter of a
    second late costs nothing (``flush()`` still waits for them)."""

    def __init__(self, store: UsageStore, gap: timedelta, tz: ZoneInfo) -> None:
        self.store, self.gap, self.tz = store, gap, tz
        self._q: queue.SimpleQueue[tuple[str, datetime, Future[None]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._hurry = threading.Event()  # set by ``hurry()``: write what is queued without gathering more

    def submit(self, user_id: str, now: datetime) -> Future[None]:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="hegui-usage", daemon=True)
                    self._thread.start()
        fut: Future[None] = Future()
        self._q.put((user_id, now, fut))
        return fut

    def hurry(self) -> None:
        """Write what is queued now instead of at the end of the gathering time (``flush``, shutdown)."""
        self._hurry.set()

    def _run(self) -> None:
        next_batch = 0.0  # monotonic time before which a new batch waits (gathering touches)
        while True:
            batch = [self._q.get()]
            wait = next_batch - time.monotonic()
            if wait > 0:
                self._hurry.wait(wait)
            self._hurry.clear()
            while len(batch) < self.MAX_BATCH:
                try:
                    batch.append(self._q.get_nowait())
                except queue.Empty:
                    break
            try:
                touches = coalesced([(u, now) for u, now, _ in batch], self.gap)
                many = getattr(self.store, "touch_many", None)
                if many is not None:
                    many(touches, self.gap, self.tz)
                else:
                    for u, now in touches:
                        self.store.touch(u, now, self.gap, self.tz)
            except Exception as err:  # the answers are already delivered; log and carry on
                log.error("usage accounting of %d exchange touches failed: %s", len(batch), type(err).__name__)
            finally:
                for _, _, fut in batch:
                    fut.set_result(None)
            # a full batch means a backlog: the next one goes at once, so the queue cannot grow without bound
            next_batch = 0.0 if len(batch) >= self.MAX_BATCH else time.monotonic() + self.LINGER_SECONDS


def coalesced(touches: list[tuple[str, datetime]], gap: timedelta) -> list[tuple[str, datetime]]:
    """Each user's touches (in order) as just the first and the latest when all lie within ``gap``.

    Same session and same seconds as applying every one: after the first, no later touch can be more
    than ``gap`` past the last-seen time, so ``advance`` never starts a new session and the intervals
    it adds join up to the latest touch. A batch of a busy user then costs two touches, not dozens.
    """
    by_user: dict[str, list[datetime]] = {}
    for user_id, now in touches:
        by_user.setdefault(user_id, []).append(now)
    out: list[tuple[str, datetime]] = []
    for user_id, nows in by_user.items():
        if len(nows) > 2 and max(nows) - min(nows) <= gap:
            nows = [nows[0], max(nows)]
        out.extend((user_id, now) for now in nows)
    return out


def _window(w: tuple[object, object] | None) -> str:
    if w is None:
        return ""
    a, b = w
    return f"{a:%H:%M}–{b:%H:%M}"


def gateway_checks(ctx: HeguiContext, clock: Clock = utc_now, store: UsageStore | None = None) -> list[UsageCheck]:
    """The identity and usage steps for ``create_app(ctx, usage_checks=…)``, in order."""
    from hegui.identity.gate import IdentityGate

    return [IdentityGate(ctx), UsageGate(ctx, store, clock)]
