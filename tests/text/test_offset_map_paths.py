"""The vectorised path's offset map answers the same through each of its ways: a few spans mapped from
the deleted positions in Python, many spans through the dense arrays, one span at a time."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hegui.text import Normalizer
from hegui.text.normalize import _IndexMap

# no expanding characters (ß, ﬁ): those texts take the str.translate path, which has no _IndexMap
ALPHABET = list("炸药藥 .😀\u200b\u200dＡaＢb⑸ⓐрο肆⑤一哈哈哈\u0336\n，。!-kK1")
VECTOR = Normalizer()
VECTOR.kernel_min_length = 1 << 40  # the plain paths (the compiled one: tests/text/test_kernel.py)
VECTOR.vector_min_length = 0  # every text on the vectorised path
CHUNKED = Normalizer()
CHUNKED.kernel_min_length = 1 << 40  # the plain paths (the compiled one: tests/text/test_kernel.py)
CHUNKED.vector_min_length = 0
CHUNKED.chunk_length = 3  # block-wise: the map has the deletion masks only, not the spans
REFERENCE = Normalizer()


def _all_spans(n: int) -> list[tuple[int, int]]:
    return [(s, e) for s in range(n) for e in range(s + 1, min(n, s + 4) + 1)]


@given(st.text(alphabet=st.sampled_from(ALPHABET), max_size=50), st.data())
@settings(max_examples=300, deadline=None)
def test_few_spans_map_like_the_reference(text: str, data: st.DataObject) -> None:
    ref = REFERENCE._normalize_str(text)
    spans = _all_spans(len(ref.text))
    if not spans:
        return
    few = data.draw(st.lists(st.sampled_from(spans), min_size=1, max_size=_IndexMap.FEW_SPANS))
    few.sort()
    for normalizer in (VECTOR, CHUNKED):
        nt = normalizer.normalize(text)
        assert nt.text == ref.text
        assert nt._spans_to_original_trusted(few) == [ref.span_to_original(s, e) for s, e in few]


@given(st.text(alphabet=st.sampled_from(ALPHABET), min_size=8, max_size=50))
@settings(max_examples=200, deadline=None)
def test_few_and_many_spans_agree_and_one_at_a_time_after(text: str) -> None:
    ref = REFERENCE._normalize_str(text)
    spans = _all_spans(len(ref.text))
    expected = [ref.span_to_original(s, e) for s, e in spans]
    nt = VECTOR.normalize(text)
    few = [nt._spans_to_original_trusted([sp])[0] for sp in spans]  # the Python way, before any array
    assert few == expected
    assert nt._spans_to_original_trusted(spans) == expected  # dense arrays when there are many
    assert [nt.span_to_original(s, e) for s, e in spans] == expected


def test_a_squashed_run_at_the_end_maps_to_its_whole_run() -> None:
    text = "炸药哈哈哈哈 .药" + "好" * 5
    nt = VECTOR.normalize(text)
    assert nt.text == "炸药哈药好"
    assert nt._spans_to_original_trusted([(2, 3), (4, 5), (0, 5)]) == [(2, 6), (9, 14), (0, 14)]


@given(st.integers(min_value=0, max_value=60).flatmap(
    lambda n: st.tuples(st.just(n), st.lists(st.integers(min_value=0, max_value=n), max_size=12, unique=True))))
@settings(max_examples=300, deadline=None)
def test_cut_mask_is_false_exactly_on_the_spans(case: tuple[int, list[int]]) -> None:
    import numpy as np

    from hegui.text import normalize

    n, points = case
    points.sort()
    spans = [(a, b) for a, b in zip(points[::2], points[1::2], strict=False) if a < b]
    expected = np.ones(n, dtype=bool)
    for a, b in spans:
        expected[a:b] = False
    assert normalize._cut_mask(n, spans).tolist() == expected.tolist()
    saved = normalize._KEPT_CUT
    normalize._KEPT_CUT = saved[:1]  # more stretches than the pattern holds: the per-span fallback
    try:
        assert normalize._cut_mask(n, spans).tolist() == expected.tolist()
    finally:
        normalize._KEPT_CUT = saved


@given(st.lists(st.booleans(), max_size=120))
@settings(max_examples=200, deadline=None)
def test_deleted_positions_are_the_false_entries_few_or_many(flags: list[bool]) -> None:
    import numpy as np

    from hegui.text.normalize import _deleted_positions

    mask = np.array(flags, dtype=bool)
    assert _deleted_positions(mask) == [i for i, keep in enumerate(flags) if not keep]
    assert _deleted_positions(None) == []
