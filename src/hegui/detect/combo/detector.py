"""The compiled proximity-rule matcher: one small Aho-Corasick automaton over every rule's terms,
exclusion and allow phrases, run on the same normalised text the lexicon sees.

Per text: one normalisation, one automaton scan; most texts stop there (no term of any rule). A rule
whose groups all have occurrences is then checked for a window (one occurrence per group inside
``window`` normalised characters), exclusions near the window, and allow phrases covering an
occurrence. Offsets are mapped back to the original text only for findings.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import ahocorasick_rs
import numpy as np
import numpy.typing as npt

from hegui.detect.base import Direction, Finding
from hegui.detect.combo.rules import ComboRule, RuleSet, default_rules, load_rules
from hegui.detect.lexicon.automaton import CompiledAutomaton, GroupFilter
from hegui.errors import InvalidInputError
from hegui.policy.pack import NormalisationSteps, PolicyPack
from hegui.text import NormalizedText, Normalizer, kernel

_TERM, _EXCLUDE, _ALLOW, _OUTPUT_EXCLUDE = 0, 1, 2, 3
_GLOBAL = -1  # rule index of a file-level allow phrase (applies to every rule)

Span = tuple[int, int]


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


@dataclass(frozen=True, slots=True)
class ComboHit:
    """A rule match with its explanation (``hegui combo test`` shows these)."""

    finding: Finding
    rule: ComboRule
    terms: tuple[str, ...]  # the normalised terms that matched, in text order
    excluded_by: str | None = None  # the exclusion phrase that cancelled it


class ComboDetector:
    """Detector ``combo``: findings of type ``combo`` spanning the window of a proximity rule."""

    name = "combo"

    def __init__(self, rules: RuleSet | Iterable[ComboRule], steps: NormalisationSteps | None = None) -> None:
        ruleset = rules if isinstance(rules, RuleSet) else RuleSet(list(rules))
        self.steps = steps or NormalisationSteps()
        self.normalizer = Normalizer(self.steps)
        self.rules: tuple[ComboRule, ...] = tuple(ruleset.rules)
        self.allow: tuple[str, ...] = tuple(ruleset.allow)
        self.output_exclude: tuple[str, ...] = tuple(ruleset.output_exclude)
        memo: dict[str, str] = {}  # shared sets put the same phrases in dozens of rules: normalise each once

        def canon(text: str) -> str:
            out = memo.get(text)
            if out is None:
                out = memo[text] = self.normalizer.canonical(text)
            return out

        patterns: dict[str, int] = {}
        # per pattern: (kind, rule, group, edge); edge bit 1: needs a word boundary before, bit 2: after
        payloads: list[list[tuple[int, int, int, int]]] = []

        def add(raw: str, kind: int, ri: int, gi: int) -> int:
            prefix = raw.endswith("*")  # `mix*`: a word prefix, no boundary needed after it
            p = canon(raw[:-1] if prefix else raw).strip()
            if not p:
                raise InvalidInputError(f"combo rule {self.rules[ri].id if ri >= 0 else '(allow)'}: "
                                        f"{raw!r} is empty after normalisation")
            pi = patterns.get(p)
            if pi is None:
                pi = patterns[p] = len(payloads)
                payloads.append([])
            edge = (1 if _is_word_char(p[0]) else 0) | (2 if _is_word_char(p[-1]) and not prefix else 0)
            if (kind, ri, gi, edge) not in payloads[pi]:
                payloads[pi].append((kind, ri, gi, edge))
            return len(p)

        spans: list[tuple[int, int]] = []  # per rule: (window, how far beyond it a match looks)
        for ri, r in enumerate(self.rules):
            owner: dict[str, int] = {}
            for gi, group in enumerate(r.groups):
                for t in group:
                    key = canon(t.rstrip("*")).strip()
                    if owner.get(key, gi) != gi:
                        raise InvalidInputError(f"combo rule {r.id}: term {t!r} is in groups {owner[key]} and {gi} "
                                                "(one occurrence would satisfy both)")
                    owner[key] = gi
                    add(t, _TERM, ri, gi)
            excl = max((add(x, _EXCLUDE, ri, -1) for x in r.exclude), default=0)
            allow = max((add(a, _ALLOW, ri, -1) for a in r.allow), default=0)
            spans.append((r.window, max(r.context + excl if excl else 0, allow)))
        global_allow = max((add(a, _ALLOW, _GLOBAL, -1) for a in self.allow), default=0)
        refusal = max((add(x, _OUTPUT_EXCLUDE, _GLOBAL, -1) for x in self.output_exclude), default=0)
        self._patterns = list(patterns)
        self._payloads = payloads
        # the cheap first pass: which groups of which rules a pattern can satisfy (edges ignored)
        group_bits: list[dict[int, int]] = [{} for _ in payloads]
        for pi, pl in enumerate(payloads):
            for kind, ri, gi, _edge in pl:
                if kind == _TERM:
                    group_bits[pi][ri] = group_bits[pi].get(ri, 0) | (1 << gi)
        self._group_bits = [tuple(d.items()) for d in group_bits]
        by_rule: list[dict[int, list[tuple[int, int, int]]]] = [{} for _ in payloads]
        for pi, pl in enumerate(payloads):
            for kind, ri, gi, edge in pl:
                by_rule[pi].setdefault(ri, []).append((kind, gi, edge))
        self._by_rule = by_rule  # per pattern: rule (or _GLOBAL) → (kind, group, edge)
        self._full = [(1 << len(r.groups)) - 1 for r in self.rules]
        self._ac = (ahocorasick_rs.AhoCorasick(self._patterns, matchkind=ahocorasick_rs.MatchKind.Standard)
                    if self._patterns else None)
        self._max_span = max((w for w, _ in spans), default=0)
        self._longest = max((len(p) for p in self._patterns), default=0)
        # beyond its window a match depends on exclusions up to context + phrase length away, and on
        # allow phrases, which stick out of the window by less than their length
        self._context_span = max((w + max(extra, global_allow, r.context + refusal if refusal else 0)
                                  for (w, extra), r in zip(spans, self.rules, strict=True)), default=0)
        self._by_direction = {d: frozenset(i for i, r in enumerate(self.rules) if r.applies_to(d))
                              for d in ("input", "output")}
        self._compiled: CompiledAutomaton | None = None
        self._groups: GroupFilter | None = None
        self._active: dict[str, npt.NDArray[np.bool_]] = {}
        if kernel.loaded():
            self.compile_kernel()

    def compile_kernel(self) -> None:
        """Batch mode (``ModerationEngine.compile_kernels``): the automaton compiled, with the first pass
        (can any rule have all its groups here?) in the same call, used on texts the normaliser ran
        through the compiled kernel. Results do not change, only their cost."""
        if self._compiled is not None or not self._patterns:
            return
        kernel.load()
        n = len(self._patterns)
        self._groups = GroupFilter(self._group_bits, self._full)
        self._active = {d: np.array([i in rules for i in range(len(self.rules))] or [False], dtype=np.bool_)
                        for d, rules in self._by_direction.items()}
        self._compiled = CompiledAutomaton(self._patterns, [[] for _ in range(n)], [0] * n, [[] for _ in range(n)],
                                           [], np.zeros((0, 0), dtype=np.bool_), [0])

    @classmethod
    def default(cls, steps: NormalisationSteps | None = None, extra: Iterable[RuleSet] = ()) -> ComboDetector:
        """The shipped rules plus any operator rule sets (their ids must not clash)."""
        rs = default_rules()
        for other in extra:
            rs.extend(other)
        return cls(rs, steps)

    @property
    def max_span(self) -> int:
        """Longest stretch of NORMALISED text a match can cover: the widest rule window.

        ``ModerationEngine.term_window()`` includes it, so the ``StreamModerator`` holds back at
        least this many significant characters and checks a look-back of as many: a rule whose
        terms arrive in different chunks is still seen whole, so a match is never missed because of
        chunking. Exclusion context and allow phrases reach further (``context_span``): the stream
        waits that much past a match before it stops on it (or until the end), so one arriving after
        the match still counts; one before the look-back does not, so there it can stop where the
        whole text would not — the safe direction — but it never lets a match through.
        """
        return self._max_span

    @property
    def context_span(self) -> int:
        """Longest stretch one verdict can depend on: a window plus exclusion context and phrase."""
        return self._context_span

    @property
    def rule_count(self) -> int:
        return len(self.rules)

    def normalize(self, text: str) -> NormalizedText:
        return self.normalizer.normalize(text)

    def detect(self, text: str, direction: Direction = "input") -> list[Finding]:
        """Findings in ``text`` (offsets into ``text`` itself); excluded matches are dropped."""
        if self._ac is None or not text:
            return []
        nz = self.normalizer
        nt = nz.normalize_shared(text)
        compiled, groups = self._compiled, self._groups
        if nt.kernel is not None and compiled is not None and groups is not None:
            matches = compiled.grouped_matches(nt.kernel[0], groups, self._active[direction])
        else:
            matches = self._ac.find_matches_as_indexes(nt.text, overlapping=True)
        if not matches:
            return []
        cands = self._candidates(matches, direction)
        if not cands:
            return []  # the common case: some terms, but no rule has all its groups
        hits = [h for h in self._windows(nt.text, matches, direction, cands) if h[3] is None]
        if not hits:
            return []
        offsets = nt.spans_to_original([(h[1], h[2]) for h in hits])
        out = []
        for (ri, _s, _e, _x, terms), (a, b) in zip(hits, offsets, strict=True):
            r = self.rules[ri]
            out.append(Finding("combo", "combo", r.category, r.severity, a, b, "+".join(terms), 1.0, r.rule))
        return out

    def explain(self, text: str, direction: Direction = "input") -> list[ComboHit]:
        """Every match, including those an exclusion phrase cancelled (``excluded_by``)."""
        if self._ac is None or not text:
            return []
        nt = self.normalizer.normalize(text)
        matches = self._ac.find_matches_as_indexes(nt.text, overlapping=True)
        hits = self._windows(nt.text, matches, direction, self._candidates(matches, direction))
        offsets = nt.spans_to_original([(h[1], h[2]) for h in hits])
        out = []
        for (ri, _s, _e, x, terms), (a, b) in zip(hits, offsets, strict=True):
            r = self.rules[ri]
            f = Finding("combo", "combo", r.category, r.severity, a, b, "+".join(terms), 1.0, r.rule)
            out.append(ComboHit(f, r, terms, x))
        return out

    # ---- matching ---------------------------------------------------------------------------------

    def _candidates(self, matches: list[tuple[int, int, int]], direction: str) -> set[int]:
        """Rules for this direction with a pattern of every group among the matches (a superset of
        the rules that match: word boundaries, windows and exclusions come later)."""
        bits, full, active = self._group_bits, self._full, self._by_direction[direction]
        size = max(self._max_span, 1)
        spans: list[set[int]]
        if matches[-1][1] <= 2 * size:  # the last match starts early (a short text): one bag of patterns
            spans = [{m[0] for m in matches}]
        else:
            blocks: dict[int, set[int]] = {}
            for pi, s, _e in matches:
                blocks.setdefault(s // size, set()).add(pi)
            # a match spans at most max_span characters, so its terms start in one block or the next:
            # a long text is judged per pair of neighbouring blocks, not as one bag of words
            spans = [pats | blocks.get(b + 1, set()) for b, pats in blocks.items()]
        out: set[int] = set()
        for pats in spans:
            seen: dict[int, int] = {}
            for pi in pats:
                for ri, bit in bits[pi]:
                    seen[ri] = seen.get(ri, 0) | bit
            out.update(ri for ri, mask in seen.items() if mask == full[ri] and ri in active)
        return out

    def _windows(self, t: str, matches: list[tuple[int, int, int]], direction: str, cands: set[int]
                 ) -> list[tuple[int, int, int, str | None, tuple[str, ...]]]:
        """Matches of the candidate rules ``(rule, start, end, cancelling exclusion or None, terms)``
        in canonical offsets."""
        if not cands:
            return []
        n = len(t)
        patterns, by_rule = self._patterns, self._by_rule
        wanted = {*cands, _GLOBAL}
        # per distinct pattern, once: the (rule, payloads) pairs that matter to the candidates
        relevant: dict[int, list[tuple[int, list[tuple[int, int, int]]]]] = {}
        for pi in {m[0] for m in matches}:
            pr = by_rule[pi]  # shared exclusion phrases belong to dozens of rules: walk the shorter side
            relevant[pi] = ([(ri, items) for ri, items in pr.items() if ri in wanted] if len(pr) <= len(wanted)
                            else [(ri, pr[ri]) for ri in wanted if ri in pr])
        occ: dict[int, dict[int, list[tuple[int, int, int]]]] = {}  # rule → group → (start, end, pattern)
        excl: dict[int, list[tuple[int, int, int]]] = {}
        allow: list[tuple[int, int, int]] = []  # (start, end, rule or _GLOBAL)
        refusals: list[tuple[int, int, int]] = []
        for pi, s, e in matches:
            rel = relevant[pi]
            if not rel:
                continue
            before = s > 0 and _is_word_char(t[s - 1])
            after = e < n and _is_word_char(t[e])
            for ri, items in rel:
                for kind, gi, edge in items:
                    if (edge & 1 and before) or (edge & 2 and after):
                        continue  # a Latin term inside a longer word
                    if kind == _TERM:
                        occ.setdefault(ri, {}).setdefault(gi, []).append((s, e, pi))
                    elif kind == _EXCLUDE:
                        excl.setdefault(ri, []).append((s, e, pi))
                    elif kind == _ALLOW:
                        allow.append((s, e, ri))
                    elif direction == "output":
                        refusals.append((s, e, pi))
        out: list[tuple[int, int, int, str | None, tuple[str, ...]]] = []
        for ri, groups in occ.items():
            rule = self.rules[ri]
            if len(groups) < len(rule.groups):
                continue
            covers = sorted((a_s, a_e) for a_s, a_e, ar in allow if ar in (ri, _GLOBAL)) if allow else None
            if covers:
                covered = _Covers(covers)
                groups = {gi: [o for o in os_ if not covered(o[0], o[1])] for gi, os_ in groups.items()}
                if not all(groups.values()):
                    continue
            wins = _ordered_windows(groups, len(rule.groups), rule.window) if rule.ordered else \
                _unordered_windows(groups, len(rule.groups), rule.window)
            last_end = -1
            near = excl.get(ri, [])
            if refusals:
                near = near + refusals
            # exclusions by start: one within ``context`` of a window starts at most ``_longest`` before it
            by_start = sorted(range(len(near)), key=lambda k: near[k][0])
            starts = [near[k][0] for k in by_start]
            for s, e, picked in sorted(wins, key=lambda c: (c[1], -c[0])):
                if s < last_end:
                    continue  # overlaps a window already reported for this rule
                first = len(near)  # the first in match order that is near the window
                for j in range(bisect_left(starts, s - rule.context - self._longest + 1),
                               bisect_left(starts, e + rule.context)):
                    k = by_start[j]
                    if k < first and near[k][1] > s - rule.context:
                        first = k
                cancel = patterns[near[first][2]] if first < len(near) else None
                if cancel is None:
                    last_end = e
                terms = tuple(patterns[p] for _ps, p in sorted(picked))
                out.append((ri, s, e, cancel, terms))
        out.sort(key=lambda h: (h[1], h[2], h[0]))
        return out


class _Covers:
    """Whether some allow span ``[a, b)`` covers ``[s, e)``: by binary search over the spans sorted by
    start, with the furthest end so far (a check per occurrence against every span is quadratic)."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self._starts = [a for a, _ in spans]
        self._reach = list(itertools.accumulate((b for _, b in spans), max))

    def __call__(self, s: int, e: int) -> bool:
        i = bisect_right(self._starts, s) - 1
        return i >= 0 and self._reach[i] >= e


