"""Service agreements (服务协议): versioned texts in Chinese and English, acceptance per user and version.

The newest published version is the current one; a user must have accepted exactly that version
before using the service, so publishing a new version requires everyone to accept again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hegui.errors import InvalidInputError, NotFoundError
from hegui.store.db import Database
from hegui.store.models.identity import User
from hegui.store.models.verification import Agreement, AgreementAcceptance

_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,39}$")
CHANNELS = ("api", "cli", "operator")


@dataclass(frozen=True, slots=True)
class AgreementInfo:
    version: str
    text_zh: str
    text_en: str
    published_at: datetime
    published_by: str

    def to_dict(self, with_text: bool = True) -> dict[str, str]:
        d = {"version": self.version, "published_at": self.published_at.isoformat(), "published_by": self.published_by}
        if with_text:
            d |= {"text_zh": self.text_zh, "text_en": self.text_en}
        return d


def _info(a: Agreement) -> AgreementInfo:
    return AgreementInfo(a.version, a.text_zh, a.text_en, a.published_at, a.published_by)


def publish(db: Database, version: str, text_zh: str, text_en: str, by: str, now: datetime) -> AgreementInfo:
    """Publish a new version; it becomes current at once and everyone must accept it."""
    if not _VERSION.match(version or ""):
        raise InvalidInputError("agreement version must be 1–40 letters, digits, '.', '_' or '-' (e.g. 2026-01)")
    if not text_zh.strip() or not text_en.strip():
        raise InvalidInputError("both the Chinese (zh) and English (en) agreement texts are required")
    with db.session() as s:
        if s.scalar(select(Agreement.id).where(Agreement.version == version)) is not None:
            raise InvalidInputError(f"agreement version {version!r} already exists; publish a new version")
        a = Agreement(version=version, text_zh=text_zh, text_en=text_en, published_at=now, published_by=by)
        s.add(a)
        s.flush()
        return _info(a)


def _current(s: Session) -> Agreement | None:
    return s.scalars(select(Agreement).order_by(Agreement.published_at.desc(), Agreement.id.desc()).limit(1)).first()


def current(db: Database) -> AgreementInfo | None:
    with db.session() as s:
        a = _current(s)
        return _info(a) if a is not None else None


def current_version(s: Session) -> str | None:
    return s.scalar(select(Agreement.version).order_by(Agreement.published_at.desc(), Agreement.id.desc()).limit(1))


def accept(db: Database, user_id: str, version: str, channel: str, now: datetime) -> datetime:
    """Record that ``user_id`` accepted ``version`` (must be the current one); returns when. Idempotent."""
    if channel not in CHANNELS:
        raise InvalidInputError(f"unknown acceptance channel {channel!r}")
    with db.session() as s:
        if s.get(User, user_id) is None:
            raise NotFoundError(f"no user with id {user_id!r}")
        cur = current_version(s)
        if cur is None:
            raise NotFoundError("no service agreement has been published yet")
        if version != cur:
            raise InvalidInputError(f"agreement version {version!r} is not the current one; accept {cur!r}")
        prev = s.scalar(select(AgreementAcceptance.accepted_at).where(
            AgreementAcceptance.user_id == user_id, AgreementAcceptance.version == version))
        if prev is not None:
            return prev
        s.add(AgreementAcceptance(user_id=user_id, version=version, accepted_at=now, channel=channel))
        return now


def pending_version(db: Database, user_id: str) -> str | None:
    """The current version if ``user_id`` has not accepted it yet, else None (also None if none published)."""
    with db.session() as s:
        cur = current_version(s)
        if cur is None:
            return None
        done = s.scalar(select(AgreementAcceptance.id).where(AgreementAcceptance.user_id == user_id,
                                                             AgreementAcceptance.version == cur))
        return None if done is not None else cur


def acceptances(db: Database, user_id: str) -> list[tuple[str, datetime, str]]:
    with db.session() as s:
        a = AgreementAcceptance
        rows = s.execute(select(a.version, a.accepted_at, a.channel).where(a.user_id == user_id)
                         .order_by(a.accepted_at))
        return [(r.version, r.accepted_at, r.channel) for r in rows]
