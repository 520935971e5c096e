"""Explicit text labels (GB 45438-2025 §4.1): a prompt at the start, end or a middle position.

The prompt must contain an "AI" element (人工智能 / AI) and a "generated/synthesised" element
(生成 / 合成); a text without both is not a label.
"""

from __future__ import annotations

import re
from typing import Literal

from hegui.errors import InvalidInputError
from hegui.policy.pack import PolicyPack

Position = Literal["start", "end", "middle"]
Lang = Literal["zh", "en"]
_AI = re.compile(r"人工智能|ＡＩ|\bAI\b|AI|artificial intelligence", re.I)
_GEN = re.compile(r"生成|合成|generat|synthes", re.I)


def has_label_elements(text: str) -> bool:
    """True if ``text`` has both an AI element and a generated/synthesised element."""
    return bool(_AI.search(text) and _GEN.search(text))


def prompt_for(pack: PolicyPack, lang: str) -> str:
    if lang not in ("zh", "en"):
        raise InvalidInputError(f"label language must be zh or en, got {lang!r}")
    prompt: str = getattr(pack.labels.text, lang)
    if not has_label_elements(prompt):
        raise InvalidInputError(
            f"the pack's {lang} text label {prompt!r} lacks an AI or a generated/synthesised element")
    return prompt


def _middle_cut(text: str) -> int:
    """A paragraph (else line, else sentence) boundary nearest the middle of ``text``."""
    mid = len(text) // 2
    for pattern in (r"\n\s*\n", r"\n", r"(?<=[。！？.!?])\s*"):
        cuts = [m.end() for m in re.finditer(pattern, text) if 0 < m.end() < len(text)]
        if cuts:
            return min(cuts, key=lambda c: abs(c - mid))
    return len(text)


def label_text(text: str, pack: PolicyPack, lang: str = "zh", position: str | None = None) -> str:
    """``text`` with the pack's explicit label at ``position`` (default: the pack's position)."""
    pos = position or pack.labels.text.position
    if pos == "none":
        return text
    prompt = prompt_for(pack, lang)
    if pos == "start":
        return f"{prompt}\n\n{text}"
    if pos == "end":
        return f"{text.rstrip(chr(10))}\n\n{prompt}\n" if text.endswith("\n") else f"{text}\n\n{prompt}"
    if pos == "middle":
        cut = _middle_cut(text)
        head, tail = text[:cut].rstrip("\n"), text[cut:].lstrip("\n")
        return f"{head}\n\n{prompt}\n\n{tail}" if tail else f"{head}\n\n{prompt}"
    raise InvalidInputError(f"text label position must be start, end or middle, got {pos!r}")


def find_text_label(text: str) -> dict[str, object]:
    """Where an explicit label line is in ``text``: start / end / middle, or not found."""
    lines = [ln.strip() for ln in text.splitlines()]
    idx = [i for i, ln in enumerate(lines) if ln and has_label_elements(ln) and len(ln) <= 200]
    if not idx:
        return {"found": False}
    nonempty = [i for i, ln in enumerate(lines) if ln]
    i = idx[-1] if idx[-1] == nonempty[-1] else idx[0]
    where = "start" if i == nonempty[0] else "end" if i == nonempty[-1] else "middle"
    return {"found": True, "position": where, "text": lines[i]}
