"""``hegui identity`` and ``hegui users create --verified`` as an operator runs them: the real entry point,
in this process (see ``cli_runner``); the bad document number in a real process."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from idkit import bad_check, make_id

from cli_runner import hegui as run_hegui

pytestmark = pytest.mark.slow  # each step is a separate `hegui` run


def hegui(cwd: Path, *args: str, process: bool = False) -> subprocess.CompletedProcess[str]:
    return run_hegui(*args, cwd=cwd, process=process)


def test_register_verify_and_accept_from_the_cli(tmp_path: Path) -> None:
    number, phone = make_id("19880808"), "13712345678"
    reg = hegui(tmp_path, "identity", "register", "--name", "钱七", "--doc-number", number, "--mobile", phone,
                "--json")
    assert reg.returncode == 0, reg.stderr
    uid = json.loads(reg.stdout)["user_id"]
    sent = hegui(tmp_path, "identity", "send-code", uid)
    assert sent.returncode == 0, sent.stderr
    assert number not in sent.stdout + sent.stderr and phone not in sent.stdout + sent.stderr
    code = re.search(rf"one-time code for user {uid}: (\d{{6}})", sent.stdout)
    assert code is not None, sent.stdout
    verified = hegui(tmp_path, "identity", "verify", uid, code.group(1), "--json")
    assert json.loads(verified.stdout)["state"] == "verified"
    (tmp_path / "zh.txt").write_text("服务协议", encoding="utf-8")
    (tmp_path / "en.txt").write_text("Service agreement", encoding="utf-8")
    pub = hegui(tmp_path, "identity", "agreement", "publish", "--version", "2026-01", "--zh", "zh.txt", "--en",
                "en.txt")
    assert pub.returncode == 0, pub.stderr
    assert hegui(tmp_path, "identity", "agreement", "accept", uid, "2026-01").returncode == 0
    status = json.loads(hegui(tmp_path, "identity", "status", uid, "--json").stdout)
    assert status["state"] == "verified" and status["agreement_to_accept"] is None and status["age"] is not None


def test_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    r = hegui(tmp_path, "identity", "register", "--name", "钱七", "--doc-number", bad_check(make_id()),
              "--mobile", "13712345678", process=True)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "check character" in r.stderr
    r = hegui(tmp_path, "users", "create", "--name", "x", "--birth-date", "2010-02-30")
    assert r.returncode == 2 and "YYYY-MM-DD" in r.stderr
    assert json.loads(hegui(tmp_path, "users", "list", "--json").stdout) == []


def test_users_create_verified_with_birth_date(tmp_path: Path) -> None:
    r = hegui(tmp_path, "users", "create", "--name", "minor test", "--verified", "--reason", "QA account",
              "--birth-date", "2011-06-01", "--json")
    assert r.returncode == 0, r.stderr
    ident = json.loads(r.stdout)["identity"]
    assert (ident["state"], ident["method"], ident["reason"]) == ("verified", "operator-attested", "QA account")
    assert ident["birth_date_source"] == "operator" and ident["age"] < 18


def test_existing_account_is_attested(tmp_path: Path) -> None:
    uid = json.loads(hegui(tmp_path, "users", "create", "--name", "old bot", "--json").stdout)["user_id"]
    r = hegui(tmp_path, "identity", "attest", uid, "--reason", "created before enforcement", "--by", "ops", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["state"] == "verified" and json.loads(r.stdout)["verified_by"] == "ops"
