"""``find_pii_many`` / ``detect_many`` give exactly what ``find_pii`` / ``detect`` give per text, and both
give what the detector gave before its batch path and window filters (``pii_reference``)."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pii_factories import bank_card, resident_id, uscc
from pii_reference import find_pii as reference

from hegui.detect.pii import PII_TYPES, PiiDetector, PiiSpan, find_pii, fold_width, screen
from hegui.detect.pii import detector as d
from hegui.detect.pii.detector import find_pii_many


@pytest.fixture(autouse=True)
def _always_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small batches too go through the screen (not the per-text path that short batches take)."""
    monkeypatch.setattr(d, "_BATCH_MIN_CHARS", 0)


def _full_width(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if 0x21 <= ord(c) <= 0x7E else "\u3000" if c == " " else c for c in s)


# each digit pattern's value with its shortest digit run (the window filter's limit) and with
# its fewest digits are among these
_VALUES = [
    resident_id(), resident_id(area="440305", birth="20010229"), resident_id()[:-1] + "x", "110101900307123",
    "-".join((resident_id()[:6], resident_id()[6:14], resident_id()[14:])), uscc("9A110108MA01ABCD1"),
    uscc("AA110108MABCDEFGH"), "0571-8123456", "(010)6234567", bank_card(),
    " ".join(bank_card("400012345678901")[i:i + 4] for i in range(0, 16, 4)), uscc(),
    "13812345678", "+86 138-1234-5678", "008613912345678", "(010)62345678", "021-62345678", "+86 10 62345678",
    "E12345678", "DE1234567", "C12345678", "CA1234567", "H1234567890", "L12345678",
    "zhang.san@example.com", "a@b.co", "192.168.1.10", "10.0.0.1",
    "2001:db8::8a2e:370:7334", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "1:2:3:4:5:6:7:8", "fe80::1",
    "::ffff:192.168.1.1", "京A12345", "粤B·D12345", "沪C 1234学",
    "姓名：张三", "联系人:李四", "收件人： 王五", "收货人：先生",
    "地址：北京市海淀区中关村大街1号", "住址:上海市浦东新区",
    "台胞证号码：12345678", "MTP 87654321", "台湾居民来往大陆通行证号12345670",
]
_FRAGMENTS = [
    "2023年5月12日", "2023-05-12", "12:30:45", "v1.2.3", "99.5%", "第123页", "共计123456元",
    "订单号2023110112345678901234", "ISBN 978-7-111-12345-6", "std::vector", "1.2.3.4a", "1.2.3.4.5", "1.2.3.4.",
    "..1.2.3.4", "1.2.3.45678", "\u0663.1.2.3.4", "1.2.3.\u0664", "v1.2.3.4", "255.255.255.255", "01.2.3.4",
    "::", ":", "：", ".", "．", "@", "＠", "-", " ", "  ", "(", ")", "+", "+86", "0086", "86",
    "x", "X", "MTP", "ＭＴＰ", "M", "T", "L", "E", "京", "粤", "A", "姓名", "地址", "台", "号码",
    "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668", "\u0663", "\u0966\u0967\u0968", "\U0001d7ce\U0001d7cf",
    "，", "。", "！", "％", "＿", "\u3000", "\n", "\t", "\0", "\ud800", "😀", "abc", "ABC", "def",
]
_CJK = st.text(alphabet=st.sampled_from("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于"
                                        "出就分对成会可主发年动同京津沪粤苏浙姓名联系收件货住址台胞湾"),
               min_size=1, max_size=12)
_DIGITS = st.text(alphabet=st.sampled_from("0123456789"), min_size=1, max_size=22)
_PIECE = st.one_of(
    st.sampled_from(_VALUES), st.sampled_from(_VALUES).map(_full_width), st.sampled_from(_FRAGMENTS), _CJK, _DIGITS,
    _DIGITS.map(_full_width), st.text(max_size=6),
    st.text(alphabet=st.sampled_from("0123456789ABCDEFXxabcdef.:-@ ()+"), max_size=24),
)
_PAD = st.sampled_from(["今天天气很好我们去公园散步吧" * 3, "the quick brown fox jumps over the lazy dog " * 2,
                        "订单 2023 年 第 12 期，", "ref 2024 no. 17 of 300 "])
_TEXT = st.lists(st.one_of(_PIECE, _PAD), max_size=14).map("".join)
_TYPES = st.none() | st.lists(st.sampled_from(PII_TYPES), max_size=4).map(tuple)


def _tuples(spans: list[PiiSpan]) -> list[tuple[str, int, int, str]]:
    return [(s.type, s.start, s.end, s.value) for s in spans]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(_TEXT, max_size=6), types=_TYPES)
def test_batch_equals_single_equals_reference(texts: list[str], types: tuple[str, ...] | None) -> None:
    single = [_tuples(find_pii(t, types)) for t in texts]
    assert single == [reference(t, types) for t in texts]
    assert [_tuples(spans) for spans in find_pii_many(texts, types)] == single


