"""``hegui lexicon`` run as a user runs it: a real process on a fresh installation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def hegui(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEGUI_")}
    return subprocess.run([sys.executable, "-m", "hegui", *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=120)


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
    r = hegui(tmp_path, "lexicon", "import", "bad.txt", "--category", "A1.4")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "bad.txt:2" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert json.loads(hegui(tmp_path, "lexicon", "list", "--json", "--source", "operator").stdout) == []
