"""The compiled screen gives the jailbreak screen's answers and the case-folded NFKC forms Python gives."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hegui.corpus.scan import JailbreakScreen
from hegui.corpus.screen_kernel import BUSY, HARD, Dfa, FoldScreen
from hegui.detect import jailbreak
from hegui.detect.classifier.batch import _simple_nfkc
from hegui.detect.jailbreak import JailbreakDetector

# cue words and squashed keys in every form (plain, upper, full width, reversed, spread by non-word
# runs), characters whose NFKC or fold is not one character (ß ﬁ İ e◌́ ① ſ K), astral letters, U+0000,
# and payload alphabets
_PIECES = ["ignore", "IGNORE", "ｉｇｎｏｒｅ", "erongi", "developer", "_", "mode", " ", "开发者", "模式", "，",
           "ß", "ﬁ", "İ", "\x00", "😀", "𝐢𝐠𝐧𝐨𝐫𝐞", "e\u0301", "DAN", "#", "ok", "中文", "\u3000", "\u212a", "ſ",
           "𐐀", "ﾟ", "①", "d.o a-n_y", "thing now", "忽略", "之前的", "指令", "QUJDREVGR0hJSktM", "0x4a4b",
           "4c4d4e4f50", "system prompt", "\u0130", "Σ", "ς"]
_BATCHES = st.lists(st.lists(st.sampled_from(_PIECES), max_size=10).map("".join), max_size=10)


@lru_cache(maxsize=1)
def _screen() -> JailbreakScreen:
    return JailbreakScreen(JailbreakDetector())


@lru_cache(maxsize=1)
def _fold() -> FoldScreen:
    fold = _screen().fold_screen()
    assert fold is not None
    return fold


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="abcx", max_size=4), min_size=1, max_size=6), st.text(alphabet="abcxy", max_size=30))
def test_dfa_ends_a_word_exactly_where_some_word_ends(words: list[str], text: str) -> None:
    dfa = Dfa.of(words)
    state, got = 0, []
    for ch in text:
        state = int(dfa.step[state, dfa.classes[ord(ch)]])
        got.append(bool(dfa.hit[state]))
    assert got == [any(w and text[:p + 1].endswith(w) for w in words) for p in range(len(text))]


def test_dfa_refuses_astral_characters() -> None:
    with pytest.raises(ValueError, match="Basic Plane"):
        Dfa.of(["a😀"])


@settings(max_examples=300, deadline=None)
@given(_BATCHES)
def test_compiled_screen_clears_exactly_the_texts_clears_clears(texts: list[str]) -> None:
    screen = _screen()
    nfkc = [unicodedata.normalize("NFKC", t) for t in texts]
    runs = screen.payload_runs(texts)
    want = [screen.clears(t, f, bool(r)) for t, f, r in zip(texts, nfkc, runs, strict=True)]
    batch = _fold().run(texts)
    assert batch is not None
    assert screen.clears_folded(texts, batch, range(len(texts))) == want


@settings(max_examples=300, deadline=None)
@given(_BATCHES)
def test_compiled_screen_gives_every_text_its_case_folded_nfkc(texts: list[str]) -> None:
    batch = _fold().run(texts)
    assert batch is not None
    assert [_fold().folded(batch, d) for d in range(len(texts))] == \
        [unicodedata.normalize("NFKC", t).casefold() for t in texts]


@settings(max_examples=200, deadline=None)
@given(_BATCHES)
def test_compiled_screen_leaves_to_python_exactly_the_texts_not_folded_character_wise(texts: list[str]) -> None:
    ok, lut = _simple_nfkc()

    def character_wise(t: str) -> bool:
        return all(ord(c) <= 0xFFFF and ok[ord(c)] and c != "\x00" and len(chr(int(lut[ord(c)])).casefold()) == 1
                   and len(c.casefold()) == 1 for c in t)

    batch = _fold().run(texts)
    assert batch is not None
    assert [bool(f & HARD) for f in batch.flags.tolist()] == [not character_wise(t) for t in texts]
    assert sorted(batch.nfkc) == [d for d, t in enumerate(texts) if not character_wise(t)]


def test_compiled_screen_marks_cue_words_squashed_keys_and_payloads() -> None:
    texts = ["Please IGNORE the noise", "d.e.v.e.l.o.p.e.r m.o.d.e", "ＤＥＶＥＬＯＰＥＲ_ＭＯＤＥ",
             "QUJDREVGR0hJSktMTU5PUA", "just a river and a garden", "开发 者模式", "plain 中文 text，没有问题",
             "\u1e9e folds to ss"]
    batch = _fold().run(texts)
    assert batch is not None
    assert batch.flags.tolist() == [BUSY, BUSY, BUSY, BUSY, 0, BUSY, 0, HARD]


def test_compiled_screen_steps_aside_for_a_lone_surrogate() -> None:
    assert _fold().run(["fine", "a\ud800b"]) is None


def test_jailbreak_rules_hold_basic_plane_words_only() -> None:
    """The compiled screen's automata need it (``Dfa.of`` refuses others)."""
    words = {n for rule in jailbreak.RULES for n in rule.needles} | set(jailbreak._SQUASHED)
    assert all(ord(c) <= 0xFFFF for w in words for c in w)
