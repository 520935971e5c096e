"""Qwen3Guard-Gen: replies ``Safety: Safe|Unsafe|Controversial`` / ``Categories: …`` / ``Refusal: Yes|No``."""

from __future__ import annotations

import re

from hegui.detect.guard.base import GuardAdapter, GuardVerdict, Level

# Qwen3Guard's nine categories → hegui risk codes (operators override with ``category_map``).
# "Politically Sensitive Topics" maps to A1.2 because political risks are operator slots in hegui;
# "Unethical Acts" (bias, hate, other unethical conduct) maps to A2.9.
QWEN3GUARD_MAP: dict[str, str] = {
    "Violent": "A1.6",
    "Non-violent Illegal Acts": "A1.8",
    "Sexual Content or Sexual Acts": "A1.6",
    "PII": "A4.6",
    "Suicide & Self-Harm": "A4.1",
    "Unethical Acts": "A2.9",
    "Politically Sensitive Topics": "A1.2",
    "Copyright Violation": "A3.1",
    "Jailbreak": "J",
}

_SAFETY = re.compile(r"^\s*Safety\s*[:：]\s*(Safe|Unsafe|Controversial)\b", re.IGNORECASE | re.MULTILINE)
_CATS = re.compile(r"^\s*Categor(?:y|ies)\s*[:：]\s*(.*)$", re.IGNORECASE | re.MULTILINE)
_REFUSAL = re.compile(r"^\s*Refusal\s*[:：]\s*(Yes|No)\b", re.IGNORECASE | re.MULTILINE)


class Qwen3GuardAdapter(GuardAdapter):
    """Qwen3Guard-Gen (0.6B/4B/8B) behind vLLM or SGLang; its chat template adds the guard instructions."""

    def parse(self, content: str) -> GuardVerdict:
        m = _SAFETY.search(content)
        if m is None:
            raise ValueError("no 'Safety:' line")
        level_word = m.group(1).lower()
        level: Level = "safe" if level_word == "safe" else "unsafe" if level_word == "unsafe" else "controversial"
        names: list[str] = []
        c = _CATS.search(content)
        if c is not None:
            names = [n.strip() for n in re.split(r"[,，;]", c.group(1)) if n.strip() and n.strip().lower() != "none"]
        r = _REFUSAL.search(content)
        refusal = None if r is None else r.group(1).lower() == "yes"
        score = 1.0 if level == "unsafe" else self.config.controversial_score
        cats = [] if level == "safe" else self._map(names, QWEN3GUARD_MAP, score)
        return GuardVerdict(level, cats, names, refusal, content)
