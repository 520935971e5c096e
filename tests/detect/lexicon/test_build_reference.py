"""Compiling a lexicon fast builds exactly what the straightforward definitions build.

The references below are the plain versions the fast code replaced (a set per ``product`` choice for
the pinyin spellings, one ``canonical`` call per string, a Python list per pattern for the payloads and
the compiled automaton's rows, ``np.unique`` and ``str.isascii``). The detector's tables are all
``detect``/``explain`` read, so equal tables mean equal findings on every text; the compiled automaton
is compared array by array.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hegui.detect.lexicon import AllowPhrase, LexiconDetector, LexiconEntry, automaton
from hegui.detect.lexicon import pinyin as pinyin_module
from hegui.detect.lexicon.detector import _ALLOW, _PINYIN, _TERM, _is_word_char, _utf8
from hegui.detect.lexicon.entry import check_category, guess_lang
from hegui.detect.lexicon.formats import load_default_data
from hegui.detect.lexicon.pinyin import MAX_MIXED_CHARS, pinyin_variants
from hegui.errors import InvalidInputError
from hegui.policy.pack import NormalisationSteps, load_pack
from hegui.text import kernel


@pytest.fixture(scope="module", autouse=True)
def _loaded() -> None:
    kernel.load()


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


@dataclass
class Tables:
    patterns: list[str]
    payloads: list[list[tuple[int, int]]]
    allow_all: list[AllowPhrase]
    owner: list[int]


def reference_tables(det: LexiconDetector) -> Tables:
    """The patterns and payloads of ``det``'s entries, each string normalised on its own."""
    canon = det.normalizer.canonical
    patterns: dict[str, int] = {}
    payloads: list[list[tuple[int, int]]] = []
    allow_all = list(det.allow)
    owner = [-1] * len(allow_all)

    def add(pattern: str, kind: int, idx: int) -> None:
        if not pattern:
            return
        pi = patterns.get(pattern)
        if pi is None:
            pi = patterns[pattern] = len(payloads)
            payloads.append([])
        if (kind, idx) not in payloads[pi]:
            payloads[pi].append((kind, idx))

    for ai, a in enumerate(det.allow):
        add(canon(a.phrase), _ALLOW, ai)
    for ei, e in enumerate(det.entries):
        norm = canon(e.term)
        add(norm, _TERM, ei)
        if det.steps.pinyin:
            for v in reference_variants(e.term, det.steps.pinyin_min_length, pinyin_module._split):
                nv = canon(v)
                if nv.isascii() and len(nv.replace(" ", "")) < det.steps.pinyin_min_length:
                    continue
                if nv != norm:
                    add(nv, _PINYIN, ei)
        for phrase in e.allow:
            add(canon(phrase), _ALLOW, len(allow_all))
            allow_all.append(AllowPhrase(phrase, e.category, e.source))
            owner.append(ei)
    return Tables(list(patterns), payloads, allow_all, owner)


def reference_automaton(det: LexiconDetector, ref: Tables, extra: Sequence[str] = ()) -> automaton.CompiledAutomaton:
    """``LexiconDetector._compile`` as first written: a Python row per pattern, handed to the constructor."""
    cats = [e.category for e in det.entries]
    sevs = [e.severity for e in det.entries]
    cat_ids: dict[str, int] = {}
    entry_cat = [cat_ids.setdefault(c, len(cat_ids)) for c in cats]
    candidates: list[list[tuple[int, int]]] = []
    allows: list[list[int]] = []
    for pl in ref.payloads:
        best: dict[str, int] = {}
        mine: list[int] = []
        for kind, idx in pl:
            if kind == _ALLOW:
                mine.append(idx)
                continue
            cur = best.get(cats[idx])
            if cur is None or sevs[idx] > sevs[cur]:
                best[cats[idx]] = idx
        candidates.append([(cat_ids[c], i) for c, i in best.items()])
        allows.append(mine)
    allow_cats = np.array([[a.applies_to(c) for c in cat_ids] for a in ref.allow_all], dtype=np.bool_)
    edges = [(1 if _is_word_char(p[0]) else 0) | (2 if _is_word_char(p[-1]) else 0) for p in ref.patterns]
    return automaton.CompiledAutomaton([*ref.patterns, *extra], candidates + [[] for _ in extra],
                                       [*edges, *(0 for _ in extra)], allows + [[] for _ in extra], ref.owner,
                                       allow_cats.reshape(len(ref.allow_all), len(cat_ids)), entry_cat)


def assert_same_automaton(got: automaton.CompiledAutomaton, want: automaton.CompiledAutomaton) -> None:
    mine, theirs = vars(got), vars(want)
    assert mine.keys() == theirs.keys()
    for name, value in theirs.items():
        if isinstance(value, np.ndarray):
            assert mine[name].dtype == value.dtype and np.array_equal(mine[name], value), name
        else:
            assert mine[name] == value, name


