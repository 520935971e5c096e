"""Assessment and filing tables: one row per scored assessment run and per filing build.

The answers themselves stay in the run folder (``answers.jsonl``); the database keeps what the
evidence and the filing documents need: which model, which banks, the metrics and the verdict.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hegui.store.models.base import Base, TimestampMixin


class AssessmentRun(TimestampMixin, Base):
    """A security self-assessment run (TC260-003 §9.3–9.4); updated each time the folder is rescored."""

    __tablename__ = "assess_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    out_dir: Mapped[str] = mapped_column(String(1024), nullable=False)
    endpoint: Mapped[str] = mapped_column(String(512), nullable=False)
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    via_gateway: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    bank_version: Mapped[str] = mapped_column(String(64), nullable=False)
    pack: Mapped[str] = mapped_column(String(120), nullable=False)
    answered: Mapped[int] = mapped_column(Integer, nullable=False)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    passed: Mapped[bool] = mapped_column(Boolean, nullable=False)
    passed_automatic: Mapped[bool] = mapped_column(Boolean, nullable=False)
    scored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)


class FilingBuild(TimestampMixin, Base):
    """One ``hegui filing build``: where the documents went and what was missing."""

    __tablename__ = "filing_builds"

    id: Mapped[int] = mapped_column(primary_key=True)
    out_dir: Mapped[str] = mapped_column(String(1024), nullable=False)
    assessment_run_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    missing_facts: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    clause_summary: Mapped[dict[str, int]] = mapped_column(JSON, nullable=False)
    files: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
