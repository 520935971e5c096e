"""Canonical form of text for matching, with a way back to the user's real characters.

The pipeline has three stages, each switchable through ``NormalisationSteps``:

1. one per-character table look-up (full-width → half-width, compatibility forms, case folding,
   homoglyphs, traditional → simplified, digit variants, deletion of invisible characters);
2. deletion of separator runs (spaces, punctuation, symbols, emoji) between two CJK characters;
3. squashing of runs of at least ``squash_repeats_min`` identical characters to one.

The implementations give the same result (property tests check it against the reference):

* texts of ``vector_min_length`` characters or more: all three stages on a numpy array of code
  points (look-up tables, masks) — one pass each, no per-character Python;
* shorter texts (``_normalize_short``, the common case): stage 1 by one table look-up in which
  deleted and expanded characters become sentinels (one ``in`` tells whether there were any);
  separator runs found by a bytes regex over the character classes and cut out by slicing;
  repeats looked for with one array comparison, and arrays filtered only when there is one —
  about ten array calls in all, since each costs more than the work on 100 characters;
* short texts with a character that maps to several (``ß``, ``ﬁ``, ``⑽``): stage 1 vectorised,
  stages 2–3 by regex (``_normalize_hybrid``); ``_normalize_str`` (``str.translate`` + regexes)
  is the reference.

Once the compiled kernels are loaded (``hegui.text.kernel.load()``), texts of ``kernel_min_length``
characters or more take them instead: one compiled pass that also gives each canonical character's
original span (``_ArrayMap``). Property tests hold it to the reference too.

Offsets are NOT computed on the hot path: ``NormalizedText`` keeps the deletion masks, cut spans
or intermediate strings and builds its offset map only when ``span_to_original`` is first called,
i.e. when there is a hit.
"""

from __future__ import annotations

import codecs
import itertools
import re
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hegui.policy.pack import NormalisationSteps
from hegui.text import kernel, tables


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ is several times slower (built per hit)
class _Edit:
    """Output ``[out_start, out_start+out_len)`` of a stage came from input ``[in_start, in_start+in_len)``."""

    out_start: int
    out_len: int
    in_start: int
    in_len: int


class _StageMap:
    """The offset map of one stage: identity except at sparse edits (deletions, expansions, merges)."""

    __slots__ = ("_edits", "_keys")

    def __init__(self, edits: list[_Edit]) -> None:
        self._edits = edits
        self._keys = [e.out_start for e in edits]

    def char_span(self, j: int) -> tuple[int, int]:
        """Input span that produced output character ``j``."""
        i = bisect_right(self._keys, j) - 1
        # edits with the same out_start: deletions (out_len 0) come before the edit that holds j
        while i >= 0:
            e = self._edits[i]
            if e.out_start <= j < e.out_start + e.out_len:
                return e.in_start, e.in_start + e.in_len
            if e.out_start + e.out_len <= j:
                delta = e.in_start + e.in_len - (e.out_start + e.out_len)
                return j + delta, j + delta + 1
            i -= 1
        return j, j + 1

    def position(self, j: int) -> int:
        """Input position of output boundary ``j`` (used for empty spans)."""
        i = bisect_right(self._keys, j) - 1
        while i >= 0:
            e = self._edits[i]
            if e.out_start + e.out_len <= j:
                return j + e.in_start + e.in_len - (e.out_start + e.out_len)
            if e.out_start < j:
                return e.in_start
            i -= 1
        return j


def _translate_edits(original: str, table: dict[int, str], nonunit: re.Pattern[str] | None) -> list[_Edit]:
    edits: list[_Edit] = []
    if nonunit is None:
        return edits
    delta = 0
    for m in nonunit.finditer(original):
        i = m.start()
        out_len = len(table[ord(original[i])])
        edits.append(_Edit(i + delta, out_len, i, 1))
        delta += out_len - 1
    return edits


def _deletion_edits(text: str, pattern: re.Pattern[str]) -> list[_Edit]:
    edits: list[_Edit] = []
    removed = 0
    for m in pattern.finditer(text):
        a, b = m.span()
        edits.append(_Edit(a - removed, 0, a, b - a))
        removed += b - a
    return edits


def _span_edits(spans: list[tuple[int, int]]) -> list[_Edit]:
    """Edits of deleting the (sorted, disjoint) input spans ``[a, b)``."""
    edits: list[_Edit] = []
    removed = 0
    for a, b in spans:
        edits.append(_Edit(a - removed, 0, a, b - a))
        removed += b - a
    return edits


