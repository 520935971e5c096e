"""Shared fixtures. Storage tests run on SQLite and on a real PostgreSQL (``db_url``)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from hegui.config import Settings
from hegui.context import HeguiContext
from hegui.privacy.crypto import generate_key

PG_ADMIN_URL = os.environ.get("HEGUI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("HEGUI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's hegui.yaml or HEGUI_* variables."""
    for k in list(os.environ):
        if k.startswith("HEGUI_") and not k.startswith("HEGUI_TEST_"):
            monkeypatch.delenv(k, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    name = f"hegui_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs twice: on a SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'hegui.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(data_dir=tmp_path / ".hegui", database_url=db_url, secret_key=generate_key())


@pytest.fixture
def ctx(settings: Settings) -> Iterator[HeguiContext]:
    """A migrated hegui installation on the parametrised database."""
    c = HeguiContext(settings)
    c.db.upgrade()
    yield c
    c.close()
