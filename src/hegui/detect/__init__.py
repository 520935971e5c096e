"""Detectors: each turns text into findings (lexicon, PII, classifier, jailbreak, guard models, refusal)."""

from hegui.detect.base import Detector, Direction, Finding

__all__ = ["Detector", "Direction", "Finding"]
