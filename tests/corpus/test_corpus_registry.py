"""Source registry, annotation checks and obligation evidence, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from corpus_helpers import SyntheticEngine, mixed_rows, write_jsonl

from hegui.context import HeguiContext
from hegui.corpus.audit import AuditOptions, run_audit
from hegui.corpus.review import annotation_accuracy, check_annotations, import_annotations, sample_annotations
from hegui.corpus.sources import add_evidence, add_source, list_sources, parse_evidence, show_source
from hegui.errors import InvalidInputError, NotFoundError
from hegui.obligations import Evidence, report


def _row(ctx: HeguiContext, obligation: str) -> Evidence:
    """The single control of obligation row O2 / O3 as ``hegui obligations`` shows it."""
    (row,) = [r for r in report(ctx) if r.id == obligation]
    (ev,) = row.controls
    return ev


def test_missing_evidence_per_kind(ctx: HeguiContext, tmp_path: Path) -> None:
    contract = tmp_path / "supplier-contract.pdf"
    contract.write_bytes(b"%PDF contract")
    src = add_source(ctx, "vendor", "commercial", None, [str(contract)])
    assert src["missing_evidence"] == ["supplier_guarantee"]
    assert src["evidence"][0]["kind"] == "contract" and len(src["evidence"][0]["sha256"]) == 64
    guarantee = tmp_path / "g.pdf"
    guarantee.write_bytes(b"we guarantee")
    assert add_evidence(ctx, "vendor", [f"supplier_guarantee={guarantee}"])["missing_evidence"] == []
    assert add_source(ctx, "users", "user", None, [])["missing_evidence"] == ["authorisation"]
    assert add_source(ctx, "crawl", "self", None, [])["missing_evidence"] == ["collection_record", "opt_out"]
    assert add_source(ctx, "wiki", "open", "CC-BY-SA-4.0", [])["missing_evidence"] == []
    assert [s["name"] for s in list_sources(ctx)] == ["crawl", "users", "vendor", "wiki"]


def test_evidence_file_is_kept_by_hash(ctx: HeguiContext, tmp_path: Path) -> None:
    f = tmp_path / "LICENSE"
    f.write_text("MIT", encoding="utf-8")
    src = add_source(ctx, "code", "open", None, [str(f)])
    stored = ctx.settings.data_dir / "corpus" / "evidence" / src["evidence"][0]["sha256"]
    assert stored.read_text(encoding="utf-8") == "MIT" and src["missing_evidence"] == []


def test_bad_source_input_is_rejected(ctx: HeguiContext, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="kind"):
        add_source(ctx, "x", "scraped", None, [])
    with pytest.raises(InvalidInputError, match="does not exist"):
        add_source(ctx, "x", "open", None, [str(tmp_path / "nope.txt")])
    with pytest.raises(InvalidInputError, match="unknown evidence kind"):
        parse_evidence("receipt=foo.pdf")
    add_source(ctx, "x", "open", "MIT", [])
    with pytest.raises(InvalidInputError, match="already exists"):
        add_source(ctx, "x", "open", "MIT", [])
    with pytest.raises(NotFoundError):
        show_source(ctx, "y")


def test_annotation_accuracy_per_annotator_and_batch(ctx: HeguiContext, tmp_path: Path) -> None:
    rows = [{"batch": "b1", "item_id": f"i{i}", "annotator": "ann-a" if i % 2 else "ann-b", "label": "safe"}
            for i in range(20)]
    write_jsonl(tmp_path / "ann.jsonl", rows)
    assert import_annotations(ctx, tmp_path / "ann.jsonl")["added"] == 20
    form = tmp_path / "check.csv"
    assert sample_annotations(ctx, "b1", None, 0.5, form, seed=1)["sampled"] == 10
    with open(form, encoding="utf-8-sig", newline="") as fh:
        sample = list(csv.DictReader(fh))
    for r in sample:
        r["verdict"] = "incorrect" if r["annotator"] == "ann-b" else "correct"
    with open(form, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(sample[0]))
        w.writeheader()
        w.writerows(sample)
    res = check_annotations(ctx, form)
    n_a = sum(1 for r in sample if r["annotator"] == "ann-a")
    assert res["annotators"]["ann-a"] == {"annotations": 10, "checked": n_a, "correct": n_a, "accuracy": 1.0}
    assert res["annotators"]["ann-b"]["accuracy"] == 0.0
    assert res["batches"]["b1"]["checked"] == 10 and res["batches"]["b1"]["accuracy"] == pytest.approx(n_a / 10)
    ev = _row(ctx, "O3")
    assert ev.status == "working" and "b1" in ev.detail


def test_annotation_import_is_all_or_nothing(ctx: HeguiContext, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "a.jsonl", [{"batch": "b", "item_id": "1", "annotator": "x", "label": "ok"},
                                       {"batch": "b", "item_id": "2", "label": "ok"}])
    with pytest.raises(InvalidInputError, match="annotator"):
        import_annotations(ctx, tmp_path / "a.jsonl")
    assert annotation_accuracy(ctx) == {"annotators": {}, "batches": {}}
    assert _row(ctx, "O3").status == "not_configured"


def test_obligation_o2_shows_the_last_audit_per_source(ctx: HeguiContext, tmp_path: Path) -> None:
    assert _row(ctx, "O2").status == "not_configured"
    add_source(ctx, "web", "open", "CC0-1.0", [])
    assert _row(ctx, "O2").status == "configured"
    write_jsonl(tmp_path / "d" / "a.jsonl", mixed_rows(40))
    run_audit(ctx, [("web", str(tmp_path / "d"))], tmp_path / "o1", AuditOptions(workers=1), factory=SyntheticEngine())
    ev = _row(ctx, "O2")
    assert ev.status == "working" and "web: 0.00% unsafe of 40 items, passed" in ev.detail
    write_jsonl(tmp_path / "d" / "a.jsonl", mixed_rows(40, unsafe_every=5))
    run_audit(ctx, [("web", str(tmp_path / "d"))], tmp_path / "o2", AuditOptions(workers=1), factory=SyntheticEngine())
    ev = _row(ctx, "O2")
    assert ev.status == "failing" and "20.00% unsafe of 40 items, FAILED" in ev.detail
    assert show_source(ctx, "web")["last_audit"]["unsafe_ratio"] == pytest.approx(0.2)
