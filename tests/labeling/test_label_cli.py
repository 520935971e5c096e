"""`hegui label` as a user runs it: the real entry point (in this process, see ``cli_runner``; the
truncated input in a real process), exit codes, one-line errors, no stray outputs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from labelfiles import image_bytes, picture, wav_bytes

from cli_runner import hegui as run_hegui

pytestmark = pytest.mark.slow  # each test runs `hegui` several times


def hegui(*args: str, cwd: Path, process: bool = False) -> subprocess.CompletedProcess[str]:
    return run_hegui(*args, cwd=cwd, env={"HEGUI_PROVIDER__PRODUCER_CODE": "CLI-PRODUCER"}, process=process)


def test_add_then_verify_json(tmp_path: Path) -> None:
    (tmp_path / "in.png").write_bytes(image_bytes("PNG", picture(300, 200)))
    r = hegui("label", "add", "in.png", "out.png", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    v = hegui("label", "verify", "out.png", "--json", cwd=tmp_path)
    assert v.returncode == 0, v.stderr
    doc = json.loads(v.stdout)
    assert set(doc) == {"format", "implicit", "explicit", "integrity", "verdict", "problems"}
    assert doc["format"] == "png" and doc["integrity"] == "valid" and doc["verdict"] == "compliant"
    assert doc["implicit"]["ContentProducer"] == "CLI-PRODUCER" and doc["explicit"]["found"] is True


def test_verify_unlabelled_file_exits_1_with_not_found(tmp_path: Path) -> None:
    (tmp_path / "in.wav").write_bytes(wav_bytes())
    v = hegui("label", "verify", "in.wav", "--json", "--no-explicit", cwd=tmp_path)
    assert v.returncode == 1
    doc = json.loads(v.stdout)
    assert (doc["implicit"], doc["integrity"], doc["verdict"], doc["explicit"]) == (None, "absent", "not_found",
                                                                                   "not checked")


def test_truncated_input_gives_one_line_exit_2_and_no_output(tmp_path: Path) -> None:
    data = image_bytes("PNG", picture(300, 200))
    (tmp_path / "bad.png").write_bytes(data[: len(data) // 2])
    r = hegui("label", "add", "bad.png", "out.png", cwd=tmp_path, process=True)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "truncated" in r.stderr and "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".hegui")) == ["bad.png"]


def test_existing_output_needs_force_and_in_must_differ_from_out(tmp_path: Path) -> None:
    (tmp_path / "in.png").write_bytes(image_bytes("PNG", picture(300, 200)))
    (tmp_path / "out.png").write_bytes(b"keep me")
    r = hegui("label", "add", "in.png", "out.png", cwd=tmp_path)
    assert r.returncode == 2 and "--force" in r.stderr
    assert (tmp_path / "out.png").read_bytes() == b"keep me"
    same = hegui("label", "add", "in.png", "in.png", "--force", cwd=tmp_path)
    assert same.returncode == 2 and "differ" in same.stderr
    forced = hegui("label", "add", "in.png", "out.png", "--force", "--no-explicit", cwd=tmp_path)
    assert forced.returncode == 0 and (tmp_path / "out.png").read_bytes() != b"keep me"


def test_folder_batch_labels_good_files_and_reports_bad_ones(tmp_path: Path) -> None:
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "a.png").write_bytes(image_bytes("PNG", picture(300, 200)))
    (src / "sub" / "b.wav").write_bytes(wav_bytes())
    (src / "c.txt").write_text("模型写的一段话。\n", encoding="utf-8")
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    (src / "ignored.xyz").write_bytes(b"x")
    r = hegui("label", "add", "in", "out", "--json", cwd=tmp_path)
    assert r.returncode == 2
    results = {Path(x["file"]).name: x for x in json.loads(r.stdout)}
    assert set(results) == {"a.png", "b.wav", "c.txt", "broken.jpg"}
    assert "error" in results["broken.jpg"] and "broken.jpg" in r.stderr
    out = tmp_path / "out"
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == ["a.png", "c.txt", "sub/b.wav"]
    v = hegui("label", "verify", "out", "--json", cwd=tmp_path)
    assert v.returncode == 0, v.stdout
    assert all(x["verdict"] == "compliant" for x in json.loads(v.stdout))


def test_propagate_adds_platform_fields(tmp_path: Path) -> None:
    (tmp_path / "in.png").write_bytes(image_bytes("PNG", picture(300, 200)))
    assert hegui("label", "add", "in.png", "made.png", cwd=tmp_path).returncode == 0
    r = hegui("label", "propagate", "made.png", "shared.png", "--propagator", "PLAT-1", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["implicit"]["ContentPropagator"] == "PLAT-1"
    unl = hegui("label", "propagate", "in.png", "x.png", "--propagator", "PLAT-1", cwd=tmp_path)
    assert unl.returncode == 2 and "--unlabelled" in unl.stderr and not (tmp_path / "x.png").exists()
