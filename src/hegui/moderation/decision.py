"""What a moderation call returns (``Decision``) and what it is told (``ModerationContext``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from hegui.detect.base import Finding
from hegui.policy.pack import ACTION_ORDER, Action

if TYPE_CHECKING:
    from hegui.detect.pii.masking import PiiTokenizer

Language = Literal["zh", "en"]
ACTION_RANK: dict[str, int] = {a: i for i, a in enumerate(ACTION_ORDER)}
BLOCKING: frozenset[str] = frozenset({"refuse", "block"})

_CJK_RUNS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORDS = re.compile(r"[A-Za-z]+")
LANGUAGE_SAMPLE = 400  # characters looked at: the language of a long text shows early


def detect_language(text: str) -> Language:
    """``zh`` when CJK characters carry the text, else ``en``.

    Counts CJK characters against Latin words in the first ``LANGUAGE_SAMPLE`` characters (one
    Chinese character carries roughly what one English word does); text with neither (digits,
    emoji) counts as ``zh``.
    """
    sample = text[:LANGUAGE_SAMPLE]
    cjk = sum(map(len, _CJK_RUNS.findall(sample)))
    return "zh" if cjk >= len(_WORDS.findall(sample)) else "en"


@dataclass
class ModerationContext:
    """Who is asking and how: language (``None`` = detect), minor status, PII tokenizer.

    ``tokenizer`` is used when the pack masks PII in ``token`` mode (the gateway keeps one per
    exchange so it can restore the values in the answer).
    """

    language: Language | None = None
    minor: bool = False
    tokenizer: PiiTokenizer | None = None


@dataclass
class Decision:
    """The verdict on one text (or one conversation) and everything needed to explain it.

    (``ModerationEngine.moderate`` builds the common allow decision with positional arguments: keep
    the field order in step with it.)
    """

    action: Action
    categories: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    rule: str | None = None
    refusal_text: str | None = None
    disclaimer: str | None = None
    masked_text: str | None = None
    scores: dict[str, float] = field(default_factory=dict)
    direction: str = "input"
    language: Language | None = None
    errors: list[str] = field(default_factory=list)
    # for conversations: the index of the message each finding points into
    message_index: list[int] | None = None

    @property
    def blocked(self) -> bool:
        """True when the text must not pass (``refuse`` or ``block``)."""
        return self.action in BLOCKING

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "action": self.action,
            "categories": list(self.categories),
            "rule": self.rule,
            "findings": [f.to_dict() for f in self.findings],
            "scores": dict(self.scores),
            "direction": self.direction,
        }
        if self.language is not None:
            d["language"] = self.language
        for key in ("refusal_text", "disclaimer", "masked_text"):
            value = getattr(self, key)
            if value is not None:
                d[key] = value
        if self.errors:
            d["errors"] = list(self.errors)
        if self.message_index is not None:
            d["message_index"] = list(self.message_index)
        return d
