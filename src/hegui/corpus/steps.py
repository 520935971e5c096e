"""Audit steps: each a small object with one job, run over a batch of items, composed as a list.

A step annotates :class:`Item` objects in place and holds no per-shard state, so the same list of
step objects runs unchanged in the local worker processes and in Ray Data workers. Steps that need
something heavy (the moderation engine) build it lazily in the worker and never pickle it.
"""

from __future__ import annotations

import gc
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from hegui.corpus.readers import Document
from hegui.corpus.scan import BatchScan
from hegui.corpus.screen_kernel import HARD, WordScreen
from hegui.corpus.textstats import features_batch
from hegui.detect.base import Direction, Finding

if TYPE_CHECKING:
    from hegui.config import Settings
    from hegui.policy.pack import PolicyPack

UNSAFE_ACTIONS = ("refuse", "block")
SCAN_ERROR = "scan_error"
LENGTH_BUCKETS: tuple[tuple[str, int], ...] = (
    ("<50", 50), ("50–199", 200), ("200–999", 1000), ("1k–5k", 5000), ("5k–20k", 20000), ("≥20k", 1 << 62))


@dataclass(slots=True)
class Item:
    """A document and everything the steps found about it."""

    doc: Document
    unsafe: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    findings: list[dict[str, Any]] = field(default_factory=list)
    pii: dict[str, int] = field(default_factory=dict)
    pii_spans: list[tuple[str, int, int]] = field(default_factory=list)
    markers: tuple[str, ...] = ()
    scan_errors: tuple[str, ...] = ()
    lang: str = "other"
    chars: int = 0
    exact_hash: bytes = b""
    signature: npt.NDArray[np.uint32] | None = None
    classified: bool = True  # the embedded classifier looked at it (False: outside --classifier-share)
    keyword_unsafe: bool = False  # unsafe on the findings of the other detectors alone

    @property
    def restricted(self) -> bool:
        """Carries a no-reprint / all-rights-reserved notice and no open licence (IP risk, A3.1)."""
        return "no_reprint" in self.markers and "open_licence" not in self.markers


@runtime_checkable
class Step(Protocol):
    name: str

    def run(self, items: list[Item]) -> None: ...


class Decision(Protocol):
    """What the safety step reads from the engine's decision (``errors`` and ``action`` when present)."""

    @property
    def categories(self) -> Sequence[str]: ...

    @property
    def findings(self) -> Sequence[Finding]: ...


class Scanner(Protocol):
    """What the safety step needs from the moderation engine."""

    def moderate(self, text: str, direction: Direction = "input") -> Decision: ...


class ScannerFactory(Protocol):
    def __call__(self) -> Scanner: ...


@dataclass(frozen=True)
class EngineFactory:
    """Builds ``hegui.moderation.ModerationEngine`` in the worker, from settings (picklable) or defaults."""

    settings: dict[str, Any] | None = None

    def __call__(self) -> Scanner:
        from hegui.moderation import ModerationEngine

        if self.settings is None:
            engine: Scanner = ModerationEngine.default()
            return engine
        from hegui.config import Settings
        from hegui.context import HeguiContext

        engine = ModerationEngine.from_context(HeguiContext(Settings.model_validate(self.settings)))
        return engine

    @classmethod
    def from_settings(cls, settings: Settings) -> EngineFactory:
        """The settings travel to every worker (and Ray node): the engine needs no encryption key, so
        the keys are left out."""
        return cls(settings.model_dump(mode="json", exclude={"secret_key", "old_secret_keys"}))


_SHARE_KEY = b"hegui-corpus-classifier-share"


def in_classifier_share(key: str, share: float) -> bool:
    """Whether the item ``key`` is in the classifier's share: a fixed pseudo-random rank per item
    (like the review sample's, with another key), below ``share`` of the range. It depends on the key
    only, so neither sharding nor the backend changes which items the classifier sees."""
    if share >= 1.0:
        return True
    rank = int.from_bytes(hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8,
                                          key=_SHARE_KEY).digest(), "big")
    return rank < int(share * (1 << 64))


