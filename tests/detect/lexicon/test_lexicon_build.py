"""Compiling the lexicon fast changes nothing: the shipped ``pinyin_syllables.json`` (scripts/gen-precomputed)
is current and in use, and the one-pass normalisation of all patterns gives each pattern's own form."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib import resources

import pytest

from hegui.detect.lexicon import LexiconDetector
from hegui.detect.lexicon import detector as detector_module
from hegui.detect.lexicon import pinyin as pinyin_module
from hegui.detect.lexicon.formats import load_default_data
from hegui.detect.lexicon.pinyin import SYLLABLE_FILE, pinyin_variants, shipped_syllables, syllable_file
from hegui.policy.pack import load_pack
from hegui.text import Normalizer

DEFAULT = load_default_data()


@pytest.fixture
def fresh_cache() -> Iterator[None]:
    """Tests that change what ``shipped_syllables`` sees start and end with an empty cache."""
    shipped_syllables.cache_clear()
    yield
    shipped_syllables.cache_clear()


def test_shipped_file_equals_a_fresh_computation() -> None:
    shipped = resources.files("hegui.detect.lexicon").joinpath(SYLLABLE_FILE).read_text("utf-8")
    assert syllable_file(e.term for e in DEFAULT.entries) == shipped, "stale: run scripts/gen-precomputed"


def test_the_shipped_table_is_used_and_covers_every_default_term_with_han() -> None:
    table = shipped_syllables()
    han_terms = {e.term for e in DEFAULT.entries if any(pinyin_module._is_han(c) for c in e.term)}
    assert han_terms and han_terms <= table.keys()


def compiled() -> dict[str, tuple[tuple[int, int], ...]]:
    """The default lexicon's automaton keys with their payloads."""
    lx = LexiconDetector(DEFAULT.entries, load_pack("cn-genai").normalisation, DEFAULT.allow)
    return dict(zip(lx._patterns, lx._payloads, strict=True))


@pytest.fixture(scope="module")
def fast() -> dict[str, tuple[tuple[int, int], ...]]:
    return compiled()


def test_default_lexicon_from_the_table_equals_one_compiled_with_live_pypinyin(
        fast: dict[str, tuple[tuple[int, int], ...]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pinyin_module, "shipped_syllables", dict)
    assert compiled() == fast


def test_default_lexicon_normalised_in_one_pass_equals_one_normalised_pattern_by_pattern(
        fast: dict[str, tuple[tuple[int, int], ...]], monkeypatch: pytest.MonkeyPatch) -> None:
    def one_by_one(n: Normalizer, texts: Iterable[str]) -> dict[str, str]:
        return {t: n.canonical(t) for t in texts}

    monkeypatch.setattr(detector_module, "canonical_forms", one_by_one)
    assert compiled() == fast


def test_a_table_made_by_another_pypinyin_version_is_ignored(fresh_cache: None,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pinyin_module, "_pypinyin_version", lambda: "0.1.0")
    assert shipped_syllables() == {}
    assert "zhayao" in pinyin_variants("炸药", 4)  # converted live


def test_a_term_not_in_the_table_is_converted_live() -> None:
    term = "氢化铝锂粉末"
    assert term not in shipped_syllables()
    assert {"qinghualülifenmo", "qing hua lü li fen mo", "qhllfm"} <= pinyin_variants(term, 4)
