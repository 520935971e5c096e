"""The compiled screen gives the jailbreak screen's answers and the case-folded NFKC forms Python gives."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hegui.corpus import screen_kernel
from hegui.corpus.scan import JailbreakScreen
from hegui.corpus.screen_kernel import BUSY, CUE, HARD, RUN, SQUASH, Dfa, FoldScreen, WordScreen
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
    assert Dfa.of(words).run(text) == [any(w and text[:p + 1].endswith(w) for w in words) for p in range(len(text))]


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
    assert batch.flags.tolist() == [BUSY | CUE, BUSY | SQUASH, BUSY | CUE | SQUASH, BUSY | RUN, 0, BUSY | CUE | SQUASH,
                                    0, HARD]


def test_compiled_screen_steps_aside_for_a_lone_surrogate() -> None:
    assert _fold().run(["fine", "a\ud800b"]) is None


def test_jailbreak_rules_hold_basic_plane_words_only() -> None:
    """The compiled screen's automata need it (``Dfa.of`` refuses others)."""
    words = {n for rule in jailbreak.RULES for n in rule.needles} | set(jailbreak._SQUASHED)
    assert all(ord(c) <= 0xFFFF for w in words for c in w)


_LICENCE_PIECES = ["Copyright", "COPY", "right", " 2024", "©", "(C)", "版权所有", "转载", "请注明", "SPDX",
                   "cc-BY", "Public ", "Domain", "İ", "😀", "ß", "ｃｏｐｙｒｉｇｈｔ", "\u212a", "中文", " ", "\x00",
                   "mit license"]
_LICENCE_TEXTS = st.lists(st.lists(st.sampled_from(_LICENCE_PIECES), max_size=8).map("".join), max_size=10)


@settings(max_examples=300, deadline=None)
@given(_LICENCE_TEXTS)
def test_word_screen_finds_a_word_exactly_where_the_lowered_text_has_one(texts: list[str]) -> None:
    from hegui.corpus.steps import _SCREEN_WORDS

    kernel = screen_kernel.load("words")
    assert kernel is not None
    flags = WordScreen(kernel, _SCREEN_WORDS, str.lower).run(texts).tolist()
    for t, f in zip(texts, flags, strict=True):
        hard = [ord(c) > 0xFFFF or len(c.lower()) != 1 for c in t]
        if f == HARD:  # a character Python must see, before any word ends
            first = hard.index(True)
            assert not any(w in t[:first].lower() for w in _SCREEN_WORDS)
        else:
            assert (f == BUSY) == any(w in t.lower() for w in _SCREEN_WORDS)
            assert f == BUSY or not any(hard)


@settings(max_examples=100, deadline=None)
@given(_LICENCE_TEXTS)
def test_licence_markers_are_the_same_with_and_without_the_compiled_screen(texts: list[str]) -> None:
    from hegui.corpus.readers import Document
    from hegui.corpus.steps import Item, LicenceMarkers

    def markers() -> list[tuple[str, ...]]:
        items = [Item(Document("s", "f", i, t)) for i, t in enumerate(texts)]
        LicenceMarkers().run(items)
        return [it.markers for it in items]

    compiled = markers()
    saved = dict(screen_kernel._STATE)
    try:
        screen_kernel._STATE["words"] = None
        assert markers() == compiled
    finally:
        screen_kernel._STATE.clear()
        screen_kernel._STATE.update(saved)


@settings(max_examples=300, deadline=None)
@given(_BATCHES)
def test_compiled_screen_says_which_of_run_cue_and_squashed_key_it_saw(texts: list[str]) -> None:
    """For the texts it decides: ``RUN`` exactly when a payload run is there, ``SQUASH`` exactly when a
    squashed key is in the squashed form, ``CUE`` exactly when a cue word (either way round) is in the
    case-folded NFKC form; ``BUSY`` when any is."""
    screen = _screen()
    batch = _fold().run(texts)
    assert batch is not None
    runs = screen.payload_runs(texts)
    for t, f, run in zip(texts, batch.flags.tolist(), runs.tolist(), strict=True):
        if f & HARD:
            continue
        folded = unicodedata.normalize("NFKC", t).casefold()
        squashed = jailbreak._NON_WORD.sub("", folded)
        assert bool(f & RUN) == run
        assert bool(f & SQUASH) == any(k in squashed for k in jailbreak._SQUASHED)
        assert bool(f & CUE) == any(w in folded for w in screen._words)
        assert bool(f & BUSY) == bool(f & (RUN | CUE | SQUASH))