class SafetyScan:
    """The moderation engine over each document, as if the model had generated it (``output``).

    A document is unsafe when the pack refuses or blocks one of the risks found in it (at the
    finding's severity); personal data is counted per type (its action is ``mask``) and its spans
    kept for masking the cleaned corpus.

    ``classifier_share`` below 1: the embedded classifier runs on that pseudo-random share of the
    items only (``in_classifier_share``), every other detector on every item; each item records
    whether the classifier saw it and whether the other detectors alone find it unsafe, which the
    report needs to estimate the unsafe ratio honestly.
    """

    name = "safety"

    def __init__(self, factory: ScannerFactory, pack: PolicyPack, direction: Direction = "output",
                 classifier_share: float = 1.0) -> None:
        self.factory = factory
        self.pack = pack
        self.direction: Direction = direction
        self.classifier_share = classifier_share
        self._engine: Scanner | None = None
        self._batch: BatchScan | None = None
        self._frozen = False  # the worker's long-lived objects moved out of the GC's view (``decisions``)

    def __getstate__(self) -> dict[str, Any]:
        return {"factory": self.factory, "pack": self.pack, "direction": self.direction,
                "classifier_share": self.classifier_share, "_engine": None, "_batch": None, "_frozen": False}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def engine(self) -> Scanner:
        if self._engine is None:
            self._engine = self.factory()
        return self._engine

    def decisions(self, texts: list[str], classify: Sequence[bool] | None = None) -> list[Decision]:
        """The engine's decision on each text: batch-wise when the engine is hegui's own
        (``BatchScan``, same findings and verdicts), else one ``moderate`` call per text.
        ``classify``: see ``BatchScan.scan`` (ignored by other engines, which classify everything)."""
        return self._decisions(texts, classify)

    def _decisions(self, texts: list[str], classify: Sequence[bool] | None) -> list[Decision]:
        engine = self.engine
        if self._batch is None and BatchScan.supports(engine):
            self._batch = BatchScan(engine, self.direction)
        if self._batch is not None:
            return [*self._batch.scan(texts, classify)]
        return [engine.moderate(t, direction=self.direction) for t in texts]

    def classifier_names(self) -> frozenset[str]:
        """The detectors the classifier share applies to (none when the engine is not hegui's own)."""
        engine = self.engine
        if self._batch is None and BatchScan.supports(engine):
            self._batch = BatchScan(engine, self.direction)
        return self._batch.classifier_names if self._batch is not None else frozenset()

    def _unsafe(self, severity: dict[str, int], categories: set[str]) -> list[str]:
        return sorted(c for c in categories
                      if self.pack.action_for(c, self.direction, severity.get(c, 3)) in UNSAFE_ACTIONS)

    def run(self, items: list[Item]) -> None:
        if self._frozen:
            self._run(items)
            return
        # The first batch builds the engine's long-lived objects (the database lexicon and its automata,
        # the merged automaton, combo rules, kernel tables: some 250,000 objects). While they pile up,
        # the collector would traverse them again and again (measured: ~1 s of a worker's start); after,
        # every full collection would. So no collections until they exist, then they leave the
        # collector's view (they live as long as the worker). No collection before the freeze either: it
        # takes ~0.2 s and finds under a thousand objects of cyclic garbage, which stay (a few hundred KB).
        enabled = gc.isenabled()
        gc.disable()
        try:
            self._run(items)
        finally:
            if enabled:
                gc.enable()
        gc.freeze()
        self._frozen = True

    def _run(self, items: list[Item]) -> None:
        skippable = self.classifier_names()
        classify = ([in_classifier_share(it.doc.key, self.classifier_share) for it in items]
                    if skippable and self.classifier_share < 1.0 else None)
        texts = [it.doc.text for it in items]
        for k, (it, decision) in enumerate(zip(items, self.decisions(texts, classify), strict=True)):
            severity: dict[str, int] = {}
            kw_severity: dict[str, int] = {}
            findings: list[dict[str, Any]] = []
            pii: dict[str, int] = {}
            spans: list[tuple[str, int, int]] = []
            for f in decision.findings:
                if f.detector == "pii":
                    pii[f.type] = pii.get(f.type, 0) + 1
                    spans.append((f.type, f.start, f.end))
                if f.category:
                    severity[f.category] = max(severity.get(f.category, 0), int(f.severity))
                    if f.detector not in skippable:
                        kw_severity[f.category] = max(kw_severity.get(f.category, 0), int(f.severity))
                findings.append({"detector": f.detector, "type": f.type, "category": f.category,
                                 "severity": f.severity, "start": f.start, "end": f.end})
            cats = set(severity) | set(decision.categories)
            unsafe = self._unsafe(severity, cats)
            it.scan_errors = tuple(getattr(decision, "errors", None) or ())
            if not unsafe and it.scan_errors and getattr(decision, "action", "allow") in UNSAFE_ACTIONS:
                unsafe = [SCAN_ERROR]  # a required detector failed: fail closed, the item is not cleared
            it.unsafe = tuple(unsafe)
            it.categories = tuple(sorted(cats))
            it.findings = findings
            it.pii = pii
            it.pii_spans = spans
            it.classified = classify is None or classify[k]
            # with the classifier share the engine's rulings are per finding (``run_audit`` refuses a share
            # for packs that need lexicon and classifier to agree), so the other detectors' verdict is
            # the same rule applied to their findings only
            kw_cats = set(kw_severity) if skippable else cats
            it.keyword_unsafe = unsafe == [SCAN_ERROR] or bool(self._unsafe(kw_severity, kw_cats))


_MARKERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("copyright_notice", re.compile(r"©|\(c\)\s*(?:19|20)\d\d|copyright\s*(?:©\s*)?(?:19|20)\d\d|版权所有|著作权归",
                                    re.I)),
    ("no_reprint", re.compile(
        r"all rights reserved|保留所有权利|(?:禁止|严禁|谢绝|不得)(?:任何)?(?:形式的?)?(?:转载|复制|摘编)"
        r"|未经(?:\S{0,8})?(?:许可|授权|同意|允许)[，,]?\s*(?:\S{0,6})?(?:不得|禁止|严禁)", re.I)),
    ("attribution_required", re.compile(r"转载请注明|请注明出处|attribution required", re.I)),
    ("open_licence", re.compile(
        r"SPDX-License-Identifier|creative\s+commons|\bCC[- ]BY(?:-SA|-NC|-ND)*\b|\bCC0\b|GNU (?:Lesser |Affero )?"
        r"General Public License|\bMIT License\b|Apache License|知识共享|公有领域|public domain", re.I)),
)


# Literal words one of the patterns above needs; most documents contain none, and one Aho-Corasick
# pass over the lower-cased text is ~15× faster than running the regular expressions on everything.
_SCREEN_WORDS = ("©", "(c)", "copyright", "版权", "著作权", "rights reserved", "保留所有权利", "转载", "复制", "摘编",
                 "未经", "注明", "attribution", "spdx", "creative", "cc-by", "cc by", "cc0", "public license",
                 "mit license", "apache license", "知识共享", "公有领域", "public domain")


class LicenceMarkers:
    """Copyright and licence notices in the text: evidence for the IP review of a source (A3.1)."""

    name = "licence"

    def __init__(self) -> None:
        self._screen: Any = None
        self._compiled: WordScreen | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"_screen": None, "_compiled": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def run(self, items: list[Item]) -> None:
        if self._screen is None:
            import ahocorasick_rs

            from hegui.corpus import screen_kernel

            self._screen = ahocorasick_rs.AhoCorasick(list(_SCREEN_WORDS),
                                                      implementation=ahocorasick_rs.Implementation.DFA)
            kernel = screen_kernel.load("words")
            self._compiled = None if kernel is None else screen_kernel.WordScreen(kernel, _SCREEN_WORDS, str.lower)
        screen = self._screen
        # the batch's screen in one compiled pass where it can (0: no word; HARD: Python's screen decides)
        flags = self._compiled.run([it.doc.text for it in items]) if self._compiled is not None and items else None
        for k, it in enumerate(items):
            text = it.doc.text
            flag = HARD if flags is None else flags[k]
            if flag == 0 or (flag == HARD and not screen.find_matches_as_indexes(text.lower())):
                it.markers = ()
                continue
            it.markers = tuple(name for name, rx in _MARKERS if rx.search(text))


class TextFeatures:
    """Language by script, length, exact-dedup hash and MinHash signature, vectorised over the batch."""

    name = "features"

    def run(self, items: list[Item]) -> None:
        for it, f in zip(items, features_batch([it.doc.text for it in items]), strict=True):
            it.lang, it.chars, it.exact_hash, it.signature = f.lang, f.chars, f.exact_hash, f.signature


def default_steps(factory: ScannerFactory, pack: PolicyPack, classifier_share: float = 1.0) -> list[Step]:
    """The full audit: safety scan (engine), licence markers, language/length/dedup features."""
    return [SafetyScan(factory, pack, classifier_share=classifier_share), LicenceMarkers(), TextFeatures()]


def length_bucket(chars: int) -> str:
    for label, upper in LENGTH_BUCKETS:
        if chars < upper:
            return label
    return LENGTH_BUCKETS[-1][0]
