"""Pinyin spellings of Chinese terms, generated once when a lexicon is compiled.

User text is never converted to pinyin: instead each Chinese term gets its romanised variants
(``炸药`` → ``zhayao``, ``zha yao``, mixed ``zha药`` / ``炸yao``, initials ``zy``) and those are put in the
automaton next to the term. Latin-only variants shorter than ``pinyin_min_length`` letters are
dropped (``zy`` would match far too much).

Asking pypinyin is most of the cost of compiling a lexicon (and importing it takes a quarter of a
second), so the syllables of the shipped lexicon's terms are precomputed into ``pinyin_syllables.json``
(``scripts/gen-precomputed``; a test checks it is current). The file is used only when it was made by
the installed pypinyin version with the same options; any other term is converted live.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from importlib import metadata, resources
from itertools import product
from operator import itemgetter
from typing import Any

#: Mixed Han/pinyin spellings are generated for terms up to this many characters (2^n variants).
MAX_MIXED_CHARS = 4
#: The shipped table of syllables (package data next to this module).
SYLLABLE_FILE = "pinyin_syllables.json"
#: The pypinyin call the table was made with; a table made any other way is ignored.
_OPTIONS = "lazy_pinyin style=NORMAL v_to_u=True errors=one-item-per-character"
_FORMAT = 1


#: a Han character / any other (``_is_han``), to judge a whole term in one search
_HAN = re.compile("[\u3400-\u9fff\U00020000-\U0003134f]")
_NOT_HAN = re.compile("[^\u3400-\u9fff\U00020000-\U0003134f]")


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\U00020000" <= ch <= "\U0003134f"


def _split_live(term: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin  # imported on first live conversion: its dictionaries are large

    def one_per_char(chunk: str) -> Any:  # pypinyin's stubs say str, a list keeps one item per character
        return list(chunk)

    return list(lazy_pinyin(term, style=Style.NORMAL, errors=one_per_char, v_to_u=True))


def _pypinyin_version() -> str | None:
    try:
        return metadata.version("pypinyin")
    except metadata.PackageNotFoundError:  # pragma: no cover - pypinyin is a dependency
        return None


def _meta() -> dict[str, Any]:
    return {"format": _FORMAT, "pypinyin": _pypinyin_version(), "options": _OPTIONS}


@lru_cache(maxsize=1)
def shipped_syllables() -> dict[str, list[str]]:
    """The precomputed syllables by term; empty when the file is missing or was made differently."""
    try:
        raw = resources.files("hegui.detect.lexicon").joinpath(SYLLABLE_FILE).read_text("utf-8")
    except FileNotFoundError:
        return {}
    doc = json.loads(raw)
    if doc.get("meta") != _meta():
        return {}
    table: dict[str, list[str]] = doc["syllables"]
    return table


def _split(term: str) -> list[str]:
    """pypinyin's syllables of ``term`` (one item per character), from the shipped table when there."""
    known = shipped_syllables().get(term)
    return list(known) if known is not None else _split_live(term)


def syllable_file(terms: Iterable[str]) -> str:
    """The text of ``SYLLABLE_FILE`` for ``terms`` (computed live): one term per line, sorted, so the
    file diffs well and regenerating it from the same inputs gives the same bytes."""
    han_terms = sorted({t for t in terms if any(_is_han(c) for c in t)})
    lines = [json.dumps(t, ensure_ascii=False) + ": " + json.dumps(_split_live(t), ensure_ascii=False)
             for t in han_terms]
    return ('{"meta": ' + json.dumps(_meta(), sort_keys=True) + ',\n"syllables": {\n' + ",\n".join(lines)
            + "\n}}\n")


@lru_cache(maxsize=256)
def _mixed_pickers(han: tuple[bool, ...]) -> tuple[Callable[[Sequence[str]], Any], ...]:
    """Per Han mask of a term: one picker per mixed spelling, over ``(*chars, *syllables)``.

    The definition (``product`` over every choice of romanised characters, dropping the choice that
    romanises none and the one that romanises all) depends on the mask only, so it runs once per
    mask; choices that differ only on non-Han characters give one picker, in the order the
    definition first meets them (a set built from them iterates as the definition's does).
    """
    n = len(han)
    seen: dict[tuple[int, ...], None] = {}
    for choice in product((False, True), repeat=n):
        if not any(choice[i] for i in range(n) if han[i]):
            continue  # no romanised character: that is the term itself
        if all(choice[i] or not han[i] for i in range(n)):
            continue  # all romanised: covered by the full spellings
        seen.setdefault(tuple(n + i if (choice[i] and han[i]) else i for i in range(n)), None)
    return tuple(itemgetter(*pick) for pick in seen)


def pinyin_variants(term: str, min_length: int) -> set[str]:
    """Romanised spellings of ``term`` (not normalised yet); empty for a term with no Han character."""
    if _HAN.search(term) is None:
        return set()
    syllables = _split(term)
    n = len(term)
    if len(syllables) != n:  # pragma: no cover - pypinyin keeps one item per character here
        return set()
    all_han = _NOT_HAN.search(term) is None
    han = (True,) * n if all_han else tuple(map(_is_han, term))
    out: set[str] = set()
    full = "".join(syllables)
    if all_han or not any(c.isalpha() for c, h in zip(term, han, strict=True) if not h):
        if len(full.replace(" ", "")) >= min_length:
            out.add(full)
            out.add(" ".join(syllables))
        initials = ("".join([s[0] for s in syllables]) if all_han
                    else "".join([s[0] if h else s for s, h in zip(syllables, han, strict=True)]))
        if len(initials) >= min_length and initials != full:
            out.add(initials)
    else:
        out.add(full)
    if 1 < n <= MAX_MIXED_CHARS:  # (the term has a Han character)
        both = (*term, *syllables)
        for pick in _mixed_pickers(han):
            out.add("".join(pick(both)))
    out.discard(term)
    return out
