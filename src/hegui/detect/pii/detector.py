"""``PiiDetector``: Chinese personal identifiers found by pattern, kept only when they validate.

Candidates come from patterns with strict boundaries (a number inside a longer digit run is never
a candidate); each candidate must then pass its validator (checksums, real dates, plausible
prefixes). Full-width digits and letters are folded first with a length-preserving table, so
offsets stay those of the original text.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hegui.detect.base import Direction, Finding
from hegui.detect.pii import validators as v

if TYPE_CHECKING:
    from hegui.detect.pii.screen import BatchScreen
    from hegui.policy.pack import PolicyPack

PII_TYPES: tuple[str, ...] = (
    "cn_resident_id", "bank_card", "cn_uscc", "cn_mobile", "cn_landline", "passport", "hk_macau_permit",
    "taiwan_permit", "email", "ipv4", "ipv6", "cn_license_plate", "cn_name", "cn_address",
)

SEVERITY: dict[str, int] = {
    "cn_resident_id": 3, "bank_card": 3, "passport": 3, "hk_macau_permit": 3, "taiwan_permit": 3,
    "cn_mobile": 2, "email": 2, "cn_license_plate": 2, "cn_name": 2, "cn_address": 2,
    "cn_landline": 1, "cn_uscc": 1, "ipv4": 1, "ipv6": 1,
}

# Longest candidate any pattern below can match, in original characters (separators included):
# e-mail addresses are bounded to 40 + 1 + 30 + 1 + 8 = 80 (longer ones are not detected), the
# others are shorter. The streaming moderator holds back at least this much, so no value
# straddles a release point.
MAX_PII_LENGTH = 80

# Full-width ASCII (U+FF01–FF5E) and the ideographic space fold to ASCII one-for-one.
_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

_NUM_L = r"(?<![0-9A-Za-z])"
_NUM_R = r"(?![0-9A-Za-z])"
_SEP = r"[ \-]"


@dataclass(frozen=True, slots=True)
class _Pattern:
    type: str
    regex: re.Pattern[str]
    validate: Callable[[str], object | None]
    group: int = 0
    trigger: str = "digits"  # the cheap test that must pass before the pattern runs (see _triggers)
    # Digit patterns only: the shortest match, and the longest run of ``\d`` every match holds. A
    # digit window shorter than the one, or whose digit runs are all shorter than the other, is
    # not scanned (the scan could not match there; skipping it saves the call).
    min_len: int = 0
    min_run: int = 0
    # Where a whole-text pattern can match, when far less than the text: it is scanned there only.
    regions: Callable[[str], list[tuple[int, int]]] | None = None


_DECIMAL_DOTS = re.compile(r"[\d.]+")


def _ipv4_regions(folded: str) -> list[tuple[int, int]]:
    """The maximal runs of decimal digits and dots that hold a dot and seven characters or more,
    each with the two characters after it (all the IPv4 pattern's lookaheads read). A match is
    made of ``\\d`` and dots, so it lies in one run and is found there as in the whole text
    (lookbehinds read before the region). A regex scan of the whole text costs ~15 ns a
    character; most text has few dots."""
    out: list[tuple[int, int]] = []
    n = len(folded)
    q = folded.find(".")
    while q != -1:
        s = q
        while s > 0 and (folded[s - 1] == "." or folded[s - 1].isdecimal()):
            s -= 1
        m = _DECIMAL_DOTS.match(folded, q)
        e = m.end() if m else q + 1  # always a match: folded[q] is a dot
        if e - s >= 7:
            out.append((s, min(n, e + 2)))
        q = folded.find(".", e)
    return out


def _ok_taiwan_labelled(s: str) -> str | None:
    return s if s.isdigit() and len(set(s)) > 2 else None


def _ok_name(s: str) -> str | None:
    return s if 2 <= len(s) <= 4 and not any(w in s for w in ("先生", "女士", "不详", "未知", "保密")) else None


def _ok_address(s: str) -> str | None:
    # A real address names an administrative level or a street-level unit.
    return s if re.search(r"[省市区县镇乡村路街道巷号弄栋楼室]", s) else None


_PATTERNS: tuple[_Pattern, ...] = (
    _Pattern("cn_resident_id", re.compile(
        _NUM_L + rf"(?:\d{{6}}{_SEP}?\d{{8}}{_SEP}?\d{{3}}[0-9Xx]|\d{{15}})" + _NUM_R), v.validate_resident_id,
        min_len=15, min_run=8),
    _Pattern("bank_card", re.compile(
        r"(?<![0-9])(?:\d{16,19}|\d{4}(?:[ \-]\d{4}){3}(?:[ \-]?\d{1,3})?)(?![0-9])"), v.validate_bank_card, min_len=16,
        min_run=4),
    _Pattern("cn_uscc", re.compile(_NUM_L + r"[0-9A-Y]{2}\d{6}[0-9A-Y]{10}" + _NUM_R), v.validate_uscc,
             min_len=18, min_run=6),
    _Pattern("cn_mobile", re.compile(
        r"(?<![0-9])(?:(?:\+|00)?86[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2}(?![0-9])"), v.validate_mobile, min_len=11,
        min_run=4),
    _Pattern("cn_landline", re.compile(
        r"(?<![0-9A-Za-z+])(?:(?:\+86|0086)[ \-]?\(?0?|\(?0)(?:10|2\d|[3-9]\d{2})\)?[ \-]?[2-9]\d{6,7}(?![0-9])"),
        v.validate_landline, min_len=10, min_run=7),
    _Pattern("passport", re.compile(_NUM_L + r"[A-Z]{1,2}\d{7,10}" + _NUM_R), v.validate_passport, min_len=8,
             min_run=7),
    _Pattern("hk_macau_permit", re.compile(_NUM_L + r"[A-Z]{1,2}\d{7,10}" + _NUM_R), v.validate_hk_macau_permit,
             min_len=8, min_run=7),
    _Pattern("taiwan_permit", re.compile(_NUM_L + r"L\d{8}" + _NUM_R), v.validate_taiwan_permit, min_len=9,
             min_run=8),
    _Pattern("taiwan_permit", re.compile(
        r"(?:台胞证|台湾居民来往大陆通行证|MTP)(?:号码|号)?[:： ]*(\d{8})(?![0-9])"), _ok_taiwan_labelled, group=1,
        trigger="label"),
    _Pattern("email", re.compile(
        r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9][A-Za-z0-9._%+\-]{0,39}@[A-Za-z0-9.\-]{1,30}\.[A-Za-z]{2,8}"
        r"(?![A-Za-z\-])"), v.validate_email, trigger="at"),
    _Pattern("ipv4", re.compile(r"(?<![0-9A-Za-z.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?[0-9])(?![A-Za-z])"), v.validate_ipv4,
             trigger="dotdigit", regions=_ipv4_regions),
    _Pattern("ipv6", re.compile(
        r"(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4})(?![0-9A-Za-z:])"),
        v.validate_ipv6, trigger="colon"),
    _Pattern("cn_license_plate", re.compile(
        rf"[{v.PLATE_PROVINCES}][A-HJ-NP-Z][·• ]?[A-HJ-NP-Z0-9]{{4,5}}[A-HJ-NP-Z0-9挂学警港澳](?![0-9A-Za-z])"),
        v.validate_license_plate, trigger="plate"),
    _Pattern("cn_name", re.compile(r"(?:姓名|联系人|收件人|收货人)[:：] ?([\u4e00-\u9fff]{2,4})(?![\u4e00-\u9fff])"),
             _ok_name, group=1, trigger="label"),
    _Pattern("cn_address", re.compile(
        r"(?:家庭住址|收货地址|通讯地址|住址|地址)[:：] ?([^\s,，。;；:：!！?？]{6,60})"), _ok_address, group=1,
        trigger="label"),
)

_FULLWIDTH = re.compile("[\uff01-\uff5e\u3000]")
_FOLD_CHAR = {chr(k): chr(c) for k, c in _FOLD.items()}
# full-width characters that can be part of a value or its boundary (not ，。？！ etc.)
_FULLWIDTH_RELEVANT = re.compile("[\uff10-\uff1a\uff21-\uff3a\uff41-\uff5a\uff20\uff0e\uff0d\uff08\uff09\uff0b\u3000]")
# the same characters as a string (their presence decides whether a text is folded)
_FOLD_TRIGGER_CHARS = "".join(ch for ch in _FOLD_CHAR if _FULLWIDTH_RELEVANT.match(ch))

# Cheap tests that gate the patterns: most text has none of these and costs a few searches.
_DIGIT_RUN = re.compile(r"[0-9]{3,}")
_DOTDIGIT = re.compile(r"[0-9]\.[0-9]")
_PLATE_SCREEN = re.compile("[" + v.PLATE_PROVINCES + "][A-HJ-NP-Z]")
_LABEL_SCREEN = re.compile("[姓联收住地台M]")
_LABELS = ("姓名", "联系人", "收件人", "收货人", "住址", "地址", "台胞证", "台湾居民", "MTP")
# One character class that every value or label needs at least one of (full-width forms included).
_SCREEN = re.compile("[0-9@:.\uff10-\uff19\uff20\uff1a\uff0e" + v.PLATE_PROVINCES + "姓联收住地台M]")


def _colon_trigger(folded: str, digits: bool) -> bool:
    return ":" in folded and ("::" in folded or digits or folded.count(":") >= 7)


def _label_trigger(folded: str) -> bool:
    return any(label in folded for label in _LABELS)


def _triggers(folded: str, digits: bool) -> set[str]:
    found = set()
    if digits:
        found.add("digits")
    if "@" in folded:
        found.add("at")
    if _colon_trigger(folded, digits):
        found.add("colon")
    if "." in folded and _DOTDIGIT.search(folded):
        found.add("dotdigit")
    if _PLATE_SCREEN.search(folded):
        found.add("plate")
    if _LABEL_SCREEN.search(folded) and _label_trigger(folded):
        found.add("label")
    return found


_WINDOW_MARGIN = 26  # > the longest stretch of a numeric identifier around a run of three digits
_ZONE_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+()- ")
_ZONE_RUN = re.compile(r"[0-9A-Za-z+()\- ]+")


def _digit_windows(folded: str) -> list[tuple[int, int, int]]:
    """Regions where numeric identifiers can be: around each run of three digits, as far as the
    characters numeric identifiers are made of reach (at most ``_WINDOW_MARGIN``), plus one
    character each side. The numeric patterns scan these instead of the whole text: lookbehinds
    still see the characters before a window, and the extra character lets lookaheads see the
    real next character.

    Each window comes with the length of its longest run of digits (``screen.BatchScreen`` makes
    the same windows for a whole batch)."""
    out: list[tuple[int, int, int]] = []
    n = len(folded)
    rev: str | None = None
    for m in _DIGIT_RUN.finditer(folded):
        s, e = m.span()
        longest = e - s
        if out and s <= out[-1][1]:
            s = out[-1][0]
        elif s > 0 and folded[s - 1] in _ZONE_CHARS:
            if rev is None:
                rev = folded[::-1]
            left = _ZONE_RUN.match(rev, n - s, min(n, n - s + _WINDOW_MARGIN))
            s -= left.end() - (n - s) if left else 0
        right = _ZONE_RUN.match(folded, e, min(n, e + _WINDOW_MARGIN))
        e = min(n, (right.end() if right else e) + 1)
        if out and s <= out[-1][1]:
            ws, we, run = out[-1]
            out[-1] = (ws, max(e, we), max(longest, run))
        else:
            out.append((s, e, longest))
    return out


def fold_width(text: str) -> str:
    """Full-width ASCII to ASCII, one character for one (offsets unchanged).

    One ``str.replace`` per distinct full-width character present: ``str.translate`` with a dict
    table costs ~0.15 µs per character on CJK text, a substitution with a replacement function
    ~1 µs per full-width character; text usually repeats a handful (，：（）).
    """
    for ch in set(_FULLWIDTH.findall(text)):
        text = text.replace(ch, _FOLD_CHAR[ch])
    return text


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """A validated value in the original text (the clear value: never log or store it)."""

    type: str
    start: int
    end: int
    value: str


def find_pii(text: str, types: Iterable[str] | None = None) -> list[PiiSpan]:
    """All validated identifiers in ``text``, non-overlapping, in order (longest wins a tie)."""
    if len(text) >= _SCREEN_SINGLE_CHARS:
        return _screened([text], set(types) if types is not None else None, load_kernel=False)[0]
    if not _SCREEN.search(text):
        return []
    folded = fold_width(text) if _FULLWIDTH_RELEVANT.search(text) else text
    windows = _digit_windows(folded)
    triggers = _triggers(folded, bool(windows))
    if not triggers:
        return []
    return _spans(text, folded, windows, triggers, set(types) if types is not None else None)


@functools.lru_cache(maxsize=512)
def _plan(triggers: frozenset[str], wanted: frozenset[str] | None
          ) -> tuple[tuple[tuple[int, _Pattern], ...], tuple[tuple[int, _Pattern], ...]]:
    """The patterns to run, as (priority, pattern): the digit patterns, then the others."""
    run = [(prio, pat) for prio, pat in enumerate(_PATTERNS)
           if pat.trigger in triggers and (wanted is None or pat.type in wanted)]
    return (tuple(x for x in run if x[1].trigger == "digits"), tuple(x for x in run if x[1].trigger != "digits"))


_MIN_LEN = min(pat.min_len for pat in _PATTERNS if pat.trigger == "digits")
_MIN_RUN = min(pat.min_run for pat in _PATTERNS if pat.trigger == "digits")


def _spans(text: str, folded: str, windows: list[tuple[int, int, int]], triggers: set[str],
           wanted: set[str] | None) -> list[PiiSpan]:
    """The patterns whose trigger fired, run over ``folded``, validated and resolved to spans of ``text``."""
    digit_pats, other_pats = _plan(frozenset(triggers), None if wanted is None else frozenset(wanted))
    cands: list[tuple[int, int, int, str]] = []  # start, -length, priority, type
    if digit_pats:
        if sum(we - ws for ws, we, _ in windows) * 2 >= len(folded):  # short text: one scan is cheaper
            other_pats = digit_pats + other_pats
        else:
            for ws, we, run in windows:
                size = we - ws
                if size < _MIN_LEN:
                    continue
                if not folded[ws:we].isascii():
                    run = size  # ``\d`` is more than [0-9] here: the run bound says nothing
                if run < _MIN_RUN:
                    continue
                for prio, pat in digit_pats:
                    if size >= pat.min_len and run >= pat.min_run:
                        for m in pat.regex.finditer(folded, ws, we):
                            s, e = m.span(pat.group)
                            if pat.validate(folded[s:e]) is not None:
                                cands.append((s, s - e, prio, pat.type))
    for prio, pat in other_pats:
        for ws, we in ((0, len(folded)),) if pat.regions is None else pat.regions(folded):
            for m in pat.regex.finditer(folded, ws, we):
                s, e = m.span(pat.group)
                if pat.validate(folded[s:e]) is not None:
                    cands.append((s, s - e, prio, pat.type))
    cands.sort()
    out: list[PiiSpan] = []
    last_end = -1
    for s, neg_len, _prio, typ in cands:
        e = s - neg_len
        if s < last_end < e and typ == "email":
            # an address glued to the previous value: its local part starts after it
            t = last_end
            while t < e and not folded[t].isalnum():
                t += 1
            if v.validate_email(folded[t:e]):
                s = t
        if s >= last_end:
            out.append(PiiSpan(typ, s, e, text[s:e]))
            last_end = e
    return out


# Below this many characters in all, texts go through find_pii one by one: the screen's fixed
# cost (0.05-0.15 ms, some fifty numpy calls) is more than it saves.
_BATCH_MIN_CHARS = 2048
# From this many characters on, one text alone is cheaper through the screen (its regex scans
# cost ~40 ns a character, the screen's ~10 plus its fixed cost).
_SCREEN_SINGLE_CHARS = 4096
_screen: BatchScreen | None = None
_screen_lock = threading.Lock()


def _batch_screen() -> BatchScreen:
    """The batch screen, built on first use (a table the single-text path never needs)."""
    global _screen
    if _screen is None:
        with _screen_lock:
            if _screen is None:
                from hegui.detect.pii.screen import BatchScreen

                _screen = BatchScreen(_LABELS, _FOLD_TRIGGER_CHARS, "".join(sorted(_ZONE_CHARS)), _WINDOW_MARGIN)
    return _screen


def find_pii_many(texts: Sequence[str], types: Iterable[str] | None = None) -> list[list[PiiSpan]]:
    """``[find_pii(t, types) for t in texts]``, cheaper on a corpus batch.

    One pass over the batch (``screen.BatchScreen``: compiled when numba loads, else numpy) finds,
    per text, the character stretches the triggers need, the digit windows, and the folded form;
    texts without any stretch get ``[]`` at once, the others the same trigger tests (completed
    where the stretch is only a necessary condition), windows and pattern scans as in ``find_pii``.
    """
    wanted = set(types) if types is not None else None
    if sum(map(len, texts)) < _BATCH_MIN_CHARS:
        return [find_pii(text, wanted) for text in texts]
    return _screened(texts, wanted)


def _screened(texts: Sequence[str], wanted: set[str] | None, load_kernel: bool = True) -> list[list[PiiSpan]]:
    """``find_pii_many`` through the screen, whatever the batch's size. ``load_kernel``: whether the
    screen may import numba and load its compiled pass now (``find_pii`` on one long text, say in a
    gateway request, does not: it uses the compiled pass only once a batch has loaded it)."""
    from hegui.detect.pii import screen as sc

    triggers = {pat.trigger for pat in _PATTERNS if wanted is None or pat.type in wanted}
    out: list[list[PiiSpan]] = [[] for _ in texts]
    if not triggers or not texts:
        return out
    for i, folded, windows, bits in _batch_screen().scan(texts, triggers, load_kernel):
        digits = bool(windows)
        found = {"digits"} if digits else set()
        if bits & sc.AT:
            found.add("at")
        if bits & sc.COLON_PAIR and _colon_trigger(folded, digits):
            found.add("colon")
        if bits & sc.DOTDIGIT:
            found.add("dotdigit")
        if bits & sc.PLATE:
            found.add("plate")
        if bits & sc.LABEL_PAIR and _label_trigger(folded):
            found.add("label")
        if found:
            out[i] = _spans(texts[i], folded, windows, found, wanted)
    return out


class PiiDetector:
    """Detector for Chinese personal identifiers; findings carry the *masked* value only."""

    name = "pii"

    def __init__(self, category: str | None = "A4.6", types: Iterable[str] | None = None) -> None:
        self.category = category
        self.types: tuple[str, ...] = tuple(types) if types is not None else PII_TYPES
        unknown = set(self.types) - set(PII_TYPES)
        if unknown:
            raise ValueError(f"unknown PII types: {', '.join(sorted(unknown))}")
        self._types_filter = None if self.types == PII_TYPES else self.types
        self.max_length = MAX_PII_LENGTH

    @classmethod
    def from_pack(cls, pack: PolicyPack) -> PiiDetector:
        return cls(category=pack.moderation.pii.category)

    def spans(self, text: str) -> list[PiiSpan]:
        return find_pii(text, self._types_filter)

    def detect(self, text: str, direction: Direction = "input") -> list[Finding]:
        return self._findings(find_pii(text, self._types_filter))

    def detect_many(self, texts: Sequence[str], direction: Direction = "input") -> list[list[Finding]]:
        """``[self.detect(t, direction) for t in texts]`` (same findings, same order), cheaper on a batch."""
        return [self._findings(spans) for spans in find_pii_many(texts, self._types_filter)]

    def _findings(self, spans: list[PiiSpan]) -> list[Finding]:
        if not spans:
            return []
        from hegui.detect.pii.masking import partial_mask  # masking imports this module

        return [
            Finding("pii", sp.type, self.category, SEVERITY[sp.type], sp.start, sp.end,
                    partial_mask(sp.type, sp.value), 1.0, f"pii:{sp.type}")
            for sp in spans
        ]
