"""Audit tables: the hash-chained exchange log and its chain head.

Business rules (hashing, verification, purge) live in ``hegui.audit``; these are just rows.
``record_hash`` covers every metadata column plus ``content_hash`` (SHA-256 of the sealed
content), never the content itself, so purging content keeps the chain verifiable.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hegui.store.models.base import Base


class AuditRecord(Base):
    """One exchange (request + answer) through the gateway."""

    __tablename__ = "audit_records"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    record_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    ts: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True, nullable=False)
    user_id: Mapped[str | None] = mapped_column(String(40), index=True, nullable=True)
    key_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    client_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    client_port: Mapped[int | None] = mapped_column(Integer, nullable=True)
    endpoint: Mapped[str] = mapped_column(String(64), nullable=False)
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    upstream: Mapped[str | None] = mapped_column(String(100), nullable=True)
    status_code: Mapped[int] = mapped_column(Integer, nullable=False)
    decision: Mapped[str] = mapped_column(String(16), nullable=False)
    categories: Mapped[str] = mapped_column(String(400), nullable=False, default="")
    stream: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(String(400), nullable=True)
    total_us: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    upstream_us: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    moderation_us: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    content: Mapped[str | None] = mapped_column(Text, nullable=True)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    content_purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    record_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AuditChainHead(Base):
    """Single row (id 1): the last sequence number and hash. Writers lock it to keep the chain linear."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_hash: Mapped[str] = mapped_column(String(64), nullable=False)
