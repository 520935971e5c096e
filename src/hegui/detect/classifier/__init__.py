"""The embedded risk classifier: offline, CPU, weights shipped in the package.

``EmbeddedClassifier.load_default()`` loads ``weights/default.npz`` (built by ``hegui classifier
train``). ``detect`` returns one ``risk`` finding per category whose score reaches ``floor`` (a low
bar, so operators see near misses); the moderation engine applies the policy pack's thresholds
(``moderation.classifier``). See docs/classifier.md for what it covers.
"""

from __future__ import annotations

import os
import threading
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hegui.detect.base import Direction, Finding
from hegui.detect.classifier.model import LinearModel, SettledScorer

DEFAULT_FLOOR = 0.2
# path to operator-trained weights used instead of the shipped ones; the same variable also sets
# ``Settings.classifier_weights``, which ``ModerationEngine.from_context`` reads
WEIGHTS_ENV = "HEGUI_CLASSIFIER_WEIGHTS"
_DEFAULT: EmbeddedClassifier | None = None
_LOCK = threading.Lock()


def default_weights_path() -> Path:
    return Path(str(resources.files("hegui.detect.classifier").joinpath("weights", "default.npz")))


def _severity(score: float) -> int:
    return 3 if score >= 0.8 else 2 if score >= 0.5 else 1


class EmbeddedClassifier:
    """A ``Detector`` over the linear n-gram model. Thread-safe: prediction reads weights only."""

    name = "classifier"

    def __init__(self, model: LinearModel, floor: float = DEFAULT_FLOOR) -> None:
        if not 0.0 <= floor < 1.0:
            raise ValueError("floor must be in [0, 1)")
        self.model = model
        self.floor = floor
        self.rule = f"embedded-classifier@{model.version}"

    @property
    def labels(self) -> tuple[str, ...]:
        return self.model.labels

    @classmethod
    def load(cls, path: Path, floor: float = DEFAULT_FLOOR) -> EmbeddedClassifier:
        """Load weights written by ``hegui classifier train --out PATH``."""
        return cls(LinearModel.load(path), floor)

    @classmethod
    def load_default(cls) -> EmbeddedClassifier:
        """The shipped model (or ``$HEGUI_CLASSIFIER_WEIGHTS``), loaded once per process and shared."""
        global _DEFAULT
        with _LOCK:
            if _DEFAULT is None:
                override = os.environ.get(WEIGHTS_ENV)
                _DEFAULT = cls.load(Path(override) if override else default_weights_path())
            return _DEFAULT

    def scores(self, text: str) -> dict[str, float]:
        """Score of every category the model knows, in [0, 1]."""
        if not text or not text.strip():
            return dict.fromkeys(self.labels, 0.0)
        probs = self.model.predict(text)
        return {code: round(float(p), 4) for code, p in zip(self.labels, probs, strict=True)}

    def detect(self, text: str, direction: Direction = "input") -> list[Finding]:
        return self._findings(self.scores(text), len(text))

    def _findings(self, scores: dict[str, float], length: int) -> list[Finding]:
        out = []
        for code, score in scores.items():
            if score >= self.floor:
                out.append(Finding(self.name, "risk", code, _severity(score), 0, length, "", score, self.rule))
        out.sort(key=lambda f: -f.score)
        return out

    def stream_detector(self) -> StreamDetector:
        """A detector for one stream (see ``StreamDetector``)."""
        return StreamDetector(self)


class StreamDetector:
    """The classifier over one streamed text: ``grow`` with the whole text so far each time it has grown,
    ``final`` once at the end.

    ``grow`` reports only what the final text's ``detect`` will report too (``SettledScorer``: units every
    continuation keeps, each scored once), so acting on it early never contradicts the verdict on the
    whole answer, whatever the chunking; ``final`` equals ``detect`` on the final text and scores only
    the units ``grow`` has not.
    """

    def __init__(self, clf: EmbeddedClassifier) -> None:
        self.clf = clf
        self.scorer = SettledScorer(clf.model)

    def grow(self, text: str) -> list[Finding]:
        probs = self.scorer.update(text)
        return [] if probs is None else self._findings(probs, len(text))

    def final(self, text: str) -> list[Finding]:
        if not text or not text.strip():
            return self.clf.detect(text)
        return self._findings(self.scorer.finish(text), len(text))

    def _findings(self, probs: npt.NDArray[np.float32], length: int) -> list[Finding]:
        return self.clf._findings({c: round(float(p), 4) for c, p in zip(self.clf.labels, probs, strict=True)}, length)
