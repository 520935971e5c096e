"""Privacy tables: per-user training-use consent and the purge-run log (evidence of retention)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hegui.store.models.base import Base


class PrivacyConsent(Base):
    """A user's choices about their data; no row means every default (training use off)."""

    __tablename__ = "privacy_consents"

    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    training_use: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class PurgeRun(Base):
    """One retention purge: when, which data kind, how many items were removed."""

    __tablename__ = "privacy_purge_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    older_than_days: Mapped[int] = mapped_column(Integer, nullable=False)
    removed: Mapped[int] = mapped_column(Integer, nullable=False)
