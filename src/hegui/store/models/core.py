"""Foundation tables: one row describing this installation."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from hegui.store.models.base import Base, TimestampMixin


class Installation(TimestampMixin, Base):
    """Created by ``hegui init``; identifies this deployment in audit exports and filings."""

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(primary_key=True)
    installation_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    hegui_version: Mapped[str] = mapped_column(String(32), nullable=False)
