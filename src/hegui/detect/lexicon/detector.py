"""The compiled lexicon: one Aho-Corasick automaton over normalised terms, pinyin variants and allow phrases.

Compiling is slow (normalisation and pinyin of every term); matching is one normalisation pass plus
one automaton scan. A compiled ``LexiconDetector`` is immutable, so it can be shared by threads and
swapped atomically by ``LexiconRegistry``.

The automaton runs over the UTF-8 bytes of the normalised text (``BytesAhoCorasick``), not over the
``str``: the ``str`` API converts every byte offset to a character offset by walking the text, which
on CJK text costs a third as much as the scan itself. Hits are resolved in byte offsets (word
boundaries are ASCII bytes either way) and only the surviving ones are converted to characters.

With the compiled kernels loaded (``hegui.text.kernel``), texts of the normaliser's
``kernel_min_length`` or more go through the compiled twin of all this instead (``automaton.py``):
the same findings in the same order, for a fraction of the cost.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

import ahocorasick_rs
import numpy as np
import numpy.typing as npt

from hegui.detect.base import Direction, Finding
from hegui.detect.lexicon.automaton import CompiledAutomaton, Csr, Flat, pattern_codepoints
from hegui.detect.lexicon.entry import AllowPhrase, LexiconEntry
from hegui.detect.lexicon.pinyin import pinyin_variants
from hegui.policy.pack import NormalisationSteps
from hegui.text import NormalizedText, Normalizer, kernel
from hegui.text.batch import canonical_forms
from hegui.text.kernel import KernelTables
from hegui.text.normalize import _to_array

_TERM, _PINYIN, _ALLOW = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Hit:
    """A lexicon match with its explanation (``hegui lexicon test`` shows these)."""

    finding: Finding
    entry: LexiconEntry
    variant: str  # the normalised pattern that matched (term, or a pinyin spelling)
    via_pinyin: bool
    cancelled_by: AllowPhrase | None = None


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


_UTF8_CONTINUATION = bytes(range(0x80, 0xC0))
#: per byte value: an ASCII letter or digit (the UTF-8 bytes of any other character are >= 0x80)
_WORD_BYTE = bytes(1 if chr(b).isascii() and chr(b).isalnum() else 0 for b in range(256))


def _word_code(cps: npt.NDArray[np.uint32]) -> npt.NDArray[np.int64]:
    """1 where the code point is an ASCII letter or digit (``_is_word_char``), else 0."""
    return (((cps >= 48) & (cps <= 57)) | ((cps >= 65) & (cps <= 90)) | ((cps >= 97) & (cps <= 122))).astype(np.int64)


def _utf8_lengths(cps: npt.NDArray[np.uint32], offs: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Per pattern (``cps[offs[p]:offs[p + 1]]``) the length of ``_utf8`` of it (a lone surrogate: 3 bytes)."""
    size = np.zeros(len(cps) + 1, dtype=np.int64)
    np.cumsum(1 + (cps >= 0x80).astype(np.int64) + (cps >= 0x800) + (cps >= 0x10000), out=size[1:])
    return size[offs[1:]] - size[offs[:-1]]


def _utf8(text: str) -> bytes:
    """UTF-8 of ``text``; lone surrogates (kept by normalisation) pass through as in the patterns."""
    try:
        return text.encode()
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _char_offsets(data: bytes, positions: list[int]) -> dict[int, int]:
    """Character offset of each byte offset in ``positions`` (all on character boundaries of ``data``).

    Counts the non-continuation bytes of the stretches between consecutive positions (deleting the
    continuation bytes is a plain byte loop, several times cheaper than decoding): linear in the
    bytes up to the last position, one call per distinct position (hits are few).
    """
    out: dict[int, int] = {}
    b = c = 0
    for p in sorted(set(positions)):
        c += len(data[b:p].translate(None, _UTF8_CONTINUATION))
        b = p
        out[p] = c
    return out