def assert_same_build(det: LexiconDetector, extra: Sequence[str] = ()) -> None:
    """Every table of ``det`` and its compiled automaton (alone, and merged with ``extra``) equal the reference."""
    ref = reference_tables(det)
    assert det._patterns == ref.patterns
    assert [list(pl) for pl in det._payloads] == ref.payloads
    assert det._allow_all == ref.allow_all and det._allow_owner == ref.owner
    assert det._char_len == [len(p) for p in ref.patterns]
    assert det._max_len == max((len(p) for p in ref.patterns), default=0)
    assert det._edges == [(1 if _is_word_char(p[0]) else 0) | (2 if _is_word_char(p[-1]) else 0)
                          for p in ref.patterns]
    assert det._allow_span == max((len(_utf8(p)) for p, pl in zip(ref.patterns, ref.payloads, strict=True)
                                   if any(kind == _ALLOW for kind, _ in pl)), default=0)
    cats, sevs = [e.category for e in det.entries], [e.severity for e in det.entries]
    assert det._single == [(pl[0][0], pl[0][1], cats[pl[0][1]], sevs[pl[0][1]])
                           if len(pl) == 1 and pl[0][0] != _ALLOW else None for pl in ref.payloads]
    if not ref.patterns:
        return
    det.compile_kernel()
    assert det._compiled is not None
    assert_same_automaton(det._compiled, reference_automaton(det, ref))
    merged, numbers = det.merged_with(extra)
    number = {p: i for i, p in enumerate(ref.patterns)}
    more: list[str] = []
    for p in extra:
        if p not in number:
            number[p] = len(ref.patterns) + len(more)
            more.append(p)
    assert numbers == [number[p] for p in extra]
    assert_same_automaton(merged, reference_automaton(det, ref, more))


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


# ---- whole lexicons -------------------------------------------------------------------------------

def test_the_shipped_lexicon_compiles_as_the_reference_does() -> None:
    data = load_default_data()
    det = LexiconDetector(data.entries, load_pack("cn-genai").normalisation, data.allow, compiled=False)
    from hegui.detect.combo import ComboDetector

    rules = ComboDetector.default()
    assert_same_build(det, rules._patterns)


PIECES = st.sampled_from([*HAN, "炸药", "kill", "ki", "a", "1", " ", "Ｋ", "ß", "\u200b", "😀", "zha", "yao"])
TERMS = st.lists(PIECES, min_size=1, max_size=4).map("".join).filter(lambda t: bool(t.strip()))
CATS = st.sampled_from(["A1.4", "A1.6", "A1.8", "A2.1", "J"])
# often a few terms only, so that one pattern has entries of several risks in any order
ENTRIES = st.builds(LexiconEntry, st.one_of(TERMS, st.sampled_from(["炸药", "zhayao", "炸yao", "药"])), CATS,
                    st.integers(1, 3),
                    allow=st.lists(TERMS, max_size=2).map(tuple))
ALLOWS = st.builds(AllowPhrase, TERMS, st.sampled_from(["*", "A1", "A1.8", "A2", "J"]))
STEPS = st.builds(NormalisationSteps, pinyin=st.booleans(), pinyin_min_length=st.integers(2, 5),
                  squash_repeats=st.booleans())


@given(st.lists(ENTRIES, max_size=12), st.lists(ALLOWS, max_size=4), STEPS, st.lists(TERMS, max_size=5))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_lexicon_compiles_as_the_reference_does(entries: list[LexiconEntry], allow: list[AllowPhrase],
                                                     steps: NormalisationSteps, extra: list[str]) -> None:
    """Terms shared by several entries and risks, allow phrases that are also terms, merged patterns that
    are already the lexicon's."""
    det = LexiconDetector(entries + entries[:2], steps, allow, compiled=False)
    canon = det.normalizer.canonical
    assert_same_build(det, [canon(t) for t in extra] + det._patterns[:2])


def test_risks_behind_one_pattern_keep_the_order_they_are_met_in() -> None:
    """炸药's entries are met A1.8 first, though A1.4 has the lower risk number (first in the entries)."""
    entries = [LexiconEntry("枪支", "A1.4"), LexiconEntry("炸药", "A1.8", 1), LexiconEntry("炸药", "A1.4", 2),
               LexiconEntry("炸药", "A1.8", 3), LexiconEntry("炸药", "A1.4", 2)]
    det = LexiconDetector(entries, compiled=False)
    assert_same_build(det, ["配方", "炸药"])
    compiled = det._compiled
    assert compiled is not None
    p = det._patterns.index("炸药")
    rows = slice(compiled.cand_off[p], compiled.cand_off[p + 1])
    assert compiled.cand_idx[rows].tolist() == [3, 2]  # A1.8: the most severe; A1.4: the first of two equal


# ---- entries -------------------------------------------------------------------------------------

def reference_check_term(t: str, what: str = "term") -> str:
    """``check_term`` as first written."""
    t = t.strip()
    if not t:
        raise InvalidInputError(f"{what} is empty")
    if any(c in t for c in "\t\r\n"):
        raise InvalidInputError(f"{what} {t!r} contains a tab or line break")
    if len(t) > 200:
        raise InvalidInputError(f"{what} is longer than 200 characters")
    return t


