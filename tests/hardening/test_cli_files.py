"""CLI file handling: commands that write a file never overwrite an existing one without ``--force``.

Regression for ``hegui audit export -o``, ``hegui privacy export -o`` and ``hegui incidents report -o``,
which used to replace an existing file (e.g. an earlier evidence export) silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hegui.cli.common import STATE
from hegui.cli.main import app
from hegui.context import HeguiContext
from hegui.errors import HeguiError
from hegui.identity import accounts
from hegui.install import ensure_database


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One migrated hegui home for the module (migrating takes seconds); each test uses its own file names."""
    tmp = tmp_path_factory.mktemp("cli-files")
    with pytest.MonkeyPatch.context() as mp:
        for k in [k for k in os.environ if k.startswith("HEGUI_")]:
            mp.delenv(k)
        mp.chdir(tmp)
        ensure_database(HeguiContext.load())
        yield tmp


@pytest.fixture
def here(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test runs in the shared home (the suite's autouse fixture moves every test to its own tmp dir)."""
    monkeypatch.chdir(home)
    return home


def _run(*args: str) -> tuple[int, str]:
    """Invoke in-process; a ``HeguiError`` counts as exit 2 (what ``hegui.cli.main.run`` turns it into)."""
    try:
        r = CliRunner().invoke(app, list(args))
    finally:
        STATE.close()  # as ``run()`` does: the next invocation builds its context afresh
    if isinstance(r.exception, HeguiError):
        return 2, str(r.exception)
    return r.exit_code, r.output


@pytest.mark.parametrize("argv", [["audit", "export"], ["privacy", "export", "{user}"]])
def test_export_refuses_to_overwrite_without_force(here: Path, argv: list[str]) -> None:
    user = accounts.create_user(HeguiContext.load().db, "cli-user").user_id
    target = here / f"evidence-{argv[0]}.jsonl"
    target.write_text("earlier export\n", encoding="utf-8")
    args = [a.replace("{user}", user) for a in argv]
    code, out = _run(*args, "-o", str(target))
    assert code == 2 and "--force" in out
    assert target.read_text(encoding="utf-8") == "earlier export\n"
    code, out = _run(*args, "-o", str(target), "--force")
    assert code == 0, out
    assert target.read_text(encoding="utf-8") != "earlier export\n"


def test_incident_report_refuses_to_overwrite_without_force(here: Path) -> None:
    target = here / "report.json"
    target.write_text("keep me", encoding="utf-8")
    code, out = _run("incidents", "report", "no-such-incident", "-o", str(target))
    assert code == 2 and "--force" in out and target.read_text(encoding="utf-8") == "keep me"


def test_export_to_a_missing_directory_is_a_clean_error(here: Path) -> None:
    code, out = _run("audit", "export", "-o", str(here / "no" / "such" / "dir" / "x.jsonl"))
    assert code == 2, out  # a clean one-line error, not a traceback
