"""The moderation engine's verdict on a batch of corpus documents, computed batch-wise.

``ModerationEngine.moderate`` is built for one short text at a time (a chat turn). A corpus audit
asks the same question of millions of long documents, where two detectors dominate: the embedded
classifier (every window and sentence of a long text) and the jailbreak detector (NFKC, squashing,
decoding and reversing the whole text for a few rare patterns). ``BatchScan`` gives, per document,
the findings, categories, errors and action ``moderate(text, direction)`` gives, by running:

* the classifier over the whole batch at once (``BatchScorer``); a document whose batch score comes
  within ``CLASSIFIER_MARGIN`` of a threshold of the pack gets the detector's own ``detect`` (so the
  counted findings are the engine's to the digit), the others have no counted classifier finding;
* the jailbreak detector only on documents a cheap exact screen cannot clear (``JailbreakScreen``);
* every other detector (lexicon, PII, guards, combo rules, anything added later) as the engine does,
  through its ``detect_many`` (same findings as ``detect`` on each text, cheaper on a batch) when it
  has one;
* then the engine's own ``rulings`` on the findings, in the engine's detector order.

``tests/corpus/test_corpus_scan.py`` checks the equivalence on a varied generated corpus.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from hegui.corpus.screen_kernel import B64 as _B64  # JailbreakScreen's character facts
from hegui.corpus.screen_kernel import EXPANDS as _EXPANDS
from hegui.corpus.screen_kernel import HARD, RUN, SQUASH, FoldedBatch, FoldScreen
from hegui.corpus.screen_kernel import HEX as _HEX
from hegui.corpus.screen_kernel import NOT_SIMPLE as _NOT_SIMPLE
from hegui.detect.base import Detector, Direction, Finding

log = logging.getLogger(__name__)

CLASSIFIER_MARGIN = 1e-3  # batch and single scores differ by float rounding only (~1e-7)
MEMO_CHARS = 1 << 23  # the verdicts of recent texts kept, in characters of text (~16–32 MB)
MEMO_TEXT_CHARS = 1 << 16  # longer texts are not kept
_RANK = {"allow": 0, "disclaim": 1, "mask": 2, "refuse": 3, "block": 4}


@dataclass
class BatchDecision:
    """What the corpus reads from a decision: the counted findings, their categories, the action, the
    optional detectors that failed."""

    action: str
    categories: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class JailbreakScreen:
    """Says, exactly and cheaply, that ``JailbreakDetector.detect`` finds nothing in a text.

    The detector can only report something when one of these holds, so a text where none does is
    cleared without running it (anything else runs the detector itself):

    * a rule's cue word is in the case-folded text, its NFKC form, or (for the reversed-text check)
      read backwards — one Aho-Corasick pass over the words and their reversals;
    * a squashed key (``ignorepreviousinstructions`` …) is in the squashed text;
    * a run of 16 characters that a base64 or hex payload is made of (``decode_payloads`` needs one).
    """

    def __init__(self, detector: Any) -> None:
        import ahocorasick_rs

        from hegui.detect import jailbreak as jb

        self.detector = detector
        words = {n for rule in jb.RULES for n in rule.needles}
        # a DFA: more memory than the default NFA (the words are few) and about twice as fast
        dfa = ahocorasick_rs.Implementation.DFA
        self._ac = ahocorasick_rs.AhoCorasick(sorted(words | {w[::-1] for w in words}), implementation=dfa)
        # a squashed key is in the squashed text (non-word runs removed) exactly where the text has the
        # key's characters with only non-word characters between them: one search, no squashed copy
        self._squashed_key = re.compile("|".join(
            f"(?:{jb._NON_WORD.pattern})?".join(re.escape(c) for c in key) for key in sorted(jb._SQUASHED)))
        self._squashed_ac = ahocorasick_rs.AhoCorasick(sorted(jb._SQUASHED), implementation=dfa)
        # what squashing keeps (``jailbreak._NON_WORD`` removes the rest), and U+0000, the separator
        self._word = np.fromiter(map(str.isalnum, map(chr, range(0x10000))), dtype=np.bool_, count=0x10000)
        self._word[0] = True
        # per character of the Basic Plane: bit 1 = base64 alphabet, bit 2 = hex payload alphabet
        alphabets = np.zeros(0x10000, dtype=np.uint8)
        for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-":
            alphabets[ord(ch)] |= _B64
        for ch in "0123456789abcdefABCDEF:,-xX\\":
            alphabets[ord(ch)] |= _HEX
        alphabets[np.fromiter(map(str.isspace, map(chr, range(0x10000))), dtype=np.bool_, count=0x10000)] |= _HEX
        self._alphabets = alphabets
        from hegui.detect.classifier.batch import _simple_nfkc

        # per character of the Basic Plane: its NFKC is one character by table (``_simple_nfkc``); and
        # its case fold is several characters
        self._simple, lut = _simple_nfkc()
        self._lut = lut
        self._words = words | {w[::-1] for w in words}
        chars = [chr(c) for c in range(0x10000)]
        self._expands = np.fromiter((len(f) != 1 for f in map(str.casefold, chars)), dtype=np.bool_, count=0x10000)
        # all four facts in one table, so a batch takes one look-up per character
        self._codes = alphabets | np.where(self._simple, 0, _NOT_SIMPLE).astype(np.uint8) \
            | np.where(self._expands, _EXPANDS, 0).astype(np.uint8)
        # whether, for every such character whose fold is a character of a cue word, the fold of its NFKC
        # is that same character: then in a text of such characters a cue word in the fold is also in
        # the folded NFKC, and that one form is all the screen must search (True for the Unicode data
        # of every Python this runs on so far; checked, not assumed)
        alphabet = set("".join(words | {w[::-1] for w in words}))
        self._nfkc_keeps_cues = all(
            chr(int(lut[c])).casefold() == chr(c).casefold() for c in np.flatnonzero(self._simple).tolist()
            if chr(c).casefold() in alphabet)

    def fold_screen(self) -> FoldScreen | None:
        """The compiled screen (``screen_kernel``) over these words and tables; None when numba cannot
        load, or when a character-wise text needs more than its folded NFKC searched here
        (``_nfkc_keeps_cues`` false)."""
        from hegui.corpus import screen_kernel
        from hegui.detect import jailbreak as jb

        kernel = screen_kernel.load() if self._nfkc_keeps_cues else None
        if kernel is None:
            return None
        return screen_kernel.FoldScreen(kernel, self._codes, self._simple, self._lut, self._word, self._words,
                                        jb._SQUASHED)

    def clears_folded(self, texts: Sequence[str], batch: FoldedBatch, which: Sequence[int]) -> list[bool]:
        """``clears`` of ``texts[i]`` for each ``i`` in ``which``, from the compiled screen's ``batch``
        (``FoldScreen.run(texts)``): its flags where the kernel decided, ``clears_many`` on the others."""
        flags = batch.flags
        out = [not flags[i] for i in which]
        hard = [k for k, i in enumerate(which) if flags[i] & HARD]
        if hard:
            idx = [which[k] for k in hard]
            nfkc = [batch.nfkc[i] for i in idx]
            got = self.clears_many([texts[i] for i in idx], nfkc, [f.casefold() for f in nfkc])
            for k, c in zip(hard, got, strict=True):
                out[k] = c
        return out

    def payload_runs(self, texts: Sequence[str]) -> npt.NDArray[np.bool_]:
        """Per text: whether it has 16 characters in a row of the base64 or the hex alphabet."""
        return self.text_flags(texts)[0]

    def text_flags(self, texts: Sequence[str]) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_],
                                                        npt.NDArray[np.bool_]]:
        """Per text, from one pass over the batch: whether it has a payload run (16 characters in a row
        of the base64 or the hex alphabet), whether its NFKC is the character-wise table map, and
        whether a character of it folds to several.

        Over the texts joined by U+0000 (in neither alphabet): per alphabet, the positions outside it;
        a gap of more than 16 between two of them is such a run."""
        n = len(texts)
        runs = np.zeros(n, dtype=bool)
        if not texts:
            return runs, np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
        raw = np.frombuffer(("\x00".join(texts) + "\x00").encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        lens = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=n)
        doc_starts = np.cumsum(lens) - lens
        if raw.max() > 0xFFFF:  # astral characters: in neither alphabet, not simple, folds asked one by one
            codes = self._codes[np.minimum(raw, 0xFFFF)]
            astral = raw > 0xFFFF
            codes[astral] = _NOT_SIMPLE
            for c in np.unique(raw[astral]).tolist():
                if len(chr(c).casefold()) != 1:
                    codes[raw == c] |= _EXPANDS
        else:
            codes = self._codes[raw]
        for bit in (_B64, _HEX):
            outside = np.flatnonzero((codes & bit) == 0)  # the separators among them: a run ends at a text's end
            found = np.flatnonzero(np.diff(outside, prepend=-1) > 16)
            if found.size:
                runs[np.searchsorted(doc_starts, outside[found] - 16, side="right") - 1] = True
        either = np.bitwise_or.reduceat(codes, doc_starts)  # every segment holds its separator: none is empty
        return runs, (either & _NOT_SIMPLE) == 0, (either & _EXPANDS) != 0

    def clears_many(self, texts: Sequence[str], nfkc: Sequence[str], folded: Sequence[str] | None = None
                    ) -> list[bool]:
        """``clears`` of every text, with one Aho-Corasick pass per form over the whole batch instead of
        one per text, and the squashed keys looked for in the squashed batch instead of by a regex.
        ``folded``: the case-folded NFKC forms, when the caller has them (the classifier needs them too).

        A text whose NFKC is the character-wise table map needs only its folded NFKC searched for cue
        words (see ``_nfkc_keeps_cues``); others get their fold searched too, each fold taken on its
        own (``str.casefold`` has a fast path for ASCII text that a joined batch would lose). The forms
        are joined with U+0000, which no cue word or squashed key contains, which case folding leaves
        alone and which squashing keeps, so a match lies inside one text."""
        if any("\x00" in t for t in texts):
            runs = self.payload_runs(texts)
            return [self.clears(t, f, bool(r)) for t, f, r in zip(texts, nfkc, runs, strict=True)]
        runs, simple, expands = self.text_flags(texts)
        busy = runs | expands  # a character that folds to several: not cleared (as ``clears``)
        if folded is None:
            folded = [f.casefold() for f in nfkc]
        both = ~busy if not self._nfkc_keeps_cues else ~busy & ~simple
        keep: list[int] = np.flatnonzero(both).tolist()
        lows = {i: (folded[i] if nfkc[i] == texts[i] else texts[i].casefold()) for i in keep}
        self._mark(busy, keep, [lows[i] for i in keep], self._ac)
        keep = [i for i in np.flatnonzero(~busy).tolist() if i not in lows or lows[i] != folded[i]]
        self._mark(busy, keep, [folded[i] for i in keep], self._ac)
        keep = np.flatnonzero(~busy).tolist()
        self._mark(busy, keep, [folded[i] for i in keep], self._squashed_ac, squash=True)
        return [not b for b in busy.tolist()]

    def _mark(self, busy: npt.NDArray[np.bool_], which: list[int], forms: list[str], ac: Any,
              squash: bool = False) -> None:
        """Sets ``busy[which[k]]`` where ``ac`` finds a word in ``forms[k]`` (all searched at once);
        ``squash``: in the form without its non-word characters (``jailbreak._squash``)."""
        if not forms:
            return
        joined = "\x00".join(forms)
        if squash:
            cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
            if cps.size and int(cps.max()) > 0xFFFF:
                word = self._word[np.minimum(cps, 0xFFFF)]
                for c in np.unique(cps[cps > 0xFFFF]).tolist():
                    word[cps == c] = chr(c).isalnum()
            else:
                word = self._word[cps]
            cps = cps[word]
            joined = cps.tobytes().decode("utf-32-le", "surrogatepass")
            lens = np.diff(np.flatnonzero(cps == 0), prepend=-1, append=cps.size)
        else:
            lens = np.fromiter((len(f) + 1 for f in forms), dtype=np.int64, count=len(forms))
        hits = ac.find_matches_as_indexes(joined)
        if not hits:
            return
        starts = np.cumsum(lens) - lens
        at = np.fromiter((h[1] for h in hits), dtype=np.int64, count=len(hits))
        busy[np.asarray(which, dtype=np.int64)[np.searchsorted(starts, at, side="right") - 1]] = True

    def clears(self, text: str, nfkc: str, payload_run: bool) -> bool:
        if payload_run:
            return False
        low = text.casefold()
        if len(low) != len(text):  # a character folds to several: reversing is not character-wise
            return False
        if self._ac.find_matches_as_indexes(low):
            return False
        nlow = nfkc.casefold() if nfkc != text else low
        if nlow is not low and self._ac.find_matches_as_indexes(nlow):
            return False
        return self._squashed_key.search(nlow) is None


class BatchScan:
    """``engine.moderate`` over a batch of documents, batch-wise (see the module doc)."""

    def __init__(self, engine: Any, direction: Direction = "output") -> None:
        from hegui.detect.classifier import EmbeddedClassifier
        from hegui.detect.classifier.batch import BatchScorer
        from hegui.detect.jailbreak import JailbreakDetector

        self.engine = engine
        self.direction: Direction = direction
        if hasattr(engine, "compile_kernels"):
            engine.compile_kernels()
        from hegui.moderation.engine import lexicon_of

        # lexicons normalise once for the proximity rules too (``LexiconDetector.share_normalised``)
        self._share_normalised = any(hasattr(d, "compile_kernel") and lexicon_of(d) is None for d in engine.detectors)
        self._merged: tuple[Any, Any, Any, Any] | None = None  # (lexicon, rules, their automaton, group filter)
        self._memo: OrderedDict[tuple[str, bool], BatchDecision] = OrderedDict()  # (text, classified) → verdict
        self._memo_chars = 0
        self._memo_lexicons: tuple[Any, ...] = ()
        self._scorers: dict[int, tuple[BatchScorer, npt.NDArray[np.float64]]] = {}
        self._screens: dict[int, JailbreakScreen] = {}
        self._fold_screen: FoldScreen | None = None  # the compiled screen (``_fold``), once built
        self._fold_built = False
        for det in engine.detectors:
            if type(det) is EmbeddedClassifier:
                cut = np.array([engine.threshold(code) for code in det.labels], dtype=np.float64)
                self._scorers[id(det)] = (BatchScorer(det.model), np.maximum(cut - CLASSIFIER_MARGIN, 0.0))
            elif type(det) is JailbreakDetector:
                self._screens[id(det)] = JailbreakScreen(det)

    @staticmethod
    def supports(engine: Any) -> bool:
        """The engine exposes what the batch path reuses (its detectors, rulings and policy)."""
        return all(hasattr(engine, a) for a in ("detectors", "rulings", "threshold", "optional", "pack"))

    @property
    def classifier_names(self) -> frozenset[str]:
        """Names of the engine's embedded classifiers: the detectors ``scan(classify=...)`` can skip."""
        return frozenset(str(det.name) for det in self.engine.detectors if id(det) in self._scorers)

    def scan(self, texts: Sequence[str], classify: Sequence[bool] | None = None) -> list[BatchDecision]:
        """One decision per text; a text repeated in the batch, or met in a recent batch, is scanned once
        (same text, same verdict; see ``_remember``).

        ``classify`` (one flag per text, default all set): the embedded classifier runs on the flagged
        texts only; the others get every other detector (the corpus audit's ``--classifier-share``).
        A repeated text is classified when any of its copies is flagged."""
        engine = self.engine
        if getattr(engine, "_refreshers", None):
            engine.refresh()  # the lexicon hot reload the engine does per call, once per batch
        if self._share_normalised:
            for lx in engine.lexicons():  # (a hot reload builds new ones)
                lx.share_normalised = True
        lexicons = tuple(engine.lexicons())
        if lexicons != self._memo_lexicons:  # a hot reload: earlier verdicts may no longer hold
            self._memo.clear()
            self._memo_chars = 0
            self._memo_lexicons = lexicons
        first: dict[str, int] = {}
        where = [first.setdefault(t, len(first)) for t in texts]
        unique = list(first)
        flags = [True] * len(unique)
        if classify is not None:
            flags = [False] * len(unique)
            for k, c in zip(where, classify, strict=True):
                flags[k] = flags[k] or bool(c)
        memo = self._memo
        out: list[BatchDecision | None] = [None] * len(unique)
        todo: list[int] = []
        for k, t in enumerate(unique):
            # a classified verdict serves an unclassified copy too (as for copies within a batch)
            seen = memo.get((t, True)) if flags[k] else memo.get((t, True)) or memo.get((t, False))
            if seen is None:
                todo.append(k)
            else:
                out[k] = seen
        if todo:
            got = self._scan([unique[k] for k in todo], None if classify is None else [flags[k] for k in todo])
            for k, d in zip(todo, got, strict=True):
                out[k] = d
                self._remember(unique[k], flags[k], d)
        result: list[BatchDecision] = []
        for k in where:
            decision = out[k]
            assert decision is not None
            result.append(decision)
        return result

    def _remember(self, text: str, classified: bool, decision: BatchDecision) -> None:
        """Keeps the verdicts of the last texts (``MEMO_CHARS`` characters in all; texts over
        ``MEMO_TEXT_CHARS`` and verdicts with a detector error are not kept): a corpus repeats
        documents, often close together, and the same text gets the same verdict."""
        if decision.errors or len(text) > MEMO_TEXT_CHARS:
            return
        memo = self._memo
        if (text, classified) in memo:
            return
        memo[(text, classified)] = decision
        self._memo_chars += len(text)
        while self._memo_chars > MEMO_CHARS:  # the oldest first (O(1): a dict's front fills with holes)
            (old, _), _ = memo.popitem(last=False)
            self._memo_chars -= len(old)

    def _scan(self, texts: Sequence[str], classify: Sequence[bool] | None = None) -> list[BatchDecision]:
        engine = self.engine
        n = len(texts)
        found: list[list[Finding]] = [[] for _ in range(n)]
        errors: list[list[str]] = [[] for _ in range(n)]
        failed: list[str | None] = [None] * n
        nfkc: list[str] | None = None
        folded: list[str] | None = None  # case-folded NFKC: the screen's and the classifier's
        forms: FoldedBatch | None = None  # the same from the compiled screen (``_fold``), run on first need
        fold_tried = False
        for group in self._groups(engine.detectors):
            todo = [i for i in range(n) if failed[i] is None]
            if not todo:
                break
            pair = self._keyword_pair(group)
            if pair is not None and len(todo) > 1:
                try:
                    self._keywords(pair, group, texts, todo, found, errors, failed)
                    continue
                except Exception as err:  # text by text below, so a failure lands where the engine's would
                    log.info("the batch keyword kernel fell back to single texts: %s: %s", type(err).__name__, err)
            if len(group) > 1:
                # text by text through the group: detectors of one check share a normalisation of the
                # string they were last given (``normalize_shared``), so a lexicon's serves the rules
                for i in todo:
                    for det in group:
                        if failed[i] is not None:
                            break
                        self._detect(det, texts[i], i, found, errors, failed)
                continue
            det = group[0]
            key = id(det)
            if not fold_tried and (key in self._scorers or key in self._screens):
                forms, fold_tried = self._fold(texts), True
            if key in self._scorers:
                if classify is not None:
                    todo = [i for i in todo if classify[i]]
                self._classifier(det, texts, todo, found, errors, failed, folded, forms)
                continue
            if key in self._screens:
                screen = self._screens[key]
                if forms is not None:
                    clear = screen.clears_folded(texts, forms, todo)
                else:
                    if nfkc is None:
                        from hegui.detect.classifier.batch import nfkc_many

                        nfkc = nfkc_many(list(texts))
                        folded = [f.casefold() for f in nfkc]
                    assert folded is not None
                    clear = screen.clears_many([texts[i] for i in todo], [nfkc[i] for i in todo],
                                               [folded[i] for i in todo])
                todo = [i for i, c in zip(todo, clear, strict=True) if not c]
                if forms is not None and hasattr(det, "detect_screened"):
                    # what the compiled screen saw spares the detector its passes for what is not there
                    for i in todo:
                        f = int(forms.flags[i])
                        self._detect(det, texts[i], i, found, errors, failed,
                                     None if f & HARD else (bool(f & RUN), bool(f & SQUASH)))
                    continue
            many = getattr(det, "detect_many", None)
            if many is not None and len(todo) > 1:
                try:
                    outs = many([texts[i] for i in todo], self.direction)
                except Exception as err:  # each text on its own, so the failure lands where the engine's would
                    log.info("%s.detect_many fell back to single texts: %s: %s", det.name, type(err).__name__, err)
                else:
                    for i, out in zip(todo, outs, strict=True):
                        if out:
                            found[i].extend(out)
                    continue
            for i in todo:
                self._detect(det, texts[i], i, found, errors, failed)
        return [self._decide(found[i], errors[i], failed[i]) for i in range(n)]

    def _fold(self, texts: Sequence[str]) -> FoldedBatch | None:
        """The compiled screen's pass over the batch (``screen_kernel``): the jailbreak screen's flags and
        the classifier's case-folded NFKC forms; None where it is not available (numba missing; a text
        with a lone surrogate): then both take their Python path."""
        if not self._fold_built:
            from hegui.detect import jailbreak as jb

            screen = next(iter(self._screens.values()), None) or JailbreakScreen(jb.JailbreakDetector())
            self._fold_screen = screen.fold_screen()
            self._fold_built = True
        return None if self._fold_screen is None else self._fold_screen.run(texts)

    @staticmethod
    def _keyword_pair(group: list[Detector]) -> tuple[Any, Any] | None:
        """(lexicon, proximity rules) when the group is exactly those two with their compiled automata and
        the same normalisation: ``automaton.detect_batch`` then runs both over the batch in one call."""
        from hegui.detect.combo import ComboDetector
        from hegui.moderation.engine import lexicon_of

        if len(group) != 2 or not isinstance(group[1], ComboDetector):
            return None
        lexicon, rules = lexicon_of(group[0]), group[1]
        if lexicon is None or getattr(lexicon, "_compiled", None) is None or lexicon._ktables is None:
            return None
        if rules._compiled is None or rules._groups is None or lexicon.steps != rules.steps:
            return None
        return lexicon, rules

    def _keywords(self, pair: tuple[Any, Any], group: list[Detector], texts: Sequence[str], todo: list[int],
                  found: list[list[Finding]], errors: list[list[str]], failed: list[str | None]) -> None:
        """The lexicon's findings and the rules' first pass for the batch in one compiled call, over one
        automaton holding both detectors' patterns (built on first use); the rules' own ``detect`` only
        where their first pass holds, both detectors' where a character expands to several (the
        compiled normalisation's one exception)."""
        from hegui.detect.lexicon.automaton import detect_batch

        lexicon, rules = pair
        merged = self._merged
        if merged is None or merged[0] is not lexicon or merged[1] is not rules:  # first use, or a hot reload
            from hegui.detect.lexicon.automaton import merged_automaton

            merged = self._merged = (lexicon, rules, *merged_automaton(lexicon, rules))
        hits, status = detect_batch(lexicon._ktables, merged[2], merged[3], rules._active[self.direction],
                                    [texts[i] for i in todo])
        fields = lexicon._finding_fields
        for k, i in enumerate(todo):
            if status[k] == 1:
                for det in group:
                    if failed[i] is None:
                        self._detect(det, texts[i], i, found, errors, failed)
                continue
            for idx, a, b in hits[k]:
                cat, sev, term, rule = fields[idx]
                found[i].append(Finding("lexicon", "term", cat, sev, a, b, term, 1.0, rule))
            if status[k] == 2:
                self._detect(rules, texts[i], i, found, errors, failed)

    def _groups(self, detectors: Sequence[Detector]) -> list[list[Detector]]:
        """The detectors in order, runs of those taken text by text (no batch path of their own: no
        classifier scorer, screen or ``detect_many``) as one group; one group per other detector."""
        out: list[list[Detector]] = []
        plain_last = False
        for det in detectors:
            plain = id(det) not in self._scorers and id(det) not in self._screens and not hasattr(det, "detect_many")
            if plain and plain_last:
                out[-1].append(det)
            else:
                out.append([det])
            plain_last = plain
        return out

    def _classifier(self, det: Any, texts: Sequence[str], todo: list[int], found: list[list[Finding]],
                    errors: list[list[str]], failed: list[str | None], folded: list[str] | None,
                    forms: FoldedBatch | None = None) -> None:
        """``folded``: the texts' case-folded NFKC forms when the jailbreak screen computed them (shared,
        not redone); ``forms``: the same as code points, from the compiled screen."""
        scorer, cut = self._scorers[id(det)]
        live = [i for i in todo if texts[i].strip()]  # the detector scores blank text as all zeros
        if not live:
            return
        try:
            if forms is not None:
                at = np.asarray(live, dtype=np.int64)
                probs = scorer.predict_folded(forms.cps, forms.starts[at], forms.lens[at], [texts[i] for i in live])
            else:
                probs = scorer.predict([texts[i] for i in live],
                                       folded=None if folded is None else [folded[i] for i in live])
        except Exception as err:  # e.g. text the model cannot encode: each text as the engine would
            log.info("batch classifier fell back to single texts: %s: %s", type(err).__name__, err)
            for i in live:
                self._detect(det, texts[i], i, found, errors, failed)
            return
        near = np.flatnonzero((probs >= cut).any(axis=1))
        for j in near.tolist():
            self._detect(det, texts[live[j]], live[j], found, errors, failed)

    def _detect(self, det: Detector, text: str, i: int, found: list[list[Finding]], errors: list[list[str]],
                failed: list[str | None], screened: tuple[bool, bool] | None = None) -> None:
        """``screened``: (payload run, squashed key) as the compiled screen found them, for the jailbreak
        detector's ``detect_screened`` (same findings as ``detect``)."""
        try:
            if screened is None:
                out = det.detect(text, self.direction)
            else:
                out = det.detect_screened(text, self.direction,  # type: ignore[attr-defined]
                                          payload_run=screened[0], squashed=screened[1])
        except Exception as err:
            log.error("detector %s failed: %s: %s", det.name, type(err).__name__, err)
            if det.name in self.engine.optional:
                errors[i].append(det.name)
            else:
                failed[i] = det.name
            return
        if out:
            found[i].extend(out)

    def _decide(self, findings: list[Finding], errors: list[str], failed: str | None) -> BatchDecision:
        engine = self.engine
        if failed is not None:
            return BatchDecision("refuse" if self.direction == "input" else "block", errors=[*errors, failed])
        default = engine.pack.moderation.default_action
        if not findings:
            return BatchDecision(default, errors=errors)
        rulings = engine.rulings(findings, self.direction, False, {})
        best = max(rulings, key=lambda r: (_RANK[r.action], r.finding.severity), default=None)
        return BatchDecision(best.action if best is not None else default,
                             sorted({r.finding.category for r in rulings if r.finding.category is not None}),
                             [r.finding for r in rulings], errors)

