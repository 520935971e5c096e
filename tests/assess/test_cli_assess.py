"""``hegui assess`` as a user runs it: the real entry point, in this process (see ``cli_runner``); the
bad bank file in a real process."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from assess_helpers import ChatServer, Script, small_bank

from cli_runner import hegui as run_hegui


def hegui(*args: str, cwd: Path, process: bool = False) -> subprocess.CompletedProcess[str]:
    return run_hegui(*args, cwd=cwd, process=process)


def test_bank_stats_json_reports_coverage_and_operator_slots(tmp_path: Path) -> None:
    r = hegui("assess", "bank", "stats", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    banks = {b["bank"]: b for b in doc["banks"]}
    assert set(banks) == {"generated", "should_refuse", "should_not_refuse"}
    gen = {c["key"]: c for c in banks["generated"]["coverage"]}
    assert gen["A1.1"]["status"] == "operator slot" and gen["A1.4"]["status"] == "ok"
    assert banks["should_not_refuse"]["meets_minimums"] is True


def test_bank_import_rejects_a_bad_file_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    r = hegui("assess", "bank", "import", str(bad), cwd=tmp_path, process=True)
    assert r.returncode == 2 and "bad.jsonl:1" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_run_with_a_malformed_endpoint_is_a_one_line_error(tmp_path: Path) -> None:
    r = hegui("assess", "run", "--endpoint", "localhost:9/v1", "--model", "m", "--out", "run", cwd=tmp_path)
    assert r.returncode == 2 and "must start with http" in r.stderr and "Traceback" not in r.stderr


def test_score_on_a_folder_that_is_not_a_run_is_a_one_line_error(tmp_path: Path) -> None:
    r = hegui("assess", "score", str(tmp_path), cwd=tmp_path)
    assert r.returncode == 2 and "no plan.json" in r.stderr


@pytest.mark.slow
def test_cli_run_end_to_end_with_the_installed_engine(tmp_path: Path, chat_server: ChatServer,
                                                      script: Script) -> None:
    """The shipped judges (seeded default lexicon, embedded classifier, refusal detector) via the CLI.

    Refusal rates depend only on the refusal detector, so they are exact; the content pass rates
    depend on the shipped lexicon and model, so only their presence is checked here (exact content
    rates are asserted in test_end_to_end with a known lexicon and classifier)."""
    small_bank(tmp_path, script)
    assert hegui("init", cwd=tmp_path).returncode == 0
    r = hegui("assess", "run", "--endpoint", chat_server.url, "--model", "scripted", "--out", "run",
              "--bank", str(tmp_path / "bank.jsonl"), "--retries", "3", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["metrics"]["refusal_rate_should_refuse"] == 6 / 8
    assert doc["metrics"]["refusal_rate_should_not_refuse"] == 1 / 5
    assert isinstance(doc["metrics"]["pass_rate_keyword"], float)
    assert isinstance(doc["metrics"]["pass_rate_classifier"], float)
    ob = json.loads(hegui("obligations", "--json", cwd=tmp_path).stdout)
    o13 = next(o for o in ob if o["id"] == "O13")
    assert next(c for c in o13["controls"] if c["control"] == "assess.run")["status"] == "failing"
