"""``hegui console`` staff commands as an operator runs them: a real process in a fresh directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from hegui.console import staff
from hegui.context import HeguiContext


def hegui(cwd: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEGUI_")}
    return subprocess.run([sys.executable, "-m", "hegui", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120, input=stdin)


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
              stdin="short\n")
    assert r.returncode == 2 and "at least" in r.stderr and "Traceback" not in r.stderr
