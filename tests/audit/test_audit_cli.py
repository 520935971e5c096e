"""``hegui audit verify|export|purge`` as a user runs them: the real entry point, in this process (see
``cli_runner``); the bad time in a real process."""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import update

from cli_runner import hegui as run_hegui
from hegui.audit import log as audit_log
from hegui.audit.log import Exchange
from hegui.context import HeguiContext
from hegui.install import ensure_database
from hegui.store.models.audit import AuditRecord


def hegui(cwd: Path, *args: str, process: bool = False) -> subprocess.CompletedProcess[str]:
    return run_hegui(*args, cwd=cwd, process=process)


def seed(n: int, days_ago: int = 0) -> HeguiContext:
    ctx = HeguiContext.load()
    ensure_database(ctx)
    ts = datetime.now(UTC) - timedelta(days=days_ago)
    audit_log.append(ctx.db, ctx.keys, [
        Exchange(record_id=str(uuid.uuid4()), ts=ts, endpoint="chat.completions", status_code=200, decision="allow",
                 content={"answer": f"回答{i}"}) for i in range(n)])
    return ctx


def test_verify_ok_then_broken(tmp_path: Path) -> None:
    ctx = seed(3)
    ok = hegui(tmp_path, "audit", "verify", "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["records"] == 3
    with ctx.db.engine.begin() as c:
        c.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(model="tampered"))
    ctx.close()
    bad = hegui(tmp_path, "audit", "verify")
    assert bad.returncode == 1 and "BROKEN" in bad.stderr and "seq 2" in bad.stderr


def test_export_jsonl_and_decrypt(tmp_path: Path) -> None:
    seed(2).close()
    sealed = [json.loads(x) for x in hegui(tmp_path, "audit", "export").stdout.splitlines()]
    assert [r["content"] for r in sealed] == ["(sealed)", "(sealed)"]
    opened = hegui(tmp_path, "audit", "export", "--decrypt", "--since", "2000-01-01", "-o", "out.jsonl")
    assert opened.returncode == 0
    rows = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["content"]["answer"] for r in rows] == ["回答0", "回答1"]


def test_export_bad_time_is_exit_2(tmp_path: Path) -> None:
    r = hegui(tmp_path, "audit", "export", "--since", "last tuesday", process=True)
    assert r.returncode == 2 and "--since" in r.stderr and "Traceback" not in r.stderr


def test_purge_by_retention_keeps_chain(tmp_path: Path) -> None:
    seed(2, days_ago=400).close()
    r = hegui(tmp_path, "audit", "purge", "--json")
    assert json.loads(r.stdout) == {"content_purged": 2, "older_than_days": 183}
    v = hegui(tmp_path, "audit", "verify", "--json")
    assert v.returncode == 0 and json.loads(v.stdout)["content_purged"] == 2
