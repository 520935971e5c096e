"""Offline checks of what a user types at registration: document number, mobile, name.

Reuses the PII validators (check digits, real dates); on failure it says precisely what is wrong,
so a typo gets a useful answer. Error messages never repeat the number itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from hegui.detect.pii.validators import (
    PROVINCE_CODES,
    resident_id_check_char,
    validate_hk_macau_permit,
    validate_mobile,
    validate_passport,
    validate_resident_id,
    validate_taiwan_permit,
)
from hegui.errors import InvalidInputError

DocType = Literal["resident_id", "passport", "hk_macau_permit", "taiwan_permit"]
DOC_TYPES: tuple[str, ...] = get_args(DocType)
DOC_LABELS = {"resident_id": "居民身份证 resident ID card", "passport": "护照 passport",
              "hk_macau_permit": "港澳通行证 HK/Macau permit", "taiwan_permit": "台湾通行证 Taiwan permit"}


@dataclass(frozen=True, slots=True)
class CheckedDocument:
    doc_type: str
    number: str  # canonical form
    birth_date: date | None  # known from the number itself (resident ID) or None


def _resident_id_problem(raw: str, today: date) -> str:
    s = re.sub(r"[\s\-]", "", raw).upper()
    if len(s) not in (15, 18):
        return f"a resident ID number has 18 characters (or 15 for the old card), got {len(s)}"
    if not s[:17].isascii() or not s[:17].isdigit() or not (s[-1].isdigit() or (len(s) == 18 and s[-1] == "X")):
        return "a resident ID number is digits only, with X allowed as the last character"
    if s[:2] not in PROVINCE_CODES:
        return "the first two digits are not a province code (GB/T 2260)"
    if len(s) == 18 and resident_id_check_char(s[:17]) != s[17]:
        return "the check character (last character) does not match (ISO 7064 MOD 11-2): mistyped digit?"
    y, m, d = (int(s[6:10]), int(s[10:12]), int(s[12:14])) if len(s) == 18 else \
        (1900 + int(s[6:8]), int(s[8:10]), int(s[10:12]))
    try:
        born = date(y, m, d)
    except ValueError:
        return "the birth date in the number is impossible"
    if born > today or born.year < 1900:
        return "the birth date in the number is in the future or before 1900"
    return "the number is not a valid resident ID number"


def check_document(doc_type: str, number: str, today: date) -> CheckedDocument:
    """The canonical document, or ``InvalidInputError`` saying what is wrong."""
    if doc_type not in DOC_TYPES:
        raise InvalidInputError(f"unknown document type {doc_type!r}: expected one of {', '.join(DOC_TYPES)}")
    number = (number or "").strip()
    if not number:
        raise InvalidInputError("document number must not be empty")
    if doc_type == "resident_id":
        rid = validate_resident_id(number, today=today)
        if rid is None:
            raise InvalidInputError(f"invalid resident ID number: {_resident_id_problem(number, today)}")
        return CheckedDocument(doc_type, rid.number, rid.birth_date)
    validator = {"passport": validate_passport, "hk_macau_permit": validate_hk_macau_permit,
                 "taiwan_permit": validate_taiwan_permit}[doc_type]
    canonical = validator(number.upper())
    if canonical is None:
        raise InvalidInputError(f"invalid {DOC_LABELS[doc_type]} number: wrong format for this document type")
    return CheckedDocument(doc_type, canonical, None)


def check_mobile(mobile: str) -> str:
    m = validate_mobile(mobile or "")
    if m is None:
        raise InvalidInputError("invalid mobile number: expected an 11-digit mainland number (optionally +86)")
    return m


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInputError("real name must not be empty")
    if len(name) > 100:
        raise InvalidInputError("real name is longer than 100 characters")
    if any(c.isdigit() for c in name):
        raise InvalidInputError("real name must not contain digits")
    return name


def parse_birth_date(value: str, today: date) -> date:
    try:
        born = date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInputError(f"birth date must be YYYY-MM-DD, got {value!r}") from None
    if born > today or born.year < 1900:
        raise InvalidInputError("birth date must be in the past and after 1900")
    return born
