"""Staff accounts, passwords (argon2), server-side sessions and the staff activity log.

A session cookie holds a random token; the database keeps only SHA-256 of it, the staff id, the
session's CSRF token and its expiry, so a stolen database does not yield live sessions.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select

from hegui.errors import InvalidInputError, NotFoundError
from hegui.store.db import Database
from hegui.store.models.console import ConsoleEvent, ConsoleSession, ConsoleStaff

STAFF_ROLES: tuple[str, ...] = ("admin", "compliance", "reviewer", "auditor")
SESSION_HOURS = 12
MIN_PASSWORD = 10
MAX_FAILED_LOGINS = 10
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A valid hash of a random password: verifying against it for unknown users keeps login timing
    flat. Made on first use, not at import (an argon2 hash costs ~0.35 s of CPU that every CLI command
    would pay)."""
    return _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class Staff:
    """A logged-in staff member as the pages see them."""

    id: str
    username: str
    display_name: str
    role: str
    csrf: str = ""


@dataclass(frozen=True, slots=True)
class StaffInfo:
    id: str
    username: str
    display_name: str
    role: str
    status: str
    created_at: datetime
    last_login_at: datetime | None


def _now() -> datetime:
    return datetime.now(UTC)


def _check_role(role: str) -> str:
    if role not in STAFF_ROLES:
        raise InvalidInputError(f"unknown staff role {role!r}: expected one of {', '.join(STAFF_ROLES)}")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInputError(f"password must have at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise InvalidInputError("password is longer than 1024 characters")
    return password


def _info(row: ConsoleStaff) -> StaffInfo:
    return StaffInfo(row.id, row.username, row.display_name, row.role, row.status, row.created_at, row.last_login_at)


def create_staff(db: Database, username: str, role: str, password: str, display_name: str | None = None) -> StaffInfo:
    """A new active staff account; the password is stored only as an argon2 hash."""
    username = username.strip()
    if not _USERNAME.match(username):
        raise InvalidInputError(f"username {username!r}: 2-64 letters, digits, '.', '_' or '-'")
    _check_role(role)
    pw_hash = _hasher.hash(check_password(password))
    with db.session() as s:
        if s.scalar(select(ConsoleStaff.id).where(ConsoleStaff.username == username)) is not None:
            raise InvalidInputError(f"staff username {username!r} already exists")
        row = ConsoleStaff(id="s_" + uuid.uuid4().hex[:20], username=username,
                           display_name=(display_name or username).strip()[:200], role=role,
                           password_hash=pw_hash, status="active", failed_logins=0, created_at=_now())
        s.add(row)
        s.flush()
        return _info(row)


def _by_name(s: Any, username: str) -> ConsoleStaff:
    row = s.scalar(select(ConsoleStaff).where(ConsoleStaff.username == username.strip()))
    if row is None:
        raise NotFoundError(f"no staff account {username.strip()!r}")
    return row  # type: ignore[no-any-return]


def set_password(db: Database, username: str, password: str) -> StaffInfo:
    """Replace the password, unlock the account and end every session of it."""
    pw_hash = _hasher.hash(check_password(password))
    with db.session() as s:
        row = _by_name(s, username)
        row.password_hash, row.failed_logins = pw_hash, 0
        if row.status == "locked":
            row.status = "active"
        s.execute(delete(ConsoleSession).where(ConsoleSession.staff_id == row.id))
        return _info(row)


def set_status(db: Database, username: str, status: str) -> StaffInfo:
    if status not in ("active", "disabled"):
        raise InvalidInputError("status must be 'active' or 'disabled'")
    with db.session() as s:
        row = _by_name(s, username)
        row.status = status
        if status != "active":
            s.execute(delete(ConsoleSession).where(ConsoleSession.staff_id == row.id))
        return _info(row)


def list_staff(db: Database) -> list[StaffInfo]:
    with db.session() as s:
        return [_info(r) for r in s.scalars(select(ConsoleStaff).order_by(ConsoleStaff.username))]


def authenticate(db: Database, username: str, password: str) -> Staff | None:
    """The staff member for a correct username/password of an active account, else None.

    After ``MAX_FAILED_LOGINS`` wrong passwords in a row the account is locked until an admin
    sets a new password (``hegui console set-password``).
    """
    dummy = _dummy_hash()  # made before the look-up: a process's first login costs the same for any name
    with db.session() as s:
        row = s.scalar(select(ConsoleStaff).where(ConsoleStaff.username == username.strip()))
        if row is None:
            with contextlib.suppress(VerificationError):
                _hasher.verify(dummy, password)
            return None
        try:
            _hasher.verify(row.password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            row.failed_logins += 1
            if row.failed_logins >= MAX_FAILED_LOGINS and row.status == "active":
                row.status = "locked"
            return None
        if row.status != "active":
            return None
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = _hasher.hash(password)
        row.failed_logins, row.last_login_at = 0, _now()
        return Staff(row.id, row.username, row.display_name, row.role)


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(db: Database, staff: Staff) -> tuple[str, Staff]:
    """A new session: returns the cookie token (shown once) and the staff with its CSRF token."""
    token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(24), _now()
    with db.session() as s:
        s.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
        s.add(ConsoleSession(id=_token_id(token), staff_id=staff.id, csrf=csrf, created_at=now,
                             expires_at=now + timedelta(hours=SESSION_HOURS)))
    return token, Staff(staff.id, staff.username, staff.display_name, staff.role, csrf)


def session_staff(db: Database, token: str) -> Staff | None:
    """The staff behind a session cookie, or None if unknown, expired or the account is not active."""
    if not token or len(token) > 200:
        return None
    stmt = (select(ConsoleSession.csrf, ConsoleSession.expires_at, ConsoleStaff.id, ConsoleStaff.username,
                   ConsoleStaff.display_name, ConsoleStaff.role, ConsoleStaff.status)
            .join(ConsoleStaff, ConsoleStaff.id == ConsoleSession.staff_id)
            .where(ConsoleSession.id == _token_id(token)))
    with db.engine.connect() as conn:
        row = conn.execute(stmt).first()
    if row is None or row.status != "active":
        return None
    exp = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if exp <= _now():
        return None
    return Staff(row.id, row.username, row.display_name, row.role, row.csrf)


def end_session(db: Database, token: str) -> None:
    with db.session() as s:
        s.execute(delete(ConsoleSession).where(ConsoleSession.id == _token_id(token)))


def record(db: Database, staff: Staff, action: str, target: str = "", **detail: Any) -> None:
    """Append one entry to the staff activity log (views of content, every change)."""
    with db.session() as s:
        s.add(ConsoleEvent(ts=_now(), staff_id=staff.id, role=staff.role, action=action[:40], target=target[:200],
                           detail=json.dumps(detail, ensure_ascii=False, default=str) if detail else ""))


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    ts: datetime
    staff: str
    role: str
    action: str
    target: str
    detail: str


def events(db: Database, action: str | None = None, target: str | None = None, limit: int = 200,
           offset: int = 0) -> tuple[list[Event], int]:
    """Newest first, with the total count for paging."""
    q = select(ConsoleEvent, ConsoleStaff.username).outerjoin(ConsoleStaff, ConsoleStaff.id == ConsoleEvent.staff_id)
    cq = select(func.count(ConsoleEvent.id))
    if action:
        q, cq = q.where(ConsoleEvent.action == action), cq.where(ConsoleEvent.action == action)
    if target:
        q, cq = q.where(ConsoleEvent.target == target), cq.where(ConsoleEvent.target == target)
    q = q.order_by(ConsoleEvent.id.desc()).limit(limit).offset(offset)
    with db.session() as s:
        total = int(s.scalar(cq) or 0)
        out = [Event(e.id, e.ts, name or e.staff_id, e.role, e.action, e.target, e.detail) for e, name in s.execute(q)]
    return out, total
