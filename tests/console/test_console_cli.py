"""``hegui console`` staff commands as an operator runs them: the real entry point (in this process, see
``cli_runner``; the short password in a real process) in a fresh directory."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from cli_runner import hegui as run_hegui
from hegui.console import staff
from hegui.context import HeguiContext


def hegui(cwd: Path, *args: str, stdin: str = "", process: bool = False) -> subprocess.CompletedProcess[str]:
    return run_hegui(*args, cwd=cwd, stdin=stdin, process=process)


def test_create_staff_then_log_in_with_that_password(tmp_path: Path) -> None:
    r = hegui(tmp_path, "console", "create-staff", "--username", "officer", "--role", "compliance",
              "--password-stdin", stdin="a good long password\n")
    assert r.returncode == 0, r.stderr
    listed = json.loads(hegui(tmp_path, "console", "list-staff", "--json").stdout)
    assert [(s["username"], s["role"], s["status"]) for s in listed] == [("officer", "compliance", "active")]
    ctx = HeguiContext.load()
    try:
        assert staff.authenticate(ctx.db, "officer", "a good long password") is not None
    finally:
        ctx.close()


def test_short_password_is_one_line_on_stderr_and_exit_2(tmp_path: Path) -> None:
    r = hegui(tmp_path, "console", "create-staff", "--username", "x1", "--role", "admin", "--password-stdin",
              stdin="short\n", process=True)
    assert r.returncode == 2 and "at least" in r.stderr and "Traceback" not in r.stderr
