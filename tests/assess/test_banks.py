from __future__ import annotations

import json
from pathlib import Path

import pytest

from hegui.assess.banks import (
    BANKS,
    Question,
    bank_stats,
    import_bank,
    jaccard,
    load_banks,
    near_duplicates,
    read_jsonl,
    shingles,
    write_jsonl,
)
from hegui.errors import InvalidInputError
from hegui.policy.pack import load_pack
from hegui.policy.taxonomy import POLITICAL_CODES

PACK = load_pack("cn-genai")


def test_default_banks_meet_every_minimum_outside_the_political_slots() -> None:
    for s in bank_stats(load_banks(), PACK):
        assert s.total >= s.minimum, s.bank
        for c in s.coverage:
            assert c.status in ("ok", "operator slot"), (s.bank, c.key, c.count)


def test_political_risks_are_operator_slots_in_generated_and_should_refuse() -> None:
    for s in bank_stats(load_banks(), PACK):
        if s.bank == "should_not_refuse":
            continue
        slots = {c.key for c in s.coverage if c.status == "operator slot"}
        assert slots == POLITICAL_CODES
        assert not s.meets_minimums  # the default alone never claims full coverage


def test_default_banks_have_no_political_questions_except_neutral_should_not_refuse() -> None:
    for q in load_banks().questions:
        if q.risk in POLITICAL_CODES:
            assert q.bank == "should_not_refuse"


def test_default_banks_have_no_exact_duplicates_and_at_most_a_few_near_duplicates() -> None:
    for s in bank_stats(load_banks(), PACK):
        assert s.duplicates == []
        assert len(s.near_duplicates) <= 2, s.near_duplicates[:5]


def test_default_banks_vary_framing() -> None:
    stats = {s.bank: s for s in bank_stats(load_banks(), PACK)}
    assert len(stats["generated"].framings) >= 7 and stats["generated"].langs.get("en", 0) > 0
    assert len(stats["should_refuse"].framings) >= 5
    assert len(stats["should_not_refuse"].framings) >= 3


def test_near_duplicates_found_by_shingle_jaccard() -> None:
    qs = [Question("a", "generated", "A1.4", None, "zh", "请写一篇关于长江流域气候与农业的介绍文章", "direct", "t"),
          Question("b", "generated", "A1.4", None, "zh", "请写一篇关于长江流域气候与农业的介绍文章吧", "direct", "t"),
          Question("c", "generated", "A1.4", None, "zh", "黄河下游为什么被称为地上河？", "direct", "t")]
    pairs = near_duplicates(qs, 0.8)
    assert [(a, b) for a, b, _ in pairs] == [("a", "b")]
    assert jaccard(shingles("abcdef"), shingles("abcdef")) == 1.0


def test_bad_line_is_rejected_with_file_and_line(tmp_path: Path) -> None:
    p = tmp_path / "b.jsonl"
    good = {"id": "x1", "bank": "should_refuse", "risk": "A1.6", "aspect": None, "lang": "zh",
            "question": "测试问题", "framing": "direct", "version": "1"}
    bad = dict(good, id="x2", risk="A3.1")  # A3 is not in the should-refuse bank
    p.write_text(json.dumps(good, ensure_ascii=False) + "\n" + json.dumps(bad, ensure_ascii=False) + "\n", "utf-8")
    with pytest.raises(InvalidInputError, match=r"b\.jsonl:2: should_refuse covers the A1 and A2 risks"):
        read_jsonl(p)


@pytest.mark.parametrize(("change", "message"), [
    ({"risk": "A9.9"}, "risk 'A9.9' must be an Appendix A code"),
    ({"extra": 1}, "unknown field"),
    ({"bank": "other"}, "bank 'other' must be one of"),
    ({"question": " "}, "'question' must be a non-empty string"),
    ({"framing": "weird"}, "framing 'weird' must be one of"),
])
def test_invalid_records_are_explained(tmp_path: Path, change: dict[str, object], message: str) -> None:
    rec = {"id": "x1", "bank": "generated", "risk": "A1.6", "aspect": None, "lang": "zh", "question": "测试",
           "framing": "direct", "version": "1"} | change
    p = tmp_path / "b.jsonl"
    p.write_text(json.dumps(rec, ensure_ascii=False) + "\n", "utf-8")
    with pytest.raises(InvalidInputError, match=message):
        read_jsonl(p)


def test_duplicate_ids_in_a_file_are_rejected(tmp_path: Path) -> None:
    q = Question("x1", "generated", "A1.6", None, "zh", "测试", "direct", "1")
    p = tmp_path / "b.jsonl"
    write_jsonl(p, [q, q])
    with pytest.raises(InvalidInputError, match="duplicate id 'x1'"):
        read_jsonl(p)


def test_operator_import_fills_the_political_slot(tmp_path: Path) -> None:
    data_dir = tmp_path / ".hegui"
    src = tmp_path / "political.jsonl"
    write_jsonl(src, [Question(f"op-{i}", "should_refuse", "A1.1", None, "zh", f"测试政治问题甲{i}", "operator", "op-1")
                      for i in range(20)])
    target, n = import_bank(data_dir, src)
    assert n == 20 and target.is_file()
    stats = {s.bank: s for s in bank_stats(load_banks(data_dir), PACK)}
    a11 = next(c for c in stats["should_refuse"].coverage if c.key == "A1.1")
    assert (a11.count, a11.status) == (20, "ok")
    # importing the same file again replaces it instead of clashing with itself
    assert import_bank(data_dir, src)[1] == 20


def test_import_rejects_ids_already_in_force(tmp_path: Path) -> None:
    src = tmp_path / "clash.jsonl"
    write_jsonl(src, [Question("gen-A1.4-001", "generated", "A1.4", None, "zh", "测试", "direct", "1")])
    with pytest.raises(InvalidInputError, match="already in the banks in force"):
        import_bank(tmp_path / ".hegui", src)


def test_export_then_reload_round_trips(tmp_path: Path) -> None:
    bs = load_banks()
    p = tmp_path / "all.jsonl"
    assert write_jsonl(p, bs.questions) == len(bs.questions)
    assert read_jsonl(p) == bs.questions
    assert {q.bank for q in bs.questions} == set(BANKS)
