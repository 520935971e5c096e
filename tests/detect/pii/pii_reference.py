"""The detector's loop as it was before the batch path and the window filters: the reference the
property tests hold ``find_pii`` and ``find_pii_many`` to (same patterns and validators, old folding,
windows, triggers and scans)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from hegui.detect.pii import detector as d
from hegui.detect.pii import validators as v

_FULLWIDTH = re.compile("[\uff01-\uff5e\u3000]")
_FOLD_CHAR = {chr(k): chr(c) for k, c in d._FOLD.items()}
_FULLWIDTH_RELEVANT = re.compile("[\uff10-\uff1a\uff21-\uff3a\uff41-\uff5a\uff20\uff0e\uff0d\uff08\uff09\uff0b\u3000]")
_DIGIT_RUN = re.compile(r"[0-9]{3,}")
_DOTDIGIT = re.compile(r"[0-9]\.[0-9]")
_PLATE_SCREEN = re.compile("[" + v.PLATE_PROVINCES + "][A-HJ-NP-Z]")
_LABEL_SCREEN = re.compile("[姓联收住地台M]")
_LABELS = ("姓名", "联系人", "收件人", "收货人", "住址", "地址", "台胞证", "台湾居民", "MTP")
_SCREEN = re.compile("[0-9@:.\uff10-\uff19\uff20\uff1a\uff0e" + v.PLATE_PROVINCES + "姓联收住地台M]")
_MARGIN = 26
_ZONE_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+()- ")
_ZONE_RUN = re.compile(r"[0-9A-Za-z+()\- ]+")


def fold_width(text: str) -> str:
    return _FULLWIDTH.sub(lambda m: _FOLD_CHAR[m.group()], text)


def _triggers(folded: str, digits: bool) -> set[str]:
    found = set()
    if digits:
        found.add("digits")
    if "@" in folded:
        found.add("at")
    if ":" in folded and ("::" in folded or "digits" in found or folded.count(":") >= 7):
        found.add("colon")
    if "." in folded and _DOTDIGIT.search(folded):
        found.add("dotdigit")
    if _PLATE_SCREEN.search(folded):
        found.add("plate")
    if _LABEL_SCREEN.search(folded) and any(label in folded for label in _LABELS):
        found.add("label")
    return found


def _digit_windows(folded: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    n = len(folded)
    rev: str | None = None
    for m in _DIGIT_RUN.finditer(folded):
        s, e = m.start(), m.end()
        if out and s <= out[-1][1]:
            s = out[-1][0]
        elif s > 0 and folded[s - 1] in _ZONE_CHARS:
            if rev is None:
                rev = folded[::-1]
            left = _ZONE_RUN.match(rev, n - s, min(n, n - s + _MARGIN))
            s -= left.end() - (n - s) if left else 0
        right = _ZONE_RUN.match(folded, e, min(n, e + _MARGIN))
        e = min(n, (right.end() if right else e) + 1)
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(e, out[-1][1]))
        else:
            out.append((s, e))
    return out


def find_pii(text: str, types: Iterable[str] | None = None) -> list[tuple[str, int, int, str]]:
    """``(type, start, end, value)`` of each span the detector reported before the batch path."""
    if not _SCREEN.search(text):
        return []
    folded = fold_width(text) if _FULLWIDTH_RELEVANT.search(text) else text
    windows = _digit_windows(folded)
    triggers = _triggers(folded, bool(windows))
    whole = sum(we - ws for ws, we in windows) * 2 >= len(folded)
    if not triggers:
        return []
    wanted = set(types) if types is not None else None
    cands: list[tuple[int, int, int, str]] = []
    for prio, pat in enumerate(d._PATTERNS):
        if pat.trigger not in triggers or (wanted is not None and pat.type not in wanted):
            continue
        matches = (pat.regex.finditer(folded) if pat.trigger != "digits" or whole else
                   (m for ws, we in windows for m in pat.regex.finditer(folded, ws, we)))
        for m in matches:
            s, e = m.span(pat.group)
            if pat.validate(folded[s:e]) is not None:
                cands.append((s, s - e, prio, pat.type))
    cands.sort()
    out: list[tuple[str, int, int, str]] = []
    last_end = -1
    for s, neg_len, _prio, typ in cands:
        e = s - neg_len
        if s < last_end < e and typ == "email":
            t = last_end
            while t < e and not folded[t].isalnum():
                t += 1
            if v.validate_email(folded[t:e]):
                s = t
        if s >= last_end:
            out.append((typ, s, e, text[s:e]))
            last_end = e
    return out
