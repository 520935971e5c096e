"""``BatchScreen.scan``'s per-character work compiled to machine code: one pass over a chunk's code points.

The numpy path (``BatchScreen._chunk``, the reference and the fallback) classifies every code point into
a full-size array, then gathers and compares positions with some thirty numpy calls, each a pass over
an array (~4.7 ms per MB of mixed Chinese and English text). Almost no text of a training corpus has
a stretch, so nearly all of that is spent proving there is none. The loop below reads each code point
once, looks its class up in the Basic Plane part of the screen's table (every class character is
there), acts only on the few characters a stretch starts at (digits, colons, provinces, label starts),
and finds per text the same stretch bits, whether it has a character of ``find_pii``'s screen and of
its fold, and the digit windows of the texts it keeps; nothing is allocated but its outputs.

The character classes and stretch bits come in as an array (``masks``), not as module constants:
numba freezes constants into the machine code it caches by this file, and would not see a change
made in ``screen.py``.

numba is imported only by ``load()``; when it cannot load, ``load`` returns None and ``scan`` keeps
the numpy path.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

KEEP, FOLDS = 1, 2  # per text: it has a wanted stretch and a screen character; it has a fold character
BMP = 0x10000  # the table's size: characters above have no class


def masks() -> npt.NDArray[np.int64]:
    """The screen's class bits and stretch bits, in the order ``_scan`` reads them."""
    from hegui.detect.pii import screen as sc

    return np.array([sc._DIGIT, sc._AT, sc._COLON, sc._DOT, sc._PROVINCE, sc._PLATE_LETTER, sc._LABEL1,
                     sc._LABEL2, sc._FOLD, sc._SCREEN, sc._ZONE, sc.DIGITS, sc.AT, sc.COLON_PAIR, sc.DOTDIGIT,
                     sc.PLATE, sc.LABEL_PAIR], dtype=np.int64)


def _scan(cps: Any, starts: Any, lens: Any, first: int, table: Any, masks: Any, wanted: int, margin: int,
          bits: Any, flags: Any, windows: Any, window_ptr: Any) -> int:
    """Texts ``first``… of the chunk (text ``d``: ``cps[starts[d]:starts[d] + lens[d]]``): ``bits[d]`` its
    stretches, ``flags[d]`` ``KEEP`` (a stretch of ``wanted`` and a screen character) and ``FOLDS``; for a
    kept text, its digit windows (start, end, longest run; offsets in the text) in
    ``windows[window_ptr[d]:window_ptr[d + 1]]``, from ``window_ptr[first]`` on. Returns the number of
    texts done: fewer than all when ``windows`` is full (the caller goes on from there with another).

    ``table``: the screen's class bits of the Basic Plane; ``masks``: ``masks()``. A stretch is looked
    for where it ends or starts, by position: a digit run where a digit does not follow one (and at the
    text's end), digit-dot-digit at such a digit, a colon pair at the second colon, a plate or label
    pair at the province or label start (the next character looked up)."""
    digit, at, colon, dot, province, plate_letter = masks[0], masks[1], masks[2], masks[3], masks[4], masks[5]
    label1, label2, fold, screen, zone = masks[6], masks[7], masks[8], masks[9], masks[10]
    s_digits, s_at, s_colon = masks[11], masks[12], masks[13]
    s_dotdigit, s_plate, s_label = masks[14], masks[15], masks[16]
    acts = digit | colon | province | label1  # the classes the loop acts on
    heeds = acts | at | fold | screen  # the classes it acts on or notes (not the ones it looks up by position)
    cap = windows.shape[0]
    nw = window_ptr[first]
    for d in range(first, lens.shape[0]):
        a = starts[d]
        e = a + lens[d]
        w0 = nw
        seen = 0  # the noted classes present
        found = 0  # the stretches present
        run_start = a - 3  # the current digit run (none yet: too short to count)
        last_digit = a - 3
        last_colon = a - 6
        for p in range(a, e + 1):
            if p < e:
                c = cps[p]
                if c >= 0x10000:
                    continue
                k = int(table[c])
                if (k & heeds) == 0:
                    continue
                seen |= k
                if (k & acts) == 0:
                    continue
                if (k & digit) == 0:
                    if k & colon:
                        if p - last_colon <= 5:
                            found |= s_colon
                        last_colon = p
                    if p + 1 < e and k & (province | label1):
                        c = cps[p + 1]
                        nxt = int(table[c]) if c < 0x10000 else 0
                        if k & province and nxt & plate_letter:
                            found |= s_plate
                        if k & label1 and nxt & label2:
                            found |= s_label
                    continue
                if last_digit == p - 1:
                    last_digit = p
                    continue
                if last_digit == p - 2:
                    c = cps[p - 1]
                    if c < 0x10000 and table[c] & dot:
                        found |= s_dotdigit
            # here a digit run has ended (at a digit after a gap, or at the text's end)
            if last_digit - run_start >= 2:
                found |= s_digits
                # its window: over up to ``margin`` zone characters each side, plus one after
                left = 0
                while left < margin and run_start - left > a:
                    c = cps[run_start - left - 1]
                    if c >= 0x10000 or (table[c] & zone) == 0:
                        break
                    left += 1
                run_end = last_digit + 1
                right = 0
                while right < margin and run_end + right < e:
                    c = cps[run_end + right]
                    if c >= 0x10000 or (table[c] & zone) == 0:
                        break
                    right += 1
                lo = run_start - left - a
                hi = min(e, run_end + right + 1) - a
                run = run_end - run_start
                if nw > w0 and lo <= windows[nw - 1, 1]:  # reaches the previous window: joins it
                    windows[nw - 1, 1] = max(windows[nw - 1, 1], hi)
                    windows[nw - 1, 2] = max(windows[nw - 1, 2], run)
                else:
                    if nw == cap:
                        return d
                    windows[nw, 0] = lo
                    windows[nw, 1] = hi
                    windows[nw, 2] = run
                    nw += 1
            run_start = p
            last_digit = p
        if seen & at:
            found |= s_at
        bits[d] = found
        f = 0
        if seen & screen and found & wanted:
            f = KEEP
        else:
            nw = w0  # a text not kept keeps no windows
        if seen & fold:
            f |= FOLDS
        flags[d] = f
        window_ptr[d + 1] = nw
    return int(lens.shape[0])


