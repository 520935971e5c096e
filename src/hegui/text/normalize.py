"""Canonical form of text for matching, with a way back to the user's real characters.

The pipeline has three stages, each switchable through ``NormalisationSteps``:

1. one per-character table look-up (full-width → half-width, compatibility forms, case folding,
   homoglyphs, traditional → simplified, digit variants, deletion of invisible characters);
2. deletion of separator runs (spaces, punctuation, symbols, emoji) between two CJK characters;
3. squashing of runs of at least ``squash_repeats_min`` identical characters to one.

Three implementations give the same result (a property test checks it):

* texts of ``vector_min_length`` characters or more: all three stages on a numpy array of code
  points (look-up tables, masks) — one pass each, no per-character Python;
* shorter texts: stage 1 on numpy, stages 2–3 with two precompiled regexes (fewer numpy calls);
* texts with a character that maps to several (``ß``, ``ﬁ``, ``⑽``): ``str.translate`` + regexes.

Offsets are NOT computed on the hot path: ``NormalizedText`` keeps the deletion masks (or the
intermediate strings) and builds its offset map only when ``span_to_original`` is first called,
i.e. when there is a hit.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hegui.policy.pack import NormalisationSteps
from hegui.text import tables


@dataclass(frozen=True, slots=True)
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


def _squash_edits(text: str, pattern: re.Pattern[str]) -> list[_Edit]:
    edits: list[_Edit] = []
    removed = 0
    for m in pattern.finditer(text):
        a, b = m.span()
        edits.append(_Edit(a - removed, 1, a, b - a))
        removed += b - a - 1
    return edits


_Stage = str | npt.NDArray[np.uint32]
_Mask = npt.NDArray[np.bool_]


class _IndexMap:
    """Offset map of the vectorised path, built from the deletion masks of the three stages.

    ``src[j]`` is the original position of stage-2 character ``j`` (stages 1–2 only delete); a
    stage-3 character ``j`` stands for the stage-2 run ``[p[j], p[j+1])`` (a squashed run).
    """

    __slots__ = ("_ends", "_p", "_src")

    def __init__(self, n_original: int, keep1: _Mask | None, keep2: _Mask | None, keep3: _Mask | None) -> None:
        src = np.flatnonzero(keep1) if keep1 is not None else np.arange(n_original)
        self._src = src[keep2] if keep2 is not None else src
        self._p: npt.NDArray[np.intp] | None = None
        self._ends: npt.NDArray[np.intp] | None = None
        if keep3 is not None:
            self._p = np.flatnonzero(keep3)
            self._ends = np.append(self._p[1:], len(keep3))

    def char_span(self, j: int) -> tuple[int, int]:
        if self._p is None or self._ends is None:
            i = int(self._src[j])
            return i, i + 1
        return int(self._src[self._p[j]]), int(self._src[self._ends[j] - 1]) + 1

    def batch(self, starts: npt.NDArray[np.intp], ends: npt.NDArray[np.intp]
              ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """Original spans of many output spans ``[starts[i], ends[i])`` (non-empty)."""
        if self._p is None or self._ends is None:
            return self._src[starts], self._src[ends - 1] + 1
        return self._src[self._p[starts]], self._src[self._ends[ends - 1] - 1] + 1

    def position(self, j: int) -> int:
        n = len(self._src) if self._p is None else len(self._p)
        if j < n:
            return self.char_span(j)[0]
        return self.char_span(j - 1)[1] if j > 0 else 0


def _as_str(stage: _Stage) -> str:
    """An intermediate stage, kept as a code-point array on the fast path and decoded only when needed."""
    return stage if isinstance(stage, str) else stage.tobytes().decode("utf-32-le", "surrogatepass")


class NormalizedText:
    """The canonical form ``text`` of ``original``, and the map from ``text`` spans back to ``original``."""

    __slots__ = ("_keep", "_keep1", "_maps", "_normalizer", "_s1", "_s2", "original", "text")

    def __init__(self, original: str, text: str, s1: _Stage, s2: _Stage, normalizer: Normalizer,
                 keep: tuple[_Mask | None, _Mask | None, _Mask | None] | None = None,
                 keep1: _Mask | bool = False) -> None:
        self.original = original
        self.text = text
        self._s1 = s1
        self._s2 = s2
        self._normalizer = normalizer
        self._keep = keep  # vectorised path: the deletion masks of stages 1, 2 and 3
        self._keep1 = keep1  # hybrid path: stage 1 vectorised (its mask, or True if nothing was deleted)
        self._maps: list[_StageMap | _IndexMap] | None = None

    def __repr__(self) -> str:
        return f"NormalizedText(original={self.original!r}, text={self.text!r})"

    def _stage_maps(self) -> list[_StageMap | _IndexMap]:
        if self._maps is None:
            n = self._normalizer
            maps: list[_StageMap | _IndexMap]
            if self._keep is not None:
                self._maps = [_IndexMap(len(self.original), *self._keep)]
                return self._maps
            if self._keep1 is not False:
                mask = None if self._keep1 is True else self._keep1
                maps = [_IndexMap(len(self.original), mask, None, None)]
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
        if len(spans) < 8 or len(maps) != 1 or not isinstance(maps[0], _IndexMap):
            return [self.span_to_original(s, e) for s, e in spans]
        arr = np.array(spans, dtype=np.intp)
        starts, ends = arr[:, 0], arr[:, 1]
        if starts.min() < 0 or ends.max() > len(self.text) or (ends <= starts).any():
            raise ValueError("span outside the normalised text, or empty")
        a, b = maps[0].batch(starts, ends)
        return list(zip(a.tolist(), b.tolist(), strict=True))

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
        #: texts at least this long take the fully vectorised path; shorter ones the hybrid one
        self.vector_min_length = 300
        self._cls = tables.class_lut()

    def normalize(self, text: str) -> NormalizedText:
        """Canonical form of ``text`` (see module doc); offsets are computed lazily."""
        if not text:
            return NormalizedText(text, text, text, text, self)
        if len(text) < self.vector_min_length:
            return self._normalize_hybrid(text)
        m = self._lut.take(np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32))
        keep1: _Mask | None = None
        keep2: _Mask | None = None
        if m.max() >= tables.DELETE:
            if (m == tables.EXPAND).any():
                return self._normalize_str(text)  # rare (ß, ﬁ, ⑽ …): the plain str.translate path
            keep1 = m != tables.DELETE
            m = m[keep1]
        s1 = m
        if self.separators is not None and len(m) > 2:
            cls = self._cls.take(m)
            is_sep = cls == tables.CLS_SEP
            if is_sep.any():
                keep_idx = (~is_sep).nonzero()[0]  # positions of non-separators
                if len(keep_idx) >= 2:
                    cjk = cls[keep_idx] == tables.CLS_CJK
                    gaps = (((keep_idx[1:] - keep_idx[:-1]) > 1) & cjk[:-1] & cjk[1:]).nonzero()[0]
                    if len(gaps):
                        marks = np.zeros(len(m) + 1, dtype=np.int8)
                        marks[keep_idx[gaps] + 1] = 1
                        marks[keep_idx[gaps + 1]] = -1
                        keep2 = np.cumsum(marks[:-1], dtype=np.int8) == 0  # runs never nest: sums stay 0/1
                        m = m[keep2]
        keep3: _Mask | None = None
        k = self.steps.squash_repeats_min
        if self.squash is not None and len(m) >= k:
            eq = m[1:] == m[:-1]  # eq[i]: m[i+1] repeats m[i]
            runs = eq
            for _ in range(k - 2):
                runs = runs[1:] & runs[:-1]  # runs[i]: m[i : i+k] all equal
            if runs.any():
                covered = np.zeros(len(m), dtype=bool)
                for d in range(k):
                    covered[d:d + len(runs)] |= runs
                drop = np.zeros(len(m), dtype=bool)
                drop[1:] = eq & covered[1:]  # every character of a long run but its first
                keep3 = ~drop
                m = m[keep3]
        s3 = m.tobytes().decode("utf-32-le", "surrogatepass")
        return NormalizedText(text, s3, s1, s1, self, (keep1, keep2, keep3))

    def _normalize_hybrid(self, text: str) -> NormalizedText:
        """Short texts: the table look-up vectorised, the two context steps by regex (fewer numpy calls)."""
        m = self._lut.take(np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32))
        keep1: _Mask | bool = True
        if m.max() >= tables.DELETE:
            if (m == tables.EXPAND).any():
                return self._normalize_str(text)
            keep1 = m != tables.DELETE
            m = m[keep1]
        s1 = m.tobytes().decode("utf-32-le", "surrogatepass")
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
