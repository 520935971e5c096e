"""``hegui complaints|requests|incidents|sanctions|rectification|privacy`` as an operator runs them: the real
entry point, in this process (see ``cli_runner``); the bad input in a real process."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from casekit import clock, new_user, record

from cli_runner import hegui as run_hegui
from hegui.cases.common import utc_now
from hegui.cases.complaints import ComplaintService
from hegui.cases.notify import LogNotifier
from hegui.context import HeguiContext
from hegui.install import ensure_database

pytestmark = pytest.mark.slow  # each test runs the CLI a few times, each run on a fresh installation


def hegui(cwd: Path, *args: str, process: bool = False) -> subprocess.CompletedProcess[str]:
    return run_hegui(*args, cwd=cwd, process=process)


def local_ctx() -> HeguiContext:
    ctx = HeguiContext.load()
    ensure_database(ctx)
    return ctx


def test_overdue_complaint_escalates_from_the_command_line(tmp_path: Path) -> None:
    ctx = local_ctx()
    late = ComplaintService(ctx, clock(utc_now() - timedelta(days=20)), LogNotifier()).file("ip", "旧投诉")["ticket"]
    ctx.close()
    fresh = json.loads(hegui(tmp_path, "complaints", "file", "--category", "other", "--description", "新投诉",
                             "--json").stdout)["ticket"]
    r = hegui(tmp_path, "complaints", "escalate", "--json")
    assert r.returncode == 0, r.stderr
    assert [e["ticket"] for e in json.loads(r.stdout)] == [late]
    overdue = json.loads(hegui(tmp_path, "complaints", "list", "--overdue", "--json").stdout)
    assert [c["ticket"] for c in overdue] == [late] and fresh != late


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    r = hegui(tmp_path, "complaints", "file", "--category", "spam", "--description", "x", process=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "category" in r.stderr
    assert "Traceback" not in r.stderr


def test_privacy_delete_removes_content_and_audit_still_verifies(tmp_path: Path) -> None:
    ctx = local_ctx()
    u = new_user(ctx)
    record(ctx, u, text="要删除的对话")
    ctx.close()
    r = hegui(tmp_path, "privacy", "delete", u, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["result"]["audit_contents"] == 1
    out = hegui(tmp_path, "privacy", "export", u, "--format", "text").stdout
    assert "要删除的对话" not in out and "content deleted" in out
    assert hegui(tmp_path, "audit", "verify").returncode == 0


def test_incident_report_and_sanction_from_the_command_line(tmp_path: Path) -> None:
    ctx = local_ctx()
    u = new_user(ctx)
    rid = record(ctx, u, "refuse")
    ctx.close()
    inc = json.loads(hegui(tmp_path, "incidents", "open", "--summary", "违法内容", "--record", rid, "--json").stdout)
    assert hegui(tmp_path, "incidents", "confirm", inc["id"]).returncode == 0
    out = tmp_path / "report.docx"
    r = hegui(tmp_path, "incidents", "report", inc["id"], "--format", "docx", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:2] == b"PK"
    items = json.loads(hegui(tmp_path, "rectification", "list", "--json").stdout)
    assert len(items) == 4 and {i["incident_id"] for i in items} == {inc["id"]}
    s = json.loads(hegui(tmp_path, "sanctions", "apply", u, "suspend", "--reason", "违法内容", "--evidence", rid,
                         "--json").stdout)
    assert s["step"] == "suspend" and s["evidence"] == [rid] and s["until"]


def test_consent_defaults_off_and_is_set_from_the_command_line(tmp_path: Path) -> None:
    ctx = local_ctx()
    u = new_user(ctx)
    ctx.close()
    assert json.loads(hegui(tmp_path, "privacy", "consent", u, "--json").stdout)["training_use"] is False
    assert json.loads(hegui(tmp_path, "privacy", "consent", u, "--training", "--json").stdout)["training_use"] is True
