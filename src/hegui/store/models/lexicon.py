"""Lexicon tables: terms, allow phrases, the lexicon version counter and default-data seeds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hegui.store.models.base import Base, TimestampMixin, utcnow


class LexiconTerm(TimestampMixin, Base):
    """One term of one source in one risk (``allow`` is a JSON list of the term's own allow phrases)."""

    __tablename__ = "lexicon_term"
    __table_args__ = (UniqueConstraint("source", "category", "term", name="uq_lexicon_term_source_category_term"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    category: Mapped[str] = mapped_column(String(8), nullable=False, index=True)
    severity: Mapped[int] = mapped_column(Integer, nullable=False)
    lang: Mapped[str] = mapped_column(String(8), nullable=False)
    source: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[str] = mapped_column(String(32), nullable=False)
    allow: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")


class LexiconAllow(TimestampMixin, Base):
    """An allow phrase for every risk (``scope='*'``) or for one risk/category code."""

    __tablename__ = "lexicon_allow"
    __table_args__ = (UniqueConstraint("source", "scope", "phrase", name="uq_lexicon_allow_source_scope_phrase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase: Mapped[str] = mapped_column(String(200), nullable=False)
    scope: Mapped[str] = mapped_column(String(8), nullable=False)
    source: Mapped[str] = mapped_column(String(64), nullable=False)


class LexiconRevision(Base):
    """Single row (id 1): bumped by every change, so gateway workers can cheaply see that they are stale."""

    __tablename__ = "lexicon_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)


class LexiconSeed(Base):
    """Which version of a shipped data set (``hegui-default``) was loaded, so seeding is idempotent."""

    __tablename__ = "lexicon_seed"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(64), nullable=False)
    seeded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
