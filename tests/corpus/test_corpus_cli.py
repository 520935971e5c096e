"""``hegui corpus`` as a user runs it: a real process, the installation's own moderation engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from corpus_helpers import mixed_rows, write_jsonl


def hegui(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEGUI_")}
    return subprocess.run([sys.executable, "-m", "hegui", *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=300)


def test_source_commands_and_missing_evidence(tmp_path: Path) -> None:
    (tmp_path / "LICENSE").write_text("CC0 1.0", encoding="utf-8")
    r = hegui("corpus", "source", "add", "web", "--kind", "open", "--evidence", "LICENSE", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["evidence"][0]["kind"] == "licence"
    assert hegui("corpus", "source", "add", "crawl", "--kind", "self", cwd=tmp_path).returncode == 0
    listed = json.loads(hegui("corpus", "source", "list", "--json", cwd=tmp_path).stdout)
    assert {s["name"]: s["missing_evidence"] for s in listed} == {"crawl": ["collection_record", "opt_out"],
                                                                  "web": []}
    shown = hegui("corpus", "source", "show", "crawl", cwd=tmp_path)
    assert "missing evidence: collection_record, opt_out" in shown.stdout


BAD_INPUTS: list[tuple[str, ...]] = [
    ("corpus", "source", "add", "x", "--kind", "scraped"),
    ("corpus", "source", "show", "nobody"),
    ("corpus", "audit", "data", "--out", "o"),
    ("corpus", "audit", "nobody=.", "--out", "o"),
    ("corpus", "audit", "--source", "web", "missing-dir", "--out", "o"),
    ("corpus", "audit", "--source", "web", ".", "--out", "o", "--clean", "shred"),
    ("corpus", "review", "import", "no-such.csv"),
]


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    assert hegui("corpus", "source", "add", "web", "--kind", "open", "--licence", "MIT", cwd=tmp_path).returncode == 0
    for args in BAD_INPUTS:
        r = hegui(*args, cwd=tmp_path)
        assert r.returncode == 2, (args, r.stdout + r.stderr)
        assert "Traceback" not in r.stderr and r.stderr.strip().startswith("error:"), args


@pytest.mark.slow
def test_audit_writes_report_and_sample_and_exit_status_follows_the_gates(tmp_path: Path) -> None:
    assert hegui("corpus", "source", "add", "web", "--kind", "open", "--licence", "MIT", cwd=tmp_path).returncode == 0
    write_jsonl(tmp_path / "data" / "a.jsonl", [*mixed_rows(30), "{broken"])
    r = hegui("corpus", "audit", "web=data", "--out", "out", "--workers", "1", "--json", cwd=tmp_path)
    assert r.returncode in (0, 1), r.stderr
    report = json.loads(r.stdout)
    assert report["totals"]["items"] == 30 and report["sources"][0]["files"][0]["broken"] == 1
    any_failed = any(g["passed"] is False for g in report["gates"].values()) or not report["sources"][0]["passed"]
    assert r.returncode == (1 if any_failed else 0)
    assert json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))["audit_id"] == report["audit_id"]
    assert (tmp_path / "out" / "review_sample.csv").read_text(encoding="utf-8-sig").startswith("audit_id,item_key")
    o2 = json.loads(hegui("obligations", "--json", cwd=tmp_path).stdout)
    row = next(x for x in o2 if x["id"] == "O2") if isinstance(o2, list) else None
    assert row is not None and "web:" in row["controls"][0]["detail"]
