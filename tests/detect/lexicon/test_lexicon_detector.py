from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hegui.detect.base import Detector
from hegui.detect.lexicon import AllowPhrase, LexiconDetector, LexiconEntry
from hegui.errors import InvalidInputError
from hegui.policy.pack import NormalisationSteps

ENTRIES = [
    LexiconEntry("炸药", "A1.4", 3, source="test", version="7"),
    LexiconEntry("炸", "A1.6", 1, source="test", version="7", allow=("炸鸡",)),
    LexiconEntry("杀毒", "A1.6", 2),
    LexiconEntry("kill", "A1.6", 2),
    LexiconEntry("测试政治词甲", "A1.1", 3),
]
DET = LexiconDetector.from_entries(ENTRIES, allow=["杀毒软件", AllowPhrase("kill the process", "A1")])


def spans(text: str, det: LexiconDetector = DET) -> list[tuple[str, str, str]]:
    return [(f.category or "", f.match, text[f.start:f.end]) for f in det.detect(text)]


def test_is_a_detector() -> None:
    assert isinstance(DET, Detector)
    assert DET.name == "lexicon"


def test_finding_fields() -> None:
    [f] = [f for f in DET.detect("买点炸药") if f.category == "A1.4"]
    assert (f.detector, f.type, f.category, f.severity, f.start, f.end, f.match, f.rule) == (
        "lexicon", "term", "A1.4", 3, 2, 4, "炸药", "test@7")


@pytest.mark.parametrize("text", ["炸 药", "炸.药", "炸😀药", "炸\u200b药", "炸藥", "ＺＨＡ ＹＡＯ", "zha yao",
                                  "zhayao", "zha药", "炸yao", "zhà yào", "炸炸炸药"])
def test_disguised_term_is_found_at_its_original_characters(text: str) -> None:
    hits = [s for s in spans(f"我想买{text}。") if s[0] == "A1.4"]
    assert hits == [("A1.4", "炸药", text)]


def test_initials_shorter_than_the_minimum_do_not_match() -> None:
    assert spans("zy") == []


def test_initials_match_when_long_enough() -> None:
    assert [s[1] for s in spans("cszzcj")] == ["测试政治词甲"]


def test_pinyin_can_be_switched_off() -> None:
    det = LexiconDetector.from_entries(ENTRIES, NormalisationSteps(pinyin=False))
    assert spans("zhayao", det) == []


def test_pinyin_minimum_length_is_configurable() -> None:
    det = LexiconDetector.from_entries([LexiconEntry("枪支", "A1.8")], NormalisationSteps(pinyin_min_length=9))
    assert spans("qiangzhi", det) == []
    det = LexiconDetector.from_entries([LexiconEntry("枪支", "A1.8")], NormalisationSteps(pinyin_min_length=4))
    assert spans("qiangzhi", det) == [("A1.8", "枪支", "qiangzhi")]


def test_latin_terms_match_whole_words_only() -> None:
    assert spans("skill killer") == []
    assert spans("I will KILL you") == [("A1.6", "kill", "KILL")]


def test_latin_term_next_to_chinese_matches() -> None:
    assert spans("我要kill你") == [("A1.6", "kill", "kill")]


def test_term_allow_phrase_cancels_the_hit_it_covers() -> None:
    assert spans("今晚吃炸鸡") == []
    assert spans("炸鸡和炸弹") == [("A1.6", "炸", "炸")]


def test_global_allow_phrase_cancels_hits_of_any_risk() -> None:
    assert spans("装个杀毒软件") == []
    assert spans("杀毒") == [("A1.6", "杀毒", "杀毒")]


def test_category_allow_phrase_cancels_only_its_risks() -> None:
    assert spans("please kill the process") == []
    det = LexiconDetector.from_entries([LexiconEntry("kill", "A4.1")], allow=[AllowPhrase("kill the process", "A1")])
    assert spans("kill the process", det) == [("A4.1", "kill", "kill")]


def test_allow_phrase_matches_disguised_too() -> None:
    assert spans("吃炸 雞") == []


