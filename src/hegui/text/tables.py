"""Character tables behind normalisation, built once per process from Unicode data and OpenCC.

Everything that maps ONE character to a fixed result (width, case, compatibility forms,
homoglyphs, traditional→simplified, digit variants, invisible characters) is folded into one
``str.translate`` table, so the hot path is a single C-level pass. Only the steps that depend on
neighbouring characters (separators between CJK characters, repeated characters) use regexes.

Scanning every code point and asking OpenCC takes about a quarter of a second per process, so the
results that depend only on the Unicode database, OpenCC and this module are shipped precomputed in
``unicode_tables.json`` (``scripts/gen-precomputed``; a test checks it is current). A part of the file
is used only when the running Python's Unicode version (or the installed OpenCC version) is the one
it was made with; otherwise that part is computed live, as before.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from importlib import metadata, resources
from typing import Any

import numpy as np
import numpy.typing as npt

from hegui.policy.pack import NormalisationSteps

# Planes scanned for per-character mappings: BMP, SMP (maths letters, enclosed forms, emoji), SIP (CJK ext.).
_SCAN_LIMIT = 0x32000
#: The shipped precomputed tables (package data next to this module).
UNICODE_FILE = "unicode_tables.json"
_FORMAT = 1

#: Cyrillic and Greek letters (lower case, as casefolding runs first) that look like Latin ones.
HOMOGLYPHS: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ԛ": "q",
    "ԝ": "w", "һ": "h", "ү": "y", "ӏ": "l", "ɡ": "g", "ı": "i", "ɑ": "a", "ʏ": "y", "ɪ": "i",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "ω": "w", "μ": "u", "ϲ": "c", "ϳ": "j",
}

#: Chinese numerals, financial (大写) numerals and other CJK digit forms → ASCII digits.
CJK_DIGITS: dict[str, str] = {
    "〇": "0", "零": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7",
    "八": "8", "九": "9", "壹": "1", "贰": "2", "貳": "2", "弍": "2", "叁": "3", "叄": "3", "弎": "3",
    "肆": "4", "伍": "5", "陆": "6", "陸": "6", "柒": "7", "捌": "8", "玖": "9", "〡": "1", "〢": "2",
    "〣": "3", "〤": "4", "〥": "5", "〦": "6", "〧": "7", "〨": "8", "〩": "9",
}

#: Invisible characters that are not of category Cf (format) but still print as nothing.
_EXTRA_INVISIBLE = "\u034f\u115f\u1160\u17b4\u17b5\u180e\u2800\u3164\uffa0"
#: Combining-mark blocks treated as decoration (strike-through, zalgo, accents left over).
_COMBINING_BLOCKS = ((0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0xFE20, 0xFE2F),
                     (0xFE00, 0xFE0F), (0xE0100, 0xE01EF))

#: Ranges of characters that count as "CJK" on both sides of a separator run (after mapping).
#: ASCII digits are included because Chinese numerals map to them (一 → 1).
CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x30, 0x39), (0x3005, 0x3007), (0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
    (0xAC00, 0xD7AF), (0xF900, 0xFAFF), (0x20000, 0x3134F),
)


def _is_invisible(cp: int) -> bool:
    ch = chr(cp)
    if unicodedata.category(ch) == "Cf" or ch in _EXTRA_INVISIBLE:
        return True
    return any(lo <= cp <= hi for lo, hi in _COMBINING_BLOCKS)


def _compat(ch: str) -> str:
    """NFKC, keeping only letters/digits of a multi-character result (⑸ → 5, ⒜ → a, ㈠ → 一)."""
    out = unicodedata.normalize("NFKC", ch)
    if out == ch:
        return ch
    if len(out) > 1:
        kept = "".join(c for c in out if c.isalnum())
        return kept or ch
    return out


def _strip_accent(ch: str) -> str:
    """Latin letter with diacritics → its ASCII base letter (zhà → zha, ü → u)."""
    cp = ord(ch)
    if not (0xC0 <= cp <= 0x24F or 0x1E00 <= cp <= 0x1EFF):
        return ch
    base = unicodedata.normalize("NFD", ch)
    if base and base[0].isascii() and base[0].isalpha() and all(unicodedata.combining(c) for c in base[1:]):
        return base[0]
    return ch


def _opencc_version() -> str | None:
    try:
        return metadata.version("OpenCC")
    except metadata.PackageNotFoundError:  # pragma: no cover - OpenCC is a dependency
        return None


def _metas() -> dict[str, dict[str, Any]]:
    """What each part of ``UNICODE_FILE`` was computed from (a part is used only if this matches)."""
    unicode_meta = {"format": _FORMAT, "unidata": unicodedata.unidata_version, "scan_limit": _SCAN_LIMIT}
    return {"unicode": unicode_meta, "opencc": {"format": _FORMAT, "opencc": _opencc_version(), "config": "t2s"}}


@lru_cache(maxsize=1)
def _shipped() -> dict[str, Any]:
    """The parts of ``UNICODE_FILE`` that are valid for this process (``unicode``, ``opencc``); may be empty."""
    try:
        doc = json.loads(resources.files("hegui.text").joinpath(UNICODE_FILE).read_text("utf-8"))
    except FileNotFoundError:
        return {}
    metas = _metas()
    return {part: doc[part] for part, meta in metas.items() if part in doc and doc[part].get("meta") == meta}


def unicode_file() -> str:
    """The text of ``UNICODE_FILE``, computed live (what ``scripts/gen-precomputed`` writes)."""
    metas = _metas()
    compat, fold, invisible, digits = _unicode_scan_live()
    cjk, sep = _char_classes_live()
    doc = {
        "unicode": {"meta": metas["unicode"], "compat": compat, "fold": fold, "invisible": sorted(invisible),
                    "digits": digits, "cjk": cjk, "sep": sep},
        "opencc": {"meta": metas["opencc"], "t2s": _t2s_table_live()},
    }
    return json.dumps(doc, ensure_ascii=True, sort_keys=True, indent=0) + "\n"


@lru_cache(maxsize=1)
def _t2s_table() -> dict[str, str]:
    """``_t2s_table_live``, from the shipped file when it was made with the installed OpenCC."""
    part = _shipped().get("opencc")
    if part is not None:
        table: dict[str, str] = part["t2s"]
        return table
    return _t2s_table_live()


def _t2s_table_live() -> dict[str, str]:
    """1:1 traditional → simplified character table derived from OpenCC's ``t2s`` once.

    Each Han character is converted on its own (newline-separated, so no phrase rule can span two
    characters). Only single-character results are kept: context-dependent phrase conversions are
    deliberately not applied, so normalisation stays a per-character map whose output does not
    depend on neighbours (terms and text go through the same table, so matching stays consistent).
    """
    import opencc

    ranges = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x2A6DF))
    chars = [chr(cp) for lo, hi in ranges for cp in range(lo, hi + 1)]
    converted = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # pragma: no cover - would mean OpenCC merged lines
        raise RuntimeError("OpenCC t2s changed the number of lines while building the table")
    return {c: s for c, s in zip(chars, converted, strict=True) if len(s) == 1 and s != c}


def _fullwidth(ch: str) -> str:
    cp = ord(ch)
    if 0xFF01 <= cp <= 0xFF5E:
        return chr(cp - 0xFEE0)
    if cp == 0x3000:
        return " "
    return ch


@lru_cache(maxsize=1)
def _unicode_scan() -> tuple[dict[str, str], dict[str, str], frozenset[str], dict[str, str]]:
    """``_unicode_scan_live``, from the shipped file when it was made with this Unicode version."""
    part = _shipped().get("unicode")
    if part is not None:
        return part["compat"], part["fold"], frozenset(part["invisible"]), part["digits"]
    return _unicode_scan_live()


def _unicode_scan_live() -> tuple[dict[str, str], dict[str, str], frozenset[str], dict[str, str]]:
    """One pass over the code points: compatibility forms, case folding, invisibles, other digits."""
    compat: dict[str, str] = {}
    fold: dict[str, str] = {}
    invisible: set[str] = set()
    digits: dict[str, str] = {}
    for cp in range(_SCAN_LIMIT):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        if not 0xFF01 <= cp <= 0xFF5E and cp != 0x3000:
            c = _compat(ch)
            if c != ch:
                compat[ch] = c
        f = ch.casefold()
        if f != ch:
            fold[ch] = f
        if _is_invisible(cp):
            invisible.add(ch)
        if cp > 0x7F:
            d = unicodedata.decimal(ch, None)
            if d is not None:
                digits[ch] = str(d)
    for lo, hi in _COMBINING_BLOCKS:
        invisible.update(chr(cp) for cp in range(lo, hi + 1) if not 0xD800 <= cp <= 0xDFFF)
    invisible.update(chr(cp) for cp in range(0xE0000, 0xE0080))  # tag characters
    return compat, fold, frozenset(invisible), digits


def _char_steps(steps: NormalisationSteps) -> list[dict[str, str]]:
    compat, fold, invisible, other_digits = _unicode_scan()
    chain: list[dict[str, str]] = []
    if steps.fullwidth:
        fw = {chr(cp): chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
        fw["\u3000"] = " "
        chain.append(fw)
    if steps.compatibility_forms:
        chain.append(compat)
    if steps.casefold:
        chain.append(fold)
    if steps.homoglyphs:
        hg = dict(HOMOGLYPHS)
        for cp in list(range(0xC0, 0x250)) + list(range(0x1E00, 0x1F00)):
            b = _strip_accent(chr(cp))
            if b != chr(cp):
                hg[chr(cp)] = b.casefold() if steps.casefold else b
        chain.append(hg)
    if steps.traditional_to_simplified:
        chain.append(_t2s_table())
    if steps.digit_variants:
        d = dict(other_digits)
        d.update(CJK_DIGITS)
        chain.append(d)
    if steps.strip_invisible:
        chain.append(dict.fromkeys(invisible, ""))
    return chain


def _apply_chain(s: str, chain: list[dict[int, str]]) -> str:
    """Each step of ``chain`` (code point → replacement, ``str.translate`` form) in turn over ``s``."""
    for step in chain:
        s = s.translate(step)
    return s


@lru_cache(maxsize=32)
def translate_table(steps: NormalisationSteps) -> dict[int, str]:
    """The composed per-character table for ``steps``, closed under itself (so it is idempotent)."""
    chain = _char_steps(steps)
    domain: set[str] = set()
    for step in chain:
        domain.update(step)
    ord_chain = [{ord(c): out for c, out in step.items()} for step in chain]
    table: dict[int, str] = {}
    for ch in domain:
        out = ch
        for _ in range(8):  # iterate to a fixpoint: f(f(c)) == f(c)
            nxt = _apply_chain(out, ord_chain)
            if nxt == out:
                break
            out = nxt
        if out != ch:
            table[ord(ch)] = out
    return table


def _ranges_to_class(ranges: list[tuple[int, int]]) -> str:
    parts = []
    for lo, hi in ranges:
        parts.append(re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}")
    return "[" + "".join(parts) + "]"


def _collapse(cps: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for cp in sorted(cps):
        if out and cp == out[-1][1] + 1:
            out[-1] = (out[-1][0], cp)
        else:
            out.append((cp, cp))
    return out


def _merge_astral(ranges: list[tuple[int, int]], gap: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if lo > 0xFFFF and out and out[-1][1] > 0xFFFF and lo - out[-1][1] <= gap:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


@lru_cache(maxsize=1)
def char_classes() -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """``_char_classes_live``, from the shipped file when it was made with this Unicode version."""
    part = _shipped().get("unicode")
    if part is not None:
        return (tuple((lo, hi) for lo, hi in part["cjk"]), tuple((lo, hi) for lo, hi in part["sep"]))
    return _char_classes_live()


def _char_classes_live() -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """Disjoint code-point ranges of the two classes the separator step needs: (CJK, separator).

    Separators: spaces, punctuation, symbols (emoji included) and control characters. Astral
    separator ranges are merged across gaps of up to 1024 code points (sre scans astral ranges one
    by one), so a rare historic-script letter inside such a range counts as a separator too. CJK:
    ``CJK_RANGES`` minus anything that is a separator (e.g. the katakana middle dot).
    """
    cps = [cp for cp in range(_SCAN_LIMIT)
           if not 0xD800 <= cp <= 0xDFFF and unicodedata.category(chr(cp))[0] in "ZPSC"
           and unicodedata.category(chr(cp)) not in ("Cf", "Co", "Cn", "Cs")]
    sep = _merge_astral(_collapse(cps), 1024)
    sep_set: set[int] = set()
    for lo, hi in sep:
        sep_set.update(range(lo, hi + 1))
    cjk = _collapse([cp for lo, hi in CJK_RANGES for cp in range(lo, hi + 1) if cp not in sep_set])
    return tuple(cjk), tuple(sep)


def _fast_class(ranges: list[tuple[int, int]] | tuple[tuple[int, int], ...]) -> str:
    """A class sre tests quickly: BMP ranges in one (bitmap) class, astral ones as an alternative.

    (A class mixing BMP and astral characters makes sre scan every range for every character.)
    """
    bmp = [r for r in ranges if r[1] <= 0xFFFF]
    astral = [r for r in ranges if r[1] > 0xFFFF]
    if any(lo <= 0xFFFF < hi for lo, hi in ranges):  # pragma: no cover - none of our ranges straddle
        raise ValueError("range straddles the BMP boundary")
    if not astral:
        return _ranges_to_class(bmp)
    if not bmp:
        return _ranges_to_class(astral)
    return f"(?:{_ranges_to_class(bmp)}|{_ranges_to_class(astral)})"


@lru_cache(maxsize=1)
def separator_regex() -> re.Pattern[str]:
    """A run of separators with a CJK character (or digit) on both sides: ``炸 药``, ``炸.药``, ``炸😀药``."""
    cjk, sep = char_classes()
    return re.compile(f"(?<={_fast_class(cjk)}){_fast_class(sep)}+(?={_fast_class(cjk)})")


@lru_cache(maxsize=16)
def squash_regex(min_run: int) -> re.Pattern[str]:
    """A run of at least ``min_run`` identical characters."""
    return re.compile(r"(.)\1{" + str(min_run - 1) + ",}", re.DOTALL)


@lru_cache(maxsize=32)
def nonunit_regex(steps: NormalisationSteps) -> re.Pattern[str] | None:
    """Characters whose mapping is not exactly one character (deleted or expanded); None if there are none."""
    cps = [cp for cp, out in translate_table(steps).items() if len(out) != 1]
    if not cps:
        return None
    return re.compile(_fast_class(_split_bmp(_collapse(cps))))


def _split_bmp(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in ranges:
        if lo <= 0xFFFF < hi:
            out += [(lo, 0xFFFF), (0x10000, hi)]
        else:
            out.append((lo, hi))
    return out


# numpy look-up tables for the vectorised path --------------------------------------------------

DELETE = 0x110000  #: LUT value: the character is deleted
EXPAND = 0x110001  #: LUT value: the character maps to several characters (handled by str.translate)
CLS_OTHER, CLS_CJK, CLS_SEP = 0, 1, 2


@lru_cache(maxsize=32)
def translate_lut(steps: NormalisationSteps) -> npt.NDArray[np.uint32]:
    """``translate_table`` as a code point → code point array (``DELETE``/``EXPAND`` for the others)."""
    lut = np.arange(0x110000 + 2, dtype=np.uint32)
    for cp, out in translate_table(steps).items():
        lut[cp] = ord(out) if len(out) == 1 else (DELETE if not out else EXPAND)
    lut.setflags(write=False)
    return lut


#: ``sentinel_lut`` values for characters that are deleted / expanded: noncharacters, so the short-text
#: path finds such characters with one ``in`` on the decoded string (a real U+FDD0/U+FDD1 in the input
#: sends the text down the exact path)
SENTINEL_DELETE = 0xFDD0
SENTINEL_EXPAND = 0xFDD1


@lru_cache(maxsize=32)
def sentinel_lut(steps: NormalisationSteps) -> npt.NDArray[np.uint32]:
    """``translate_lut`` with ``DELETE``/``EXPAND`` replaced by the sentinels (valid code points)."""
    lut = translate_lut(steps).copy()
    lut[lut == DELETE] = SENTINEL_DELETE
    lut[lut == EXPAND] = SENTINEL_EXPAND
    lut.setflags(write=False)
    return lut


@lru_cache(maxsize=1)
def class_lut() -> npt.NDArray[np.uint8]:
    """Code point → ``CLS_CJK`` / ``CLS_SEP`` / ``CLS_OTHER`` (the same classes as ``separator_regex``)."""
    lut = np.zeros(0x110000, dtype=np.uint8)
    cjk, sep = char_classes()
    for lo, hi in cjk:
        lut[lo:hi + 1] = CLS_CJK
    for lo, hi in sep:
        lut[lo:hi + 1] = CLS_SEP
    lut.setflags(write=False)
    return lut