def reference_entry(term: Any, category: Any, severity: Any, lang: Any, allow: Any) -> tuple[Any, ...]:
    """``LexiconEntry``'s checks as first written: its fields, or the error's message."""
    try:
        term = reference_check_term(term)
        check_category(category)
        try:
            sev = int(str(severity).strip())
        except ValueError:
            raise InvalidInputError(f"severity must be 1, 2 or 3, got {severity!r}") from None
        if sev not in (1, 2, 3):
            raise InvalidInputError(f"severity must be 1, 2 or 3, got {sev}")
        lang = lang or guess_lang(term)
        return (term, category, sev, lang, tuple(reference_check_term(a, "allow phrase") for a in allow))
    except InvalidInputError as err:
        return ("error", str(err))


class Word(str):
    """A str subclass: a checked term is a plain ``str`` again."""


TEXT = st.text(st.sampled_from(["炸", "a", " ", "\t", "\n", "\u3000", "x"]), max_size=6)


@given(st.one_of(TEXT, TEXT.map(Word), st.just("a" * 201)), st.sampled_from(["A1.4", "J", "A9", ""]),
       st.one_of(st.integers(-1, 4), st.booleans(), st.sampled_from(["2", " 3 ", "x", 2.0, np.int64(2)])),
       st.sampled_from(["", "zh", "en"]),
       st.one_of(st.lists(TEXT, max_size=2), st.lists(TEXT, max_size=2).map(tuple), st.just("ab")))
@settings(max_examples=500, deadline=None)
def test_entries_are_checked_as_the_reference_checks_them(term: Any, category: str, severity: Any, lang: str,
                                                          allow: Any) -> None:
    want = reference_entry(term, category, severity, lang, allow)
    try:
        e = LexiconEntry(term, category, severity, lang, allow=allow)
    except InvalidInputError as err:
        assert want == ("error", str(err))
        return
    assert (e.term, e.category, e.severity, e.lang, e.allow) == want
    assert type(e.term) is str and type(e.severity) is int and type(e.allow) is tuple
    assert all(type(a) is str for a in e.allow)


@given(st.one_of(TEXT, TEXT.map(Word), st.just("a" * 201)))
@settings(max_examples=200, deadline=None)
def test_allow_phrases_are_checked_as_the_reference_checks_them(phrase: str) -> None:
    try:
        want = reference_check_term(phrase, "allow phrase")
    except InvalidInputError as err:
        with pytest.raises(InvalidInputError) as got:
            AllowPhrase(phrase)
        assert str(got.value) == str(err)
        return
    a = AllowPhrase(phrase)
    assert a.phrase == want and type(a.phrase) is str


# ---- the automaton's helpers ------------------------------------------------------------------------

@given(st.lists(st.text(st.sampled_from(["a", "Z", "0", "é", "炸", "😀", "\x7f", "\x80"]), max_size=5), max_size=20))
@settings(max_examples=300, deadline=None)
def test_alphabet_and_pattern_order_equal_their_definitions(patterns: list[str]) -> None:
    cps, plen = automaton.pattern_codepoints(patterns)
    assert cps.tolist() == [ord(c) for p in patterns for c in p] and plen.tolist() == [len(p) for p in patterns]
    assert automaton._alphabet(cps).tolist() == np.unique(cps).tolist()
    offs = np.zeros(len(patterns) + 1, dtype=np.int64)
    np.cumsum(plen, out=offs[1:])
    want = np.argsort(np.fromiter(map(str.isascii, patterns), dtype=np.bool_, count=len(patterns)), kind="stable")
    got = automaton._pattern_order(cps, offs)
    assert got.dtype == np.int64 and got.tolist() == want.tolist()


def test_an_automaton_from_arrays_equals_one_from_rows() -> None:
    patterns = ["炸药", "ab", "b", "炸"]
    rows: tuple[Any, ...] = ([[(0, 0)], [(1, 1), (0, 2)], [], [(0, 0)]], [0, 3, 2, 0], [[], [], [0], []], [-1],
                             np.ones((1, 2), dtype=np.bool_), [0, 1, 0])
    cps, plen = automaton.pattern_codepoints(patterns)
    arrays = automaton.CompiledAutomaton.from_arrays(cps, plen, automaton._csr(rows[0]), np.array(rows[1]),
                                                     automaton._flat(rows[2]), *rows[3:])
    assert_same_automaton(arrays, automaton.CompiledAutomaton(patterns, *rows))


@given(st.lists(st.integers(0, 60), max_size=300), st.integers(0, 20))
@settings(max_examples=300, deadline=None)
def test_states_by_depth_are_a_stable_sort(depths: list[int], unused: int) -> None:
    """``_build``'s breadth-first order (``_by_depth``, compiled) equals ``np.argsort(kind="stable")`` on the
    states it has, whatever lies beyond them."""
    depth = np.array([*depths, *([7] * unused)], dtype=np.int32)
    got = automaton._by_depth(depth, len(depths))
    assert got.tolist() == np.argsort(depth[:len(depths)], kind="stable").tolist()
