"""Identity-verification tables: real-name profiles, one-time codes, service agreements, acceptances.

Personal data (name, document number, mobile) is stored sealed with the key ring (AES-GCM); the
``*_hash`` columns are keyed hashes (HMAC) used for uniqueness look-ups without decrypting.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hegui.store.models.base import Base, TimestampMixin, utcnow


class IdentityProfile(TimestampMixin, Base):
    """A user's real-name state (unverified → pending → verified/rejected) and sealed identity data."""

    __tablename__ = "identity_profiles"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="unverified")
    name_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    doc_type: Mapped[str | None] = mapped_column(String(24), nullable=True)
    doc_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    doc_hash: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    mobile_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    mobile_hash: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    mobile_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    birth_source: Mapped[str | None] = mapped_column(String(16), nullable=True)
    method: Mapped[str | None] = mapped_column(String(40), nullable=True)
    verified_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(400), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


class VerificationCode(Base):
    """A one-time mobile code: only its keyed hash is kept."""

    __tablename__ = "identity_codes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    mobile_hash: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    code_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Agreement(Base):
    """One published version of the service agreement (服务协议), in Chinese and English."""

    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    text_zh: Mapped[str] = mapped_column(Text, nullable=False)
    text_en: Mapped[str] = mapped_column(Text, nullable=False)
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    published_by: Mapped[str] = mapped_column(String(200), nullable=False)


class AgreementAcceptance(Base):
    """A user accepted one agreement version at a time (the record the provider must be able to show)."""

    __tablename__ = "agreement_acceptances"
    __table_args__ = (UniqueConstraint("user_id", "version", name="uq_agreement_acceptances_user_version"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True, nullable=False)
    version: Mapped[str] = mapped_column(String(40), nullable=False)
    accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
