"""Synthetic resident ID numbers with correct check characters (no real person's number)."""

from __future__ import annotations

from hegui.detect.pii.validators import resident_id_check_char


def make_id(birth: str = "20100307", area: str = "110101", seq: str = "123") -> str:
    first17 = area + birth + seq
    return first17 + resident_id_check_char(first17)


def bad_check(number: str) -> str:
    return number[:-1] + ("0" if number[-1] != "0" else "1")
