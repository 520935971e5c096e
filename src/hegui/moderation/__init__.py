"""The moderation engine: detectors + policy pack → ``Decision``; streaming output moderation.

``moderate(text)`` uses a default engine built once on first use (default lexicon files, PII, the
built-in ``cn-genai`` pack; no database). A running installation builds its engine with
``ModerationEngine.from_context(ctx)`` (database lexicons with hot reload, models when installed).
"""

from __future__ import annotations

import threading

from hegui.detect.base import Direction
from hegui.moderation.decision import ACTION_RANK, Decision, ModerationContext, detect_language
from hegui.moderation.engine import ModerationEngine, Ruling
from hegui.moderation.stream import StreamModerator

__all__ = [
    "ACTION_RANK", "Decision", "ModerationContext", "ModerationEngine", "Ruling", "StreamModerator",
    "default_engine", "detect_language", "moderate",
]

_default: ModerationEngine | None = None
_lock = threading.Lock()


def default_engine() -> ModerationEngine:
    """The process-wide default engine (built once, thread-safe)."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = ModerationEngine.default()
    return _default


def moderate(text: str, direction: Direction = "input", context: ModerationContext | None = None) -> Decision:
    """Moderate ``text`` with the default engine (see ``ModerationEngine.moderate``)."""
    return default_engine().moderate(text, direction, context)
