"""Validators for Chinese personal identifiers: checksums and structure, not bare patterns.

Each ``validate_*`` takes one candidate string and returns the canonical value (or a richer
record) when it is a plausible real identifier, else ``None``. The detector uses them to drop
decoys (wrong check digit, impossible dates, order numbers); the identity package reuses them
to check what a user types at registration.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import date

# Province-level codes of GB/T 2260 (first two digits of an administrative area code).
PROVINCE_CODES: frozenset[str] = frozenset(
    {f"{n}" for n in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
                      50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82)}
)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


_SEPARATORS = re.compile(r"[\s\-]")


def _separators_out(s: str) -> str:
    return s if s.isalnum() else _SEPARATORS.sub("", s)


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A validated mainland resident identity card number (居民身份证号码)."""

    number: str  # as validated, upper-case X, no separators
    area_code: str
    birth_date: date
    sex: str  # "M" or "F" (odd/even sequence digit)
    legacy: bool  # the 15-digit first-generation form

    @property
    def province_code(self) -> str:
        return self.area_code[:2]

    def age_on(self, day: date) -> int:
        """Completed years on ``day`` (what minors' rules need)."""
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


def resident_id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("need exactly 17 ASCII digits")
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _real_date(year: int, month: int, day: int, today: date | None) -> date | None:
    try:
        d = date(year, month, day)
    except ValueError:
        return None
    if d.year < 1900 or d > (today or date.today()):
        return None
    return d


def validate_resident_id(s: str, today: date | None = None) -> ResidentId | None:
    """18-digit (check char) or 15-digit legacy ID with a real province and a real past birth date."""
    s = _separators_out(s).upper()
    if len(s) == 18 and s[:17].isascii() and s[:17].isdigit() and (s[17].isdigit() or s[17] == "X"):
        if s[:2] not in PROVINCE_CODES or resident_id_check_char(s[:17]) != s[17]:
            return None
        born = _real_date(int(s[6:10]), int(s[10:12]), int(s[12:14]), today)
        if born is None:
            return None
        return ResidentId(s, s[:6], born, "M" if int(s[16]) % 2 else "F", legacy=False)
    if len(s) == 15 and s.isascii() and s.isdigit():
        if s[:2] not in PROVINCE_CODES:
            return None
        born = _real_date(1900 + int(s[6:8]), int(s[8:10]), int(s[10:12]), today)
        if born is None:
            return None
        return ResidentId(s, s[:6], born, "M" if int(s[14]) % 2 else "F", legacy=True)
    return None


# Mobile number segments in use (三大运营商, 广电 192, virtual operators 162/165/167/170/171).
_MOBILE_PREFIX = re.compile(r"^1(?:3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9[0-35-9])\d{8}$")


def validate_mobile(s: str) -> str | None:
    """An 11-digit mainland mobile number (optionally +86/0086/86-prefixed); returns the 11 digits."""
    d = _separators_out(s)
    for prefix in ("+86", "0086", "86"):
        if d.startswith(prefix) and len(d) == 11 + len(prefix):
            d = d[len(prefix):]
            break
    return d if _MOBILE_PREFIX.match(d) else None


_LANDLINE = re.compile(r"^(?:\+86|0086)?[\s\-]?\(?0?(10|2\d|[3-9]\d{2})\)?[\s\-]?([2-9]\d{6,7})(?:[\s\-]?\d{1,4})?$")


