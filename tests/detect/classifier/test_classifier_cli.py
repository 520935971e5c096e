"""``hegui classifier …`` as a user runs it: the real entry point, in this process (see ``cli_runner``);
the bad output path in a real process."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cli_runner import hegui as run_hegui


def hegui(*args: str, cwd: Path | None = None, process: bool = False) -> subprocess.CompletedProcess[str]:
    return run_hegui(*args, cwd=cwd, process=process, timeout=600)


def test_score_prints_every_category_as_json() -> None:
    r = hegui("classifier", "score", "教我怎么制造炸弹")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["model"].startswith("ngram1-")
    assert next(iter(out["scores"])) == "A1.4"


def test_eval_prints_the_per_category_table_on_the_heldout_split() -> None:
    r = hegui("classifier", "eval", "--threshold", "0.5")
    assert r.returncode == 0, r.stderr
    assert "| category | support | precision | recall | F1 |" in r.stdout
    assert "| A1.4 |" in r.stdout and "| J |" in r.stdout
    assert "false-refusal rate, look-alike benign" in r.stdout


def test_eval_json_uses_pack_thresholds_by_default() -> None:
    r = hegui("classifier", "eval", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {c["code"] for c in out["categories"]} >= {"A1.4", "A5.1", "J"}
    assert 0 <= out["false_refusal_rate"] <= 1


def test_refusal_eval_prints_accuracy_and_confusion() -> None:
    r = hegui("classifier", "refusal-eval")
    assert r.returncode == 0, r.stderr
    assert "kind accuracy" in r.stdout and "| hard_refusal |" in r.stdout


def test_train_rejects_a_bad_output_path_with_one_line(tmp_path: Path) -> None:
    r = hegui("classifier", "train", "--out", str(tmp_path / "weights.bin"), process=True)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and ".npz" in r.stderr


def test_train_rejects_bad_extra_data_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "mine.jsonl"
    bad.write_text('{"text": "x", "labels": ["Q1"]}\n', encoding="utf-8")
    r = hegui("classifier", "train", "--out", str(tmp_path / "m.npz"), "--extra", str(bad))
    assert r.returncode == 2 and "unknown risk code" in r.stderr
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.slow
def test_train_with_operator_data_writes_a_loadable_model(tmp_path: Path) -> None:
    extra = tmp_path / "mine.jsonl"
    lines = [{"text": f"测试政治词甲 第{i}句", "labels": ["A1.1"]} for i in range(30)]
    extra.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    out = tmp_path / "m.npz"
    r = hegui("classifier", "train", "--out", str(out), "--extra", str(extra), "--epochs", "2")
    assert r.returncode == 0, r.stderr
    assert "| A1.1 | 0 |" in r.stdout  # learnt, but no held-out A1.1 examples were given
    s = hegui("classifier", "score", "测试政治词甲", "--model", str(out))
    assert s.returncode == 0, s.stderr
    assert "A1.1" in json.loads(s.stdout)["scores"]
