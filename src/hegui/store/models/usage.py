"""Usage tables (anti-addiction): per-user session state, daily totals, guardian controls.

No foreign keys to ``users``: this branch only depends on the foundation, so it may be migrated
before or after the identity branch.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hegui.store.models.base import Base, TimestampMixin


class UsageSession(Base):
    """Where a user's current session stands: when it began and the last moment of activity."""

    __tablename__ = "usage_sessions"

    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class UsageDaily(Base):
    """Seconds of use per user per local calendar day (``day`` = YYYY-MM-DD in the pack's time zone)."""

    __tablename__ = "usage_daily"

    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    seconds: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)


class GuardianControl(TimestampMixin, Base):
    """A guardian's settings for a minor: a lower daily limit and/or allowed hours (local time)."""

    __tablename__ = "usage_guardian_controls"

    minor_user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    guardian_user_id: Mapped[str] = mapped_column(String(40), index=True, nullable=False)
    daily_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    allowed_from: Mapped[str | None] = mapped_column(String(5), nullable=True)
    allowed_until: Mapped[str | None] = mapped_column(String(5), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