_LOCK = threading.Lock()
_STATE: dict[str, Callable[..., int] | None] = {}


def load() -> Callable[..., int] | None:
    """The compiled kernel (numba imported, machine code compiled or read from cache on first call), or
    None when numba cannot load or compile it: ``scan`` then takes the numpy path."""
    if "scan" in _STATE:
        return _STATE["scan"]
    with _LOCK:
        if "scan" not in _STATE:
            _STATE["scan"] = _compile()
        return _STATE["scan"]


def loaded() -> Callable[..., int] | None:
    """The compiled kernel if ``load()`` has given it already, else None (no import, no compilation)."""
    return _STATE.get("scan")


def _compile() -> Callable[..., int] | None:
    try:
        from hegui.text.kernel import njit

        fn = njit(_scan)
        probe = np.frombuffer("123".encode("utf-32-le"), "<u4")  # read-only, as ``scan``'s buffer: the same signature
        run(fn, probe, np.zeros(1, np.int64), np.array([3], np.int64), np.zeros(BMP, np.uint16), masks(), 0, 1, 4)
    except Exception as err:  # numba missing or unable to compile here: the numpy path gives the same
        log.warning("pii screen: compiled kernel unavailable (%s: %s); using numpy", type(err).__name__, err)
        return None
    return fn


Result = tuple[int, npt.NDArray[np.int64], npt.NDArray[np.uint8], npt.NDArray[np.int64], npt.NDArray[np.int64]]


def run(fn: Callable[..., int], cps: npt.NDArray[np.uint32], starts: npt.NDArray[np.int64],
        lens: npt.NDArray[np.int64], table: npt.NDArray[np.uint16], class_masks: npt.NDArray[np.int64], first: int,
        wanted: int, margin: int, capacity: int = 256) -> Result:
    """``_scan`` from text ``first``, with room for ``capacity`` windows: (texts done, bits, flags, windows,
    window_ptr); entries of texts before ``first`` or from the texts done on are not written."""
    n = lens.size
    bits = np.zeros(n, np.int64)
    flags = np.zeros(n, np.uint8)
    windows = np.empty((capacity, 3), np.int64)
    window_ptr = np.zeros(n + 1, np.int64)
    done = fn(cps, starts, lens, first, table, class_masks, wanted, margin, bits, flags, windows, window_ptr)
    return done, bits, flags, windows, window_ptr
