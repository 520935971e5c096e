from __future__ import annotations

import pytest
from pii_factories import bank_card, resident_id, uscc, wrong_check

from hegui.detect.base import Detector
from hegui.detect.pii import PiiDetector, find_pii
from hegui.policy.pack import load_pack


def types_in(text: str) -> list[str]:
    return [s.type for s in find_pii(text)]


def test_pii_detector_is_a_detector() -> None:
    assert isinstance(PiiDetector(), Detector)


@pytest.mark.parametrize(("text", "expected"), [
    (f"身份证号{resident_id()}。", "cn_resident_id"),
    ("身份证 110101900307123 旧版", "cn_resident_id"),
    ("请拨打13812345678联系", "cn_mobile"),
    ("电话 +86 138-1234-5678。", "cn_mobile"),
    ("办公室 (010)62345678", "cn_landline"),
    (f"卡号：{bank_card()}", "bank_card"),
    ("卡号 " + " ".join(bank_card("400012345678901")[i:i + 4] for i in range(0, 16, 4)) + " 谢谢", "bank_card"),
    (f"统一社会信用代码{uscc()}", "cn_uscc"),
    ("护照号E12345678到期", "passport"),
    ("通行证C12345678", "hk_macau_permit"),
    ("回乡证H12345678", "hk_macau_permit"),
    ("通行证L12345678", "taiwan_permit"),
    ("台胞证号码：12345678", "taiwan_permit"),
    ("写信到zhang.san@example.com吧", "email"),
    ("服务器192.168.1.10宕机", "ipv4"),
    ("地址是2001:db8::8a2e:370:7334。", "ipv6"),
    ("车牌京A12345停在门口", "cn_license_plate"),
    ("姓名：张三", "cn_name"),
    ("地址：北京市海淀区中关村大街1号", "cn_address"),
])
def test_each_type_found(text: str, expected: str) -> None:
    assert types_in(text) == [expected]


def test_full_width_digits_found_with_original_offsets() -> None:
    text = "手机：１３８１２３４５６７８"
    [span] = find_pii(text)
    assert span.type == "cn_mobile"
    assert text[span.start:span.end] == "１３８１２３４５６７８"


@pytest.mark.parametrize("text", [
    f"身份证号{wrong_check(resident_id())}",          # wrong check char
    f"身份证号{resident_id(birth='19900230')}",        # 30 February
    f"编号{resident_id(area='990101')}",               # no such province
    f"卡号{wrong_check(bank_card(), '0123456789')}",   # fails Luhn
    "订单号2023110112345678901234",                    # long order number
    f"订单号A{resident_id()}7",                        # ID embedded in a longer run
    "流水号9913812345678123",                           # mobile embedded in digits
    "时间戳1700000000123",                              # millisecond timestamp
    "时间戳1700000000",                                 # unix timestamp
    "版本10.2.3.4.5发布",                               # dotted version, not an IP
    "会议12:30:45开始",                                 # clock time, not IPv6
    "用 std::vector 存储",                              # C++ scope, not IPv6
    f"统一社会信用代码{wrong_check(uscc(), '0123456789ABCDEFGHJKLMNPQRTUWXY')}",
    "型号E1234567X",                                   # not a passport shape
    "京ABCDEF很好",                                    # plate-like letters
    "价格是 12345678 元",                              # bare 8 digits, no label
    "姓名：先生",                                      # label without a name
])
def test_decoys_not_reported(text: str) -> None:
    assert types_in(text) == []


def test_findings_carry_masked_value_never_clear() -> None:
    rid = resident_id()
    text = f"我的身份证是{rid}，手机13812345678"
    findings = PiiDetector().detect(text)
    assert [f.match for f in findings] == [rid[:6] + "********" + rid[-4:], "138****5678"]
    assert all(rid not in f.match and "13812345678" not in f.match for f in findings)


def test_category_from_pack() -> None:
    pack = load_pack("cn-genai")
    [f] = PiiDetector.from_pack(pack).detect("13812345678")
    assert f.category == pack.moderation.pii.category == "A4.6"


def test_types_filter() -> None:
    det = PiiDetector(types=["email"])
    assert [f.type for f in det.detect("13812345678 a@example.com")] == ["email"]


def test_unknown_type_rejected() -> None:
    with pytest.raises(ValueError, match="unknown PII types"):
        PiiDetector(types=["ssn"])


def test_text_without_triggers_is_empty() -> None:
    assert find_pii("今天天气很好，我们去公园散步吧。") == []


def test_every_pattern_bounded_by_max_length() -> None:
    from hegui.detect.pii import MAX_PII_LENGTH

    longest = [
        "a" * 40 + "@" + "b" * 30 + "." + "c" * 8,
        "家庭住址：" + "北京市" * 20,
        "1111:2222:3333:4444:5555:6666:192.168.100.200",
    ]
    for text in longest:
        for span in find_pii(text):
            assert span.end - span.start <= MAX_PII_LENGTH
    assert find_pii("x " + "a" * 41 + "@" + "b" * 30 + ".com") == []
