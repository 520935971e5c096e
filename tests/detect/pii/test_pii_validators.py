from __future__ import annotations

from datetime import date

import pytest
from pii_factories import bank_card, resident_id, uscc, wrong_check

from hegui.detect.pii import (
    luhn_ok,
    validate_bank_card,
    validate_email,
    validate_hk_macau_permit,
    validate_ipv4,
    validate_ipv6,
    validate_landline,
    validate_license_plate,
    validate_mobile,
    validate_passport,
    validate_resident_id,
    validate_taiwan_permit,
    validate_uscc,
)

TODAY = date(2026, 1, 1)


def test_resident_id_valid_gives_birth_date_and_sex() -> None:
    rid = validate_resident_id(resident_id(seq="123"), today=TODAY)
    assert rid is not None
    assert rid.birth_date == date(1990, 3, 7)
    assert rid.sex == "M"  # 17th digit (3) is odd
    assert rid.province_code == "11"


def test_resident_id_sex_from_seventeenth_digit() -> None:
    male = validate_resident_id(resident_id(seq="121"), today=TODAY)
    female = validate_resident_id(resident_id(seq="122"), today=TODAY)
    assert male is not None and male.sex == "M"
    assert female is not None and female.sex == "F"


def test_resident_id_check_char_x_accepted_lower_case_too() -> None:
    # find a sequence whose check char is X
    for n in range(1000):
        number = resident_id(seq=f"{n:03d}")
        if number.endswith("X"):
            break
    assert validate_resident_id(number, today=TODAY) is not None
    assert validate_resident_id(number.lower(), today=TODAY) is not None


def test_resident_id_wrong_check_char_rejected() -> None:
    assert validate_resident_id(wrong_check(resident_id()), today=TODAY) is None


def test_resident_id_impossible_date_rejected() -> None:
    assert validate_resident_id(resident_id(birth="19900230"), today=TODAY) is None
    assert validate_resident_id(resident_id(birth="19901301"), today=TODAY) is None


def test_resident_id_future_birth_date_rejected() -> None:
    assert validate_resident_id(resident_id(birth="20300101"), today=TODAY) is None


def test_resident_id_unknown_province_rejected() -> None:
    assert validate_resident_id(resident_id(area="990101"), today=TODAY) is None
    assert validate_resident_id(resident_id(area="010101"), today=TODAY) is None


def test_resident_id_legacy_15_digits() -> None:
    rid = validate_resident_id("110101900307123", today=TODAY)
    assert rid is not None and rid.legacy and rid.birth_date == date(1990, 3, 7) and rid.sex == "M"
    assert validate_resident_id("110101901307123", today=TODAY) is None


def test_resident_id_age() -> None:
    rid = validate_resident_id(resident_id(birth="20100615"), today=TODAY)
    assert rid is not None
    assert rid.age_on(date(2026, 6, 14)) == 15
    assert rid.age_on(date(2026, 6, 15)) == 16


@pytest.mark.parametrize("s", ["13812345678", "+86 138 1234 5678", "86-138-1234-5678", "0086 19912345678"])
def test_mobile_valid(s: str) -> None:
    assert validate_mobile(s) is not None


@pytest.mark.parametrize("s", ["12812345678", "1381234567", "14012345678", "19412345678"])
def test_mobile_invalid_prefix_or_length(s: str) -> None:
    assert validate_mobile(s) is None


def test_landline_valid_forms() -> None:
    assert validate_landline("010-62345678") == "010-62345678"
    assert validate_landline("(0755)2345678") == "0755-2345678"
    assert validate_landline("+86 21 62345678") == "021-62345678"


def test_landline_local_number_cannot_start_with_0_or_1() -> None:
    assert validate_landline("010-12345678") is None


def test_luhn() -> None:
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")


def test_bank_card_valid() -> None:
    assert validate_bank_card(bank_card()) is not None
    visa = bank_card("400012345678901")
    assert validate_bank_card(" ".join(visa[i:i + 4] for i in range(0, 16, 4))) is not None


def test_bank_card_wrong_luhn_rejected() -> None:
    assert validate_bank_card(wrong_check(bank_card(), "0123456789")) is None


def test_bank_card_order_number_prefix_rejected() -> None:
    # an order number that happens to pass Luhn but starts with a date, not an issuer prefix
    body = "2023110100001234"[:-1]
    from hegui.detect.pii import luhn_check_digit

    assert validate_bank_card(body + luhn_check_digit(body)) is None


def test_uscc_valid_and_wrong_check() -> None:
    code = uscc()
    assert validate_uscc(code) == code
    assert validate_uscc(wrong_check(code, "0123456789ABCDEFGHJKLMNPQRTUWXY")) is None


def test_uscc_forbidden_letters_rejected() -> None:
    assert validate_uscc(uscc("91110108MA01ABCD1")[:10] + "I" + uscc()[11:]) is None


def test_passport_forms() -> None:
    assert validate_passport("E12345678") == "E12345678"
    assert validate_passport("EA1234567") == "EA1234567"
    assert validate_passport("G23456789") == "G23456789"
    assert validate_passport("DE1234567") == "DE1234567"
    assert validate_passport("E1234567") is None
    assert validate_passport("EI1234567") is None
    assert validate_passport("E11111111") is None


def test_hk_macau_and_taiwan_permits() -> None:
    assert validate_hk_macau_permit("C12345678") is not None
    assert validate_hk_macau_permit("H12345678") is not None
    assert validate_hk_macau_permit("M1234567890") is not None
    assert validate_hk_macau_permit("X12345678") is None
    assert validate_taiwan_permit("L12345678") is not None
    assert validate_taiwan_permit("L1234567") is None


def test_email() -> None:
    assert validate_email("zhang.san@example.com.cn") is not None
    assert validate_email("a..b@example.com") is None
    assert validate_email("user@localhost") is None


def test_ipv4() -> None:
    assert validate_ipv4("192.168.1.10") == "192.168.1.10"
    assert validate_ipv4("256.1.1.1") is None
    assert validate_ipv4("01.2.3.4") is None


def test_ipv6() -> None:
    assert validate_ipv6("2001:db8::1") is not None
    assert validate_ipv6("::ffff:192.168.1.1") is not None
    assert validate_ipv6("12:30:45") is None
    assert validate_ipv6("::") is None


def test_license_plate() -> None:
    assert validate_license_plate("京A12345") == "京A12345"
    assert validate_license_plate("粤B·D12345") == "粤BD12345"
    assert validate_license_plate("沪A12345D") == "沪A12345D"
    assert validate_license_plate("京ABCDE1") is None
    assert validate_license_plate("京I12345") is None
