from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hegui.policy.pack import NormalisationSteps
from hegui.text import Normalizer

N = Normalizer()
N.kernel_min_length = 1 << 40  # the plain paths (the compiled one: tests/text/test_kernel.py)


def canon(text: str, **off: bool | int) -> str:
    return Normalizer(NormalisationSteps(**off)).normalize(text).text  # type: ignore[arg-type]


def test_fullwidth_letters_digits_and_punctuation_become_halfwidth() -> None:
    assert canon("ＡＢＣ１２３！", casefold=False) == "ABC123!"


def test_ideographic_space_becomes_ascii_space() -> None:
    assert canon("a\u3000b") == "a b"


def test_casefold() -> None:
    assert N.normalize("KiLL Straße").text == "kill strasse"


def test_traditional_becomes_simplified() -> None:
    assert N.normalize("臺灣炸藥開關").text == "台湾炸药开关"


def test_traditional_conversion_is_per_character_and_keeps_length() -> None:
    text = "乾隆皇帝頭髮乾燥"
    assert len(N.normalize(text).text) == len(text)


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e",
                                       "\ufe0f", "\U000e0041"])
def test_invisible_characters_are_removed(invisible: str) -> None:
    assert N.normalize(f"炸{invisible}药").text == "炸药"


def test_combining_strike_through_is_removed() -> None:
    assert N.normalize("k\u0336i\u0336l\u0336l\u0336").text == "kill"


@pytest.mark.parametrize("sep", [" ", ".", "。", "，", "-", "_", "*", "😀", "❤", "\n", " . ", "👍🏻", "／"])
def test_separators_between_cjk_characters_are_removed(sep: str) -> None:
    assert N.normalize(f"炸{sep}药").text == "炸药"


def test_spaces_between_latin_words_are_kept() -> None:
    assert N.normalize("kill the process").text == "kill the process"


def test_separator_between_cjk_and_latin_is_kept() -> None:
    assert N.normalize("炸 yao").text == "炸 yao"


@pytest.mark.parametrize(("styled", "plain"), [("⑸", "5"), ("ⓐ", "a"), ("𝐛", "b"), ("𝔨𝔦𝔩𝔩", "kill"), ("⒜", "a"),
                                                ("㈠", "1"), ("ﬁ", "fi"), ("Ⓚ", "k")])
def test_compatibility_forms_become_plain(styled: str, plain: str) -> None:
    assert N.normalize(styled).text == plain


@pytest.mark.parametrize(("look", "plain"), [("раураl", "paypal"), ("ΚΙΛΛ", "kiλλ"), ("ѕех", "sex"), ("zhà", "zha"),
                                             ("lǜ", "lu")])
def test_homoglyphs_and_accents_become_latin(look: str, plain: str) -> None:
    # Greek lambda has no Latin look-alike and stays: only look-alikes are mapped
    assert N.normalize(look).text == plain


@pytest.mark.parametrize(("digit", "plain"), [("肆", "4"), ("⑤", "5"), ("伍", "5"), ("四", "4"), ("٣", "3"),
                                              ("𝟕", "7"), ("陸", "6")])
def test_digit_variants_become_ascii(digit: str, plain: str) -> None:
    assert N.normalize(digit).text == plain


def test_repeats_are_squashed_from_the_configured_minimum() -> None:
    assert N.normalize("炸炸炸药").text == "炸药"
    assert N.normalize("哈哈").text == "哈哈"  # below the default minimum of 3
    assert canon("哈哈", squash_repeats_min=2) == "哈"


@pytest.mark.parametrize("step", ["fullwidth", "casefold", "traditional_to_simplified", "strip_invisible",
                                  "strip_separators", "compatibility_forms", "homoglyphs", "digit_variants",
                                  "squash_repeats"])
def test_each_step_can_be_switched_off(step: str) -> None:
    samples = {"fullwidth": "ＡＢ", "casefold": "AB", "traditional_to_simplified": "藥",
               "strip_invisible": "a\u200bb", "strip_separators": "炸 药", "compatibility_forms": "ⓐ",
               "homoglyphs": "р", "digit_variants": "肆", "squash_repeats": "aaaa"}
    text = samples[step]
    assert N.normalize(text).text != text
    expected = text.lower() if step == "fullwidth" else text  # full-width letters still casefold
    assert canon(text, **{step: False}) == expected


