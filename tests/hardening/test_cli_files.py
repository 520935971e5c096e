"""CLI file handling: commands that write a file never overwrite an existing one without ``--force``.

Regression for ``hegui audit export -o``, ``hegui privacy export -o`` and ``hegui incidents report -o``,
which used to replace an existing file (e.g. an earlier evidence export) silently.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hegui.cli.common import STATE
from hegui.cli.main import app
from hegui.context import HeguiContext
from hegui.errors import HeguiError
from hegui.identity import accounts
from hegui.install import ensure_database


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for k in [k for k in __import__("os").environ if k.startswith("HEGUI_")]:
        monkeypatch.delenv(k)
    monkeypatch.chdir(tmp_path)
    ensure_database(HeguiContext.load())
    return tmp_path


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
def test_export_refuses_to_overwrite_without_force(home: Path, argv: list[str]) -> None:
    user = accounts.create_user(HeguiContext.load().db, "cli-user").user_id
    target = home / "evidence.jsonl"
    target.write_text("earlier export\n", encoding="utf-8")
    args = [a.replace("{user}", user) for a in argv]
    code, out = _run(*args, "-o", str(target))
    assert code == 2 and "--force" in out
    assert target.read_text(encoding="utf-8") == "earlier export\n"
    code, out = _run(*args, "-o", str(target), "--force")
    assert code == 0, out
    assert target.read_text(encoding="utf-8") != "earlier export\n"


def test_incident_report_refuses_to_overwrite_without_force(home: Path) -> None:
    target = home / "report.json"
    target.write_text("keep me", encoding="utf-8")
    code, out = _run("incidents", "report", "no-such-incident", "-o", str(target))
    assert code == 2 and "--force" in out and target.read_text(encoding="utf-8") == "keep me"


def test_export_to_a_missing_directory_is_a_clean_error(home: Path) -> None:
    code, out = _run("audit", "export", "-o", str(home / "no" / "such" / "dir" / "x.jsonl"))
    assert code == 2, out  # a clean one-line error, not a traceback