def _unordered_windows(groups: dict[int, list[tuple[int, int, int]]], k: int, window: int
                       ) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """For each occurrence as the last one to end: the tightest pick of the other groups ending
    no later and not overlapping an occurrence already picked (each group needs characters of its
    own); kept when the whole pick fits in ``window``."""
    out: list[tuple[int, int, list[tuple[int, int]]]] = []
    by_end = {h: sorted(groups[h], key=lambda o: o[1]) for h in range(k)}
    ends = {h: [o[1] for o in by_end[h]] for h in range(k)}
    for g in range(k):
        for s, e, p in groups[g]:
            picked = [(s, p)]
            spans = [(s, e)]
            start = s
            for h in range(k):
                if h == g:
                    continue
                best: tuple[int, int, int] | None = None
                # occurrences ending no later than e, latest first; the first that starts late enough
                # and overlaps nothing picked is the tightest (an earlier-ending one may start later,
                # so scan back only while one could still fit in the window)
                for i in range(bisect_right(ends[h], e) - 1, -1, -1):
                    hs, he, hp = by_end[h][i]
                    if he < e - window:
                        break
                    if (best is None or hs > best[0]) and all(he <= a or hs >= b for a, b in spans):
                        best = (hs, he, hp)
                if best is None:
                    break
                picked.append((best[0], best[2]))
                spans.append((best[0], best[1]))
                start = min(start, best[0])
            else:
                if e - start <= window:
                    out.append((start, e, picked))
    return out


