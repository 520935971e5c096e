from __future__ import annotations

from sqlalchemy import inspect

from hegui.store.db import Database
from hegui.store.models import Base


def test_upgrade_creates_every_model_table(db_url: str) -> None:
    db = Database(db_url)
    db.upgrade()
    tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert db.is_up_to_date()
    db.dispose()


def test_upgrade_is_idempotent(db_url: str) -> None:
    db = Database(db_url)
    db.upgrade()
    first = db.current_revisions()
    db.upgrade()
    assert db.current_revisions() == first == db.head_revisions()
    db.dispose()


def test_migrations_match_models(db_url: str) -> None:
    """Alembic autogenerate finds nothing to add: migrations and models agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    db = Database(db_url)
    db.upgrade()
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert [d for d in diff if d[0] in ("add_table", "remove_table", "add_column", "remove_column")] == []
    db.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


def test_opening_the_database_does_not_import_alembic() -> None:
    """Only migrating needs alembic (~0.4 s to import): corpus workers and one-off checks skip it."""
    import subprocess
    import sys

    code = ("import sys; from hegui.store.db import Database; "
            "Database('sqlite://'); print('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
