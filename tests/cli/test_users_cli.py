"""``hegui users`` as a user runs it: the real entry point (in this process, see ``cli_runner``; the
unknown user in a real process) in a fresh directory."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from cli_runner import hegui as run_hegui
from hegui.context import HeguiContext
from hegui.identity import accounts


def hegui(cwd: Path, *args: str, process: bool = False) -> subprocess.CompletedProcess[str]:
    return run_hegui(*args, cwd=cwd, process=process)


def test_user_lifecycle(tmp_path: Path) -> None:
    created = hegui(tmp_path, "users", "create", "--name", "客服应用", "--json")
    assert created.returncode == 0, created.stderr
    out = json.loads(created.stdout)
    assert set(out) == {"user_id", "api_key"} and out["api_key"].startswith("hg-")

    listed = json.loads(hegui(tmp_path, "users", "list", "--json").stdout)
    assert [(u["user_id"], u["name"], u["status"]) for u in listed] == [(out["user_id"], "客服应用", "active")]

    rotated = json.loads(hegui(tmp_path, "users", "rotate-key", out["user_id"], "--json").stdout)
    assert rotated["api_key"] != out["api_key"]
    assert hegui(tmp_path, "users", "disable", out["user_id"]).returncode == 0

    ctx = HeguiContext.load()  # the same ./.hegui state the commands used (cwd is tmp_path)
    try:
        assert accounts.authenticate(ctx.db, out["api_key"]) is None
        assert accounts.authenticate(ctx.db, rotated["api_key"]) is None  # disabled user
        assert accounts.list_users(ctx.db)[0].status == "disabled"
    finally:
        ctx.close()


def test_unknown_user_is_one_line_exit_2(tmp_path: Path) -> None:
    r = hegui(tmp_path, "users", "disable", "u_nobody", process=True)
    assert r.returncode == 2 and "no user with id 'u_nobody'" in r.stderr and "Traceback" not in r.stderr


def test_bad_role_is_one_line_exit_2(tmp_path: Path) -> None:
    r = hegui(tmp_path, "users", "create", "--name", "x", "--role", "superuser")
    assert r.returncode == 2 and "unknown role" in r.stderr and "Traceback" not in r.stderr
