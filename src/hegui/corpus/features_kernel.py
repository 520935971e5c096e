"""The audit's text features compiled to machine code: one pass over a batch's code points.

``textstats``'s numpy path computes tokens, shingles and MinHash bins with some thirty numpy calls
per batch, most of them a full pass over the characters or tokens writing a temporary array; the
loop below does it all in one pass per document (plus one over its tokens), with nothing allocated
but its outputs, in about a seventh of the CPU time. It gives exactly what
``textstats._features_group_numpy`` gives (that path is the reference, and the fallback when numba
cannot load): the same character classes, token hashes, exact-hash terms, shingles, bins and
densification, bit for bit.

numba is imported only by ``load()`` (``textstats.features_batch`` calls it on first use), so
importing ``textstats`` never imports numba. The machine code is cached beside this file (or
nowhere, if that is read-only), as ``hegui.text.kernel.njit`` arranges.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from hegui.corpus import textstats as ts

log = logging.getLogger(__name__)

# The loop's constants (numba freezes module globals at compile time). All 64-bit arithmetic is on
# np.uint64 values: numba computes uint64 mixed with int64 in float64.
_U64_30 = np.uint64(30)
_U64_27 = np.uint64(27)
_U64_31 = np.uint64(31)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)  # ``textstats._mix``
_MIX2 = np.uint64(0x94D049BB133111EB)
_CJK_MUL = np.uint64(ts._CJK_MUL)
_WORD_SALT = np.uint64(ts._WORD_SALT)
_BIN_SHIFT = np.uint64(64 - ts._BIN_BITS)
_VAL_SHIFT = np.uint64(64 - ts._BIN_BITS - 32)
_LOW32 = np.uint64(0xFFFFFFFF)
_EMPTY = np.uint32(ts._EMPTY)
_FULL = np.uint64(ts._EMPTY - 1)  # the largest value a bin keeps (``_EMPTY`` marks an empty bin)
_ROTATE = np.uint64(ts._ROTATE)
_EXACT_MUL = np.uint64(ts._EXACT_MUL)
_ASTRAL_HAN_LO = 0x20000  # astral characters: Han in this range (folded to themselves), else no class
_ASTRAL_HAN_HI = 0x2EBEF
_HAN, _KANA_HANGUL, _LATIN, _LATIN_EXT, _OTHER_LETTER = (
    ts._HAN, ts._KANA_HANGUL, ts._LATIN, ts._LATIN_EXT, ts._OTHER_LETTER)
_CLASS_SHIFT = 24
_CHAR_MASK = (1 << _CLASS_SHIFT) - 1
assert ts._NONE == 0 and min(ts._LATIN, ts._DIGIT, ts._LATIN_EXT, ts._OTHER_LETTER) == _LATIN > _KANA_HANGUL > _HAN
assert ts.SHINGLE == 5 and ts._POW.size == 64  # unrolled below

# ``lut[c]``: the folded character of Basic Plane character ``c`` in the low bits, its class above
_LUT = ts._FOLD.astype(np.uint32) | (ts._CLASS.astype(np.uint32) << np.uint32(_CLASS_SHIFT))
_LUT.setflags(write=False)
# per-document counts the kernel gives, in ``textstats._lang``'s argument order
COUNT_HAN, COUNT_LATIN, COUNT_OTHER, COUNT_KANA_HANGUL = range(4)


def _features(cps: Any, starts: Any, lut: Any, pw: Any, smul: Any, densify: bool, pos0: int, tok: Any,
              tok_start: Any, counts: Any, sig: Any, acc: Any, scratch: Any) -> int:
    """Features of every document ``d`` = ``cps[starts[d]:starts[d + 1]]``; returns the number of tokens.

    Writes the document's token hashes to ``tok[tok_start[d]:tok_start[d + 1]]`` (``tok`` as long as
    ``cps``; ``tok_start[-1]`` is left to the caller), its Han, Latin (plain and extended), other
    letter and kana/Hangul character counts to ``counts[d]``, and its MinHash bins to ``sig[d]``:
    ``_EMPTY`` on entry, a bin keeps the lower of what it holds and what this finds (a long
    document's chunks accumulate so), densified when ``densify``; and to ``acc[d]`` the sum (mod
    2^64) of its exact-hash terms, ``mix(tok + pos * _EXACT_MUL)`` with ``pos`` counted from
    ``pos0`` at its first token (a long document's later chunks start after the earlier chunks'
    tokens); ``textstats._exact_finish`` makes the hash. ``lut``: ``_LUT``; ``pw``: ``_POW``;
    ``smul``: ``_SHINGLE_MUL``; ``scratch``: 2 × NUM_PERM uint32.

    As ``textstats``: a word (a run of word-class characters) hashes to
    ``sum(pw[min(i, 63)] * char_i) ^ salt``, a CJK character to ``char * _CJK_MUL``, then every token
    through the splitmix64 finaliser; shingles are ``mix(sum(smul[i] * tok[j + i]))`` over windows
    of 5 tokens, or one over all tokens when there are fewer."""
    nperm = sig.shape[1]
    m0, m1, m2, m3, m4 = smul[0], smul[1], smul[2], smul[3], smul[4]
    nt = 0
    for d in range(starts.shape[0] - 1):
        t0 = nt
        tok_start[d] = t0
        in_word = False
        wh = np.uint64(0)
        wpos = 0
        n_han = n_cjk = n_latin = n_other = 0
        for i in range(starts[d], starts[d + 1]):
            cp = np.int64(cps[i])
            if cp > 0xFFFF:
                v = cp | (_HAN << _CLASS_SHIFT) if _ASTRAL_HAN_LO <= cp <= _ASTRAL_HAN_HI else cp
            else:
                v = np.int64(lut[cp])
            k = v >> _CLASS_SHIFT
            if k >= _LATIN:  # a word character
                n_latin += (k == _LATIN) | (k == _LATIN_EXT)
                n_other += k == _OTHER_LETTER
                if not in_word:
                    in_word = True
                    wh = np.uint64(0)
                    wpos = 0
                wh += pw[min(wpos, 63)] * np.uint64(v & _CHAR_MASK)
                wpos += 1
                continue
            if in_word:
                tok[nt] = wh ^ _WORD_SALT
                nt += 1
                in_word = False
            if k != 0:  # Han, kana or Hangul: a token of its own
                n_han += k == _HAN
                n_cjk += 1
                tok[nt] = np.uint64(v & _CHAR_MASK) * _CJK_MUL
                nt += 1
        if in_word:
            tok[nt] = wh ^ _WORD_SALT
            nt += 1
        counts[d, COUNT_HAN] = n_han
        counts[d, COUNT_LATIN] = n_latin
        counts[d, COUNT_OTHER] = n_other
        counts[d, COUNT_KANA_HANGUL] = n_cjk - n_han
        h = np.uint64(0)
        step = np.uint64(pos0) * _EXACT_MUL
        for j in range(t0, nt):  # splitmix64 finaliser, as ``textstats._mix``; then the exact-hash term
            x = tok[j]
            x ^= x >> _U64_30
            x *= _MIX1
            x ^= x >> _U64_27
            x *= _MIX2
            x ^= x >> _U64_31
            tok[j] = x
            x += step
            step += _EXACT_MUL
            x ^= x >> _U64_30
            x *= _MIX1
            x ^= x >> _U64_27
            x *= _MIX2
            h += x ^ (x >> _U64_31)
        acc[d] = h
        ntok = nt - t0
        if ntok == 0:
            continue
        for j in range(t0, max(nt - 4, t0 + 1)):  # the shingles; one when fewer than 5 tokens
            if ntok >= 5:
                x = tok[j] * m0 + tok[j + 1] * m1 + tok[j + 2] * m2 + tok[j + 3] * m3 + tok[j + 4] * m4
            else:
                x = np.uint64(0)
                for m in range(ntok):
                    x += tok[j + m] * smul[m]
            x ^= x >> _U64_30
            x *= _MIX1
            x ^= x >> _U64_27
            x *= _MIX2
            x ^= x >> _U64_31
            b = np.int64(x >> _BIN_SHIFT)
            sig[d, b] = min(sig[d, b], np.uint32(min((x >> _VAL_SHIFT) & _LOW32, _FULL)))
        if not densify:
            continue
        # rotation densification (as ``textstats._densify``): an empty bin takes the next non-empty
        # bin to its right, cyclically and in the bins as they were, plus the distance × ``_ROTATE``
        empty = False
        for p in range(nperm):
            scratch[p] = sig[d, p]
            scratch[p + nperm] = sig[d, p]
            empty |= sig[d, p] == _EMPTY
        if not empty:
            continue
        for p in range(nperm):
            if scratch[p] != _EMPTY:
                continue
            q = p + 1
            while scratch[q] == _EMPTY:  # ends: this document has a shingle, so some bin is full
                q += 1
            filled = (np.uint64(scratch[q]) + np.uint64(q - p) * _ROTATE) & _LOW32
            sig[d, p] = np.uint32(min(filled, _FULL))
    return nt


_LOCK = threading.Lock()
_STATE: dict[str, Callable[..., int] | None] = {}


def load() -> Callable[..., int] | None:
    """The compiled kernel (numba imported, machine code compiled or read from cache on first call),
    or None when numba cannot load or compile it: callers then take the numpy path."""
    if "features" in _STATE:
        return _STATE["features"]
    with _LOCK:
        if "features" not in _STATE:
            _STATE["features"] = _compile()
        return _STATE["features"]


def _compile() -> Callable[..., int] | None:
    try:
        from hegui.text.kernel import njit

        fn = njit(_features)
        run(fn, np.zeros(3, dtype=np.uint32), np.array([0, 3], dtype=np.int64), True)  # compile now
    except Exception as err:  # numba missing or unable to compile here: the numpy path gives the same
        log.warning("corpus features: compiled kernel unavailable (%s: %s); using numpy", type(err).__name__, err)
        return None
    return fn


Result = tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.uint32],
               npt.NDArray[np.uint64]]


def run(fn: Callable[..., int], cps: npt.NDArray[np.uint32], starts: npt.NDArray[np.int64], densify: bool,
        pos0: int = 0) -> Result:
    """(token hashes, token start per document + total, class counts, MinHash bins, exact-hash sums)
    of the documents ``cps[starts[d]:starts[d + 1]]``; see ``_features``."""
    ndoc = starts.size - 1
    tok = np.empty(cps.size, dtype=np.uint64)
    tok_start = np.empty(ndoc + 1, dtype=np.int64)
    counts = np.empty((ndoc, 4), dtype=np.int64)
    sig = np.full((ndoc, ts.NUM_PERM), _EMPTY, dtype=np.uint32)
    acc = np.empty(ndoc, dtype=np.uint64)
    scratch = np.empty(2 * ts.NUM_PERM, dtype=np.uint32)
    nt = fn(cps, starts, _LUT, ts._POW, ts._SHINGLE_MUL, densify, pos0, tok, tok_start, counts, sig, acc, scratch)
    tok_start[ndoc] = nt
    return tok[:nt], tok_start, counts, sig, acc
