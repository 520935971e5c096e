"""``find_pii_many``'s first step: one pass over a batch of texts instead of regex scans per text.

On a training corpus almost every text passes ``find_pii``'s one-class regex screen (a colon, a
dot, a province character) yet holds nothing, and the per-text work that follows (folding, digit
windows, trigger searches: regex character classes at ~9 ns a character) is most of the
detector's cost. Every pattern runs only after its trigger has fired, and each trigger needs a
short stretch of particular characters (full-width forms included, since they fold):

* ``digits``: three digits in a row (``DIGITS``; the digit windows grow from these runs);
* ``at``: ``@`` (``AT``);
* ``colon``: two colons at most five apart (``COLON_PAIR``: an IPv6 value has two with at most four
  hex digits between; the trigger's own test is then made on the text);
* ``dotdigit``: digit, dot, digit (``DOTDIGIT``);
* ``plate``: a province abbreviation then a plate letter (``PLATE``);
* ``label``: the first two characters of a label (``LABEL_PAIR``; the labels are then looked for).

``BatchScreen.scan`` classifies every code point with one table look-up (~2 ns a character),
looks only at the few positions where a stretch can start, and yields the texts that have one
(and a character of ``find_pii``'s own screen), each with its folded form and its digit windows
(``detector._digit_windows``, computed for the whole batch at once). It does so in one compiled
loop (``screen_kernel``: ~0.3 ms per MB of mixed Chinese and English text, plus ~0.25 for the
UTF-32 copy) when numba loads, else in numpy (``_chunk``: ~4.5 ms per MB, some thirty calls each a
pass over an array); both give the same tuples (``tests/detect/pii/test_pii_screen_kernel.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
import numpy.typing as npt

from hegui.detect.pii.validators import PLATE_PROVINCES

# what ``scan`` reports per text
DIGITS, AT, COLON_PAIR, DOTDIGIT, PLATE, LABEL_PAIR = (1 << i for i in range(6))
TRIGGER_BITS = {"digits": DIGITS, "at": AT, "colon": COLON_PAIR, "dotdigit": DOTDIGIT, "plate": PLATE,
                "label": LABEL_PAIR}

# character classes (bits of the table)
(_DIGIT, _AT, _COLON, _DOT, _PROVINCE, _PLATE_LETTER, _LABEL1, _LABEL2, _FOLD, _SCREEN,
 _ZONE) = (1 << i for i in range(11))
_STARTERS = _DIGIT | _AT | _COLON | _PROVINCE | _LABEL1 | _FOLD | _SCREEN

_CHUNK_CHARS = 1 << 18  # texts are screened in chunks of about this many characters (bounds the arrays)
_WINDOW_CAPACITY = 256  # digit windows the compiled pass holds at first (it goes on with more when full)
_PAD = 2  # look-ahead of the widest stretch read by position (digit, dot, digit), kept inside the array


def _table(labels: Sequence[str], fold_chars: str, zone_chars: str) -> npt.NDArray[np.uint16]:
    """Class bits of every code point; a full-width form gets the bits of the ASCII it folds to."""
    table = np.zeros(0x110000, np.uint16)

    def mark(chars: Iterable[str], bit: int, full_width: bool = True) -> None:
        for ch in chars:
            table[ord(ch)] |= bit
            if full_width and 0x21 <= ord(ch) <= 0x7E:
                table[ord(ch) + 0xFEE0] |= bit

    mark("0123456789", _DIGIT)
    mark("@", _AT)
    mark(":", _COLON)
    mark(".", _DOT)
    mark(PLATE_PROVINCES, _PROVINCE)
    mark("ABCDEFGHJKLMNPQRSTUVWXYZ", _PLATE_LETTER)  # [A-HJ-NP-Z]
    mark({label[0] for label in labels}, _LABEL1)
    mark({label[1] for label in labels}, _LABEL2)
    mark(fold_chars, _FOLD, full_width=False)
    mark(zone_chars, _ZONE)
    if " " in zone_chars:
        table[0x3000] |= _ZONE  # the ideographic space folds to a space
    # find_pii's first test (its _SCREEN): exactly these, no other full-width form
    mark("0123456789@:.\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff20\uff1a\uff0e姓联收住地台M"
         + PLATE_PROVINCES, _SCREEN, full_width=False)
    return table


class BatchScreen:
    """The screen for one detector set-up; ``scan`` only reads it, so threads can share one.

    ``labels``: the label trigger's labels; ``fold_chars``: the characters whose presence makes
    ``find_pii`` fold a text; ``zone_chars``/``margin``: what digit windows grow over, and how far.
    """

    def __init__(self, labels: Iterable[str], fold_chars: str, zone_chars: str, margin: int) -> None:
        labels = tuple(labels)
        if any(len(label) < 2 for label in labels):
            raise ValueError("labels need at least two characters")
        self._table = _table(labels, fold_chars, zone_chars)
        self._margin = margin
        from hegui.detect.pii import screen_kernel as sk  # its tables (the module imports numba only in load())

        assert not self._table[sk.BMP:].any()  # the compiled pass looks up the Basic Plane only
        self._kernel_table = np.ascontiguousarray(self._table[:sk.BMP])
        self._kernel_masks = sk.masks()

    def scan(self, texts: Sequence[str], triggers: Iterable[str], load_kernel: bool = True
             ) -> Iterator[tuple[int, str, list[tuple[int, int, int]], int]]:
        """``(i, folded, windows, bits)`` for each text ``i`` with a stretch one of ``triggers``
        needs, in order: ``folded`` is ``fold_width(text)`` when the text has a character that
        makes ``find_pii`` fold, else the text; ``windows`` what ``_digit_windows(folded)`` gives;
        ``bits`` the stretches found (all of them, not only the ones asked for). Every other text
        has none, so ``find_pii`` finds nothing in it.

        The compiled pass (``screen_kernel``) does the work when numba loads, the numpy pass
        otherwise (the same tuples); ``load_kernel`` False uses the compiled one only if already
        loaded (a caller that must not pay numba's import and compilation now)."""
        wanted = 0
        for name in triggers:
            wanted |= TRIGGER_BITS[name]
        n = len(texts)
        if not wanted or not n:
            return
        from hegui.detect.pii import screen_kernel  # imports numba only in load()

        kernel = screen_kernel.load() if load_kernel else screen_kernel.loaded()
        lengths = np.fromiter(map(len, texts), np.int64, n)
        ends = np.cumsum(lengths + 1)  # one past each text's separator in the joined batch
        i = 0
        while i < n:
            base = int(ends[i - 1]) if i else 0
            j = max(i + 1, int(np.searchsorted(ends, base + _CHUNK_CHARS, side="right")))
            if kernel is None:
                yield from self._chunk(texts, i, j, lengths[i:j], wanted)
            else:
                yield from self._chunk_compiled(kernel, texts, i, j, lengths[i:j], wanted)
            i = j

    def _chunk_compiled(self, kernel: Callable[..., int], texts: Sequence[str], i: int, j: int,
                        lengths: npt.NDArray[np.int64], wanted: int
                        ) -> Iterator[tuple[int, str, list[tuple[int, int, int]], int]]:
        """``_chunk`` by the compiled pass: the code points in one buffer (no separators: the kernel
        knows where each text ends), the folded form made for the texts kept that fold."""
        from hegui.detect.pii import screen_kernel as sk

        cps = np.frombuffer("".join(texts[i:j]).encode("utf-32-le", "surrogatepass"), "<u4")
        starts = np.zeros(j - i, np.int64)
        np.cumsum(lengths[:-1], out=starts[1:])
        first, capacity = 0, _WINDOW_CAPACITY
        while first < j - i:
            done, bits, flags, windows, window_ptr = sk.run(
                kernel, cps, starts, lengths, self._kernel_table, self._kernel_masks, first, wanted, self._margin,
                capacity)
            keep = (np.flatnonzero(flags[first:done] & sk.KEEP) + first).tolist()
            if keep:
                bits_l, flags_l, ptr_l = bits.tolist(), flags.tolist(), window_ptr.tolist()
                windows_l = windows[:ptr_l[done]].tolist()
                for doc in keep:
                    if flags_l[doc] & sk.FOLDS:
                        a = int(starts[doc])
                        folded_cps = cps[a:a + int(lengths[doc])].copy()
                        folded_cps[(folded_cps - 0xFF01) < 0x5E] -= 0xFEE0  # wraps below U+FF01: one comparison
                        folded_cps[folded_cps == 0x3000] = 0x20
                        folded = folded_cps.tobytes().decode("utf-32-le", "surrogatepass")
                    else:
                        folded = texts[i + doc]
                    yield (i + doc, folded, [(w[0], w[1], w[2]) for w in windows_l[ptr_l[doc]:ptr_l[doc + 1]]],
                           bits_l[doc])
            if done == first:  # one text's windows did not fit
                capacity *= 2
            first = done

    def _chunk(self, texts: Sequence[str], i: int, j: int, lengths: npt.NDArray[np.int64], wanted: int
               ) -> Iterator[tuple[int, str, list[tuple[int, int, int]], int]]:
        joined = "\0".join(texts[i:j]) + "\0" * _PAD  # NUL has no class: no stretch spans two texts
        cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), "<u4")
        cls = np.take(self._table, cps, mode="clip")
        pos = np.flatnonzero(cls & _STARTERS)
        if not pos.size:
            return
        starts = np.zeros(j - i, np.int64)
        np.cumsum(lengths[:-1] + 1, out=starts[1:])
        c0, c1, c2 = cls[pos], cls[pos + 1], cls[pos + 2]
        bits = np.zeros(j - i, np.int64)

        def mark(where: npt.NDArray[np.int64], bit: int) -> None:
            if where.size:
                bits[np.searchsorted(starts, where, side="right") - 1] |= bit

        digit_pos = pos[(c0 & _DIGIT) != 0]
        # maximal digit runs: breaks between consecutive digit positions
        cut = np.flatnonzero(np.diff(digit_pos) != 1)
        run_start = digit_pos[np.concatenate(([0], cut + 1))] if digit_pos.size else digit_pos
        run_end = digit_pos[np.concatenate((cut, [digit_pos.size - 1]))] + 1 if digit_pos.size else digit_pos
        long = run_end - run_start >= 3
        run_start, run_end = run_start[long], run_end[long]
        mark(run_start, DIGITS)
        mark(pos[(c0 & _AT) != 0], AT)
        colon_pos = pos[(c0 & _COLON) != 0]
        colon_doc = np.searchsorted(starts, colon_pos, side="right") - 1
        pair = (np.diff(colon_pos) <= 5) & (np.diff(colon_doc) == 0)  # one text's colons, not the next's
        mark(colon_pos[:-1][pair], COLON_PAIR)
        mark(pos[((c0 & _DIGIT) != 0) & ((c1 & _DOT) != 0) & ((c2 & _DIGIT) != 0)], DOTDIGIT)
        mark(pos[((c0 & _PROVINCE) != 0) & ((c1 & _PLATE_LETTER) != 0)], PLATE)
        mark(pos[((c0 & _LABEL1) != 0) & ((c1 & _LABEL2) != 0)], LABEL_PAIR)
        live = np.zeros(j - i, np.bool_)
        live[np.searchsorted(starts, pos[(c0 & _SCREEN) != 0], side="right") - 1] = True
        todo = np.flatnonzero(live & ((bits & wanted) != 0))
        if not todo.size:
            return
        fold = np.zeros(j - i, np.bool_)
        fold[np.searchsorted(starts, pos[(c0 & _FOLD) != 0], side="right") - 1] = True
        folded_cps = None
        if fold[todo].any():
            folded_cps = cps.copy()
            folded_cps[(cps - 0xFF01) < 0x5E] -= 0xFEE0  # wraps below U+FF01: one comparison
            folded_cps[cps == 0x3000] = 0x20
        # the windows of each text, in its own offsets
        win_start, win_end, win_run = self._windows(cls, run_start, run_end, starts, lengths)
        win_doc = np.searchsorted(starts, win_start, side="right") - 1
        first_win = np.searchsorted(win_doc, todo).tolist()
        last_win = np.searchsorted(win_doc, todo, side="right").tolist()
        win_l = list(zip((win_start - starts[win_doc]).tolist(), (win_end - starts[win_doc]).tolist(),
                         win_run.tolist(), strict=True))
        starts_l = starts.tolist()
        lengths_l = lengths.tolist()
        bits_l = bits.tolist()
        fold_l = fold.tolist()
        for doc, w0, w1 in zip(todo.tolist(), first_win, last_win, strict=True):
            text = texts[i + doc]
            if fold_l[doc]:
                assert folded_cps is not None
                a = starts_l[doc]
                folded = folded_cps[a:a + lengths_l[doc]].tobytes().decode("utf-32-le", "surrogatepass")
            else:
                folded = text
            yield i + doc, folded, win_l[w0:w1], bits_l[doc]

    def _windows(self, cls: npt.NDArray[np.uint16], run_start: npt.NDArray[np.int64], run_end: npt.NDArray[np.int64],
                 starts: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]
                 ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """``_digit_windows`` for every run at once: each run grows over up to ``margin`` zone
        characters each side, plus one character after (not past its text's end); a run's window
        that reaches the previous one's end joins it. Returns start, end, longest run."""
        if not run_start.size:
            return run_start, run_end, run_end - run_start
        steps = np.arange(1, self._margin + 1)
        before = run_start[:, None] - steps  # the characters before each run, nearest first
        zone = ((cls[np.maximum(before, 0)] & _ZONE) != 0) & (before >= 0)
        left = np.where(zone.all(axis=1), self._margin, zone.argmin(axis=1))
        after = np.minimum(run_end[:, None] + steps - 1, cls.size - 1)  # ends in NUL padding: no zone
        zone = (cls[after] & _ZONE) != 0
        right = np.where(zone.all(axis=1), self._margin, zone.argmin(axis=1))
        doc = np.searchsorted(starts, run_start, side="right") - 1
        lo = run_start - left
        hi = np.minimum(starts[doc] + lengths[doc], run_end + right + 1)
        new = np.ones(lo.size, np.bool_)
        new[1:] = lo[1:] > np.maximum.accumulate(hi)[:-1]  # runs of another text always start anew
        first = np.flatnonzero(new)
        return lo[first], np.maximum.reduceat(hi, first), np.maximum.reduceat(run_end - run_start, first)
