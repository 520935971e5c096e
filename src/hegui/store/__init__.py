"""Storage: SQLAlchemy models, Alembic migrations, sessions. No business rules here."""

from hegui.store.db import Database, DatabaseUnavailable, make_engine

__all__ = ["Database", "DatabaseUnavailable", "make_engine"]
