"""Shared by the corpus tests: a real moderation engine over a synthetic lexicon, and corpus builders.

The engine is ``hegui.moderation.ModerationEngine`` with two synthetic terms (never real political
terms) plus the real PII detector, so the audit's safety step is exercised end to end.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np

from hegui.config import Settings
from hegui.context import HeguiContext
from hegui.detect.classifier import EmbeddedClassifier
from hegui.detect.classifier.model import LinearModel, buckets, normalise
from hegui.detect.lexicon import LexiconDetector
from hegui.detect.lexicon.entry import LexiconEntry
from hegui.detect.pii import PiiDetector
from hegui.moderation import ModerationEngine
from hegui.policy.pack import load_pack
from hegui.text import Normalizer

UNSAFE_ZH = "测试暴力词甲"
UNSAFE_EN = "synthetic harm phrase"


class SyntheticEngine:
    """Picklable factory (module level) so spawn workers and Ray actors can build it."""

    def __call__(self) -> ModerationEngine:
        pack = load_pack("cn-genai")
        entries = [LexiconEntry(UNSAFE_ZH, "A1.6", 3), LexiconEntry(UNSAFE_EN, "A1.4", 3)]
        return ModerationEngine(pack, [LexiconDetector(entries, pack.normalisation), PiiDetector.from_pack(pack)],
                                Normalizer(pack.normalisation))


def zh_doc(i: int) -> str:
    return f"第{i}号文档：今天我们讨论城市里的公园、图书馆和菜市场，第{i}段内容还写到了天气与交通，编号{i * 7919}。"


def en_doc(i: int) -> str:
    return f"Document number {i} describes a walk along river {i % 13} and the bakery on street {i * 31}, item {i}."


def random_doc(seed: int, lang: str, length: int = 300) -> str:
    """A document of random common characters (zh) or words (en): unrelated to every other seed."""
    rng = random.Random(seed)
    if lang == "zh":
        return "".join(chr(0x4E00 + rng.randrange(3000)) for _ in range(length))
    return " ".join("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
                    for _ in range(length // 5))


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n")
    return path


CLASSIFIER_MARK = "ϡϣϥϧϩϫϭϯϱϳϵϸϻ"  # Coptic and Greek letters: no n-gram in common with the generated text


def marker_classifier() -> EmbeddedClassifier:
    """The real embedded classifier over a tiny model that scores A1.4 high on ``CLASSIFIER_MARK`` only
    (no keyword detector knows the phrase: what it finds is classifier-only)."""
    bits = 16
    w = np.zeros((1 << bits, 1), dtype=np.float32)
    w[buckets(normalise(CLASSIFIER_MARK), bits)] = 4.0
    return EmbeddedClassifier(LinearModel(("A1.4",), w, np.array([-8.0], dtype=np.float32), bits, "test", {}))


class ClassifierEngine:
    """``SyntheticEngine`` plus ``marker_classifier`` (picklable factory)."""

    def __call__(self) -> ModerationEngine:
        base = SyntheticEngine()()
        return ModerationEngine(base.pack, [*base.detectors, marker_classifier()], base.normalizer)


def mixed_rows(n: int, unsafe_every: int = 0, offset: int = 0) -> list[dict[str, str]]:
    rows = []
    for i in range(offset, offset + n):
        text = zh_doc(i) if i % 2 else en_doc(i)
        if unsafe_every and i % unsafe_every == 0:
            text += (" " + UNSAFE_EN) if (i // unsafe_every) % 2 == 0 else UNSAFE_ZH
        rows.append({"text": text})
    return rows


def new_ctx(tmp: Path) -> HeguiContext:
    ctx = HeguiContext(Settings(data_dir=tmp / ".hegui", database_url=f"sqlite:///{tmp / 'h.db'}"))
    ctx.db.upgrade()
    return ctx


class _BrokenDetector:
    name = "classifier"

    def detect(self, text: str, direction: str = "input") -> list[Any]:
        raise RuntimeError("model file missing")


class BrokenClassifierEngine:
    """The synthetic engine plus a classifier that always fails (required, or optional)."""

    def __init__(self, optional: bool) -> None:
        self.optional = optional

    def __call__(self) -> ModerationEngine:
        base = SyntheticEngine()()
        return ModerationEngine(base.pack, [*base.detectors, _BrokenDetector()], base.normalizer,  # type: ignore[list-item]
                                optional=("classifier",) if self.optional else ())
