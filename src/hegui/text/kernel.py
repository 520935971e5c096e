"""Normalisation compiled to machine code.

The array paths of ``normalize.py`` pay a fixed cost of some thirty numpy calls per text, about as
much as the lexicon scan of a 2,000-character document; a loop compiled by numba does stages 1-2 in
one pass and stage 3 in a second only when needed, with no per-call cost but the call itself. It
gives the canonical code points and, per canonical character, the original span it stands for, so
a hit maps back to the user's characters by two array reads (the same spans
``NormalizedText.span_to_original`` gives).

numba is imported only when ``load()`` is called (``ModerationEngine.compile_kernels``: the corpus
audit, ``hegui moderate --jsonl`` on a large file, the gateway when ``gateway.compiled_kernels`` is
on); until then ``Normalizer`` takes its plain paths. The machine code is cached beside this file
(or nowhere, if that is read-only).
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from hegui.policy.pack import NormalisationSteps
from hegui.text import tables

_U32 = np.dtype(np.uint32)


def _normalise(cps: Any, lut: Any, delete: int, expand: int, strip: bool, squash_min: int, out: Any, start: Any,
               end: Any) -> int:
    """The canonical form of ``cps`` into ``out[:n]``; ``start[j]``/``end[j]``: the original span of
    canonical character ``j``. Returns ``n``, or -1 when a character maps to several (the caller
    takes the exact path). ``out``/``start``/``end`` are at least ``len(cps)`` long.

    ``lut[c]``: the stage-1 mapping of ``c`` (or ``delete``/``expand``) in the low 24 bits, the class of
    the mapped character (1 CJK, 2 separator) above. Stages 1 and 2 run in one pass: a separator
    run that follows a CJK character is written like anything else, and taken back when a CJK
    character comes after it. Stage 3 (keep the first of a run of at least ``squash_min`` equal
    characters; 0: off) is a second pass, made only when the first wrote such a run."""
    n = 0
    run_start = -1  # where the pending separator run began in ``out`` (one that follows a CJK character)
    run_len = 0  # how many equal characters ``out`` ends with
    len_at_start = 0  # ``run_len`` where the pending separator run began
    prev = 0  # class of the last character written
    squash = False
    low = np.uint32((1 << 24) - 1)
    for i in range(cps.shape[0]):
        v = lut[cps[i]]
        c = v & low
        if c == delete:
            continue
        if c == expand:
            return -1
        k = v >> np.uint32(24)
        if k == 2:
            if prev == 1 and strip:
                run_start = n
                len_at_start = run_len
        elif k == 1:
            if run_start >= 0:
                n = run_start  # the run between two CJK characters is deleted
                run_len = len_at_start
            run_start = -1
        else:
            run_start = -1
        if n > 0 and out[n - 1] == c:
            run_len += 1
            if run_len == squash_min:
                squash = True
        else:
            run_len = 1
        out[n] = c
        start[n] = i
        end[n] = i + 1
        n += 1
        prev = k
    if not squash:
        return n
    n3 = 0
    run = 0
    first = 0  # output index of the current run's first character
    last = np.uint32(0)
    for j in range(n):
        c = out[j]
        if run > 0 and c == last:
            run += 1
        else:
            run = 1
            first = n3
            last = c
        if run >= squash_min:
            n3 = first + 1
            end[first] = end[j]
            continue
        out[n3] = c
        start[n3] = start[j]
        end[n3] = end[j]
        n3 += 1
    return n3


_LOCK = threading.Lock()
_COMPILED: dict[str, Callable[..., Any]] = {}


def njit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` compiled by numba (nogil), cached on disk where its directory is writable."""
    import numba

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", numba.NumbaWarning)  # a cache that cannot be written: no cache
            compiled: Callable[..., Any] = numba.njit(cache=True, nogil=True)(fn)
    except (RuntimeError, numba.NumbaWarning):
        compiled = numba.njit(cache=False, nogil=True)(fn)
    return compiled


def load() -> None:
    """Import numba and compile (or load from cache) the kernels; later calls return at once."""
    if "normalise" in _COMPILED:
        return
    with _LOCK:
        if "normalise" in _COMPILED:
            return
        fn = njit(_normalise)
        probe = KernelTables(NormalisationSteps())
        _run(fn, probe, np.zeros(2, dtype=_U32))  # compile now, not on the first real text
        from hegui.detect.lexicon import automaton

        automaton.load()
        _COMPILED["normalise"] = fn  # last: ``loaded()`` is true only when every kernel is ready


def loaded() -> bool:
    """Whether ``load()`` has run in this process (then detectors built from now on use the kernels)."""
    return "normalise" in _COMPILED


class KernelTables:
    """The look-up tables of one normalisation setting, as the kernel takes them."""

    __slots__ = ("lut", "squash_min", "strip")

    def __init__(self, steps: NormalisationSteps) -> None:
        self.lut = _class_lut(steps)
        self.strip = bool(steps.strip_separators)
        self.squash_min = int(steps.squash_repeats_min) if steps.squash_repeats else 0


@lru_cache(maxsize=32)
def _class_lut(steps: NormalisationSteps) -> npt.NDArray[np.uint32]:
    """``translate_lut`` with the class of each mapped character in bits 24 and up (see ``_normalise``)."""
    lut = tables.translate_lut(steps)
    cls = tables.class_lut()
    mapped_cls = cls[np.minimum(lut, len(cls) - 1)].astype(np.uint32)
    out = lut | (mapped_cls << np.uint32(24))
    out.setflags(write=False)
    return out


_Result = tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64], npt.NDArray[np.int64]]


def _run(fn: Callable[..., Any], t: KernelTables, cps: npt.NDArray[np.uint32]) -> _Result | None:
    n = len(cps)
    out = np.empty(n, dtype=_U32)
    start = np.empty(n, dtype=np.int64)
    end = np.empty(n, dtype=np.int64)
    k = fn(cps, t.lut, tables.DELETE, tables.EXPAND, t.strip, t.squash_min, out, start, end)
    if k < 0:
        return None
    return out[:k], start[:k], end[:k]


def normalise_codepoints(t: KernelTables, cps: npt.NDArray[np.uint32]) -> _Result | None:
    """(canonical code points, original start and end per canonical character) of the code points
    ``cps``, or None when a character expands to several (use ``Normalizer`` then). Needs ``load()``."""
    return _run(_COMPILED["normalise"], t, cps)