def test_allow_phrase_that_does_not_cover_the_hit_does_not_cancel_it() -> None:
    det = LexiconDetector.from_entries([LexiconEntry("鸡巴", "A1.6")], allow=["炸鸡"])
    assert spans("炸鸡巴", det) == [("A1.6", "鸡巴", "鸡巴")]


def test_nested_hit_of_the_same_risk_is_dropped_but_other_risks_kept() -> None:
    det = LexiconDetector.from_entries([LexiconEntry("炸药包", "A1.4"), LexiconEntry("炸药", "A1.4"),
                                        LexiconEntry("药", "A4.1")])
    assert sorted(spans("炸药包", det)) == [("A1.4", "炸药包", "炸药包"), ("A4.1", "药", "药")]


def test_same_term_in_two_risks_gives_two_findings() -> None:
    det = LexiconDetector.from_entries([LexiconEntry("炸药", "A1.4"), LexiconEntry("炸药", "A4.1")])
    assert sorted(s[0] for s in spans("炸药", det)) == ["A1.4", "A4.1"]


def test_explain_reports_the_cancelled_hit_and_why() -> None:
    [h] = DET.explain("炸鸡")
    assert h.cancelled_by is not None and h.cancelled_by.phrase == "炸鸡"
    [p] = [h for h in DET.explain("zha yao") if h.finding.category == "A1.4"]
    assert p.via_pinyin and p.variant == "zha yao"


def test_empty_lexicon_finds_nothing() -> None:
    det = LexiconDetector.from_entries([])
    assert det.detect("炸药") == [] and det.max_term_length == 0


def test_max_term_length_counts_normalised_characters_of_the_longest_pattern() -> None:
    det = LexiconDetector.from_entries([LexiconEntry("炸药", "A1.4")], NormalisationSteps(pinyin=False),
                                       allow=["炸药的化学史"])
    assert det.max_term_length == 6
    det = LexiconDetector.from_entries([LexiconEntry("炸药", "A1.4")])
    assert det.max_term_length == len("zha yao")


@pytest.mark.parametrize("bad", [{"term": "", "category": "A1.4"}, {"term": "x", "category": "A9"},
                                 {"term": "x", "category": "A1.4", "severity": 4}, {"term": "a\tb", "category": "J"}])
def test_invalid_entries_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(InvalidInputError):
        LexiconEntry(**bad)  # type: ignore[arg-type]


def test_lang_is_guessed() -> None:
    assert LexiconEntry("炸药", "A1.4").lang == "zh" and LexiconEntry("bomb", "A1.4").lang == "en"


NOISE = st.text(alphabet=st.sampled_from(list("炸药藥 .😀\u200b好的ab哈,")), max_size=12)


@given(NOISE, NOISE)
@settings(max_examples=200, deadline=None)
def test_finding_offsets_always_lie_in_the_original_and_cover_a_disguised_term(left: str, right: str) -> None:
    text = f"{left}炸 藥{right}"
    found = DET.detect(text)
    for f in found:
        assert 0 <= f.start < f.end <= len(text)
    assert any(f.category == "A1.4" and "炸" in text[f.start:f.end] for f in found)


def test_allow_phrases_are_only_tried_near_each_hit() -> None:
    """A text of many hits and many allow phrases costs work per hit, not per (hit, phrase) pair: an
    input of ``炸鸡`` repeated was quadratic before (32,000 characters took seconds)."""
    det = LexiconDetector.from_entries([LexiconEntry("炸", "A1.6", 1, allow=("炸鸡",))])
    det.normalizer.kernel_min_length = 1 << 40  # this path: the compiled one is tested in test_automaton.py
    tried = 0
    real = det._allow_applies

    def counting(*args: object) -> bool:
        nonlocal tried
        tried += 1
        return real(*args)  # type: ignore[arg-type]

    det._allow_applies = counting  # type: ignore[method-assign]
    assert [f.match for f in det.detect("炸鸡" * 2000 + "炸")] == ["炸"]
    assert tried <= 2 * 2001
