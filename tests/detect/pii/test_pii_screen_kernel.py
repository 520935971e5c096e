"""The compiled screen (``screen_kernel``) gives exactly the numpy screen's tuples, and ``find_pii_many``
gives the same spans with it or without it (numba missing: the numpy path)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pii_factories import bank_card, resident_id, uscc
from pii_reference import find_pii as reference

from hegui.detect.pii import PII_TYPES, screen, screen_kernel
from hegui.detect.pii import detector as d
from hegui.detect.pii.detector import find_pii_many

_Scan = list[tuple[int, str, list[tuple[int, int, int]], int]]


def _kernel() -> Callable[..., int]:
    kernel = screen_kernel.load()
    assert kernel is not None
    return kernel


@contextmanager
def _numpy_only() -> Iterator[None]:
    """The compiled kernel taken away, as when numba cannot load."""
    _kernel()
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(screen_kernel._STATE, "scan", None)
        yield


def _full_width(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if 0x21 <= ord(c) <= 0x7E else "\u3000" if c == " " else c for c in s)


_DIGIT_RUNS = st.text(alphabet="0123456789", min_size=1, max_size=5)
# every stretch and its near misses, in ASCII and full width: digit runs of 2, 3 and 4 (zone characters
# and margins of 25, 26 and 27 around them), '@', colons 5 and 6 apart, digit-dot-digit, provinces with
# and without a plate letter, label pairs, and NUL, astral characters, lone surrogates, U+3000
_EDGES = [
    "12", "123", "1234", "１２３", "1２3", "١٢٣", "\U0001d7ce\U0001d7cf\U0001d7d0", "a" * 25, "b" * 26, "C" * 27,
    " " * 26, "+(", ")-", "\u3000", "ｘ", "@", "＠", ":abcd:", ":abcde:", "：ab：", "::", ":", "1.2", "1．2", "1..2",
    "12.34", ".", "京A", "京I", "京Ｂ", "粤 B", "京", "A", "姓名", "联系", "收件", "收货", "住址", "地址", "台胞",
    "台湾", "MT", "ＭＴ", "MTP", "M", "T", "名", "\0", "\0\0", "~", "!", "😀", "\ud800", "\udfff", "，", "。", "x", "-",
    resident_id(), bank_card(), uscc(), "13812345678", "a@b.co", "10.0.0.1", "fe80::1", "京A12345",
]
_FILLER = st.sampled_from(["今天天气很好", "the quick brown fox ", "订单 第 期，", "ref no. of pages"])
_PIECE = st.one_of(st.sampled_from(_EDGES), st.sampled_from(_EDGES).map(_full_width), _DIGIT_RUNS,
                   _DIGIT_RUNS.map(_full_width), _FILLER, st.text(max_size=4))
_TEXT = st.lists(_PIECE, max_size=12).map("".join)
_BATCH = st.lists(_TEXT, max_size=8)
_TRIGGERS = st.lists(st.sampled_from(sorted(screen.TRIGGER_BITS)), min_size=1, unique=True)


def _scan(texts: list[str], triggers: list[str]) -> _Scan:
    return list(d._batch_screen().scan(texts, triggers))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=_BATCH, triggers=_TRIGGERS)
def test_compiled_scan_equals_numpy_scan(texts: list[str], triggers: list[str]) -> None:
    _kernel()
    compiled = _scan(texts, triggers)
    with _numpy_only():
        assert compiled == _scan(texts, triggers)
    for i, folded, windows, _bits in compiled:  # and both are the single-text path's
        assert folded == (d.fold_width(texts[i]) if d._FULLWIDTH_RELEVANT.search(texts[i]) else texts[i])
        assert windows == d._digit_windows(folded)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=_BATCH, triggers=_TRIGGERS, chunk=st.sampled_from([1, 5, 23, 64]), capacity=st.sampled_from([1, 2, 3]))
def test_compiled_scan_across_chunks_and_full_windows(texts: list[str], triggers: list[str], chunk: int,
                                                      capacity: int) -> None:
    """Small chunks (a boundary after nearly every text) and a window buffer that fills up, in both paths:
    the tuples of the whole batch in one chunk."""
    with _numpy_only():
        expected = _scan(texts, triggers)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(screen, "_CHUNK_CHARS", chunk)
        mp.setattr(screen, "_WINDOW_CAPACITY", capacity)
        assert _scan(texts, triggers) == expected
        with _numpy_only():
            assert _scan(texts, triggers) == expected


def test_window_buffer_grows_for_one_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """A text with more windows than the buffer holds: the buffer grows until they fit."""
    text = "，。".join(["123"] * 40)
    with _numpy_only():
        expected = _scan(["x", text, "y 456"], ["digits"])
    assert len(expected[0][2]) == 40
    monkeypatch.setattr(screen, "_WINDOW_CAPACITY", 1)
    assert _scan(["x", text, "y 456"], ["digits"]) == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=_BATCH, types=st.none() | st.lists(st.sampled_from(PII_TYPES), max_size=4).map(tuple))
def test_find_pii_many_same_without_the_kernel(texts: list[str], types: tuple[str, ...] | None) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(d, "_BATCH_MIN_CHARS", 0)
        compiled = [[(s.type, s.start, s.end, s.value) for s in spans] for spans in find_pii_many(texts, types)]
        with _numpy_only():
            assert [[(s.type, s.start, s.end, s.value) for s in spans]
                    for spans in find_pii_many(texts, types)] == compiled
    assert compiled == [reference(t, types) for t in texts]


def test_no_stretch_across_text_ends() -> None:
    """Each pair would be a stretch as one text; as two texts in a batch neither has it."""
    pairs = [("ab:", ":cd"), ("a:b", "c:"), ("12", "3"), ("1.", "2"), ("1", ".2"), ("京", "A"), ("姓", "名"),
             ("M", "T"), ("１２", "３")]
    for a, b in pairs:
        assert _scan([a + b], list(screen.TRIGGER_BITS)), a + b
        assert _scan([a, b], list(screen.TRIGGER_BITS)) == []


def test_kernel_unavailable_takes_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    import hegui.text.kernel

    def broken(fn: object) -> object:
        raise ImportError("no numba here")

    texts = ["手机13812345678，邮箱a@example.com", "", "今天天气很好", f"身份证{resident_id()}"]
    expected = [find_pii_many([t]) for t in texts]
    monkeypatch.setattr(screen_kernel, "_STATE", {})
    monkeypatch.setattr(hegui.text.kernel, "njit", broken)
    monkeypatch.setattr(d, "_BATCH_MIN_CHARS", 0)
    assert screen_kernel.load() is None
    assert [find_pii_many([t]) for t in texts] == expected
    assert find_pii_many(texts) == [e[0] for e in expected]


def test_numba_imported_only_by_a_batch() -> None:
    """Importing the detector, and ``find_pii`` on one long text, leave numba alone; a batch loads it."""
    code = ("import sys\nfrom hegui.detect.pii import find_pii\nfrom hegui.detect.pii.detector import find_pii_many\n"
            "find_pii('手机13812345678 ' * 400)\nprint('numba' in sys.modules)\n"
            "find_pii_many(['手机13812345678 ' * 400])\nprint('numba' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
