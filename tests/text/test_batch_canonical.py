"""``canonical_forms`` (many strings in one normalisation pass) gives each string's own canonical form."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hegui.policy.pack import NormalisationSteps
from hegui.text import Normalizer
from hegui.text.batch import DELIMITER, _delimiter_is_inert, canonical_forms

N = Normalizer()
N.kernel_min_length = 1 << 40  # the plain paths (the compiled one: tests/text/test_kernel.py)
#: characters every stage acts on: CJK on both sides of separators, repeats, invisibles, expansions,
#: traditional forms, full-width, digits, and the delimiter itself
ALPHABET = [*"炸药一 .·😀\u200b\u0301aAＡ臺ßﬁ3", DELIMITER]
PIECE = st.text(alphabet=st.sampled_from(ALPHABET), max_size=8)


def one_by_one(n: Normalizer, texts: list[str]) -> dict[str, str]:
    return {t: n.canonical(t) for t in texts}


@given(st.lists(PIECE, max_size=30))
@settings(max_examples=300, deadline=None)
def test_same_as_normalising_each_string(texts: list[str]) -> None:
    assert canonical_forms(N, texts) == one_by_one(N, texts)


@given(st.lists(PIECE, max_size=20), st.booleans(), st.integers(min_value=2, max_value=4))
@settings(max_examples=100, deadline=None)
def test_same_with_steps_switched(texts: list[str], seps: bool, minimum: int) -> None:
    n = Normalizer(NormalisationSteps(strip_separators=seps, squash_repeats_min=minimum))
    assert canonical_forms(n, texts) == one_by_one(n, texts)


def test_same_in_one_pass_when_the_joined_text_takes_the_vectorised_path_in_blocks(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    texts = ["".join(rng.choices(ALPHABET[:-1], k=rng.randint(1, 8))) for _ in range(30_000)]
    assert len(DELIMITER.join(texts)) > 2 * N.chunk_length
    expected = one_by_one(N, texts)
    assert "" in expected.values()  # some strings vanish (invisible characters only)
    calls: list[int] = []
    real = Normalizer.canonical

    def counting(self: Normalizer, text: str) -> str:
        calls.append(len(text))
        return real(self, text)

    monkeypatch.setattr(Normalizer, "canonical", counting)
    assert canonical_forms(N, texts) == expected
    assert len(calls) == 1  # not the fallback


def test_strings_that_vanish_between_others_keep_every_string_in_place() -> None:
    texts = ["炸药", "\u200b", "\u200c", "\u200d", "配方", "\u2060", "a"]
    assert canonical_forms(N, texts) == one_by_one(N, texts) == {**dict.fromkeys(texts, ""), "炸药": "炸药",
                                                                 "配方": "配方", "a": "a"}


def test_the_delimiter_is_inert_for_the_default_steps() -> None:
    assert _delimiter_is_inert(NormalisationSteps())
