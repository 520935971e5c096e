"""Synthetic identifiers with correct check characters (computed, never copied from real people)."""

from __future__ import annotations

from hegui.detect.pii import luhn_check_digit, resident_id_check_char, uscc_check_char


def resident_id(area: str = "110101", birth: str = "19900307", seq: str = "123") -> str:
    body = area + birth + seq
    return body + resident_id_check_char(body)


def wrong_check(number: str, alphabet: str = "0123456789X") -> str:
    """The same number with a different, wrong last character."""
    last = number[-1]
    other = next(c for c in alphabet if c != last)
    return number[:-1] + other


def bank_card(body: str = "622202123456789012") -> str:
    return body + luhn_check_digit(body)


def uscc(first17: str = "91110108MA01ABCD1") -> str:
    return first17 + uscc_check_char(first17)
