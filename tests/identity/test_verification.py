"""Offline checks of registration input: precise reasons, canonical values, age from the document."""

from __future__ import annotations

from datetime import date

import pytest
from idkit import bad_check, make_id

from hegui.errors import InvalidInputError
from hegui.identity.verification import check_document, check_mobile, check_name, parse_birth_date

TODAY = date(2026, 3, 2)


def test_valid_resident_id_gives_its_birth_date() -> None:
    doc = check_document("resident_id", make_id("20100307").lower(), TODAY)
    assert doc.number == make_id("20100307") and doc.birth_date == date(2010, 3, 7)


def test_bad_check_character_is_named() -> None:
    with pytest.raises(InvalidInputError, match="check character"):
        check_document("resident_id", bad_check(make_id()), TODAY)


def test_impossible_birth_date_is_named() -> None:
    with pytest.raises(InvalidInputError, match="birth date in the number is impossible"):
        check_document("resident_id", make_id("20100230"), TODAY)


def test_future_birth_date_is_named() -> None:
    with pytest.raises(InvalidInputError, match="in the future"):
        check_document("resident_id", make_id("20270101"), TODAY)


def test_unknown_province_is_named() -> None:
    with pytest.raises(InvalidInputError, match="province code"):
        check_document("resident_id", make_id(area="990101"), TODAY)


def test_wrong_length_is_named_without_echoing_the_number() -> None:
    with pytest.raises(InvalidInputError, match="18 characters") as exc:
        check_document("resident_id", "1101011234", TODAY)
    assert "1101011234" not in str(exc.value)


def test_passport_and_permits_are_checked_by_format() -> None:
    assert check_document("passport", "E12345678", TODAY).birth_date is None
    assert check_document("hk_macau_permit", "C12345678", TODAY).number == "C12345678"
    with pytest.raises(InvalidInputError, match="passport"):
        check_document("passport", "X1", TODAY)


def test_unknown_document_type_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="unknown document type"):
        check_document("driving_licence", "123", TODAY)


def test_mobile_is_normalised_and_checked() -> None:
    assert check_mobile("+86 138-0013-8000") == "13800138000"
    with pytest.raises(InvalidInputError, match="mobile"):
        check_mobile("12345")


def test_name_and_birth_date_checks() -> None:
    with pytest.raises(InvalidInputError, match="empty"):
        check_name("  ")
    with pytest.raises(InvalidInputError, match="YYYY-MM-DD"):
        parse_birth_date("2010/01/01", TODAY)
    with pytest.raises(InvalidInputError, match="past"):
        parse_birth_date("2030-01-01", TODAY)
