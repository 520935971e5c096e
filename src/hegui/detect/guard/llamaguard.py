"""Llama Guard 3 / 4: replies ``safe`` or ``unsafe`` followed by a line of codes ``S1,S3``."""

from __future__ import annotations

import re

from hegui.detect.guard.base import GuardAdapter, GuardVerdict

# MLCommons hazard codes used by Llama Guard 3/4 → hegui risk codes (override with ``category_map``).
LLAMA_GUARD_MAP: dict[str, str] = {
    "S1": "A1.6",   # violent crimes
    "S2": "A1.8",   # non-violent crimes
    "S3": "A1.6",   # sex-related crimes
    "S4": "A1.6",   # child sexual exploitation
    "S5": "A4.3",   # defamation
    "S6": "A5.1",   # specialised advice (medical, legal, financial)
    "S7": "A4.5",   # privacy
    "S8": "A3.1",   # intellectual property
    "S9": "A1.4",   # indiscriminate weapons (CBRNE)
    "S10": "A2.9",  # hate
    "S11": "A4.1",  # suicide and self-harm
    "S12": "A1.6",  # sexual content
    "S13": "A1.7",  # elections (misinformation about voting)
    "S14": "J",     # code interpreter abuse
}

_CODE = re.compile(r"\bS(\d{1,2})\b", re.IGNORECASE)


class LlamaGuardAdapter(GuardAdapter):
    """Llama Guard behind vLLM/TGI; the server's chat template adds the hazard taxonomy prompt."""

    def parse(self, content: str) -> GuardVerdict:
        lines = [ln.strip() for ln in content.strip().splitlines() if ln.strip()]
        if not lines:
            raise ValueError("empty reply")
        head = lines[0].lower()
        if head == "safe":
            return GuardVerdict("safe", [], [], None, content)
        if not head.startswith("unsafe"):
            raise ValueError(f"expected 'safe' or 'unsafe', got {lines[0][:40]!r}")
        rest = " ".join([lines[0][6:], *lines[1:]])
        names = [f"S{int(n)}" for n in _CODE.findall(rest)]
        cats = self._map(names, LLAMA_GUARD_MAP, 1.0)
        return GuardVerdict("unsafe", cats, names, None, content)
