"""Lexicon detector: risk-tagged terms matched on normalised text with one Aho-Corasick automaton.

``LexiconDetector`` is the compiled, immutable matcher; ``LexiconService`` edits the lexicon in the
database (versioned); ``LexiconRegistry`` holds the current compiled detector and swaps it
atomically when the database version changes (hot reload).
"""

from hegui.detect.lexicon.detector import Hit, LexiconDetector
from hegui.detect.lexicon.entry import AllowPhrase, LexiconEntry
from hegui.detect.lexicon.registry import LexiconRegistry
from hegui.detect.lexicon.service import ImportResult, LexiconService, LexiconStats, SeedResult

__all__ = ["AllowPhrase", "Hit", "ImportResult", "LexiconDetector", "LexiconEntry", "LexiconRegistry",
           "LexiconService", "LexiconStats", "SeedResult"]
