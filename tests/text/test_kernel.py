"""The compiled normalisation gives the reference's canonical text and, per canonical character, the
original span ``NormalizedText.span_to_original`` gives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hegui.policy.pack import NormalisationSteps
from hegui.text import Normalizer, kernel
from hegui.text.kernel import KernelTables, normalise_codepoints
from hegui.text.normalize import _to_array

ALPHABET = list("炸药藥 .😀\u200b\u200dＡaＢb⑸ⓐрο肆⑤一哈\u0336\n，。!-kK1ß\ufdd0")
STEPS = [NormalisationSteps(), NormalisationSteps(strip_separators=False), NormalisationSteps(squash_repeats=False),
         NormalisationSteps(squash_repeats_min=2), NormalisationSteps(traditional_to_simplified=False)]


@pytest.fixture(scope="module", autouse=True)
def _loaded() -> None:
    kernel.load()


def _expected(steps: NormalisationSteps, text: str) -> tuple[str, list[tuple[int, int]]]:
    ref = Normalizer(steps)._normalize_str(text)
    return ref.text, [ref.span_to_original(j, j + 1) for j in range(len(ref.text))]


@given(st.text(alphabet=st.sampled_from(ALPHABET), max_size=60), st.sampled_from(range(len(STEPS))))
@settings(max_examples=400, deadline=None)
def test_canonical_text_and_spans_match_the_reference(text: str, which: int) -> None:
    steps = STEPS[which]
    found = normalise_codepoints(KernelTables(steps), _to_array(text))
    if found is None:  # only when a character maps to several
        assert any(len(Normalizer(steps).table.get(ord(c), c)) > 1 for c in text)
        return
    out, start, end = found
    expected_text, expected_spans = _expected(steps, text)
    assert "".join(map(chr, out.tolist())) == expected_text
    assert list(zip(start.tolist(), end.tolist(), strict=True)) == expected_spans


@pytest.mark.parametrize(("text", "canonical", "spans"), [
    ("炸 药", "炸药", [(0, 1), (2, 3)]),
    ("炸.😀药", "炸药", [(0, 1), (3, 4)]),
    ("a .药", "a .药", [(0, 1), (1, 2), (2, 3), (3, 4)]),
    ("哈哈哈哈好", "哈好", [(0, 4), (4, 5)]),
    ("哈 哈\u200b哈", "哈", [(0, 5)]),
    ("炸\u200b药", "炸药", [(0, 1), (2, 3)]),
])
def test_worked_examples(text: str, canonical: str, spans: list[tuple[int, int]]) -> None:
    found = normalise_codepoints(KernelTables(NormalisationSteps()), _to_array(text))
    assert found is not None
    out, start, end = found
    assert "".join(map(chr, out.tolist())) == canonical
    assert list(zip(start.tolist(), end.tolist(), strict=True)) == spans


def test_an_expanding_character_sends_the_text_to_the_exact_path() -> None:
    assert normalise_codepoints(KernelTables(NormalisationSteps()), _to_array("straße")) is None


def test_empty_input_gives_empty_arrays() -> None:
    found = normalise_codepoints(KernelTables(NormalisationSteps()), np.zeros(0, dtype=np.uint32))
    assert found is not None
    assert [len(a) for a in found] == [0, 0, 0]


KERNEL = Normalizer()  # takes the compiled path once the kernels are loaded (the fixture above)
KERNEL.kernel_min_length = 1  # every text, however short
REFERENCE = Normalizer()
REFERENCE.kernel_min_length = 1 << 40


@given(st.text(alphabet=st.sampled_from(ALPHABET), min_size=1, max_size=40))
@settings(max_examples=300, deadline=None)
def test_normalized_text_from_the_kernel_maps_every_span_like_the_reference(text: str) -> None:
    nt = KERNEL.normalize(text)
    ref = REFERENCE._normalize_str(text)
    assert nt.text == ref.text
    assert (nt.kernel is None) == any(len(KERNEL.table.get(ord(c), c)) > 1 for c in text)
    n = len(ref.text)
    spans = [(s, e) for s in range(n + 1) for e in range(s, n + 1)]
    assert [nt.span_to_original(s, e) for s, e in spans] == [ref.span_to_original(s, e) for s, e in spans]
    nonempty = [(s, e) for s, e in spans if s < e]
    expected = [ref.span_to_original(s, e) for s, e in nonempty]
    assert nt.spans_to_original(nonempty) == expected
    assert nt._spans_to_original_trusted(nonempty) == expected
    for k in range(4):
        assert nt.hold_back_start(k) == ref.hold_back_start(k)


def test_short_texts_keep_the_short_path_by_default() -> None:
    nz = Normalizer()
    assert nz.normalize("炸药" * (nz.kernel_min_length // 2)).kernel is not None
    assert nz.normalize("炸药").kernel is None


def test_kernels_compile_without_a_cache_when_no_cache_directory_is_writable(monkeypatch: pytest.MonkeyPatch) -> None:
    """numba refuses ``cache=True`` when neither the package nor the user cache directory is writable: the
    kernel is then compiled for the process alone."""
    import numba

    real = numba.njit

    def no_cache_dir(*args: object, **kwargs: object) -> object:
        if kwargs.get("cache"):
            raise RuntimeError("cannot cache function: no locator available")
        return real(*args, **kwargs)

    monkeypatch.setattr(numba, "njit", no_cache_dir)

    def twice(x: int) -> int:
        return 2 * x

    assert kernel.njit(twice)(21) == 42