def _squash_edits(text: str, pattern: re.Pattern[str]) -> list[_Edit]:
    edits: list[_Edit] = []
    removed = 0
    for m in pattern.finditer(text):
        a, b = m.span()
        edits.append(_Edit(a - removed, 1, a, b - a))
        removed += b - a - 1
    return edits


_Stage = str | npt.NDArray[np.uint32]
#: class codes as bytes: a separator run (``CLS_SEP``) with a CJK character (``CLS_CJK``) on both sides
_SEP_BYTE = bytes([tables.CLS_SEP])
_DELETED_CHAR = chr(tables.SENTINEL_DELETE)
_EXPANDED_CHAR = chr(tables.SENTINEL_EXPAND)
_U32 = np.dtype(np.uint32)
_utf32_encode = codecs.utf_32_le_encode
_utf32_decode = codecs.utf_32_le_decode
_SEP_RUN = re.compile(re.escape(_SEP_BYTE) + b"(?<=" + re.escape(bytes([tables.CLS_CJK]) + _SEP_BYTE) + b")"
                      + re.escape(_SEP_BYTE) + b"*(?=" + re.escape(bytes([tables.CLS_CJK])) + b")")
_Mask = npt.NDArray[np.bool_]
_Spans = list[tuple[int, int]]


def _deleted(mask: _Mask | None) -> npt.NDArray[np.intp] | None:
    """For a keep-mask with few False entries: the deleted positions minus their rank (sorted)."""
    if mask is None:
        return None
    dele = (~mask).nonzero()[0]
    return dele - np.arange(len(dele))


def _deleted_positions(mask: _Mask | None) -> list[int]:
    """The False positions of a keep-mask (None: none), by ``bytes.find`` when there are few of them."""
    if mask is None:
        return []
    flags = mask.tobytes()
    out: list[int] = []
    i = flags.find(0)
    while i >= 0:
        if len(out) == 32:  # many: one array pass is cheaper than a find each
            return np.flatnonzero(~mask).tolist()
        out.append(i)
        i = flags.find(0, i + 1)
    return out


#: True, False, True, … : the values of the alternating kept and cut stretches ``_cut_mask`` repeats
_KEPT_CUT = np.resize(np.array([True, False]), (1 << 17) + 1)


def _cut_mask(n: int, spans: _Spans) -> _Mask:
    """Keep-mask of length ``n`` with the (sorted, disjoint) spans ``[a, b)`` False, by one ``np.repeat``
    of the stretch lengths (a slice assignment per span costs more from about three spans on)."""
    lengths = []
    p = 0
    for a, b in spans:
        lengths.append(a - p)
        lengths.append(b - a)
        p = b
    lengths.append(n - p)
    if len(lengths) > len(_KEPT_CUT):
        keep = np.ones(n, dtype=bool)
        for a, b in spans:
            keep[a:b] = False
        return keep
    return np.repeat(_KEPT_CUT[:len(lengths)], lengths)