def _ordered_windows(groups: dict[int, list[tuple[int, int, int]]], k: int, window: int
                     ) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """Groups in order: each occurrence of the last group, chained back through the latest
    occurrence of each earlier group that ends before the next one starts."""
    out: list[tuple[int, int, list[tuple[int, int]]]] = []
    # per earlier group, by end: the latest-starting occurrence among those ending no later (the first in
    # text order on a tie), so each link is one binary search instead of a pass over the group
    latest: dict[int, tuple[list[int], list[int]]] = {}
    for h in range(k - 1):
        occ = groups[h]
        ends, best_at = [], []
        cur = -1
        for i in sorted(range(len(occ)), key=lambda i: occ[i][1]):
            if cur < 0 or occ[i][0] > occ[cur][0] or (occ[i][0] == occ[cur][0] and i < cur):
                cur = i
            ends.append(occ[i][1])
            best_at.append(cur)
        latest[h] = (ends, best_at)
    for s, e, p in groups[k - 1]:
        picked = [(s, p)]
        bound = s
        for h in range(k - 2, -1, -1):
            ends, best_at = latest[h]
            j = bisect_right(ends, bound) - 1
            if j < 0:
                break
            hs, _he, hp = groups[h][best_at[j]]
            picked.append((hs, hp))
            bound = hs
        else:
            if e - bound <= window:
                out.append((bound, e, picked))
    return out


_DEFAULT_CACHE: dict[NormalisationSteps, ComboDetector] = {}


def combo_detectors(pack: PolicyPack, rule_files: Iterable[Path] = ()) -> list[ComboDetector]:
    """What the moderation engine adds for ``pack.moderation.combo``: nothing when switched off,
    else one detector over the shipped rules (unless ``default_rules: false``) and the operator's
    rule files. The shipped-only detector is compiled once per process and normalisation setting."""
    cfg = pack.moderation.combo
    files = list(rule_files)
    if not cfg.enabled or (not cfg.default_rules and not files):
        return []
    steps = pack.normalisation
    if cfg.default_rules and not files:
        det = _DEFAULT_CACHE.get(steps)
        if det is None:
            det = _DEFAULT_CACHE[steps] = ComboDetector.default(steps)
        return [det]
    rs = default_rules() if cfg.default_rules else RuleSet()
    for f in files:
        rs.extend(load_rules(Path(f)))
    return [ComboDetector(rs, steps)]
