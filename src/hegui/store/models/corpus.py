"""Corpus-audit tables: training-data sources with provenance evidence, audits, review and annotation checks.

Business rules (which evidence a source kind needs, how gates are computed) live in ``hegui.corpus``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hegui.store.models.base import Base, TimestampMixin


class CorpusSource(TimestampMixin, Base):
    """A training-data source (TC260-003 §5.1): open, self-collected, commercial or user data."""

    __tablename__ = "corpus_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    licence: Mapped[str | None] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text)


class CorpusEvidence(TimestampMixin, Base):
    """One provenance evidence file of a source, kept by content hash and original path."""

    __tablename__ = "corpus_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("corpus_source.id", ondelete="CASCADE"), nullable=False,
                                           index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)


class CorpusAudit(TimestampMixin, Base):
    """One run of ``hegui corpus audit``; the full report JSON is kept so gates can be recomputed."""

    __tablename__ = "corpus_audit"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    backend: Mapped[str] = mapped_column(String(16), nullable=False)
    out_dir: Mapped[str] = mapped_column(Text, nullable=False)
    items: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unsafe: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CorpusAuditSource(Base):
    """The result of one audit for one source: what obligation row O2 shows as the latest figure."""

    __tablename__ = "corpus_audit_source"
    __table_args__ = (UniqueConstraint("audit_id", "source_id", name="uq_corpus_audit_source_audit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[str] = mapped_column(ForeignKey("corpus_audit.id", ondelete="CASCADE"), nullable=False,
                                          index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("corpus_source.id", ondelete="CASCADE"), nullable=False,
                                           index=True)
    items: Mapped[int] = mapped_column(Integer, nullable=False)
    unsafe: Mapped[int] = mapped_column(Integer, nullable=False)
    unsafe_ratio: Mapped[float] = mapped_column(Float, nullable=False)
    passed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class CorpusReviewItem(Base):
    """One item of the manual-review sample of an audit; ``verdict`` stays empty until a reviewer's is imported."""

    __tablename__ = "corpus_review_item"
    __table_args__ = (UniqueConstraint("audit_id", "item_key", name="uq_corpus_review_item_audit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[str] = mapped_column(ForeignKey("corpus_audit.id", ondelete="CASCADE"), nullable=False,
                                          index=True)
    item_key: Mapped[str] = mapped_column(String(512), nullable=False)
    source: Mapped[str] = mapped_column(String(128), nullable=False)
    verdict: Mapped[str | None] = mapped_column(String(8))
    reviewer: Mapped[str | None] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CorpusAnnotation(TimestampMixin, Base):
    """One label an annotator gave to one item in one batch (Measures Art 8)."""

    __tablename__ = "corpus_annotation"
    __table_args__ = (UniqueConstraint("batch", "item_id", "annotator", name="uq_corpus_annotation_batch"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    item_id: Mapped[str] = mapped_column(String(256), nullable=False)
    annotator: Mapped[str] = mapped_column(String(128), nullable=False)
    label: Mapped[str] = mapped_column(Text, nullable=False)
    checked: Mapped[bool | None] = mapped_column(Boolean)
    checker: Mapped[str | None] = mapped_column(String(128))
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
