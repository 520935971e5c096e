"""What every detector returns, and the shape a detector has.

A detector turns text into findings and decides nothing: actions come from the policy pack,
applied by ``hegui.moderation``. Offsets always point into the ORIGINAL text the user sent.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, Protocol, runtime_checkable

Direction = Literal["input", "output"]
Severity = Literal[1, 2, 3]  # 1 low, 2 medium, 3 high


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a detector saw.

    ``detector``: ``lexicon`` | ``pii`` | ``classifier`` | ``jailbreak`` | ``guard:<name>`` …
    ``type``: what was seen — ``term`` for a lexicon hit, the PII type (``cn_mobile``), ``risk``
    for a classifier score, a jailbreak technique (``instruction_override``) …
    ``category``: the risk code (``A1.4`` … ``A5.2``, ``J``), or ``None`` when it has none.
    ``start``/``end``: span in the original text (a whole-text verdict spans ``0, len(text)``).
    ``match``: the matched term, or the *masked* value for personal data (never the clear value).
    ``score``: confidence in [0, 1]; rule-based detectors say 1.0.
    ``rule``: where it came from (lexicon name/version, model version …) for tuning and audit.
    """

    detector: str
    type: str
    category: str | None
    severity: int
    start: int
    end: int
    match: str = ""
    score: float = 1.0
    rule: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@runtime_checkable
class Detector(Protocol):
    """A detector: ``detect(text)`` → findings. Must be thread-safe; must not do I/O per call
    unless it is an adapter to a remote model (which then has timeouts)."""

    name: str

    def detect(self, text: str, direction: Direction = "input") -> list[Finding]: ...