def validate_landline(s: str) -> str | None:
    """A fixed-line number with a real-looking area code: returns ``0AREA-NUMBER``."""
    m = _LANDLINE.match(s.strip())
    if not m:
        return None
    area, number = m.group(1), m.group(2)
    # Two-digit area codes are 10 and 20–29; three-digit ones never start with 0 after the trunk 0.
    return f"0{area}-{number}"


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check every payment card number carries."""
    if not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for i, c in enumerate(reversed(digits)):
        n = int(c)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def luhn_check_digit(body: str) -> str:
    """The digit that makes ``body + digit`` pass Luhn (for tests and synthetic data)."""
    for c in "0123456789":
        if luhn_ok(body + c):
            return c
    raise AssertionError("unreachable")


def _plausible_bin(d: str) -> bool:
    # UnionPay 62/60/65/81, Visa 4, Mastercard 51–55 and 2221–2720, JCB 35, domestic debit 9.
    if d[0] == "4" or d[:2] in {"62", "60", "65", "81", "35"} or "51" <= d[:2] <= "55":
        return True
    if "2221" <= d[:4] <= "2720":
        return True
    return d[:2] in {"94", "95", "99"} and len(d) == 19


def validate_bank_card(s: str) -> str | None:
    """A 16–19 digit card number with a plausible issuer prefix that passes Luhn."""
    d = _separators_out(s)
    if not 16 <= len(d) <= 19 or not d.isascii() or not d.isdigit():
        return None
    if len(set(d)) < 3 or not _plausible_bin(d) or not luhn_ok(d):
        return None
    return d


USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100: no I, O, S, V, Z
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(r"^[1-9A-GY][1-9A-Z]\d{6}[0-9A-HJ-NP-RTUW-Y]{10}$")


def uscc_check_char(first17: str) -> str:
    """GB 32100 check character (mod 31) for the first 17 characters of a social credit code."""
    if len(first17) != 17 or any(c not in USCC_CHARS for c in first17):
        raise ValueError("need 17 characters from the GB 32100 character set")
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def validate_uscc(s: str) -> str | None:
    """A unified social credit code (统一社会信用代码) with a valid check char and area code."""
    s = s.strip().upper()
    if not _USCC_SHAPE.match(s) or any(c not in USCC_CHARS for c in s):
        return None
    if s[2:4] not in PROVINCE_CODES and s[2:4] != "10":  # 10xxxx = central authorities
        return None
    return s if uscc_check_char(s[:17]) == s[17] else None


_PASSPORT = re.compile(r"^(?:E\d{8}|E[A-HJ-NP-Z]\d{7}|G\d{8}|[DPS]E?\d{7})$")
_HK_MACAU = re.compile(r"^(?:C[0-9A-HJ-NP-Z]\d{7}|W\d{8}|[HM]\d{8}(?:\d{2})?)$")
_TAIWAN = re.compile(r"^L\d{8}$")


def _not_repetitive(digits: str) -> bool:
    return len(set(digits)) > 2


def validate_passport(s: str) -> str | None:
    """A PRC passport number: ordinary E/G, diplomatic D(E), service S(E), public-affairs P(E)."""
    s = s.strip()
    return s if _PASSPORT.match(s) and _not_repetitive(s[-7:]) else None


def validate_hk_macau_permit(s: str) -> str | None:
    """往来港澳通行证 (C…, old W…) or 港澳居民来往内地通行证 (H…/M…)."""
    s = s.strip()
    return s if _HK_MACAU.match(s) and _not_repetitive(s[-7:]) else None


def validate_taiwan_permit(s: str) -> str | None:
    """大陆居民往来台湾通行证 (L + 8 digits) or a bare 8-digit 台湾居民来往大陆通行证 number."""
    s = s.strip()
    if _TAIWAN.match(s) or (len(s) == 8 and s.isascii() and s.isdigit()):
        return s if _not_repetitive(s[-7:]) else None
    return None


_EMAIL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+"
                    r"[A-Za-z]{2,24}$")


def validate_email(s: str) -> str | None:
    """An e-mail address with a real-looking domain (letters-only TLD, no ``..``)."""
    s = s.strip()
    return s if _EMAIL.match(s) and ".." not in s else None


def validate_ipv4(s: str) -> str | None:
    """Dotted-quad IPv4 without leading zeros."""
    parts = s.split(".")
    if len(parts) != 4 or any(not p.isascii() or not p.isdigit() or (len(p) > 1 and p[0] == "0") for p in parts):
        return None
    try:
        return str(ipaddress.IPv4Address(s))
    except ValueError:
        return None


def validate_ipv6(s: str) -> str | None:
    """An IPv6 address (full or ``::``-compressed, optional embedded IPv4), not just ``::``."""
    if s.count(":") < 2 or not any(c not in ":." for c in s):
        return None
    try:
        return str(ipaddress.IPv6Address(s))
    except ValueError:
        return None


PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(
    rf"^[{PLATE_PROVINCES}][A-HJ-NP-Z][·•\s]?"
    r"(?:[A-HJ-NP-Z0-9]{4}[A-HJ-NP-Z0-9挂学警港澳]|[DF][A-HJ-NP-Z0-9]\d{4}|\d{5}[DF])$"
)


def validate_license_plate(s: str) -> str | None:
    """A mainland plate: province abbreviation, issuing-office letter, 5 chars (6 for new energy).

    Standard plates hold at least three digits in the serial; that keeps words like 京ABCDE out.
    """
    s = s.strip()
    if not _PLATE.match(s):
        return None
    serial = re.sub(r"[·•\s]", "", s)[2:]
    if sum(c.isdigit() for c in serial) < 3:
        return None
    return re.sub(r"[·•\s]", "", s)
