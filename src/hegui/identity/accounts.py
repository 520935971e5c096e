"""Accounts and API keys: create users, issue/rotate keys, authenticate a presented key.

A key looks like ``hg-<key id>-<secret>``. The database keeps the key id (public, used to find
the row) and SHA-256 of the whole key; the key itself is shown once and never stored. SHA-256
(not a slow password hash) is right here because keys carry 192 bits of randomness, and the
check runs on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hegui.errors import InvalidInputError, NotFoundError
from hegui.store.db import Database
from hegui.store.models.identity import ApiKey, User

Role = Literal["user", "admin", "compliance", "reviewer", "auditor"]
ROLES: tuple[str, ...] = get_args(Role)
KEY_PREFIX = "hg-"
_KEY_ID_CHARS = 12


@dataclass(frozen=True, slots=True)
class Principal:
    """Who made a request: the user behind a valid API key."""

    user_id: str
    name: str
    role: str
    key_id: str


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: str
    name: str
    status: str
    role: str
    created_at: datetime
    key_ids: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"user_id": self.id, "name": self.name, "status": self.status, "role": self.role,
                "created_at": self.created_at.isoformat(), "key_ids": list(self.key_ids)}


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A freshly issued key: ``api_key`` is the only copy that will ever exist."""

    user_id: str
    key_id: str
    api_key: str


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def _new_key() -> tuple[str, str]:
    key_id = secrets.token_hex(_KEY_ID_CHARS // 2)
    return key_id, f"{KEY_PREFIX}{key_id}-{secrets.token_urlsafe(24)}"


def parse_key_id(api_key: str) -> str | None:
    """The key id of a well-formed key, or None (the caller answers 401 without a DB query)."""
    if not api_key.startswith(KEY_PREFIX):
        return None
    kid, sep, secret = api_key[len(KEY_PREFIX):].partition("-")
    if not sep or len(kid) != _KEY_ID_CHARS or not secret:
        return None
    return kid


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInputError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")


def _issue(s: Session, user_id: str) -> IssuedKey:
    key_id, key = _new_key()
    s.add(ApiKey(key_id=key_id, key_hash=hash_key(key), user_id=user_id))
    return IssuedKey(user_id, key_id, key)


def create_user(db: Database, name: str, role: str = "user") -> IssuedKey:
    """Create an active user with one API key."""
    name = name.strip()
    if not name:
        raise InvalidInputError("user name must not be empty")
    if len(name) > 200:
        raise InvalidInputError("user name is longer than 200 characters")
    _check_role(role)
    with db.session() as s:
        return add_user(s, name, role)


def add_user(s: Session, name: str, role: str = "user") -> IssuedKey:
    """Create a user with one API key inside the caller's transaction (registration adds more rows)."""
    user_id = "u_" + uuid.uuid4().hex[:20]
    s.add(User(id=user_id, name=name, status="active", role=role))
    s.flush()
    return _issue(s, user_id)


def _get(s: Session, user_id: str) -> User:
    user = s.get(User, user_id)
    if user is None:
        raise NotFoundError(f"no user with id {user_id!r}")
    return user


def _info(s: Session, user: User) -> UserInfo:
    kids = s.scalars(select(ApiKey.key_id).where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))).all()
    return UserInfo(user.id, user.name, user.status, user.role, user.created_at, tuple(kids))


def list_users(db: Database) -> list[UserInfo]:
    with db.session() as s:
        return [_info(s, u) for u in s.scalars(select(User).order_by(User.created_at, User.id))]


def get_user(db: Database, user_id: str) -> UserInfo:
    with db.session() as s:
        return _info(s, _get(s, user_id))


def disable_user(db: Database, user_id: str) -> UserInfo:
    """Disable a user: every key stops working at once (keys are checked against the user's status)."""
    with db.session() as s:
        user = _get(s, user_id)
        if user.status != "disabled":
            user.status = "disabled"
            user.disabled_at = datetime.now(UTC)
        return _info(s, user)


def enable_user(db: Database, user_id: str) -> UserInfo:
    with db.session() as s:
        user = _get(s, user_id)
        user.status, user.disabled_at = "active", None
        return _info(s, user)


def set_role(db: Database, user_id: str, role: str) -> UserInfo:
    _check_role(role)
    with db.session() as s:
        user = _get(s, user_id)
        user.role = role
        return _info(s, user)


def rotate_key(db: Database, user_id: str) -> IssuedKey:
    """Revoke every current key of the user and issue a new one."""
    with db.session() as s:
        _get(s, user_id)
        s.execute(update(ApiKey).where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
                  .values(revoked_at=datetime.now(UTC)))
        return _issue(s, user_id)


def authenticate(db: Database, api_key: str) -> Principal | None:
    """The principal for a presented key, or None if it is malformed, unknown, revoked or disabled.

    Raises the database's error if the database is unreachable (callers fail closed).
    """
    kid = parse_key_id(api_key)
    if kid is None:
        return None
    stmt = (select(ApiKey.key_hash, ApiKey.user_id, User.name, User.role, User.status)
            .join(User, User.id == ApiKey.user_id)
            .where(ApiKey.key_id == kid, ApiKey.revoked_at.is_(None)))
    with db.engine.connect() as conn:
        row = conn.execute(stmt).first()
    if row is None or row.status != "active":
        return None
    if not hmac.compare_digest(row.key_hash, hash_key(api_key)):
        return None
    return Principal(row.user_id, row.name, row.role, kid)
