"""The foundation commands as a user runs them: the real entry point, in this process (``cli_runner``);
``--version`` and the one-line settings error in a real ``hegui`` process."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cli_runner import hegui as run_hegui
from hegui.policy.obligations import OBLIGATIONS


def hegui(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
          process: bool = False) -> subprocess.CompletedProcess[str]:
    return run_hegui(*args, cwd=cwd, env=env, process=process)


def test_version() -> None:
    r = hegui("--version", process=True)
    assert r.returncode == 0 and r.stdout.startswith("hegui ")


def test_help_lists_commands() -> None:
    r = hegui("--help")
    assert r.returncode == 0
    for cmd in ("init", "db", "policy", "obligations"):
        assert cmd in r.stdout


def test_init_is_idempotent(tmp_path: Path) -> None:
    first = hegui("init", "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    a = json.loads(first.stdout)
    assert a["config_written"] and a["created"]
    assert (tmp_path / "hegui.yaml").read_text().startswith("# hegui configuration")
    assert (tmp_path / ".hegui" / "hegui.db").is_file()
    assert oct((tmp_path / ".hegui" / "secret.key").stat().st_mode & 0o777) == "0o600"
    second = json.loads(hegui("init", "--json", cwd=tmp_path).stdout)
    assert not second["config_written"] and not second["created"]
    assert second["installation_id"] == a["installation_id"]


@pytest.mark.postgres
def test_db_upgrade_on_postgresql(tmp_path: Path, pg_url: str) -> None:
    r = hegui("db", "upgrade", env={"HEGUI_DATABASE_URL": pg_url}, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    st = json.loads(hegui("db", "status", "--json", env={"HEGUI_DATABASE_URL": pg_url}, cwd=tmp_path).stdout)
    assert st["up_to_date"] is True


def test_bad_setting_is_one_line_exit_2(tmp_path: Path) -> None:
    r = hegui("db", "status", env={"HEGUI_GATEWAY__PORT": "x"}, cwd=tmp_path, process=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "gateway.port" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_bad_pack_path_is_clear(tmp_path: Path) -> None:
    r = hegui("policy", "show", env={"HEGUI_POLICY_PACK": str(tmp_path / "none.yaml")}, cwd=tmp_path)
    assert r.returncode == 2 and "not found" in r.stderr and "Traceback" not in r.stderr


def test_policy_show_json(tmp_path: Path) -> None:
    r = hegui("policy", "show", "--json", cwd=tmp_path)
    data = json.loads(r.stdout)
    assert data["name"] == "cn-genai"
    assert data["moderation"]["categories"]["A1"]["input"] == "refuse"


def test_obligations_json_lists_o1_to_o15(tmp_path: Path) -> None:
    r = hegui("obligations", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [x["id"] for x in rows] == [f"O{i}" for i in range(1, 16)]
    assert len(OBLIGATIONS) == 15
    for row in rows:
        assert row["controls"], row["id"]
        assert row["status"] in {"working", "configured", "not_configured", "failing", "not_implemented"}
