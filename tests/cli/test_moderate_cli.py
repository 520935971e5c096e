"""``hegui moderate`` as a user runs it: the real entry point (in this process, see ``cli_runner``; the
usage error in a real process), a real (SQLite) database in a temp dir."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cli_runner import hegui as run_hegui


def hegui(*args: str, cwd: Path, stdin: str | None = None, process: bool = False) -> subprocess.CompletedProcess[str]:
    return run_hegui(*args, cwd=cwd, stdin=stdin, process=process)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("moderate")
    r = hegui("lexicon", "add", "测试政治词甲", "--category", "A1.1", "--severity", "3", cwd=d)
    assert r.returncode == 0, r.stderr
    return d


LINES = [
    json.dumps({"id": "a", "text": "今天天气很好"}, ensure_ascii=False),
    "this is not json",
    json.dumps({"id": 7, "text": "他的电话是13812345678"}, ensure_ascii=False),
    json.dumps({"id": "no-text"}),
    "",
    json.dumps({"id": "bad-type", "text": 42}),
    json.dumps(["a", "list"]),
    json.dumps({"text": "这里有测试政治词甲"}, ensure_ascii=False),
]


def test_jsonl_contract_in_order_with_errors_and_exit_1(workdir: Path) -> None:
    src = workdir / "in.jsonl"
    src.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    out = workdir / "out.jsonl"
    r = hegui("moderate", "--jsonl", str(src), "--direction", "output", "--out", str(out), "--no-models",
              cwd=workdir)
    assert r.returncode == 1, r.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 7  # the blank line is skipped
    assert rows[0] == {"id": "a", "action": "allow", "categories": [], "findings": []}
    assert rows[1]["error"].startswith("not JSON") and rows[1]["line"] == 2
    assert rows[2] == {"id": 7, "action": "mask", "categories": ["A4.6"], "findings": [
        {"detector": "pii", "type": "cn_mobile", "category": "A4.6", "start": 5, "end": 16}]}
    assert rows[3] == {"id": "no-text", "line": 4, "error": "missing field 'text'"}
    assert rows[4]["id"] == "bad-type" and "must be a string" in rows[4]["error"]
    assert rows[5]["error"] == "not a JSON object"
    assert rows[6]["action"] == "block" and rows[6]["categories"] == ["A1.1"] and rows[6]["id"] is None
    assert set(rows[6]["findings"][0]) == {"detector", "type", "category", "start", "end"}


@pytest.mark.slow
def test_jsonl_stdin_to_stdout_exit_0_when_all_lines_ok(workdir: Path) -> None:
    data = LINES[0] + "\n" + LINES[7] + "\n"
    r = hegui("moderate", "--jsonl", "-", "--no-models", cwd=workdir, stdin=data)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [row["action"] for row in rows] == ["allow", "refuse"]


@pytest.mark.slow
def test_single_text_json(workdir: Path) -> None:
    r = hegui("moderate", "这里有测试政治词甲", "--json", "--no-models", cwd=workdir)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["action"] == "refuse" and d["rule"] == "moderation.categories.A1@cn-genai"
    assert d["refusal_text"]


@pytest.mark.slow
def test_single_text_human(workdir: Path) -> None:
    r = hegui("moderate", "他的电话是13812345678", "-d", "output", "--no-models", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert "mask" in r.stdout and "138****5678" in r.stdout and "cn_mobile" in r.stdout


@pytest.mark.slow
def test_text_and_jsonl_together_is_a_usage_error(workdir: Path) -> None:
    r = hegui("moderate", "x", "--jsonl", "-", cwd=workdir, process=True)
    assert r.returncode == 2
    assert "either a TEXT" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_missing_jsonl_file_is_one_clear_error(workdir: Path) -> None:
    r = hegui("moderate", "--jsonl", "nope.jsonl", "--no-models", cwd=workdir)
    assert r.returncode == 2
    assert "no such file" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize(("threshold", "loaded"), [(1, True), (1 << 40, False)])
def test_jsonl_loads_the_compiled_kernels_only_for_large_files(workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                                              threshold: int, loaded: bool) -> None:
    from hegui.cli import moderate
    from hegui.moderation import ModerationEngine

    calls: list[int] = []
    monkeypatch.setattr(moderate, "KERNELS_MIN_BYTES", threshold)
    monkeypatch.setattr(ModerationEngine, "compile_kernels", lambda self: calls.append(1))
    src = workdir / "in.jsonl"
    src.write_text(LINES[0] + "\n" + LINES[7] + "\n", encoding="utf-8")
    r = hegui("moderate", "--jsonl", str(src), "--no-models", cwd=workdir)
    assert r.returncode == 0, r.stderr
    assert [json.loads(line)["action"] for line in r.stdout.splitlines()] == ["allow", "refuse"]
    assert calls == ([1] if loaded else [])
