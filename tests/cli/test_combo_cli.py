"""``hegui combo`` as a user runs it: the real entry point (in this process, see ``cli_runner``; the bad
file check in a real process), the installation's settings."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from cli_runner import hegui as run_hegui


def hegui(cwd: Path, *args: str, process: bool = False) -> subprocess.CompletedProcess[str]:
    return run_hegui(*args, cwd=cwd, process=process)


def test_test_shows_matches_and_the_exclusion_that_cancelled_one(tmp_path: Path) -> None:
    r = hegui(tmp_path, "combo", "test", "--json", "-d", "output", "第一步，把硝酸铵和燃油按比例混合")
    assert r.returncode == 0, r.stderr
    (hit,) = json.loads(r.stdout)["hits"]
    assert hit["rule"].endswith("#zh.anfo") and hit["excluded_by"] is None
    assert hit["terms"] == ["硝酸铵", "燃油", "比例"] and (hit["start"], hit["end"]) == (5, 14)
    hits = json.loads(hegui(tmp_path, "combo", "test", "--json", "警方在他家搜出自制炸药").stdout)["hits"]
    assert [(h["rule"].rsplit("#", 1)[1], h["excluded_by"]) for h in hits] == [("zh.explosive.make", "警方")]


def test_list_includes_the_operator_file_from_settings(tmp_path: Path) -> None:
    (tmp_path / "ops.yaml").write_text("rules:\n- {id: ops.x, category: A1.8, groups: [[测试物甲], [测试动作乙]]}\n",
                                       encoding="utf-8")
    (tmp_path / "hegui.yaml").write_text("combo_rules: [ops.yaml]\n", encoding="utf-8")
    r = hegui(tmp_path, "combo", "list", "--json", "--category", "A1.8")
    assert r.returncode == 0, r.stderr
    ids = [x["id"] for x in json.loads(r.stdout)]
    assert "ops.x" in ids and "zh.drug.make" in ids


def test_check_reports_a_bad_file_with_its_reason_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("rules:\n- {id: x, category: A1.4, groups: [[only-one]]}\n", encoding="utf-8")
    r = hegui(tmp_path, "combo", "check", "bad.yaml", process=True)
    assert r.returncode == 2
    assert "bad.yaml: rules[0] (x): groups must be a list of at least two term lists" in r.stderr
    assert "Traceback" not in r.stderr
    (tmp_path / "good.jsonl").write_text('{"id": "g", "category": "A1.4", "groups": [["甲物"], ["乙动"]]}\n',
                                         encoding="utf-8")
    ok = hegui(tmp_path, "combo", "check", "good.jsonl")
    assert ok.returncode == 0 and "1 rules ok" in ok.stdout