def test_offsets_point_at_the_original_characters() -> None:
    nt = N.normalize("我想买炸\u200b 😀藥！")
    i = nt.text.index("炸药")
    a, b = nt.span_to_original(i, i + 2)
    assert nt.original[a:b] == "炸\u200b 😀藥"


def test_offsets_of_a_squashed_run_cover_the_whole_run() -> None:
    nt = N.normalize("xx炸炸炸炸药")
    i = nt.text.index("炸药")
    assert nt.span_to_original(i, i + 2) == (2, 7)


def test_offsets_of_an_expansion_cover_the_source_character() -> None:
    nt = N.normalize("aﬁb")
    assert nt.text == "afib"
    assert nt.span_to_original(1, 2) == (1, 2)
    assert nt.span_to_original(2, 4) == (1, 3)


def test_span_outside_the_text_is_rejected() -> None:
    with pytest.raises(ValueError):
        N.normalize("abc").span_to_original(2, 5)


def test_hold_back_start_covers_the_last_normalised_characters_and_a_trailing_run() -> None:
    nt = N.normalize("你好炸 药哈哈")
    assert nt.text == "你好炸药哈哈"
    assert nt.original[nt.hold_back_start(3):] == "药哈哈"
    assert nt.original[nt.hold_back_start(1):] == "哈哈"  # the run could still become 3 and be squashed
    assert nt.hold_back_start(100) == 0


TRICKY = list("炸药藥 .😀\u200b\u200dＡaＢbß⑸ⓐ𝐛рο肆⑤一哈哈哈ﬁ\u0336\n，。!-kK1")
TEXT = st.text(alphabet=st.sampled_from(TRICKY) | st.characters(), max_size=40)


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_offsets_always_map_inside_the_original(text: str) -> None:
    nt = N.normalize(text)
    n = len(nt.text)
    for s in range(n + 1):
        for e in range(s, min(n, s + 4) + 1):
            a, b = nt.span_to_original(s, e)
            assert 0 <= a <= b <= len(text)
            if e > s:
                assert b > a


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_offsets_are_monotone(text: str) -> None:
    nt = N.normalize(text)
    spans = [nt.span_to_original(i, i + 1) for i in range(len(nt.text))]
    for (a1, b1), (a2, b2) in itertools.pairwise(spans):
        assert a1 <= a2 and b1 <= b2


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = N.normalize(text).text
    assert N.normalize(once).text == once


@given(TEXT, st.booleans(), st.booleans(), st.integers(min_value=2, max_value=4))
@settings(max_examples=150, deadline=None)
def test_idempotent_with_steps_switched(text: str, seps: bool, squash: bool, minimum: int) -> None:
    n = Normalizer(NormalisationSteps(strip_separators=seps, squash_repeats=squash, squash_repeats_min=minimum))
    once = n.normalize(text).text
    assert n.normalize(once).text == once


@given(st.text(alphabet=st.sampled_from(list("炸药 .😀\u200bab哈")), max_size=30))
@settings(max_examples=200, deadline=None)
def test_each_normalised_character_maps_to_an_original_that_normalises_to_it(text: str) -> None:
    nt = N.normalize(text)
    for i, ch in enumerate(nt.text):
        a, b = nt.span_to_original(i, i + 1)
        assert ch in N.normalize(text[a:b]).text


VECTOR = Normalizer()
VECTOR.kernel_min_length = 1 << 40  # the plain paths (the compiled one: tests/text/test_kernel.py)
VECTOR.vector_min_length = 0  # force the fully vectorised path even for short texts
CHUNKED = Normalizer()
CHUNKED.kernel_min_length = 1 << 40  # the plain paths (the compiled one: tests/text/test_kernel.py)
CHUNKED.vector_min_length = 0
CHUNKED.chunk_length = 3  # force block-wise processing with many cuts


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_vectorised_and_hybrid_paths_give_the_same_text_as_the_reference_path(text: str) -> None:
    reference = N._normalize_str(text).text
    assert N.normalize(text).text == reference
    assert VECTOR.normalize(text).text == reference
    assert CHUNKED.normalize(text).text == reference


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_all_paths_give_the_same_offsets(text: str) -> None:
    ref = N._normalize_str(text)
    hybrid, vector, chunked = N.normalize(text), VECTOR.normalize(text), CHUNKED.normalize(text)
    n = len(ref.text)
    for s in range(n):
        for e in range(s + 1, min(n, s + 3) + 1):
            expected = ref.span_to_original(s, e)
            assert hybrid.span_to_original(s, e) == vector.span_to_original(s, e) == expected
            assert chunked.span_to_original(s, e) == expected


