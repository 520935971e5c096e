"""Pinyin spellings of Chinese terms, generated once when a lexicon is compiled.

User text is never converted to pinyin: instead each Chinese term gets its romanised variants
(``炸药`` → ``zhayao``, ``zha yao``, mixed ``zha药`` / ``炸yao``, initials ``zy``) and those are put in the
automaton next to the term. Latin-only variants shorter than ``pinyin_min_length`` letters are
dropped (``zy`` would match far too much).
"""

from __future__ import annotations

from itertools import product
from typing import Any

#: Mixed Han/pinyin spellings are generated for terms up to this many characters (2^n variants).
MAX_MIXED_CHARS = 4


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\U00020000" <= ch <= "\U0003134f"


def _split(term: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin  # imported on first compile: its dictionaries are large

    def one_per_char(chunk: str) -> Any:  # pypinyin's stubs say str, a list keeps one item per character
        return list(chunk)

    return list(lazy_pinyin(term, style=Style.NORMAL, errors=one_per_char, v_to_u=True))


def pinyin_variants(term: str, min_length: int) -> set[str]:
    """Romanised spellings of ``term`` (not normalised yet); empty for a term with no Han character."""
    chars = list(term)
    if not any(_is_han(c) for c in chars):
        return set()
    syllables = _split(term)
    if len(syllables) != len(chars):  # pragma: no cover - pypinyin keeps one item per character here
        return set()
    han = [_is_han(c) for c in chars]
    out: set[str] = set()
    full = "".join(syllables)
    if all(han) or not any(c.isalpha() for c, h in zip(chars, han, strict=True) if not h):
        if len(full.replace(" ", "")) >= min_length:
            out.add(full)
            out.add(" ".join(syllables))
        initials = "".join(s[0] if h else s for s, h in zip(syllables, han, strict=True))
        if len(initials) >= min_length and initials != full:
            out.add(initials)
    else:
        out.add(full)
    n_han = sum(han)
    if 1 < len(chars) <= MAX_MIXED_CHARS and n_han >= 1:
        for choice in product((False, True), repeat=len(chars)):
            if not any(choice[i] for i in range(len(chars)) if han[i]):
                continue  # no romanised character: that is the term itself
            if all(choice[i] or not han[i] for i in range(len(chars))):
                continue  # all romanised: covered above
            out.add("".join(syllables[i] if (choice[i] and han[i]) else chars[i] for i in range(len(chars))))
    out.discard(term)
    return out
