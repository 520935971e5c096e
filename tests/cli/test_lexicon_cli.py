"""``hegui lexicon`` as a user runs it: the real entry point (in this process, see ``cli_runner``; the bad
import in a real process) on a fresh installation."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from cli_runner import hegui as run_hegui


def hegui(cwd: Path, *args: str, process: bool = False) -> subprocess.CompletedProcess[str]:
    return run_hegui(*args, cwd=cwd, process=process)


def test_import_add_test_stats_and_remove_missing(tmp_path: Path) -> None:
    (tmp_path / "ops.txt").write_text("测试政治词甲\t3\n测试政治词乙\n", "utf-8")
    r = hegui(tmp_path, "lexicon", "import", "ops.txt", "--category", "A1.1", "--source", "ops")
    assert r.returncode == 0, r.stderr
    assert "2 new" in r.stdout
    assert hegui(tmp_path, "lexicon", "add", "炸", "--category", "A1.6", "--allow", "炸鸡").returncode == 0

    t = json.loads(hegui(tmp_path, "lexicon", "test", "--json", "吃炸鸡，说测 试 政 治 词 甲").stdout)
    live = [h for h in t["hits"] if h["cancelled_by"] is None]
    assert [(h["category"], h["match"], h["start"], h["end"]) for h in live] == [("A1.1", "测试政治词甲", 5, 16)]
    assert [h["cancelled_by"]["phrase"] for h in t["hits"] if h["cancelled_by"]] == ["炸鸡"]

    st = json.loads(hegui(tmp_path, "lexicon", "stats", "--json").stdout)
    by = {r["code"]: r for r in st["risks"]}
    assert by["A1.1"]["terms"] == 2 and by["A1.2"]["status"] == "operator slot, empty"

    r = hegui(tmp_path, "lexicon", "remove", "不存在的词")
    assert r.returncode == 2 and "not in the lexicon" in r.stderr


def test_bad_import_is_one_line_naming_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_text("好词\n坏词\t9\n", "utf-8")
    r = hegui(tmp_path, "lexicon", "import", "bad.txt", "--category", "A1.4", process=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "bad.txt:2" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert json.loads(hegui(tmp_path, "lexicon", "list", "--json", "--source", "operator").stdout) == []
