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


def in_process(*args: str) -> int:
    """``hegui ARGS`` through the real entry point (``run``: errors → one line, exit 2), in this
    process; the caller reads the output with capsys. The working directory is the test's own
    tmp_path (see conftest), so the installation is fresh."""
    from hegui.cli import main

    old = sys.argv
    sys.argv = ["hegui", *args]
    try:
        main.run()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = old
    return code


def test_source_commands_and_missing_evidence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "LICENSE").write_text("CC0 1.0", encoding="utf-8")
    code = in_process("corpus", "source", "add", "web", "--kind", "open", "--evidence", "LICENSE", "--json")
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out)["evidence"][0]["kind"] == "licence"
    assert in_process("corpus", "source", "add", "crawl", "--kind", "self") == 0
    capsys.readouterr()
    in_process("corpus", "source", "list", "--json")
    listed = json.loads(capsys.readouterr().out)
    assert {s["name"]: s["missing_evidence"] for s in listed} == {"crawl": ["collection_record", "opt_out"],
                                                                  "web": []}
    in_process("corpus", "source", "show", "crawl")
    assert "missing evidence: collection_record, opt_out" in capsys.readouterr().out


BAD_INPUTS: list[tuple[str, ...]] = [
    ("corpus", "source", "add", "x", "--kind", "scraped"),
    ("corpus", "source", "add", "web", "--kind", "open"),
    ("corpus", "source", "show", "nobody"),
    ("corpus", "audit", "data", "--out", "o"),
    ("corpus", "audit", "nobody=.", "--out", "o"),
    ("corpus", "audit", "--source", "web", "missing-dir", "--out", "o"),
    ("corpus", "audit", "--source", "web", ".", "--out", "o", "--clean", "shred"),
    ("corpus", "audit", "--source", "web", ".", "--out", "o", "--classifier-share", "0"),
    ("corpus", "audit", "--source", "web", ".", "--out", "o", "--classifier-share", "1.5"),
    ("corpus", "review", "import", "no-such.csv"),
]


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "data").mkdir()
    assert in_process("corpus", "source", "add", "web", "--kind", "open", "--licence", "MIT") == 0
    capsys.readouterr()
    for args in BAD_INPUTS:
        code = in_process(*args)
        err = capsys.readouterr().err
        assert code == 2, (args, err)
        assert "Traceback" not in err and err.strip().startswith("error:") and len(err.strip().splitlines()) == 1, \
            (args, err)


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
