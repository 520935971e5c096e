"""The audit end to end on generated corpora, with the real moderation engine over a synthetic lexicon."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from corpus_helpers import (
    CLASSIFIER_MARK,
    UNSAFE_EN,
    BrokenClassifierEngine,
    ClassifierEngine,
    SyntheticEngine,
    en_doc,
    mixed_rows,
    new_ctx,
    random_doc,
    write_jsonl,
    zh_doc,
)

from hegui.context import HeguiContext
from hegui.corpus import pipeline
from hegui.corpus.audit import AuditOptions, run_audit
from hegui.corpus.review import import_review
from hegui.corpus.sources import add_source
from hegui.corpus.steps import in_classifier_share
from hegui.errors import InvalidInputError, NotFoundError


@pytest.fixture
def lctx(tmp_path: Path) -> Any:
    c = new_ctx(tmp_path)
    lic = tmp_path / "LICENSE.txt"
    lic.write_text("CC-BY-4.0", encoding="utf-8")
    add_source(c, "good", "open", "CC-BY-4.0", [f"licence={lic}"])
    add_source(c, "bad", "self", None, [])
    yield c
    c.close()


def _audit(ctx: HeguiContext, inputs: list[tuple[str, str]], out: Path, **kw: Any) -> dict[str, Any]:
    opts = AuditOptions(**{"workers": 1, **kw})
    return run_audit(ctx, inputs, out, opts, factory=SyntheticEngine())


def _src(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in report["sources"] if s["name"] == name)


def test_source_over_five_percent_unsafe_fails_and_clean_source_passes(lctx: HeguiContext, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "good" / "a.jsonl", mixed_rows(200, unsafe_every=100))   # 1% unsafe
    write_jsonl(tmp_path / "bad" / "a.jsonl", mixed_rows(100, unsafe_every=10, offset=1000))  # 10% unsafe
    r = _audit(lctx, [("good", str(tmp_path / "good")), ("bad", str(tmp_path / "bad"))], tmp_path / "out")
    good, bad = _src(r, "good"), _src(r, "bad")
    assert good["items"] == 200 and good["unsafe"] == 2 and good["gates"]["unsafe_ratio"]["passed"] is True
    assert bad["unsafe_ratio"] == pytest.approx(0.10) and bad["gates"]["unsafe_ratio"]["status"] == "fail"
    assert bad["gates"]["provenance"]["value"] == 2 and not bad["passed"] and good["passed"]
    assert set(r["totals"]["unsafe_by_risk"]) == {"A1.4", "A1.6"}
    assert any("missing provenance evidence: opt_out" in f["message"] for f in r["findings"])
    on_disk = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert on_disk["sources"][1]["gates"]["unsafe_ratio"]["threshold"] == 0.05
    assert "<svg" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


def test_manual_review_gate_is_pending_until_verdicts_are_imported(lctx: HeguiContext, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "d" / "a.jsonl", mixed_rows(60))
    r = _audit(lctx, [("good", str(tmp_path / "d"))], tmp_path / "out")
    assert r["gates"]["manual_review_sample"]["value"] == 60 and r["gates"]["manual_review_pass"]["status"] == "pending"
    sample = tmp_path / "out" / "review_sample.csv"
    with open(sample, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for i, row in enumerate(rows):
        row["verdict"] = "fail" if i < 3 else "通过"
    with open(sample, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    res = import_review(lctx, sample)
    assert res["reviewed"] == 60 and res["passed"] == 57
    gate = res["gate"]
    assert gate["status"] == "fail" and gate["value"] == pytest.approx(0.95) and gate["threshold"] == 0.96
    on_disk = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert on_disk["gates"]["manual_review_pass"]["status"] == "fail"


def test_review_import_rejects_items_not_in_the_sample_and_writes_nothing(lctx: HeguiContext, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "d" / "a.jsonl", mixed_rows(10))
    r = _audit(lctx, [("good", str(tmp_path / "d"))], tmp_path / "out")
    f = tmp_path / "v.jsonl"
    write_jsonl(f, [{"audit_id": r["audit_id"], "item_key": "good:a.jsonl#0", "verdict": "pass"},
                    {"audit_id": r["audit_id"], "item_key": "good:nope#1", "verdict": "pass"}])
    with pytest.raises(InvalidInputError, match="not in audit"):
        import_review(lctx, f)
    write_jsonl(f, [{"audit_id": r["audit_id"], "item_key": "good:a.jsonl#0", "verdict": "maybe"}])
    with pytest.raises(InvalidInputError, match="neither pass nor fail"):
        import_review(lctx, f)


def test_near_duplicates_are_found_across_shards(lctx: HeguiContext, tmp_path: Path) -> None:
    base = [random_doc(i, "zh") for i in range(20)] + [random_doc(i, "en") for i in range(20, 40)]
    write_jsonl(tmp_path / "d" / "1.jsonl", [{"text": t} for t in base])
    edited = [t[:100] + "改" + t[101:] if i < 20 else t[:-8] + " edited" for i, t in enumerate(base)]
    write_jsonl(tmp_path / "d" / "2.jsonl", [{"text": t} for t in edited[:10] + edited[20:30]])
    write_jsonl(tmp_path / "d" / "3.jsonl", [{"text": t.upper()} for t in base[30:35]])
    r = _audit(lctx, [("good", str(tmp_path / "d"))], tmp_path / "out", clean="drop")
    assert r["totals"]["exact_duplicates"] == 5
    assert r["totals"]["near_duplicates"] == 20
    rejects = [json.loads(x) for x in (tmp_path / "out" / "rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(x["reasons"][0] for x in rejects) == ["exact_duplicate"] * 5 + ["near_duplicate"] * 20
    assert all(x["key"].startswith(("good:2.jsonl", "good:3.jsonl")) for x in rejects)


def test_clean_mask_masks_personal_data_and_drops_unsafe(lctx: HeguiContext, tmp_path: Path) -> None:
    rows = [{"text": "请联系 13812345678 预约参观博物馆。"}, {"text": en_doc(1) + " " + UNSAFE_EN},
            {"text": "版权所有，未经许可不得转载。" + zh_doc(5)}, {"text": en_doc(2)}]
    write_jsonl(tmp_path / "d" / "a.jsonl", rows)
    r = _audit(lctx, [("good", str(tmp_path / "d"))], tmp_path / "out", clean="mask")
    kept = [json.loads(x) for f in sorted((tmp_path / "out" / "clean").iterdir())
            for x in f.read_text(encoding="utf-8").splitlines()]
    assert [k["text"] for k in kept] == ["请联系 138****5678 预约参观博物馆。", en_doc(2)]
    reasons = {json.loads(x)["key"]: json.loads(x)["reasons"]
               for x in (tmp_path / "out" / "rejects.jsonl").read_text(encoding="utf-8").splitlines()}
    assert reasons == {"good:a.jsonl#1": ["unsafe:A1.4"], "good:a.jsonl#2": ["ip_restricted"]}
    assert r["totals"]["pii_by_type"] == {"cn_mobile": 1} and r["totals"]["restricted"] == 1
    assert "13812345678" not in (tmp_path / "out" / "review_sample.csv").read_text(encoding="utf-8")


def test_bad_files_are_reported_per_file(lctx: HeguiContext, tmp_path: Path) -> None:
    d = tmp_path / "d"
    write_jsonl(d / "ok.jsonl", mixed_rows(5))
    write_jsonl(d / "broken.jsonl", ['{"text": "fine"}', "{nope", '{"other": 1}'])
    (d / "empty.json").write_bytes(b"")
    r = _audit(lctx, [("good", str(d))], tmp_path / "out")
    files = {f["path"]: f for f in _src(r, "good")["files"]}
    assert files["broken.jsonl"]["broken"] == 1 and files["broken.jsonl"]["missing_text"] == 1
    assert files["empty.json"]["empty_file"] and files["ok.jsonl"]["problems"] == 0
    assert r["totals"]["items"] == 6


def test_unknown_source_and_missing_path_are_clear_errors(lctx: HeguiContext, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="unknown corpus source"):
        _audit(lctx, [("nobody", str(tmp_path))], tmp_path / "out")
    with pytest.raises(InvalidInputError, match="does not exist"):
        _audit(lctx, [("good", str(tmp_path / "missing"))], tmp_path / "out")


def test_crashed_run_resumes_from_checkpoints(lctx: HeguiContext, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    d = tmp_path / "d"
    for k in range(4):
        write_jsonl(d / f"{k}.jsonl", mixed_rows(30, unsafe_every=7, offset=k * 100))
    expected = _audit(lctx, [("good", str(d))], tmp_path / "ref")
    real = pipeline.process_shard
    calls: list[str] = []

    def crashing(shard, steps, plan):  # type: ignore[no-untyped-def]
        calls.append(shard.id)
        if len(calls) == 3:
            raise KeyboardInterrupt("simulated crash")
        return real(shard, steps, plan)

    monkeypatch.setattr(pipeline, "process_shard", crashing)
    with pytest.raises(KeyboardInterrupt):
        _audit(lctx, [("good", str(d))], tmp_path / "out")
    calls.clear()
    resumed = _audit(lctx, [("good", str(d))], tmp_path / "out", resume=True)
    assert len(calls) == 2 and resumed["shards"]["resumed"] == 2
    for key in ("totals", "gates"):
        assert resumed[key] == expected[key]


def test_resume_refuses_other_options(lctx: HeguiContext, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "d" / "a.jsonl", mixed_rows(5))
    _audit(lctx, [("good", str(tmp_path / "d"))], tmp_path / "out")
    with pytest.raises(InvalidInputError, match="other inputs or options"):
        _audit(lctx, [("good", str(tmp_path / "d"))], tmp_path / "out", text_field="body", resume=True)


@pytest.mark.slow
def test_worker_processes_give_the_same_report_as_one_process(lctx: HeguiContext, tmp_path: Path) -> None:
    d = tmp_path / "d"
    for k in range(3):
        write_jsonl(d / f"{k}.jsonl", mixed_rows(40, unsafe_every=9, offset=k * 20))  # overlapping → duplicates
    one = _audit(lctx, [("good", str(d))], tmp_path / "one")
    two = _audit(lctx, [("good", str(d))], tmp_path / "two", workers=2)
    for key in ("totals", "gates"):
        assert one[key] == two[key]
    assert one["totals"]["exact_duplicates"] > 0
    assert (tmp_path / "one" / "review_sample.jsonl").read_text().replace(one["audit_id"], "") == \
        (tmp_path / "two" / "review_sample.jsonl").read_text().replace(two["audit_id"], "")


def test_failed_required_detector_fails_closed(lctx: HeguiContext, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "d" / "a.jsonl", mixed_rows(10))
    r = run_audit(lctx, [("good", str(tmp_path / "d"))], tmp_path / "out", AuditOptions(workers=1, clean="drop"),
                  factory=BrokenClassifierEngine(optional=False))
    assert r["totals"]["unsafe"] == 10 and r["totals"]["unsafe_by_risk"] == {"scan_error": 10}
    assert r["gates"]["auto_sample"]["value"] == 0 and r["gates"]["auto_sample"]["status"] == "fail"
    assert not (tmp_path / "out" / "clean" / "good__000000.jsonl").read_text(encoding="utf-8")


def test_failed_optional_detector_is_reported_not_hidden(lctx: HeguiContext, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "d" / "a.jsonl", mixed_rows(10, unsafe_every=5))
    r = run_audit(lctx, [("good", str(tmp_path / "d"))], tmp_path / "out", AuditOptions(workers=1),
                  factory=BrokenClassifierEngine(optional=True))
    assert r["totals"]["unsafe"] == 2 and r["totals"]["scan_errors"] == {"classifier": 10}
    assert r["gates"]["auto_sample"]["value"] == 0
    assert any("not fully scanned" in f["message"] for f in r["findings"])


def _share_corpus(tmp_path: Path) -> Path:
    """400 items: every 10th keyword-unsafe, every 7th (not also keyword-unsafe) classifier-only unsafe."""
    rows = mixed_rows(400, unsafe_every=10)
    for i, r in enumerate(rows):
        if i % 7 == 3 and i % 10:
            r["text"] += " " + CLASSIFIER_MARK
    write_jsonl(tmp_path / "good" / "a.jsonl", rows[:200])
    write_jsonl(tmp_path / "good" / "b.jsonl", rows[200:])
    return tmp_path / "good"


def _share_audit(ctx: HeguiContext, data: Path, out: Path, share: float) -> dict[str, Any]:
    return run_audit(ctx, [("good", str(data))], out, AuditOptions(workers=1, classifier_share=share),
                     factory=ClassifierEngine())


def _sampled(out: Path) -> list[dict[str, Any]]:
    """Every item (the review sample holds them all in a corpus this small): its item_key and text."""
    return [json.loads(line) for line in (out / "review_sample.jsonl").read_text(encoding="utf-8").splitlines()]


def test_full_classifier_share_counts_the_unsafe_ratio(lctx: HeguiContext, tmp_path: Path) -> None:
    r = _share_audit(lctx, _share_corpus(tmp_path), tmp_path / "out", 1.0)
    good = _src(r, "good")
    marked = sum(1 for i in range(400) if i % 7 == 3 and i % 10)
    assert good["unsafe"] == 40 + marked and good["unsafe_ratio"] == pytest.approx((40 + marked) / 400)
    assert good["unsafe_estimate"]["estimated"] is False and good["classified"] == 400
    assert good["keyword_unsafe"] == 40 and good["classifier_only_unsafe"] == marked
    assert r["gates"]["auto_sample"]["passed"] is True and r["gates"]["auto_sample"]["value"] == 1.0


def test_classifier_share_estimates_the_unsafe_ratio_from_keywords_and_the_share(lctx: HeguiContext,
                                                                                  tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = _share_audit(lctx, _share_corpus(tmp_path), out, 0.5)
    items = _sampled(out)
    assert len(items) == 400
    shared = [e for e in items if in_classifier_share(e["item_key"], 0.5)]
    clf_only = sum(CLASSIFIER_MARK in e["text"] for e in shared)
    good = _src(r, "good")
    assert good["classified"] == len(shared) and good["keyword_unsafe"] == 40
    assert good["classifier_only_unsafe"] == clf_only and good["unsafe"] == 40 + clf_only
    assert good["unsafe_ratio"] == pytest.approx(40 / 400 + clf_only / len(shared))
    assert good["unsafe_estimate"]["estimated"] is True
    assert "ESTIMATED" in good["gates"]["unsafe_ratio"]["detail"] and "50% share" in good["gates"]["unsafe_ratio"][
        "detail"]
    auto = r["gates"]["auto_sample"]
    assert auto["value"] == pytest.approx(len(shared) / 400) and auto["passed"] is True
    assert "50% share" in auto["detail"] and "ESTIMATED" in r["gates"]["auto_pass"]["detail"]
    assert any("unsafe ratios are estimates" in f["message"] for f in r["findings"])


def test_classifier_share_below_the_pack_sample_ratio_fails_the_auto_sample_gate(lctx: HeguiContext,
                                                                                 tmp_path: Path) -> None:
    r = _share_audit(lctx, _share_corpus(tmp_path), tmp_path / "out", 0.05)
    auto = r["gates"]["auto_sample"]
    assert auto["status"] == "fail" and auto["value"] < 0.10 and "below the required 10%" in auto["detail"]
    assert r["passed"] is False


def test_classifier_share_outside_zero_to_one_is_refused(lctx: HeguiContext, tmp_path: Path) -> None:
    data = _share_corpus(tmp_path)
    for share in (0.0, -0.1, 1.5):
        with pytest.raises(InvalidInputError, match="classifier share"):
            _share_audit(lctx, data, tmp_path / "out", share)


@pytest.mark.parametrize("cutoff", [0, 1 << 62])
def test_the_review_sample_does_not_depend_on_the_sample_cutoff(lctx: HeguiContext, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                cutoff: int) -> None:
    """Shards write full entries only under the cutoff; the rest come from reading the inputs again,
    masked and categorised as phase 1 would have (with the real engine's findings)."""
    d = tmp_path / "d"
    for k in range(3):
        rows = [*mixed_rows(30, unsafe_every=7, offset=k * 30),
                *({"text": f"请联系 1381234{k}{i:03d} 预约。" + zh_doc(i)} for i in range(10))]
        write_jsonl(d / f"{k}.jsonl", rows)
    one = _audit(lctx, [("good", str(d))], tmp_path / "one")
    monkeypatch.setattr(pipeline, "sample_cutoff", lambda shards, k: cutoff)
    two = _audit(lctx, [("good", str(d))], tmp_path / "two")
    for key in ("totals", "gates", "review"):
        assert one[key] == two[key]
    a, b = ((tmp_path / name / "review_sample.jsonl").read_text(encoding="utf-8") for name in ("one", "two"))
    assert a.replace(one["audit_id"], "") == b.replace(two["audit_id"], "")
    assert "138****" in a and "13812340" not in a
    results = [json.loads(p.read_text()) for p in (tmp_path / "two" / ".work").glob("*/result.json")]
    assert len(results) == 3 and all(r["sample_cutoff"] == str(cutoff) for r in results)
    if cutoff == 0:
        assert all(r["sample"] == [] for r in results)  # every entry came from the fallback
