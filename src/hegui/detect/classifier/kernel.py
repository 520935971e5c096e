"""The compiled loop behind ``BatchScorer``: every unit of every text scored in one pass, per unit on
its own set of distinct n-gram buckets, exactly as ``LinearModel.predict`` defines it. A window's sum
is built from its two halves' (each bucket of a half added once), which with the int8 weights gives the
very same integers as summing the window on its own, at about 70 % of the cost.

Why compiled: a unit's score needs its *distinct* buckets. Array code gets them by sorting (bucket,
position) keys and masking, which costs more than all the arithmetic; a loop gets them with a stamp
array (``seen[bucket] == unit`` means already counted in this unit), one read and one write per
n-gram. numba compiles the loop on first use (imported lazily, so the gateway and the CLI never load
it) and keeps the machine code in its cache beside this file, or in the user's cache directory when
the package directory is read-only; with neither, it compiles once per process.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from hegui.detect.classifier.model import _BASE, _MUL, _SEEDS, MIN_SENTENCE, NGRAMS, STRIDE, WINDOW

_NMAX = max(NGRAMS)
if WINDOW != 2 * STRIDE:  # ``_score_units`` builds each window from two halves
    raise RuntimeError("the classifier kernel needs WINDOW == 2 * STRIDE")
# ``_SENTENCE_END``: one of these, or "." followed by whitespace (the regex's ``\s``)
_SENTENCE_MARKS = tuple(ord(c) for c in "。！？!?；;")


def _space_table() -> npt.NDArray[np.bool_]:
    """``str.isspace`` (what ``\\s`` and ``str.split`` use) for every character of the Basic Plane;
    no character above it is whitespace."""
    return np.array([chr(c).isspace() for c in range(0x10000)], dtype=np.bool_)


def _sentence_table() -> npt.NDArray[np.bool_]:
    table = np.zeros(0x10000, dtype=np.bool_)
    table[list(_SENTENCE_MARKS)] = True
    return table


def _add_distinct(grams: Any, seen: Any, stamp: int, row_of: Any, table: Any, acc: Any, p0: int, p1: int,
                  after: int, upto: int) -> int:
    """Adds to ``acc`` the weight rows of the buckets of the n-grams that start in ``[p0, p1)`` and end
    after ``after`` and at ``upto`` at most, each bucket once (``seen[bucket] == stamp`` afterwards);
    returns how many buckets were new."""
    count = 0
    for p in range(p0, p1):
        for n in range(_NMAX):
            e = p + n + 1
            if e <= after:
                continue
            if e > upto:
                break
            b = grams[p, n]
            if b < 0 or seen[b] == stamp:
                continue
            seen[b] = stamp
            count += 1
            r = row_of[b]
            if r >= 0:
                for j in range(acc.shape[0]):
                    acc[j] += table[r, j]
    return count


def _score_units(cps: Any, starts: Any, lens: Any, bits: int, seeds: Any, row_of: Any, table: Any, acc: Any,
                 scale: Any, bias: Any, min_norm: float, space: Any, marks: Any, collapse: bool, out: Any) -> None:
    """``out[d]`` = the highest logits over the units of text ``d`` (``cps[starts[d]:starts[d] + lens[d]]``;
    ``collapse``: with its whitespace first collapsed as ``" ".join(text.split())`` does).

    Plain Python over numpy arrays, compiled by numba (``_compiled``). A unit's logits: the sum of the
    weight rows (``table[row_of[bucket]]``, times ``scale``) of its distinct buckets, over
    ``sqrt(max(distinct buckets, min_norm, 1))``, plus ``bias``. ``seeds[n]`` is the hash seed of
    n-grams, 0 for lengths not used; ``acc`` is scratch of one row of ``table`` (which may have zero
    columns after the labels, so that a row is a whole number of vector registers), of a type that sums
    the rows exactly enough (int32 for int8 weights: a unit has at most 4 × 192 n-grams; else float64)."""
    nlab = bias.shape[0]
    width = acc.shape[0]
    s_a = np.zeros_like(acc)  # a half's distinct sum, its intersection with the previous P, and P itself
    s_i = np.zeros_like(acc)
    s_p = np.zeros_like(acc)
    seen = np.zeros(1 << bits, dtype=np.int32)
    stamp = 0
    shift = np.uint64(64 - bits)
    base = np.uint64(_BASE)
    mul = np.uint64(_MUL)
    longest = 0
    for d in range(lens.shape[0]):
        longest = max(longest, lens[d])
    grams = np.full((longest + 1, _NMAX), -1, dtype=np.int32)  # [position, n - 1]: bucket, -1 none
    floor = max(min_norm, 1.0)
    units = np.zeros((longest // STRIDE + longest // MIN_SENTENCE + 4, 2), dtype=np.int64)
    buf = np.empty(longest + 1, dtype=np.uint32)  # the text being scored
    for d in range(lens.shape[0]):
        length = 0
        pending = False
        for q in range(starts[d], starts[d] + lens[d]):
            c = cps[q]
            if collapse and c < 0x10000 and space[c]:
                pending = length > 0
                continue
            if pending:
                buf[length] = 32
                length += 1
                pending = False
            buf[length] = c
            length += 1
        for p in range(length):
            h = np.uint64(0)
            for n in range(1, _NMAX + 1):
                if p + n > length:
                    grams[p, n - 1] = -1
                    continue
                h = h * base + np.uint64(buf[p + n - 1])
                if seeds[n] != 0:
                    grams[p, n - 1] = np.int32(((h + seeds[n]) * mul) >> shift)
                else:
                    grams[p, n - 1] = -1
        for j in range(nlab):
            out[d, j] = -np.inf
        nunits = 0
        if length <= WINDOW:
            units[0, 0] = 0
            units[0, 1] = length
            nunits = 1
        else:
            # the windows (``WINDOW`` = 2 × ``STRIDE``): window k is halves k and k + 1, so its distinct
            # buckets are P(k) ∪ A(k + 1), where A(h) are the n-grams inside half h and P(h) adds those
            # that start in it and cross into the next. Each half's distinct sum is taken once and a
            # window's is P(k) + (A(k + 1) − P(k)). A bucket of A(k + 1) is added once, to the part new to
            # the window or to the part shared with P(k); A(k + 1) is the two together. About half the
            # row additions of summing every window on its own, and with integer weights the same sums
            prev = 0  # the stamp of the previous half
            c_p = 0
            for half in range((length + STRIDE - 1) // STRIDE):
                stamp += 1
                hs = half * STRIDE
                he = min(hs + STRIDE, length)
                c_a = 0
                c_i = 0
                s_a[:] = 0  # the buckets new to the window
                s_i[:] = 0  # those P(k) has too
                for p in range(hs, he):
                    for n in range(_NMAX):
                        if p + n + 1 > he:
                            break
                        b = grams[p, n]
                        if b < 0 or seen[b] == stamp:
                            continue
                        r = row_of[b]
                        if seen[b] == prev:
                            c_i += 1
                            if r >= 0:
                                for j in range(width):
                                    s_i[j] += table[r, j]
                        else:
                            c_a += 1
                            if r >= 0:
                                for j in range(width):
                                    s_a[j] += table[r, j]
                        seen[b] = stamp
                if half >= 1:  # window half − 1
                    norm = np.sqrt(max(float(c_p + c_a), floor))
                    for j in range(nlab):
                        z = float(s_p[j] + s_a[j]) * scale[j] / norm + bias[j]
                        if z > out[d, j]:
                            out[d, j] = z
                c_a += c_i
                for j in range(width):
                    s_a[j] += s_i[j]
                c_p = c_a
                s_p[:] = s_a
                # P(h): the n-grams crossing into the next half
                c_p += _add_distinct(grams, seen, stamp, row_of, table, s_p, max(hs, he - _NMAX + 1), he, he, length)
                prev = stamp
            # then the sentences, each on its own
            start = 0
            for p in range(length + 1):
                if p < length:
                    c = buf[p]
                    nxt = buf[p + 1] if p + 1 < length else 0
                    mark = c < 0x10000 and marks[c]
                    dot_space = c == 0x2E and p + 1 < length and nxt < 0x10000 and space[nxt]
                    if not (mark or dot_space):
                        continue
                    cut = p + 1
                else:
                    cut = length
                s = start
                while s < cut and buf[s] < 0x10000 and space[buf[s]]:
                    s += 1
                start = cut
                if MIN_SENTENCE <= cut - s <= WINDOW:
                    units[nunits, 0] = s
                    units[nunits, 1] = cut
                    nunits += 1
        for u in range(nunits):
            us = units[u, 0]
            ue = units[u, 1]
            stamp += 1
            acc[:] = 0
            count = _add_distinct(grams, seen, stamp, row_of, table, acc, us, ue, -1, ue)
            norm = np.sqrt(max(float(count), floor))
            for j in range(nlab):
                z = float(acc[j]) * scale[j] / norm + bias[j]
                if z > out[d, j]:
                    out[d, j] = z


@lru_cache(maxsize=1)
def _compiled() -> Callable[..., None]:
    """``_score_units`` compiled by numba, cached on disk where a cache directory is writable."""
    from hegui.text.kernel import njit

    helper = getattr(_add_distinct, "py_func", _add_distinct)  # (compiled already by an earlier call)
    globals()["_add_distinct"] = njit(helper)  # ``_score_units`` calls the compiled one
    fn: Callable[..., None] = njit(_score_units)
    return fn


@lru_cache(maxsize=1)
def tables() -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """(whitespace, sentence mark) lookup tables over the Basic Plane."""
    return _space_table(), _sentence_table()


def score_units(cps: npt.NDArray[np.uint32], starts: npt.NDArray[np.int64], lens: npt.NDArray[np.int64],
                bits: int, row_of: npt.NDArray[np.int32], table: npt.NDArray[Any], scale: npt.NDArray[np.float64],
                bias: npt.NDArray[np.float64], min_norm: float, collapse: bool = False) -> npt.NDArray[np.float64]:
    """Highest logits per text (texts × labels); see ``_score_units``. ``table`` is int8 (then ``scale``
    gives each label's step) or float32, with at least as many columns as labels (``pad_columns``).
    ``collapse``: the texts' whitespace is collapsed first (texts case-folded and NFKC'd but not yet
    ``normalise``d)."""
    out = np.empty((lens.size, bias.size), dtype=np.float64)
    acc = np.zeros(table.shape[1], dtype=np.int32 if table.dtype == np.int8 else np.float64)
    space, marks = tables()
    _compiled()(cps, starts, lens, bits, _seed_array(), row_of, table, acc, scale, bias, float(min_norm), space,
                marks, bool(collapse), out)
    return out


def pad_columns(table: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``table`` with zero columns added up to a multiple of 32: the row sums then compile to whole
    vector operations (~25% faster than 28 labels)."""
    width = -(-table.shape[1] // 32) * 32
    out = np.zeros((table.shape[0], width), dtype=table.dtype)
    out[:, : table.shape[1]] = table
    return out


@lru_cache(maxsize=1)
def _seed_array() -> npt.NDArray[np.uint64]:
    seeds = np.zeros(_NMAX + 1, dtype=np.uint64)
    for n in NGRAMS:
        seeds[n] = _SEEDS[n]
    return seeds
