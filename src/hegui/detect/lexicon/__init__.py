"""Lexicon detector: risk-tagged terms matched on normalised text with one Aho-Corasick automaton.

``LexiconDetector`` is the compiled, immutable matcher; ``LexiconService`` edits the lexicon in the
database (versioned); ``LexiconRegistry`` holds the current compiled detector and swaps it
atomically when the database version changes (hot reload).

The registry and the service are imported on first use: they pull in the database layer
(SQLAlchemy, Alembic — about half a second), which the detector alone does not need.
"""

from typing import TYPE_CHECKING, Any

from hegui.detect.lexicon.detector import Hit, LexiconDetector
from hegui.detect.lexicon.entry import AllowPhrase, LexiconEntry

if TYPE_CHECKING:
    from hegui.detect.lexicon.registry import LexiconRegistry
    from hegui.detect.lexicon.service import ImportResult, LexiconService, LexiconStats, SeedResult

_LAZY = {"LexiconRegistry": "registry", "ImportResult": "service", "LexiconService": "service",
         "LexiconStats": "service", "SeedResult": "service"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value

__all__ = ["AllowPhrase", "Hit", "ImportResult", "LexiconDetector", "LexiconEntry", "LexiconRegistry",
           "LexiconService", "LexiconStats", "SeedResult"]
