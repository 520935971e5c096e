"""Usage counters on the database (SQLite and PostgreSQL) and on Redis: sessions, gaps, day split."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from usage_kit import REDIS_URL

from hegui.context import HeguiContext
from hegui.usage.store import DbUsageStore, RedisUsageStore, UsageStore, split_by_day

SH = ZoneInfo("Asia/Shanghai")
GAP = timedelta(minutes=10)
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=SH)


def _play(store: UsageStore, minutes: list[float], user: str = "u_1") -> float:
    snap = None
    for m in minutes:
        snap = store.touch(user, T0 + timedelta(minutes=m), GAP, SH)
    assert snap is not None
    return snap.today_seconds / 60


def _stores(ctx: HeguiContext, redis_store: RedisUsageStore) -> list[UsageStore]:
    return [DbUsageStore(ctx.db), redis_store]


def test_activity_within_the_gap_is_counted(ctx: HeguiContext, redis_store: RedisUsageStore) -> None:
    for store in _stores(ctx, redis_store):
        assert _play(store, [0, 5, 9, 18]) == 18


def test_a_longer_gap_starts_a_new_session(ctx: HeguiContext, redis_store: RedisUsageStore) -> None:
    for store in _stores(ctx, redis_store):
        assert _play(store, [0, 5, 30, 32]) == 7
        snap = store.peek("u_1", T0 + timedelta(minutes=32), SH)
        assert snap.session_start == T0 + timedelta(minutes=30)


def test_late_touch_adds_nothing(ctx: HeguiContext, redis_store: RedisUsageStore) -> None:
    for store in _stores(ctx, redis_store):
        assert _play(store, [0, 8, 6]) == 8


def test_users_are_counted_separately(ctx: HeguiContext, redis_store: RedisUsageStore) -> None:
    for store in _stores(ctx, redis_store):
        _play(store, [0, 5], "u_a")
        assert _play(store, [0, 1], "u_b") == 1


def test_use_across_midnight_is_split_between_days(ctx: HeguiContext, redis_store: RedisUsageStore) -> None:
    late = datetime(2026, 3, 2, 23, 55, tzinfo=SH)
    for store in _stores(ctx, redis_store):
        store.touch("u_n", late, GAP, SH)
        snap = store.touch("u_n", late + timedelta(minutes=8), GAP, SH)
        assert snap.today_seconds == 3 * 60
        assert store.peek("u_n", late, SH).today_seconds == 5 * 60


def test_two_redis_workers_share_counters(redis_store: RedisUsageStore) -> None:
    other = RedisUsageStore(_url(redis_store), redis_store.prefix)  # a second worker's own connection
    redis_store.touch("u_w", T0, GAP, SH)
    other.touch("u_w", T0 + timedelta(minutes=4), GAP, SH)
    assert redis_store.touch("u_w", T0 + timedelta(minutes=6), GAP, SH).today_seconds == 6 * 60


def _url(store: RedisUsageStore) -> str:
    kw = store.r.connection_pool.connection_kwargs
    return f"redis://{kw['host']}:{kw['port']}/{kw['db']}"


def test_split_by_day() -> None:
    a = datetime(2026, 3, 2, 23, 0, tzinfo=SH)
    assert split_by_day(a, a + timedelta(hours=2), SH) == {"2026-03-02": 3600.0, "2026-03-03": 3600.0}


def test_gateway_uses_redis_when_configured(ctx: HeguiContext) -> None:
    from hegui.usage.gate import store_for

    assert isinstance(store_for(ctx), DbUsageStore)
    ctx.settings.redis_url = REDIS_URL
    assert isinstance(store_for(ctx), RedisUsageStore)


def _race(store: UsageStore, user: str, at: datetime, n: int) -> list[BaseException]:
    """``n`` threads touch ``user`` at the same moment, released together by a barrier."""
    import threading

    gate = threading.Barrier(n)
    errors: list[BaseException] = []

    def one() -> None:
        gate.wait()
        try:
            store.touch(user, at, GAP, SH)
        except BaseException as err:  # collected so the test shows the database's error
            errors.append(err)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_first_touches_of_one_user_do_not_collide(ctx: HeguiContext) -> None:
    """Regression: concurrent first requests of a user raised UNIQUE constraint failed: usage_sessions.user_id."""
    store = DbUsageStore(ctx.db)
    assert _race(store, "u_race", T0, 8) == []
    assert _race(store, "u_race", T0 + timedelta(minutes=1), 8) == []  # first daily row, concurrently
    snap = store.peek("u_race", T0 + timedelta(minutes=1), SH)
    assert snap.session_start == T0
    assert snap.today_seconds == 60  # counted once, not once per thread


def test_a_batch_of_touches_counts_like_the_same_touches_one_by_one(ctx: HeguiContext) -> None:
    store = DbUsageStore(ctx.db)
    minutes = [0, 4, 8, 30, 33]
    store.touch_many([(u, T0 + timedelta(minutes=m)) for m in minutes for u in ("u_b", "u_a")], GAP, SH)
    one_by_one = _play(store, minutes, "u_c")
    for user in ("u_a", "u_b"):
        assert store.peek(user, T0 + timedelta(minutes=33), SH).today_seconds / 60 == one_by_one == 11