def _unfilter(adj: npt.NDArray[np.intp] | None, q: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """Positions before filtering of the kept elements ``q`` (the q-th True of the mask)."""
    if adj is None or not len(adj):
        return q
    return q + np.searchsorted(adj, q, side="right")


class _IndexMap:
    """Offset map of the vectorised path, from the deletion masks of the three stages.

    Each stage only deletes (stage 3 keeps the first character of a squashed run). For texts up
    to ``DENSE_MAX`` characters the map is a dense array ``src`` (original position of each stage-2
    character) plus the kept stage-2 positions ``p``; for longer texts, where deletions are few
    compared with the length, a kept element's earlier position is found by binary search over the
    deleted positions instead, so no array as long as the text is built. A stage-3 character ``j``
    stands for the stage-2 run from its own position up to the next kept one.
    """

    DENSE_MAX = 1 << 16
    #: ``pairs`` of at most this many spans maps them in Python from the deleted positions (a handful
    #: per stage) instead of building the dense arrays (several array calls over the whole text)
    FEW_SPANS = 16
    __slots__ = ("_adj1", "_adj2", "_adj3", "_dense", "_ends", "_few", "_masks", "_n2", "_n3", "_n_original", "_p",
                 "_spans", "_src")

    def __init__(self, n_original: int, keep1: _Mask | None, keep2: _Mask | None, keep3: _Mask | None,
                 spans2: _Spans | None = None, runs3: _Spans | None = None) -> None:
        """``spans2``/``runs3``: the deletions of stages 2 and 3 as spans (see ``_context_steps``), if known."""
        self._spans = (spans2, runs3)
        self._src: npt.NDArray[np.intp] | None = None
        self._p: npt.NDArray[np.intp] | None = None
        self._ends: npt.NDArray[np.intp] | None = None
        self._adj1 = self._adj2 = self._adj3 = None
        self._masks = (keep1, keep2, keep3)
        self._few: tuple[list[int], list[int], list[int], int, int] | None = None
        self._dense = n_original <= self.DENSE_MAX
        self._n_original = n_original
        if self._dense:
            self._n2 = self._n3 = -1  # set by ``_build_dense``
            return  # the arrays are built on first need: most callers map a few spans (``pairs``)
        self._adj1, self._adj2, self._adj3 = _deleted(keep1), _deleted(keep2), _deleted(keep3)
        n1 = int(keep1.sum()) if keep1 is not None else n_original
        self._n2 = int(keep2.sum()) if keep2 is not None else n1
        self._n3 = int(keep3.sum()) if keep3 is not None else self._n2

    def _build_dense(self) -> npt.NDArray[np.intp]:
        """The dense arrays (texts up to ``DENSE_MAX``): ``_src`` and, with squashed runs, ``_p``/``_ends``."""
        if self._src is not None:
            return self._src
        keep1, keep2, keep3 = self._masks
        src = keep1.nonzero()[0] if keep1 is not None else np.arange(self._n_original)
        src = src[keep2] if keep2 is not None else src
        self._n2 = len(src)
        if keep3 is not None:
            self._p = p = keep3.nonzero()[0]
            self._ends = ends = np.empty(len(p), dtype=np.intp)
            ends[:-1] = p[1:]
            ends[-1:] = len(keep3)
        self._n3 = len(self._p) if self._p is not None else self._n2
        self._src = src  # last: it marks the arrays as built
        return src

    def _few_lists(self) -> tuple[list[int], list[int], list[int], int, int]:
        """Per stage the deleted positions minus their rank (Python ints), and the stage-2 and -3 lengths
        when stage 3 squashed anything (else 0, 0: not needed)."""
        if self._few is None:
            keep1, keep2, keep3 = self._masks
            dele = _deleted_positions(keep1)
            adj = [[d - i for i, d in enumerate(dele)]]
            for keep, spans, first in ((keep2, self._spans[0], 0), (keep3, self._spans[1], 1)):
                if spans is None:  # only the mask: the deleted positions from it
                    dele = _deleted_positions(keep)
                    adj.append([d - i for i, d in enumerate(dele)])
                    continue
                stage: list[int] = []
                for a, b in spans:  # each deleted position minus its rank: the same for a whole span
                    stage += [a + first - len(stage)] * (b - a - first)
                adj.append(stage)
            n2 = len(keep3) if keep3 is not None else 0
            self._few = (adj[0], adj[1], adj[2], n2, n2 - len(adj[2]))
        return self._few

    def _pairs_few(self, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """``pairs`` by binary search in the deleted positions of each stage (see ``_unfilter``)."""
        adj1, adj2, adj3, n2, n3 = self._few_lists()
        out = []
        for s, e in spans:
            j = e - 1
            if adj3:  # first stage-2 character of run s; last one of run e-1 (up to the next run's start)
                s += bisect_right(adj3, s)
                j = j + 1 + bisect_right(adj3, j + 1) - 1 if j + 1 < n3 else n2 - 1
            if adj2:
                s += bisect_right(adj2, s)
                j += bisect_right(adj2, j)
            if adj1:
                s += bisect_right(adj1, s)
                j += bisect_right(adj1, j)
            out.append((s, j + 1))
        return out

    def _to_original(self, q2: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        return _unfilter(self._adj1, _unfilter(self._adj2, q2))

    def batch(self, starts: npt.NDArray[np.intp], ends: npt.NDArray[np.intp]
              ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """Original spans of many output spans ``[starts[i], ends[i])`` (non-empty)."""
        if self._dense:
            src = self._build_dense()
            if self._p is None or self._ends is None:
                return src[starts], src[ends - 1] + 1
            return src[self._p[starts]], src[self._ends[ends - 1] - 1] + 1
        first = _unfilter(self._adj3, starts)
        if self._adj3 is None or not len(self._adj3):
            last = _unfilter(self._adj3, ends - 1)
        else:  # the last stage-2 character of the run that output character ends-1 stands for
            nxt = _unfilter(self._adj3, np.minimum(ends, self._n3 - 1))
            last = np.where(ends >= self._n3, self._n2, nxt) - 1
        return self._to_original(first), self._to_original(last) + 1

    def pairs(self, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Original spans of (non-empty, valid) output spans, as Python ints."""
        k = len(spans)
        if not self._dense:
            arr = np.array(spans, dtype=np.intp).reshape(k, 2)
            a, b = self.batch(arr[:, 0], arr[:, 1])
            return list(zip(a.tolist(), b.tolist(), strict=True))
        if k <= self.FEW_SPANS:
            return self._pairs_few(spans)
        src = self._build_dense()
        idx = [s for s, _ in spans]
        idx += [e - 1 for _, e in spans]
        pos: list[int] | npt.NDArray[np.intp] = idx
        if self._p is not None and self._ends is not None:  # stage 3: first of the run, last of the run
            pos = np.concatenate((self._p.take(idx[:k]), self._ends.take(idx[k:]) - 1))
        vals = src.take(pos).tolist()
        return [(vals[i], vals[k + i] + 1) for i in range(k)]

    def char_span(self, j: int) -> tuple[int, int]:
        if self._dense:
            src = self._build_dense()
            if self._p is None or self._ends is None:
                i = int(src[j])
                return i, i + 1
            return int(src[self._p[j]]), int(src[self._ends[j] - 1]) + 1
        a, b = self.batch(np.array([j], dtype=np.intp), np.array([j + 1], dtype=np.intp))
        return int(a[0]), int(b[0])

    def position(self, j: int) -> int:
        if self._dense:
            self._build_dense()
        if j < self._n3:
            return self.char_span(j)[0]
        return self.char_span(j - 1)[1] if j > 0 else 0


class _ArrayMap:
    """Offset map of the compiled path (``hegui.text.kernel``): the original span of every canonical
    character, as two arrays — a span maps by two reads."""

    __slots__ = ("_end", "_n_original", "_start")

    def __init__(self, start: npt.NDArray[np.int64], end: npt.NDArray[np.int64], n_original: int) -> None:
        self._start = start
        self._end = end
        self._n_original = n_original

    def batch(self, starts: npt.NDArray[np.intp], ends: npt.NDArray[np.intp]
              ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        return self._start[starts], self._end[ends - 1]

    def pairs(self, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        start, end = self._start, self._end
        return [(int(start[s]), int(end[e - 1])) for s, e in spans]

    def char_span(self, j: int) -> tuple[int, int]:
        return int(self._start[j]), int(self._end[j])

    def position(self, j: int) -> int:
        """The boundary before canonical character ``j``; the end of the canonical text is the end of the
        original (characters after the last canonical one were all deleted)."""
        return int(self._start[j]) if j < len(self._start) else self._n_original


_Map = _StageMap | _IndexMap | _ArrayMap


def _to_array(text: str) -> npt.NDArray[np.uint32]:
    """Code points of ``text`` (lone surrogates kept); the codec called directly, without the codec
    registry look-up and Python wrapper ``str.encode`` goes through (~0.2 µs a call)."""
    return np.frombuffer(_utf32_encode(text, "surrogatepass")[0], dtype=_U32)


def _to_str(a: npt.NDArray[np.uint32]) -> str:
    """The string of a C-contiguous code-point array (decoded straight from its buffer, no copy)."""
    return _utf32_decode(a, "surrogatepass", True)[0]  # type: ignore[arg-type]  # ndarray is a buffer


def _as_str(stage: _Stage) -> str:
    """An intermediate stage, kept as a code-point array on the fast path and decoded only when needed."""
    return stage if isinstance(stage, str) else _to_str(stage)


class NormalizedText:
    """The canonical form ``text`` of ``original``, and the map from ``text`` spans back to ``original``."""

    __slots__ = ("_cuts", "_keep", "_keep1", "_maps", "_normalizer", "_s1", "_s2", "kernel", "original", "text")

    def __init__(self, original: str, text: str, s1: _Stage, s2: _Stage, normalizer: Normalizer,
                 keep: tuple[_Mask | None, _Mask | None, _Mask | None, _Spans | None, _Spans | None] | None = None,
                 keep1: _Mask | bool = False, cuts: tuple[_Spans, _Spans] | None = None) -> None:
        self.original = original
        self.text = text
        self._s1 = s1
        self._s2 = s2
        self._normalizer = normalizer
        self._keep = keep  # vectorised path: the deletion masks of stages 1, 2, 3 (and 2, 3 as spans, or None)
        self._cuts = cuts  # short path: spans deleted by stage 1 (of original) and stage 2 (of s1)
        self._keep1 = keep1  # hybrid path: stage 1 vectorised (its mask, or True if nothing was deleted)
        self._maps: list[_Map] | None = None
        #: compiled path: (canonical code points, original start, original end per canonical character)
        self.kernel: tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None

    def __repr__(self) -> str:
        return f"NormalizedText(original={self.original!r}, text={self.text!r})"

    def _stage_maps(self) -> list[_Map]:
        if self._maps is None:
            n = self._normalizer
            maps: list[_Map]
            if self._cuts is not None:
                # short path: sparse Python maps from the cut spans, far cheaper to build for a few
                # hits than the arrays of ``_IndexMap``
                cuts1, cuts2 = self._cuts
                maps = [_StageMap(_span_edits(cuts1))] if cuts1 else []
                maps.append(_StageMap(_span_edits(cuts2)))
                if n.squash is not None and self.text is not self._s2:
                    maps.append(_StageMap(_squash_edits(_as_str(self._s2), n.squash)))
                self._maps = maps
                return maps
            if self._keep is not None:
                self._maps = [_IndexMap(len(self.original), *self._keep)]
                return self._maps
            if self._keep1 is not False:
                mask = None if self._keep1 is True else self._keep1
                maps = [_IndexMap(len(self.original), mask, None, None, [], [])]
            else:
                maps = [_StageMap(_translate_edits(self.original, n.table, n.nonunit))]
            if n.separators is not None:
                maps.append(_StageMap(_deletion_edits(_as_str(self._s1), n.separators)))
            if n.squash is not None and self.text is not self._s2:
                maps.append(_StageMap(_squash_edits(_as_str(self._s2), n.squash)))
            self._maps = maps
        return self._maps

    def span_to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map ``text[start:end]`` to the span of ``original`` whose characters produced it.

        A non-empty span maps from the first original character of its first character to the last
        original character of its last one, so deleted separators inside it are included and a
        squashed run counts whole. An empty span maps to a position. Always
        ``0 <= a <= b <= len(original)``.
        """
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span ({start}, {end}) outside normalised text of length {len(self.text)}")
        maps = self._stage_maps()
        if start == end:
            p = start
            for m in reversed(maps):
                p = m.position(p)
            return p, p
        a, b = start, end
        for m in reversed(maps):
            a = m.char_span(a)[0]
            b = m.char_span(b - 1)[1]
        return a, b

    def spans_to_original(self, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """``span_to_original`` for many non-empty spans at once (vectorised on the fast path)."""
        maps = self._stage_maps() if spans else []
        if len(spans) < 8 or len(maps) != 1 or isinstance(maps[0], _StageMap):
            return [self.span_to_original(s, e) for s, e in spans]
        arr = np.array(spans, dtype=np.intp)
        starts, ends = arr[:, 0], arr[:, 1]
        if starts.min() < 0 or ends.max() > len(self.text) or (ends <= starts).any():
            raise ValueError("span outside the normalised text, or empty")
        a, b = maps[0].batch(starts, ends)
        return list(zip(a.tolist(), b.tolist(), strict=True))

    def _spans_to_original_trusted(self, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """``spans_to_original`` for spans a matcher found in ``text`` (non-empty, inside it: not checked).

        On the vectorised path all spans go through the array map at once, even a few of them
        (a handful of array calls instead of Python work per span and stage).
        """
        maps = self._stage_maps()
        if len(maps) == 1 and not isinstance(maps[0], _StageMap):
            return maps[0].pairs(spans)
        out = []
        rev = maps[::-1]
        for a, b in spans:
            b -= 1  # the last character, inclusive
            for m in rev:
                a = m.char_span(a)[0]
                b = m.char_span(b)[1] - 1
            out.append((a, b + 1))
        return out

    def hold_back_start(self, n_chars: int) -> int:
        """Original offset from which text is not yet final for a streaming matcher.

        The last ``n_chars`` normalised characters, widened to the whole trailing run of identical
        characters (it may still be squashed) — everything from the returned original offset on
        may still change or complete a match of up to ``n_chars`` normalised characters when more
        text is appended. Trailing characters that were deleted (separators, invisibles) are after
        that offset too. Returns 0 when the whole text must be held.
        """
        t = self.text
        k = len(t) - max(n_chars, 0)
        if t:
            run = len(t) - 1
            while run > 0 and t[run - 1] == t[-1]:
                run -= 1
            k = min(k, run)
        if k <= 0:
            return 0
        return self.span_to_original(k, k + 1)[0]


# ``Normalizer.normalize_shared``: one identity token per distinct steps setting (hashing the pydantic
# steps on every call would cost more than the look-up), and the last text normalised under each
_STEPS_TOKEN: dict[NormalisationSteps, object] = {}
_SHARED_LAST: dict[object, tuple[str, NormalizedText]] = {}


class Normalizer:
    """Maps text to its canonical form; thread-safe and cheap to share (tables are cached per steps)."""

    def __init__(self, steps: NormalisationSteps | None = None) -> None:
        self.steps = steps or NormalisationSteps()
        self.table: dict[int, str] = tables.translate_table(self.steps)
        self.nonunit: re.Pattern[str] | None = tables.nonunit_regex(self.steps)
        self.separators: re.Pattern[str] | None = tables.separator_regex() if self.steps.strip_separators else None
        self.squash: re.Pattern[str] | None = (
            tables.squash_regex(self.steps.squash_repeats_min) if self.steps.squash_repeats else None)
        self._lut = tables.translate_lut(self.steps)
        self._slut = tables.sentinel_lut(self.steps)
        self._squash_needle = b"\x01" * (self.steps.squash_repeats_min - 1)
        self._shared_token: object = _STEPS_TOKEN.setdefault(self.steps, object())
        self._strip = self.steps.strip_separators
        #: texts at least this long take the fully vectorised path; shorter ones the short path (faster
        #: up to about 1,000 characters: fewer array calls, work per separator run instead)
        self.vector_min_length = 900
        #: texts with an expanding character (ß, ﬁ …): shorter than this the hybrid path, else the vector one
        self.hybrid_max_length = 300
        #: long texts are processed in blocks of about this many code points (cut where no step can cross)
        self.chunk_length = 1 << 16
        self._cls = tables.class_lut()
        #: with the compiled kernels loaded (batch mode, the gateway), texts at least this long take them
        #: (shorter ones: the short path costs less than the kernel's fixed cost)
        self.kernel_min_length = 32
        self._kernel_tables: kernel.KernelTables | None = None

    def normalize(self, text: str) -> NormalizedText:
        """Canonical form of ``text`` (see module doc); offsets are computed lazily."""
        if not text:
            return NormalizedText(text, text, text, text, self)
        if len(text) >= self.kernel_min_length and kernel.loaded():
            nt = self._normalize_kernel(text)
            if nt is not None:
                return nt
        if len(text) < self.vector_min_length:
            return self._normalize_short(text)
        return self._normalize_vector(text)

    def normalize_shared(self, text: str) -> NormalizedText:
        """``normalize``, but the detectors of one check (lexicon, proximity rules) that normalise the
        very same string object with the same steps share one result instead of each paying for it.

        One entry per distinct steps setting, process-wide: the last string normalised. The memo holds
        the string, so its identity cannot be reused while it is there; reading and replacing the entry
        are single reference operations, so concurrent threads see either entry whole.
        """
        nt = self.shared_result(text)
        if nt is not None:
            return nt
        nt = self.normalize(text)
        _SHARED_LAST[self._shared_token] = (text, nt)
        return nt

    def _normalize_kernel(self, text: str) -> NormalizedText | None:
        """The compiled path (``hegui.text.kernel``, once loaded): the canonical code points and each one's
        original span in one call; None when a character expands to several."""
        tables = self._kernel_tables
        if tables is None:
            tables = self._kernel_tables = kernel.KernelTables(self.steps)
        found = kernel.normalise_codepoints(tables, _to_array(text))
        if found is None:
            return None
        t = _to_str(found[0])
        nt = NormalizedText(text, t, t, t, self)
        nt._maps = [_ArrayMap(found[1], found[2], len(text))]
        nt.kernel = found
        return nt

    def shared_result(self, text: str) -> NormalizedText | None:
        """What ``normalize_shared`` holds for this very string object, if anything (no work)."""
        last = _SHARED_LAST.get(self._shared_token)
        return last[1] if last is not None and last[0] is text else None

    def _normalize_vector(self, text: str) -> NormalizedText:
        """Long texts: every stage on code-point arrays, block-wise (see module doc)."""
        a = _to_array(text)
        if len(a) <= self.chunk_length:
            m = self._lut.take(a)
        else:  # block-wise keeps the look-up's index temporaries in cache
            m = np.empty(len(a), dtype=np.uint32)
            for i in range(0, len(a), self.chunk_length):
                self._lut.take(a[i:i + self.chunk_length], out=m[i:i + self.chunk_length])
        keep1: _Mask | None = None
        top = m.max()
        if top >= tables.DELETE:
            if top == tables.EXPAND:  # the largest value the table holds
                return self._normalize_str(text)  # rare (ß, ﬁ, ⑽ …): the plain str.translate path
            keep1 = m != tables.DELETE
            m = m[keep1]
        spans2: _Spans | None = None
        runs3: _Spans | None = None
        if len(m) <= self.chunk_length:
            out, keep2, keep3, spans2, runs3 = self._context_steps(m)
        else:
            out, keep2, keep3 = self._context_steps_chunked(m)
        s3 = _to_str(out)
        return NormalizedText(text, s3, m, m, self, (keep1, keep2, keep3, spans2, runs3))

    def _safe_cuts(self, m: npt.NDArray[np.uint32]) -> list[int]:
        """Block boundaries no context step can cross: between two non-separator, different characters."""
        cuts = [0]
        target = self.chunk_length
        n = len(m)
        while target < n - 1:
            lo = max(target, cuts[-1] + 1)
            window = m[lo - 1:min(n, lo + 4096)]
            cls = self._cls.take(window)
            ok = ((cls[1:] != tables.CLS_SEP) & (cls[:-1] != tables.CLS_SEP) & (window[1:] != window[:-1])).nonzero()[0]
            if len(ok):
                cut = lo + int(ok[0])
                cuts.append(cut)
                target = cut + self.chunk_length
            else:
                target = lo + 4096  # a very long separator or repeat run: look further on
        cuts.append(n)
        return cuts

    def _context_steps_chunked(self, m: npt.NDArray[np.uint32]
                               ) -> tuple[npt.NDArray[np.uint32], _Mask | None, _Mask | None]:
        outs: list[npt.NDArray[np.uint32]] = []
        k2s: list[_Mask] = []
        k3s: list[_Mask] = []
        any2 = any3 = False
        cuts = self._safe_cuts(m)
        for a, b in itertools.pairwise(cuts):
            out, k2, k3, _spans, _runs = self._context_steps(m[a:b])
            outs.append(out)
            any2 |= k2 is not None
            any3 |= k3 is not None
            k2s.append(k2 if k2 is not None else np.ones(b - a, dtype=bool))
            k3s.append(k3 if k3 is not None else np.ones(len(out) if k3 is None else len(k3), dtype=bool))
        return (np.concatenate(outs), np.concatenate(k2s) if any2 else None,
                np.concatenate(k3s) if any3 else None)

    def _context_steps(self, m: npt.NDArray[np.uint32]
                       ) -> tuple[npt.NDArray[np.uint32], _Mask | None, _Mask | None, _Spans, _Spans]:
        """Stages 2 and 3 on code points: the result, the deletion masks (None = nothing deleted), and
        the same as spans: separator runs cut (of ``m``) and repeat runs squashed (of the stage-2 result).

        Separator runs are found by a bytes regex over the per-character class codes (sre skips to
        each separator with a literal-prefix scan; only runs with a CJK character on both sides
        match), so the cost is one class look-up plus work per separator, not a dozen array passes.
        Repeats are checked with one comparison and a count before anything is built.
        """
        keep2: _Mask | None = None
        spans: _Spans = []
        if self.separators is not None and len(m) > 2:
            classes = self._cls.take(m).tobytes()
            if tables.CLS_SEP in classes:  # an int: ``bytes in bytes`` first raises and clears a TypeError
                spans = [r.span() for r in _SEP_RUN.finditer(classes)]
                if spans:
                    keep2 = _cut_mask(len(m), spans)
                    m = m[keep2]
        m, keep3, runs = self._squash_steps(m)
        return m, keep2, keep3, spans, runs

    def _squash_steps(self, m: npt.NDArray[np.uint32]) -> tuple[npt.NDArray[np.uint32], _Mask | None, _Spans]:
        """Stage 3 on code points: the result, its deletion mask (None = nothing squashed) and the
        squashed runs ``[a, b)`` of ``m`` (each keeps its first character)."""
        k = self.steps.squash_repeats_min
        if self.squash is None or len(m) < k:
            return m, None, []
        eq = (m[1:] == m[:-1]).tobytes()  # eq[i] == 1: m[i+1] repeats m[i]
        i = eq.find(self._squash_needle)  # k-1 repeats in a row: a run of k (most texts have none)
        if i < 0:
            return m, None, []
        keep3 = np.ones(len(m), dtype=bool)
        runs: _Spans = []
        while i >= 0:  # the first find from after a non-repeat is where a run starts
            j = eq.find(b"\x00", i + k - 1)
            if j < 0:
                j = len(eq)
            keep3[i + 1:j + 1] = False  # the run is m[i : j+1]; it keeps its first character
            runs.append((i, j + 1))
            i = eq.find(self._squash_needle, j + 1)
        return m[keep3], keep3, runs

    def _normalize_short(self, text: str) -> NormalizedText:
        """Short texts: as few array calls as possible (each costs ~0.5 µs, more than the work itself).

        Stage 1 maps deleted and expanded characters to one sentinel, so a single ``in`` on the
        decoded string tells whether any occurred (then the exact hybrid path runs instead).
        Separator runs are cut out of the string by slicing; repeats are looked for on the stage-1
        array and across each cut (the only places stage 2 can create new neighbours), and only
        when one is found are the arrays filtered.
        """
        m = self._slut.take(_to_array(text))
        s1 = _to_str(m)
        cuts1: _Spans = []
        if _DELETED_CHAR in s1 or _EXPANDED_CHAR in s1:
            if _EXPANDED_CHAR in s1 or _DELETED_CHAR in text or _EXPANDED_CHAR in text:
                # expansions (ß, ﬁ …) or a real sentinel character in the input: the exact path
                if len(text) < self.hybrid_max_length:
                    return self._normalize_hybrid(text)
                return self._normalize_vector(text)
            keep1 = m != tables.SENTINEL_DELETE
            m = m[keep1]
            s1 = s1.replace(_DELETED_CHAR, "")
            for i in (~keep1).nonzero()[0].tolist():  # deleted characters as spans of the original
                if cuts1 and cuts1[-1][1] == i:
                    cuts1[-1] = (cuts1[-1][0], i + 1)
                else:
                    cuts1.append((i, i + 1))
        spans: list[tuple[int, int]] | None = None
        s2 = s1
        crossed = False  # a cut joins two equal characters (a repeat stage 2 creates)
        if self._strip and len(m) > 2:
            classes = self._cls.take(m).tobytes()
            if tables.CLS_SEP in classes:  # an int: ``bytes in bytes`` first raises and clears a TypeError
                spans = [r.span() for r in _SEP_RUN.finditer(classes)] or None
                if spans is not None:
                    parts = []
                    p = 0
                    for a, b in spans:
                        parts.append(s1[p:a])
                        if s1[a - 1] == s1[b]:
                            crossed = True
                        p = b
                    parts.append(s1[p:])
                    s2 = "".join(parts)
        keep3: _Mask | None = None
        s3 = s2
        if self.squash is not None and (crossed or (m[1:] == m[:-1]).tobytes().find(self._squash_needle) >= 0) \
                and len(s2) >= self.steps.squash_repeats_min:
            m2 = m
            if spans is not None:
                m2 = m[_cut_mask(len(m), spans)]
            m3, keep3, _runs = self._squash_steps(m2)
            if keep3 is not None:
                s3 = _to_str(m3)
        return NormalizedText(text, s3, s1, s2, self, None, False, (cuts1, spans or []))  # positional: hot

    def _normalize_hybrid(self, text: str) -> NormalizedText:
        """Short texts: the table look-up vectorised, the two context steps by regex (fewer numpy calls)."""
        m = self._lut.take(_to_array(text))
        keep1: _Mask | bool = True
        if m.max() >= tables.DELETE:
            if (m == tables.EXPAND).any():
                return self._normalize_str(text)
            keep1 = m != tables.DELETE
            m = m[keep1]
        s1 = _to_str(m)
        s2 = self.separators.sub("", s1) if self.separators is not None else s1
        s3 = self.squash.sub(r"\1", s2) if self.squash is not None else s2
        return NormalizedText(text, s3, s1, s2, self, keep1=keep1)

    def _normalize_str(self, text: str) -> NormalizedText:
        """Reference implementation with ``str.translate`` and regexes (same result as ``normalize``)."""
        s1 = text.translate(self.table)
        s2 = self.separators.sub("", s1) if self.separators is not None else s1
        s3 = self.squash.sub(r"\1", s2) if self.squash is not None else s2
        return NormalizedText(text, s3, s1, s2, self)

    def canonical(self, text: str) -> str:
        """Just the canonical string (for terms and allow phrases at compile time)."""
        return self.normalize(text).text