class LexiconDetector:
    """Detector ``lexicon``: findings of type ``term`` with the risk code and severity of the entry."""

    name = "lexicon"

    def __init__(self, entries: Iterable[LexiconEntry], steps: NormalisationSteps | None = None,
                 allow: Iterable[AllowPhrase] = (), version: int | None = None, compiled: bool | None = None) -> None:
        """``compiled``: also build the compiled automaton (``automaton.py``), used on texts the
        normaliser has run through the compiled kernel; None (the default): if ``hegui.text.kernel.load()``
        has run in this process."""
        self.steps = steps or NormalisationSteps()
        self.normalizer = Normalizer(self.steps)
        self.version = version
        self.entries: tuple[LexiconEntry, ...] = tuple(entries)
        self.allow: tuple[AllowPhrase, ...] = tuple(allow)
        patterns: dict[str, int] = {}
        # per pattern index: its (kind, payload index) pairs; tuples, not lists: ~60k of them, and lists
        # stay tracked by the garbage collector (whose full passes over a big heap cost more than the rest)
        payloads: list[tuple[tuple[int, int], ...]] = []
        allow_list: list[AllowPhrase] = list(self.allow)
        owner: list[int] = [-1] * len(allow_list)  # entry index for an entry's own allow phrase, else -1
        with_allow: list[int] = []  # the patterns with an allow phrase behind them

        def add(pattern: str, kind: int, idx: int) -> None:
            if not pattern:
                return
            pi = patterns.get(pattern)
            if pi is None:
                pi = patterns[pattern] = len(payloads)
                payloads.append(((kind, idx),))
            elif (kind, idx) not in payloads[pi]:
                payloads[pi] += ((kind, idx),)
            else:
                return
            if kind == _ALLOW:
                with_allow.append(pi)

        min_len = self.steps.pinyin_min_length
        spellings = ({e.term: tuple(pinyin_variants(e.term, min_len)) for e in self.entries}
                     if self.steps.pinyin else {})
        # every string normalised in one pass (see hegui.text.batch), then looked up
        canon = canonical_forms(self.normalizer, [*(a.phrase for a in self.allow), *(e.term for e in self.entries),
                                                  *(v for vs in spellings.values() for v in vs),
                                                  *(p for e in self.entries for p in e.allow)]).__getitem__
        for ai, a in enumerate(self.allow):
            add(canon(a.phrase), _ALLOW, ai)
        get = patterns.get
        for ei, e in enumerate(self.entries):
            norm = canon(e.term)
            add(norm, _TERM, ei)
            if self.steps.pinyin:  # ``add`` inlined (most patterns are spellings), one payload tuple per entry
                mine = (_PINYIN, ei)
                alone = (mine,)
                for v in spellings[e.term]:
                    nv = canon(v)
                    if nv == norm or (nv.isascii() and len(nv) - nv.count(" ") < min_len):
                        continue  # squashing can shorten a spelling (cccb → cb): check again
                    pi = get(nv)
                    if pi is None:
                        patterns[nv] = len(payloads)
                        payloads.append(alone)
                    elif mine not in payloads[pi]:
                        payloads[pi] += alone
            for phrase in e.allow:
                add(canon(phrase), _ALLOW, len(allow_list))
                allow_list.append(AllowPhrase(phrase, e.category, e.source))
                owner.append(ei)
        self._allow_all = allow_list
        self._allow_owner = owner
        self._patterns: list[str] = list(patterns)
        self._payloads = payloads
        self._ac = (ahocorasick_rs.BytesAhoCorasick([_utf8(p) for p in self._patterns],
                                                    matchkind=ahocorasick_rs.MatchKind.Standard)
                    if self._patterns else None)
        # per-pattern facts from the code points of all patterns at once (a Python loop per pattern costs more)
        cps, plen = pattern_codepoints(self._patterns)
        offs = np.zeros(len(plen) + 1, dtype=np.int64)
        np.cumsum(plen, out=offs[1:])
        self._max_len = int(plen.max()) if len(plen) else 0
        #: the longest allow phrase in UTF-8 bytes (``_resolve`` works in byte offsets)
        self._allow_span = int(_utf8_lengths(cps, offs)[with_allow].max()) if with_allow else 0
        #: per pattern: its length in characters (a hit's end is its start plus this)
        self._char_len: list[int] = plen.tolist()
        # bit 1: the pattern starts with a Latin letter/digit (needs a word boundary before), bit 2: ends with one
        # (no pattern is empty: ``add`` skips those)
        edges = (_word_code(cps[offs[:-1]]) | (_word_code(cps[offs[1:] - 1]) << 1)) if len(plen) else plen
        self._edges: list[int] = edges.tolist()
        #: the edges for the compiled automaton (with ``_prepared``, kept for ``merged_with``; the code points
        #: are not: 3 MB for the default lexicon, and a millisecond or two to make again)
        self._edge_arr = edges
        self._prep: tuple[Csr, Flat, npt.NDArray[np.bool_], list[int]] | None = None
        self._rules = [e.rule for e in self.entries]
        self._cats = [e.category for e in self.entries]
        self._sevs = [e.severity for e in self.entries]
        self._finding_fields = [(e.category, e.severity, e.term, e.rule) for e in self.entries]
        #: per pattern: its only term hit ``(kind, entry, category, severity)`` when it has exactly one
        #: payload and that is not an allow phrase (almost every pattern), else None
        self._single: list[tuple[int, int, str, int] | None] = [
            (pl[0][0], pl[0][1], self._cats[pl[0][1]], self._sevs[pl[0][1]])
            if len(pl) == 1 and pl[0][0] != _ALLOW else None for pl in payloads]
        self._compiled: CompiledAutomaton | None = None
        self._ktables: KernelTables | None = None
        #: with the kernels: normalise through ``normalize_shared`` (then scan) instead of in the same
        #: compiled call as the scan, because another detector (proximity rules) will normalise the same
        #: text with the same steps and can then take this result (``BatchScan`` sets it)
        self.share_normalised = False
        if compiled or (compiled is None and kernel.loaded()):
            self.compile_kernel()

    def compile_kernel(self) -> None:
        """Build the compiled automaton now (loading the kernels first), if not built yet: batch callers
        (corpus audit, ``hegui moderate --jsonl``) call it on detectors built before they loaded them.
        The detector's results do not change, only their cost."""
        if self._compiled is not None or self._ac is None:
            return
        kernel.load()
        self._ktables = KernelTables(self.steps)
        self._compiled = self._compile()  # last: ``detect`` takes the compiled path once this is set

    def _compile(self, extra: Sequence[str] = ()) -> CompiledAutomaton:
        """The patterns and the resolution rules of ``_resolve`` in the compiled automaton's terms;
        ``extra``: more patterns to match, with no hits of this lexicon behind them (``merged_with``)."""
        (cand_off, cand_cat, cand_idx), (allow_off, allow_ai), allow_cats, entry_cat = self._prepared()
        cps, plen = pattern_codepoints([*self._patterns, *extra])
        edges = self._edge_arr
        if extra:  # rows with no candidates and no allow phrases
            edges = np.concatenate([edges, np.zeros(len(extra), dtype=np.int64)])
            cand_off = np.concatenate([cand_off, np.full(len(extra), cand_off[-1])])
            allow_off = np.concatenate([allow_off, np.full(len(extra), allow_off[-1])])
        return CompiledAutomaton.from_arrays(cps, plen, (cand_off, cand_cat, cand_idx), edges, (allow_off, allow_ai),
                                             self._allow_owner, allow_cats, entry_cat)

    def _prepared(self) -> tuple[Csr, Flat, npt.NDArray[np.bool_], list[int]]:
        """The candidates, allow phrases, ``allow_cats`` and ``entry_cat`` of ``CompiledAutomaton``, computed
        once (``compile_kernel`` and ``merged_with`` both need them) and with numpy: per pattern the most
        severe entry of each risk behind it, risks in the order ``_resolve`` meets them, ties to the first
        entry met; and the allow phrases behind it, in order."""
        if self._prep is not None:
            return self._prep
        cat_ids: dict[str, int] = {}
        entry_cat = [cat_ids.setdefault(c, len(cat_ids)) for c in self._cats]
        npat = len(self._payloads)
        count = np.fromiter(map(len, self._payloads), dtype=np.int64, count=npat)
        flat = np.fromiter(chain.from_iterable(chain.from_iterable(self._payloads)), dtype=np.int64,
                           count=2 * int(count.sum())).reshape(-1, 2)
        pat = np.repeat(np.arange(npat, dtype=np.int64), count)  # payloads by pattern, in order
        kind, idx = flat[:, 0], flat[:, 1]
        is_allow = kind == _ALLOW
        allow_off = np.zeros(npat + 1, dtype=np.int64)
        np.cumsum(np.bincount(pat[is_allow], minlength=npat), out=allow_off[1:])
        allow_ai = idx[is_allow] if is_allow.any() else np.zeros(1, dtype=np.int64)
        t_pat, t_idx = pat[~is_allow], idx[~is_allow]
        t_cat = np.array(entry_cat, dtype=np.int64)[t_idx] if len(t_idx) else t_idx
        t_sev = np.array(self._sevs, dtype=np.int64)[t_idx] if len(t_idx) else t_idx
        group = t_pat * max(len(cat_ids), 1) + t_cat  # one per (pattern, risk)
        pos = np.arange(len(t_idx), dtype=np.int64)
        by_group = np.lexsort((pos, -t_sev, group))  # per group: the most severe, then the first met
        g = group[by_group]
        first = np.flatnonzero(np.r_[True, g[1:] != g[:-1]]) if len(g) else pos
        best = by_group[first]
        met = np.minimum.reduceat(pos[by_group], first) if len(g) else pos  # where each group is first met
        chosen = best[np.argsort(met, kind="stable")]  # groups in the order met: by pattern, then risk
        cand_off = np.zeros(npat + 1, dtype=np.int64)
        np.cumsum(np.bincount(t_pat[chosen], minlength=npat), out=cand_off[1:])
        cands = ((cand_off, t_cat[chosen], t_idx[chosen]) if len(chosen)
                 else (cand_off, np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64)))
        scopes: dict[str, AllowPhrase] = {}  # allow phrases share a handful of scopes: judge each scope once
        for a in self._allow_all:
            scopes.setdefault(a.scope, a)
        scope_no = {scope: k for k, scope in enumerate(scopes)}
        scope_of = [scope_no[a.scope] for a in self._allow_all]
        judged = np.array([[a.applies_to(c) for c in cat_ids] for a in scopes.values()],
                          dtype=np.bool_).reshape(len(scopes), len(cat_ids))
        allow_cats = judged[np.array(scope_of, dtype=np.int64)].reshape(len(self._allow_all), len(cat_ids))
        self._prep = (cands, (allow_off, allow_ai), allow_cats, entry_cat)
        return self._prep

    def merged_with(self, patterns: Sequence[str]) -> tuple[CompiledAutomaton, list[int]]:
        """A compiled automaton over this lexicon's patterns and ``patterns`` (another detector's, over the
        same canonical text): its ``find`` gives exactly this lexicon's hits, and ``numbers[j]`` is the
        automaton's number for ``patterns[j]``, so one scan serves both (``automaton.detect_batch``)."""
        if not kernel.loaded():
            raise RuntimeError("hegui.text.kernel.load() first")
        base = dict(zip(self._patterns, range(len(self._patterns)), strict=True))  # 3 ms; not kept (2 MB)
        number: dict[str, int] = {}  # the patterns not in this lexicon, numbered after its own
        for p in patterns:
            if p not in base and p not in number:
                number[p] = len(self._patterns) + len(number)
        return self._compile(list(number)), [base[p] if p in base else number[p] for p in patterns]

    @classmethod
    def from_entries(cls, entries: Iterable[LexiconEntry], steps: NormalisationSteps | None = None,
                     allow: Iterable[AllowPhrase | str] = (), version: int | None = None) -> LexiconDetector:
        """Build from entries; ``allow`` takes ``AllowPhrase``s or plain strings (global allow phrases)."""
        phrases = [a if isinstance(a, AllowPhrase) else AllowPhrase(a) for a in allow]
        return cls(entries, steps, phrases, version)

    @property
    def max_term_length(self) -> int:
        """Longest compiled pattern, counted in characters of the NORMALISED text.

        Covers terms, their pinyin spellings and allow phrases (an allow phrase must be seen whole
        to cancel a hit). Every normalised character comes from at least one original character, so
        a match needs at least this many original characters before it can be complete — but it may
        span more original characters (deleted separators/invisibles, squashed repeats). A
        streaming caller must therefore count in normalised characters: hold back everything from
        ``NormalizedText.hold_back_start(max_term_length)`` on, and treat a hit as final only when
        it lies before that point.
        """
        return self._max_len

    @property
    def term_count(self) -> int:
        return len(self.entries)

    def normalize(self, text: str) -> NormalizedText:
        return self.normalizer.normalize(text)

    def detect(self, text: str, direction: Direction = "input") -> list[Finding]:
        """Findings in ``text`` (offsets into ``text`` itself); allow-listed hits are dropped."""
        if self._ac is None or not text:
            return []
        nz = self.normalizer  # shared with the other detectors of this check
        compiled, tables = self._compiled, self._ktables
        if compiled is not None and tables is not None and len(text) >= nz.kernel_min_length:  # kernels loaded
            seen = nz.normalize_shared(text) if self.share_normalised else nz.shared_result(text)
            if seen is not None and seen.kernel is not None:
                found: list[tuple[int, int, int]] | None = compiled.find(*seen.kernel)
            elif seen is not None:  # a character expands to several
                found = None
            else:  # normalised and scanned in one compiled call
                found = compiled.detect(tables, _to_array(text))
            if found is not None:  # else a character expands to several: the exact path below
                fields = self._finding_fields
                out = []
                for idx, a, b in found:
                    cat, sev, term, rule = fields[idx]
                    out.append(Finding("lexicon", "term", cat, sev, a, b, term, 1.0, rule))
                return out
        nt = nz.normalize_shared(text)
        t = nt.text
        try:
            data = t.encode()
        except UnicodeEncodeError:
            data = t.encode("utf-8", "surrogatepass")
        matches = self._ac.find_matches_as_indexes(data, overlapping=True)
        if not matches:
            return []
        live = [r for r in self._resolve(data, matches) if r[4] < 0]
        if not live:
            return []
        offsets = nt._spans_to_original_trusted(self._char_spans(t, data, live))
        fields = self._finding_fields
        out = []
        for r, (a, b) in zip(live, offsets, strict=True):
            cat, sev, term, rule = fields[r[3]]
            out.append(Finding("lexicon", "term", cat, sev, a, b, term, 1.0, rule))
        return out

    def explain(self, text: str) -> list[Hit]:
        """Every hit with how it matched and, if cancelled, the allow phrase that cancelled it."""
        if self._ac is None or not text:
            return []
        nt = self.normalizer.normalize(text)
        data = _utf8(nt.text)
        resolved = self._resolve(data, self._ac.find_matches_as_indexes(data, overlapping=True))
        offsets = nt.spans_to_original(self._char_spans(nt.text, data, resolved))
        hits = []
        for (_s, _e, kind, idx, ai, pi), (a, b) in zip(resolved, offsets, strict=True):
            entry = self.entries[idx]
            finding = Finding("lexicon", "term", entry.category, entry.severity, a, b, entry.term, 1.0,
                              self._rules[idx])
            hits.append(Hit(finding, entry, self._patterns[pi], kind == _PINYIN,
                            self._allow_all[ai] if ai >= 0 else None))
        return hits

    def _char_spans(self, t: str, data: bytes, resolved: list[tuple[int, int, int, int, int, int]]
                    ) -> list[tuple[int, int]]:
        """The character spans (in ``t``) of resolved hits given in byte offsets of ``data``."""
        clen = self._char_len
        if len(data) == len(t):  # ASCII: bytes are characters
            return [(r[0], r[1]) for r in resolved]
        where = _char_offsets(data, [r[0] for r in resolved])
        return [(where[r[0]], where[r[0]] + clen[r[5]]) for r in resolved]

    def _resolve(self, data: bytes, matches: list[tuple[int, int, int]]
                 ) -> list[tuple[int, int, int, int, int, int]]:
        """Raw matches → hits ``(start, end, kind, entry, cancelling allow or -1, pattern)`` in byte offsets
        of ``data`` (the UTF-8 of the canonical text).

        Latin edges must be word boundaries; one hit per (span, risk), the most severe entry; a hit
        covered by an applicable allow phrase is cancelled; a live hit nested in a longer live hit
        of the same risk is dropped.
        """
        n = len(data)
        edges = self._edges
        single = self._single
        payloads = self._payloads
        word = _WORD_BYTE
        cats, sevs = self._cats, self._sevs
        best: dict[tuple[int, int, str], tuple[int, int, int, int]] = {}
        allows: list[tuple[int, int, int]] = []
        for pi, s, e in matches:
            edge = edges[pi]
            if edge and ((edge & 1 and s > 0 and word[data[s - 1]]) or (edge & 2 and e < n and word[data[e]])):
                continue
            one = single[pi]
            if one is not None:  # the common case: one term behind the pattern
                key = (s, e, one[2])
                cur = best.get(key)
                if cur is None or one[3] > cur[3]:
                    best[key] = (one[0], one[1], pi, one[3])
                continue
            for kind, idx in payloads[pi]:
                if kind == _ALLOW:
                    allows.append((s, e, idx))
                    continue
                key = (s, e, cats[idx])
                cur = best.get(key)
                if cur is None or sevs[idx] > cur[3]:
                    best[key] = (kind, idx, pi, sevs[idx])
        if not best:
            return []
        out: list[tuple[int, int, int, int, int, int]] = []
        if len(best) == 1 and not allows:
            ((s, e, _cat), (kind, idx, pi, _sev)), = best.items()
            return [(s, e, kind, idx, -1, pi)]
        entries = self.entries
        max_end: dict[str, int] = {}
        if allows:  # by start: an allow phrase covering a hit starts at most ``_allow_span`` before its end
            by_start = sorted(range(len(allows)), key=lambda k: allows[k][0])
            starts = [allows[k][0] for k in by_start]
        for s, e, cat in (sorted(best, key=lambda k: (k[0], -k[1])) if len(best) > 1 else best):
            kind, idx, pi, _sev = best[(s, e, cat)]
            cancelled = -1
            if allows:  # the first in match order that covers the hit and applies to it
                first = len(allows)
                for j in range(bisect_left(starts, e - self._allow_span), bisect_right(starts, s)):
                    k = by_start[j]
                    _a_s, a_e, ai = allows[k]
                    if k < first and e <= a_e and self._allow_applies(ai, idx, entries[idx]):
                        first = k
                if first < len(allows):
                    cancelled = allows[first][2]
            if cancelled < 0:
                if max_end.get(cat, -1) >= e:
                    continue  # nested in a longer live hit of the same risk
                max_end[cat] = e
            out.append((s, e, kind, idx, cancelled, pi))
        return out

    def _allow_applies(self, allow_idx: int, entry_idx: int, entry: LexiconEntry) -> bool:
        owner = self._allow_owner[allow_idx]
        if owner >= 0:
            return owner == entry_idx  # an entry's own allow phrase cancels only that entry
        return self._allow_all[allow_idx].applies_to(entry.category)
