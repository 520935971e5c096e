"""Canonical form of text for matching, with a way back to the user's real characters.

The pipeline has three stages, each switchable through ``NormalisationSteps``:

1. one ``str.translate`` pass with a composed per-character table (full-width → half-width,
   compatibility forms, case folding, homoglyphs, traditional → simplified, digit variants,
   deletion of invisible characters);
2. deletion of separator runs (spaces, punctuation, symbols, emoji) between two CJK characters;
3. squashing of runs of at least ``squash_repeats_min`` identical characters to one.

Offsets are NOT computed on the hot path: ``NormalizedText`` keeps the intermediate strings and
builds a sparse edit list only when ``span_to_original`` is first called (i.e. when there is a hit).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

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


class NormalizedText:
    """The canonical form ``text`` of ``original``, and the map from ``text`` spans back to ``original``."""

    __slots__ = ("_maps", "_normalizer", "_s1", "_s2", "original", "text")

    def __init__(self, original: str, text: str, s1: str, s2: str, normalizer: Normalizer) -> None:
        self.original = original
        self.text = text
        self._s1 = s1
        self._s2 = s2
        self._normalizer = normalizer
        self._maps: list[_StageMap] | None = None

    def __repr__(self) -> str:
        return f"NormalizedText(original={self.original!r}, text={self.text!r})"

    def _stage_maps(self) -> list[_StageMap]:
        if self._maps is None:
            n = self._normalizer
            maps = [_StageMap(_translate_edits(self.original, n.table, n.nonunit))]
            if n.separators is not None:
                maps.append(_StageMap(_deletion_edits(self._s1, n.separators)))
            if n.squash is not None:
                maps.append(_StageMap(_squash_edits(self._s2, n.squash)))
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

    def normalize(self, text: str) -> NormalizedText:
        """Canonical form of ``text`` (see module doc); offsets are computed lazily."""
        s1 = text.translate(self.table)
        s2 = self.separators.sub("", s1) if self.separators is not None else s1
        s3 = self.squash.sub(r"\1", s2) if self.squash is not None else s2
        return NormalizedText(text, s3, s1, s2, self)

    def canonical(self, text: str) -> str:
        """Just the canonical string (for terms and allow phrases at compile time)."""
        return self.normalize(text).text
