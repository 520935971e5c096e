"""Staff accounts and sessions on SQLite and PostgreSQL: argon2 hashes, lockout, session lifetime."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from hegui.console import staff
from hegui.context import HeguiContext
from hegui.errors import InvalidInputError
from hegui.store.models.console import ConsoleEvent, ConsoleSession, ConsoleStaff

PW = "a long enough password"


def test_password_is_stored_only_as_an_argon2_hash(ctx: HeguiContext) -> None:
    staff.create_staff(ctx.db, "alice", "compliance", PW)
    with ctx.db.session() as s:
        h = s.scalar(select(ConsoleStaff.password_hash))
    assert h is not None and h.startswith("$argon2id$") and PW not in h


def test_correct_password_logs_in_and_wrong_one_does_not(ctx: HeguiContext) -> None:
    staff.create_staff(ctx.db, "alice", "auditor", PW)
    st = staff.authenticate(ctx.db, "alice", PW)
    assert st is not None and st.role == "auditor"
    assert staff.authenticate(ctx.db, "alice", PW + "x") is None
    assert staff.authenticate(ctx.db, "nobody", PW) is None


def test_short_password_and_unknown_role_are_refused(ctx: HeguiContext) -> None:
    with pytest.raises(InvalidInputError, match="at least"):
        staff.create_staff(ctx.db, "bob", "admin", "short")
    with pytest.raises(InvalidInputError, match="role"):
        staff.create_staff(ctx.db, "bob", "user", PW)


def test_repeated_wrong_passwords_lock_the_account_until_a_new_password(ctx: HeguiContext) -> None:
    staff.create_staff(ctx.db, "alice", "admin", PW)
    for _ in range(staff.MAX_FAILED_LOGINS):
        assert staff.authenticate(ctx.db, "alice", "wrong password!") is None
    assert staff.authenticate(ctx.db, "alice", PW) is None  # locked, even with the right password
    staff.set_password(ctx.db, "alice", "another long password")
    assert staff.authenticate(ctx.db, "alice", "another long password") is not None


def test_session_token_is_stored_hashed_and_resolves_to_the_staff(ctx: HeguiContext) -> None:
    staff.create_staff(ctx.db, "alice", "reviewer", PW)
    st = staff.authenticate(ctx.db, "alice", PW)
    assert st is not None
    token, with_csrf = staff.start_session(ctx.db, st)
    with ctx.db.session() as s:
        ids = list(s.scalars(select(ConsoleSession.id)))
    assert token not in ids and len(ids) == 1
    got = staff.session_staff(ctx.db, token)
    assert got is not None and got.username == "alice" and got.csrf == with_csrf.csrf


def test_expired_ended_or_disabled_sessions_are_refused(ctx: HeguiContext) -> None:
    staff.create_staff(ctx.db, "alice", "reviewer", PW)
    st = staff.authenticate(ctx.db, "alice", PW)
    assert st is not None
    t1, _ = staff.start_session(ctx.db, st)
    t2, _ = staff.start_session(ctx.db, st)
    t3, _ = staff.start_session(ctx.db, st)
    with ctx.db.session() as s:
        s.execute(update(ConsoleSession).where(ConsoleSession.id == staff._token_id(t1))
                  .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    staff.end_session(ctx.db, t2)
    assert staff.session_staff(ctx.db, t1) is None
    assert staff.session_staff(ctx.db, t2) is None
    assert staff.session_staff(ctx.db, t3) is not None
    staff.set_status(ctx.db, "alice", "disabled")
    assert staff.session_staff(ctx.db, t3) is None


def test_activity_log_records_who_did_what(ctx: HeguiContext) -> None:
    staff.create_staff(ctx.db, "alice", "compliance", PW)
    st = staff.authenticate(ctx.db, "alice", PW)
    assert st is not None
    staff.record(ctx.db, st, "view_content", "rec-1", purged=False)
    rows, total = staff.events(ctx.db, action="view_content")
    assert total == 1 and rows[0].staff == "alice" and rows[0].target == "rec-1" and rows[0].role == "compliance"
    with ctx.db.session() as s:
        assert s.scalar(select(ConsoleEvent.detail)) == '{"purged": false}'
