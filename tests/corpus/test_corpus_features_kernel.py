"""The compiled features kernel gives exactly what the numpy reference gives (language, length, exact
hash, signature; ``_same`` compares all four), for any text, and the numpy path takes over when the
kernel cannot load."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hegui.corpus import features_kernel, textstats
from hegui.corpus.textstats import TextFeatures

_ALPHABETS = [
    "今天我们在图书馆讨论城市公园规划龘",  # Han
    "ひらがなカタカナ한국어문장",  # kana, Hangul
    "abcXYZhello",  # Latin, both cases
    "0123456789",
    "ＡＢＣｘｙｚ０１２！？",  # full width
    "àéîøÆß×÷ǅ",  # Latin-1 and extended, with the two non-letters in the block
    "ΩμέγαпривітЖ",  # Greek, Cyrillic
    "𠀀𠀁𪚥𫝀𮯯",  # astral Han (the last one just past the range)
    "😀🎉𝐀",  # astral, no class
    " \t\n\u3000\u00a0",  # whitespace
    ",.;:!?-—。，、「」…'\"",
    "\ud800\udfff",  # lone surrogates (a Python str may hold them)
]
_PIECES = st.one_of(
    [st.text(alphabet=a, min_size=1, max_size=12) for a in _ALPHABETS]
    + [st.text(alphabet="abcdefghij", min_size=60, max_size=90),  # words past the 64 positions of _POW
       st.text(max_size=8)])
_TEXTS = st.lists(_PIECES, max_size=30).map("".join)


def _kernel() -> Callable[..., int]:
    kernel = features_kernel.load()
    assert kernel is not None
    return kernel


def _same(a: list[TextFeatures], b: list[TextFeatures]) -> bool:
    return len(a) == len(b) and all(
        x.lang == y.lang and x.chars == y.chars and x.exact_hash == y.exact_hash
        and x.signature.dtype == y.signature.dtype and (x.signature == y.signature).all()
        for x, y in zip(a, b, strict=True))


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(_TEXTS, max_size=8))
def test_kernel_equals_numpy_on_random_mixed_texts(texts: list[str]) -> None:
    assert _same(textstats._features_group_kernel(_kernel(), texts), textstats._features_group_numpy(texts))


def test_kernel_equals_numpy_on_edge_documents() -> None:
    docs = ["", " ", "\n\t \u3000", "短", "a", "a b c d", "a b c d e", "一二三四", "一二三四五", "x" * 200,
            "word" * 40 + " tail", "ＨＥＬＬＯ ｗｏｒｌｄ", "𠀀𠀁𠀂 rare", "😀😀😀", "\ud800 lone", "!!! ???"]
    assert _same(textstats._features_group_kernel(_kernel(), docs), textstats._features_group_numpy(docs))


@settings(max_examples=50, deadline=None)
@given(texts=st.lists(_TEXTS, min_size=2, max_size=12))
def test_batches_split_at_batch_chars_equal_numpy(texts: list[str]) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(textstats, "BATCH_CHARS", 40)  # several kernel passes per call
        with_kernel = textstats.features_batch(texts)
        mp.setattr(textstats, "_kernel", lambda: None)
        reference = textstats.features_batch(texts)
    assert _same(with_kernel, reference)


@settings(max_examples=100, deadline=None)
@given(text=_TEXTS, size=st.integers(1, 40))
def test_long_documents_in_chunks_equal_numpy(text: str, size: int) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(textstats, "LONG_DOC_CHARS", size)  # many chunks, some with fewer than 5 tokens or none
        chunked = textstats._features_long(text, _kernel())
        assert _same([chunked], [textstats._features_long(text, None)])
        pts = textstats._split_points(text, size)
    # the exact hash is that of the chunks' token streams end to end, hashed at once (a chunk boundary
    # may split a non-ASCII word, so that stream is not always the whole text's)
    stream = np.concatenate([textstats.tokens(text[a:b])[0] for a, b in itertools.pairwise(pts)])
    assert chunked.exact_hash == textstats.exact_hash(stream)
    if all(text[a - 1:a + 1].isascii() for a in pts[1:-1]):  # no boundary inside a word: the whole text's
        assert chunked.exact_hash == textstats._features_group_numpy([text])[0].exact_hash


def test_exact_hash_of_a_kernel_pass_starting_at_a_later_position() -> None:
    """``pos0`` (a long document's later chunk) shifts the positions of the exact hash's terms."""
    cps = textstats._codepoints("alpha beta 你好 gamma")
    tok, _start, _counts, _sig, acc = features_kernel.run(_kernel(), cps, np.array([0, cps.size]), False, 1000)
    expected = textstats._exact_terms(tok, np.arange(1000, 1000 + tok.size)).sum(dtype=np.uint64)
    assert acc[0] == expected


def test_features_batch_takes_numpy_when_the_kernel_cannot_load(monkeypatch: pytest.MonkeyPatch) -> None:
    import hegui.text.kernel

    def broken(fn: object) -> object:
        raise ImportError("no numba here")

    docs = ["Hello World 你好", "", "今天上午我们在图书馆讨论了城市公园的规划方案"]
    expected = textstats._features_group_numpy(docs)
    monkeypatch.setattr(features_kernel, "_STATE", {})
    monkeypatch.setattr(hegui.text.kernel, "njit", broken)
    assert features_kernel.load() is None
    assert _same(textstats.features_batch(docs), expected)


def test_importing_textstats_does_not_import_numba() -> None:
    code = "import sys, hegui.corpus.textstats, hegui.corpus.features_kernel; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
