"""Compiling a lexicon fast builds exactly what the straightforward definitions build.

The references below are the plain versions the fast code replaced (every ``product`` choice tried per
term for the pinyin spellings)."""

from __future__ import annotations

from collections.abc import Callable
from itertools import product

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hegui.detect.lexicon import pinyin as pinyin_module
from hegui.detect.lexicon.formats import load_default_data
from hegui.detect.lexicon.pinyin import MAX_MIXED_CHARS, pinyin_variants

# ---- the references -------------------------------------------------------------------------------

def reference_variants(term: str, min_length: int, split: Callable[[str], list[str]]) -> set[str]:
    """``pinyin_variants`` as first written: every ``product`` choice tried per term."""
    is_han = pinyin_module._is_han
    chars = list(term)
    if not any(is_han(c) for c in chars):
        return set()
    syllables = split(term)
    if len(syllables) != len(chars):
        return set()
    han = [is_han(c) for c in chars]
    out: set[str] = set()
    full = "".join(syllables)
    if all(han) or not any(c.isalpha() for c, h in zip(chars, han, strict=True) if not h):
        if len(full.replace(" ", "")) >= min_length:
            out.add(full)
            out.add(" ".join(syllables))
        initials = "".join(s[0] if h else s for s, h in zip(syllables, han, strict=True))
        if len(initials) >= min_length and initials != full:
            out.add(initials)
    else:
        out.add(full)
    n_han = sum(han)
    if 1 < len(chars) <= MAX_MIXED_CHARS and n_han >= 1:
        for choice in product((False, True), repeat=len(chars)):
            if not any(choice[i] for i in range(len(chars)) if han[i]):
                continue
            if all(choice[i] or not han[i] for i in range(len(chars))):
                continue
            out.add("".join(syllables[i] if (choice[i] and han[i]) else chars[i] for i in range(len(chars))))
    out.discard(term)
    return out


# ---- pinyin spellings -------------------------------------------------------------------------------

HAN = "炸药包杀毒枪支鸡测试㐀𠀀〇"  # 〇 is not Han here; 㐀 and 𠀀 are, and pypinyin may not know them
TERM_CHARS = st.sampled_from([*HAN, "a", "k", "Z", "1", " ", "-", "ü", "Ｋ", "ß", "é"])


@given(st.text(TERM_CHARS, min_size=1, max_size=7), st.integers(0, 6))
@settings(max_examples=400, deadline=None)
def test_pinyin_variants_equal_the_product_definition(term: str, min_length: int) -> None:
    got = pinyin_variants(term, min_length)
    want = reference_variants(term, min_length, pinyin_module._split)
    assert got == want
    assert list(got) == list(want)  # the same insertions: the same set order, so the same pattern numbers


@given(st.text(TERM_CHARS, min_size=1, max_size=6), st.integers(0, 6),
       st.lists(st.sampled_from(["", "x", "zh", "a b", "炸", "Q"]), min_size=6, max_size=6))
@settings(max_examples=400, deadline=None)
def test_pinyin_variants_follow_the_definition_for_any_syllables(term: str, min_length: int,
                                                                 pool: list[str]) -> None:
    """Syllables a real conversion rarely gives (the character itself, an empty one, several words)."""
    def split(t: str) -> list[str]:
        return [pool[ord(c) % len(pool)] or c for c in t]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pinyin_module, "_split", split)
        got = pinyin_variants(term, min_length)
    want = reference_variants(term, min_length, split)
    assert got == want and list(got) == list(want)


def test_pinyin_variants_of_the_shipped_lexicon_equal_the_definition() -> None:
    for e in load_default_data().entries:
        for n in (2, 4):
            got = pinyin_variants(e.term, n)
            assert got == reference_variants(e.term, n, pinyin_module._split), e.term