def test_lone_surrogates_do_not_break_normalisation() -> None:
    nt = N.normalize("炸\ud800药")
    assert nt.text == "炸\ud800药" and nt.span_to_original(0, 3) == (0, 3)


def test_empty_text() -> None:
    nt = N.normalize("")
    assert nt.text == "" and nt.span_to_original(0, 0) == (0, 0)


@given(TEXT.filter(lambda t: len(N.normalize(t).text) >= 3))
@settings(max_examples=200, deadline=None)
def test_batch_span_mapping_equals_one_by_one(text: str) -> None:
    nt = VECTOR.normalize(text)
    n = len(nt.text)
    spans = [(s, e) for s in range(n) for e in range(s + 1, min(n, s + 3) + 1)]
    assert nt.spans_to_original(spans) == [nt.span_to_original(s, e) for s, e in spans]


@given(st.text(alphabet=st.sampled_from([c for c in TRICKY if c not in "ßﬁ"]), min_size=20, max_size=300))
@settings(max_examples=100, deadline=None)
def test_block_wise_processing_of_long_texts_matches_the_reference(text: str) -> None:
    ref = N._normalize_str(text)
    chunked = CHUNKED.normalize(text)
    assert chunked.text == ref.text
    spans = [(i, i + 1) for i in range(len(ref.text))]
    assert [chunked.span_to_original(s, e) for s, e in spans] == [ref.span_to_original(s, e) for s, e in spans]


@given(st.text(alphabet=st.sampled_from([c for c in TRICKY if c not in "ßﬁ"]), min_size=3, max_size=120))
@settings(max_examples=150, deadline=None)
def test_sparse_offset_map_for_long_texts_matches_the_reference(text: str) -> None:
    from hegui.text.normalize import _IndexMap

    ref = N._normalize_str(text)
    saved = _IndexMap.DENSE_MAX
    _IndexMap.DENSE_MAX = 0  # use the binary-search map that very long texts get
    try:
        nt = CHUNKED.normalize(text)
        spans = [(s, e) for s in range(len(ref.text)) for e in range(s + 1, min(len(ref.text), s + 3) + 1)]
        assert [nt.span_to_original(s, e) for s, e in spans] == [ref.span_to_original(s, e) for s, e in spans]
        assert nt.spans_to_original(spans) == [ref.span_to_original(s, e) for s, e in spans]
    finally:
        _IndexMap.DENSE_MAX = saved


SHORT_PATH_ALPHABET = [c for c in TRICKY if c not in "ßﬁ"] + ["\ufdd0", "\ufdd1", "\ufe0f", "、"]


@given(st.text(alphabet=st.sampled_from(SHORT_PATH_ALPHABET), max_size=60))
@settings(max_examples=300, deadline=None)
def test_short_path_with_deletions_matches_the_reference_text_and_offsets(text: str) -> None:
    ref = N._normalize_str(text)
    nt = N._normalize_short(text)
    assert nt.text == ref.text
    n = len(ref.text)
    spans = [(s, e) for s in range(n) for e in range(s + 1, min(n, s + 3) + 1)]
    assert nt.spans_to_original(spans) == [ref.span_to_original(s, e) for s, e in spans]


def test_sentinel_code_points_in_the_input_are_kept() -> None:
    assert N.normalize("炸\ufdd0药\ufdd1").text == "炸\ufdd0药\ufdd1"
    assert N.normalize("a\u200bb\ufdd0").text == "ab\ufdd0"


@given(st.text(alphabet=st.sampled_from(SHORT_PATH_ALPHABET), min_size=200, max_size=899))
@settings(max_examples=40, deadline=None)
def test_short_path_on_texts_up_to_the_vector_threshold_matches_the_reference(text: str) -> None:
    ref = N._normalize_str(text)
    nt = N.normalize(text)
    assert len(text) < N.vector_min_length and nt.text == ref.text
    spans = [(i, i + 1) for i in range(len(ref.text))] + [(0, len(ref.text))] * bool(ref.text)
    assert nt.spans_to_original(spans) == [ref.span_to_original(s, e) for s, e in spans]
