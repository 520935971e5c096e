from __future__ import annotations

import json
from pathlib import Path

import pytest

from hegui.detect.lexicon import LexiconEntry
from hegui.detect.lexicon.formats import dump, load_default_data, parse_text, read_file
from hegui.errors import InvalidInputError


def test_txt_terms_with_optional_severity_and_header() -> None:
    p = parse_text("# risk: A1.4\n# version: 2026.1\n\n炸药\t3\n枪支\n", "a.txt", "txt")
    assert [(e.term, e.category, e.severity, e.version) for e in p.entries] == [
        ("炸药", "A1.4", 3, "2026.1"), ("枪支", "A1.4", 2, "2026.1")]


def test_txt_category_option_overrides_missing_header() -> None:
    p = parse_text("bomb\n", "a.txt", "txt", category="A1.4")
    assert p.entries[0].category == "A1.4" and p.entries[0].lang == "en"


def test_txt_without_any_category_is_an_error() -> None:
    with pytest.raises(InvalidInputError, match="no risk code"):
        parse_text("bomb\n", "a.txt", "txt")


def test_txt_header_and_option_must_agree() -> None:
    with pytest.raises(InvalidInputError, match=r"A1\.6"):
        parse_text("# risk: A1.6\nbomb\n", "a.txt", "txt", category="A1.4")


def test_bad_lines_are_named_by_file_and_line() -> None:
    with pytest.raises(InvalidInputError) as err:
        parse_text("# risk: A1.4\nok\nbad\t9\nx\ty\tz\n", "list.txt", "txt")
    msg = str(err.value)
    assert "list.txt:3" in msg and "list.txt:4" in msg and "nothing was imported" in msg


def test_csv_with_all_fields() -> None:
    text = "term,category,severity,lang,source,version,allow,note\n炸,A1.6,1,zh,s,3,炸鸡|炸酱面,why\n"
    [e] = parse_text(text, "a.csv", "csv").entries
    assert e == LexiconEntry("炸", "A1.6", 1, "zh", "s", "3", ("炸鸡", "炸酱面"), "why")


def test_csv_bad_row_names_its_line() -> None:
    with pytest.raises(InvalidInputError, match=r"a\.csv:3"):
        parse_text("term,category\n炸药,A1.4\n枪,A9.9\n", "a.csv", "csv")


def test_csv_needs_a_term_column() -> None:
    with pytest.raises(InvalidInputError, match="header"):
        parse_text("word,category\nx,A1.4\n", "a.csv", "csv")


def test_jsonl_with_all_fields() -> None:
    line = json.dumps({"term": "kill", "category": "A1.6", "severity": 3, "allow": ["kill the process"]})
    [e] = parse_text(line + "\n", "a.jsonl", "jsonl").entries
    assert (e.term, e.severity, e.allow) == ("kill", 3, ("kill the process",))


def test_jsonl_bad_lines_are_named() -> None:
    text = '{"term": "a", "category": "J"}\nnot json\n{"category": "J"}\n[1]\n{"term": "b", "category": "J", "x": 1}\n'
    with pytest.raises(InvalidInputError) as err:
        parse_text(text, "a.jsonl", "jsonl")
    assert all(f"a.jsonl:{n}" in str(err.value) for n in (2, 3, 4, 5))


@pytest.mark.parametrize("fmt", ["txt", "csv", "jsonl"])
def test_dump_and_parse_round_trip(fmt: str) -> None:
    entries = [LexiconEntry("炸药", "A1.4", 3, allow=("炸药史",) if fmt != "txt" else ()),
               LexiconEntry("bomb", "A1.4", 1)]
    back = parse_text(dump(entries, fmt), f"x.{fmt}", fmt).entries  # type: ignore[arg-type]
    assert [(e.term, e.category, e.severity, e.allow) for e in back] == [
        (e.term, e.category, e.severity, e.allow) for e in entries]


def test_txt_dump_refuses_several_risks() -> None:
    with pytest.raises(InvalidInputError, match="one risk"):
        dump([LexiconEntry("a", "A1.4"), LexiconEntry("b", "A1.6")], "txt")


def test_read_file_reports_missing_and_non_utf8(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such file"):
        read_file(tmp_path / "none.txt")
    bad = tmp_path / "gbk.txt"
    bad.write_bytes("这是一个炸药测试词".encode("gbk"))
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        read_file(bad, category="A1.4")


def write_data(root: Path) -> None:
    (root / "allow").mkdir(parents=True)
    header = "# risk: A1.4\n# lang: zh\n# source: hegui-default\n# version: 3\n"
    (root / "A1.4.txt").write_text(header + "炸药\t3\n", "utf-8")
    (root / "A1.1.txt").write_text("# risk: A1.1\n# version: 1\n", "utf-8")
    (root / "allow" / "A1.4.txt").write_text("炸药史\n", "utf-8")
    (root / "allow" / "_all.txt").write_text("# common\n杀毒软件\n", "utf-8")


def test_default_data_layout_is_read(tmp_path: Path) -> None:
    write_data(tmp_path)
    d = load_default_data(tmp_path)
    assert [(e.term, e.category, e.source, e.version) for e in d.entries] == [("炸药", "A1.4", "hegui-default", "3")]
    assert sorted((a.phrase, a.scope) for a in d.allow) == [("杀毒软件", "*"), ("炸药史", "A1.4")]
    assert d.files == {"A1.1": "1", "A1.4": "3"}


def test_default_data_fingerprint_changes_with_content(tmp_path: Path) -> None:
    write_data(tmp_path)
    first = load_default_data(tmp_path).fingerprint
    assert load_default_data(tmp_path).fingerprint == first
    (tmp_path / "A1.4.txt").write_text("# risk: A1.4\n炸药\t2\n", "utf-8")
    assert load_default_data(tmp_path).fingerprint != first


def test_default_file_with_wrong_risk_header_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "A1.4.txt").write_text("# risk: A1.6\nx\n", "utf-8")
    with pytest.raises(InvalidInputError):
        load_default_data(tmp_path)