@settings(max_examples=150, deadline=None)
@given(texts=st.lists(_TEXT, min_size=1, max_size=12))
def test_batch_across_chunks(texts: list[str]) -> None:
    """Texts screened in several chunks (a chunk boundary after nearly every text) come out the same."""
    old = screen._CHUNK_CHARS
    screen._CHUNK_CHARS = 16
    try:
        batch = find_pii_many(texts)
    finally:
        screen._CHUNK_CHARS = old
    assert [_tuples(s) for s in batch] == [reference(t) for t in texts]


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(_TEXT, min_size=1, max_size=6))
def test_screen_windows_are_digit_windows(texts: list[str]) -> None:
    """The batch screen's folded forms and windows are the single-text path's."""
    for i, folded, windows, _bits in d._batch_screen().scan(texts, ["digits"]):
        expected = fold_width(texts[i]) if d._FULLWIDTH_RELEVANT.search(texts[i]) else texts[i]
        assert folded == expected
        assert windows == d._digit_windows(folded)


@settings(max_examples=200, deadline=None)
@given(text=_TEXT)
def test_fold_width_unchanged(text: str) -> None:
    from pii_reference import fold_width as old_fold

    assert fold_width(text) == old_fold(text)


_CONTEXTS = [
    ("", ""), ("今天天气很好，我们去公园散步吧。", "。今天天气很好，我们去公园散步吧"),
    ("the lazy dog said ", " to the fox and left"),
    ("编号2023年第12期，电话", "，谢谢"), ("ref 2024 no. 17 x", "y of 300 pages"), ("1", "2"), ("A", "B"), ("(", ")"),
    ("-", "-"), (" ", " "), ("：", "，"), ("٣", "٣"), ("12 ", " 34"),
]


@pytest.mark.parametrize("value", _VALUES + [_full_width(value) for value in _VALUES])
def test_values_in_context_match_reference(value: str) -> None:
    """Every sample value in short and long surroundings (digit windows, not whole-text scans)."""
    texts = []
    for left, right in _CONTEXTS:
        texts += [left + value + right, left * 3 + value + right * 3, value + right * 3, left * 3 + value]
    for types in (None, ("cn_mobile", "bank_card"), ("email",), ("ipv6",)):
        expected = [reference(t, types) for t in texts]
        assert [_tuples(find_pii(t, types)) for t in texts] == expected
        assert [_tuples(spans) for spans in find_pii_many(texts, types)] == expected


def test_long_text_alone_matches_reference() -> None:
    """A long text goes through the screen even alone (``find_pii``): still what the old loop found."""
    body = "".join(left + value + right for value in _VALUES for left, right in _CONTEXTS)
    assert len(body) > d._SCREEN_SINGLE_CHARS
    for text in (body, _full_width(body), body[: d._SCREEN_SINGLE_CHARS], "天" * d._SCREEN_SINGLE_CHARS):
        for types in (None, ("cn_mobile", "email")):
            assert _tuples(find_pii(text, types)) == reference(text, types)
    assert len(reference(body)) > 50


def test_short_batch_takes_the_per_text_path(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = ["手机13812345678", "a@example.com", "无"]
    monkeypatch.setattr(d, "_BATCH_MIN_CHARS", 1 << 20)
    monkeypatch.setattr(d, "_batch_screen", None)  # would raise if called
    assert find_pii_many(texts) == [find_pii(t) for t in texts]


def test_detect_many_equals_detect() -> None:
    texts = ["", "无", f"身份证{resident_id()}，手机１３８１２３４５６７８", "a@example.com 10.0.0.1", "京A12345",
             "MTP\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668", "ＭＴＰ12345678"]
    for det in (PiiDetector(), PiiDetector(types=["email", "cn_mobile"]), PiiDetector(category=None)):
        assert det.detect_many(texts, "output") == [det.detect(t, "output") for t in texts]
    assert find_pii_many([]) == []
    assert find_pii_many(texts, types=[]) == [[] for _ in texts]


@pytest.mark.parametrize("text", [
    "ＭＴＰ\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668",  # a label only in full width: the first screen drops it
    "MTP\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668",  # ... and keeps it in ASCII
    "13812345٦٧٨",  # Arabic-Indic digits: \d in a whole-text scan
    "x 123 E١٢٣٤٥٦٧٨ y",  # a passport with non-ASCII digits, next to a digit window
    "ip ١.١.١.1.2.3.4 and 10.0.0.1b and 10.0.0.1",  # IPv4 scanned in runs of digits and dots
    "a 1.2.3.4 b ١٢.10.0.0.1 c 8.8.8.8",
])
def test_edge_cases_match_reference(text: str) -> None:
    assert _tuples(find_pii(text)) == reference(text)
    assert [_tuples(s) for s in find_pii_many([text, text])] == [reference(text)] * 2


def test_min_len_is_the_shortest_match() -> None:
    """The window filter's lengths are the regexes' own minimum widths."""
    parse = re._parser.parse  # type: ignore[attr-defined]
    for pat in d._PATTERNS:
        if pat.trigger == "digits":
            assert pat.min_len == parse(pat.regex.pattern).getwidth()[0], pat.type
            assert 0 < pat.min_run <= pat.min_len


@pytest.mark.parametrize("pair", [["ab:", ":cd"], ["a:b", "c:"], ["12", "3"], ["1.", "2"], ["1", ".2"], ["京", "A"],
                                  ["姓", "名"], ["１２", "３"]])
def test_no_stretch_spans_two_texts(pair: list[str]) -> None:
    """The characters of a stretch are all in one text: the end of one and the start of the next make none."""
    assert list(d._batch_screen().scan(pair, screen.TRIGGER_BITS)) == []
