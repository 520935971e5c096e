"""Shared fixtures. Storage tests run on SQLite and on a real PostgreSQL (``db_url``)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from hegui.config import Settings
from hegui.context import HeguiContext
from hegui.privacy.crypto import generate_key
from hegui.store.db import Database

PG_ADMIN_URL = os.environ.get("HEGUI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("HEGUI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's hegui.yaml or HEGUI_* variables."""
    for k in list(os.environ):
        if k.startswith("HEGUI_") and not k.startswith("HEGUI_TEST_"):
            monkeypatch.delenv(k, raising=False)
    monkeypatch.chdir(tmp_path)


def _drop_database(admin: Engine, name: str) -> None:
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def _pg_admin() -> Iterator[tuple[Engine, ThreadPoolExecutor, list[Future[None]]]]:
    """The admin connection, and threads that drop each test's database after the test: a DROP waits for a
    checkpoint (0.1-2 s, more on a busy server) that no test needs to wait for, and drops running side by
    side share one. The session waits for every drop and fails if one did."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    drops: list[Future[None]] = []
    try:
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="hegui-test-dropdb") as dropper:
            yield admin, dropper, drops
        for done in drops:
            done.result()
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def _migrated_pg_template(_pg_admin: tuple[Engine, ThreadPoolExecutor, list[Future[None]]]) -> Iterator[str]:
    """A PostgreSQL database with every migration applied, once per session, to copy (see ``pg_url``)."""
    admin = _pg_admin[0]
    name = f"hegui_tpl_{uuid.uuid4().hex[:12]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        db = Database(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name)
        db.upgrade()
        db.dispose()  # CREATE DATABASE ... TEMPLATE needs it without connections
        yield name
    finally:
        _drop_database(admin, name)


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with every migration applied, once per session, to copy (see ``db_url``)."""
    path = tmp_path_factory.mktemp("migrated") / "hegui.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    db.dispose()
    return path


def _migrates_anyway(request: pytest.FixtureRequest) -> bool:
    """The test uses ``ctx``, whose first step is migrating its database: it may start from a copy of
    one migrated once per session (a copy takes a fraction of a migration)."""
    return "ctx" in request.fixturenames


@pytest.fixture
def pg_url(request: pytest.FixtureRequest,
           _pg_admin: tuple[Engine, ThreadPoolExecutor, list[Future[None]]]) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards (in the background): empty, or a copy
    of the migrated one if the test uses ``ctx``."""
    admin, dropper, drops = _pg_admin
    name = f"hegui_t_{uuid.uuid4().hex[:12]}"
    template = f' TEMPLATE "{request.getfixturevalue("_migrated_pg_template")}"' if _migrates_anyway(request) else ""
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"{template}'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        drops.append(dropper.submit(_drop_database, admin, name))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs twice: on a SQLite file and on a fresh PostgreSQL database (both start
    migrated for a test that uses ``ctx``, see ``_migrates_anyway``)."""
    if request.param == "sqlite":
        path = tmp_path / "db" / "hegui.db"
        if _migrates_anyway(request):
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(request.getfixturevalue("_migrated_sqlite"), path)
        return f"sqlite:///{path}"
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
