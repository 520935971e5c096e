"""Reading proximity-rule files: YAML and JSONL, sets, validation that reports every bad rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from hegui.detect.combo import ComboDetector, load_rules, parse_jsonl, parse_yaml
from hegui.detect.combo.rules import shared_sets
from hegui.errors import InvalidInputError

YAML = """
source: ops
version: "7"
sets:
  boom: [炸药, 爆炸物]
  make: [配方, 步骤]
allow: [配方奶粉]
rules:
  - id: ops.boom
    category: A1.4
    severity: 3
    groups: ["@boom", "@make"]
    exclude: [新闻]
"""


def test_yaml_rule_expands_sets_and_takes_file_source_and_version() -> None:
    rs = parse_yaml(YAML, "ops.yaml")
    (rule,) = rs.rules
    assert rule.groups == (("炸药", "爆炸物"), ("配方", "步骤"))
    assert (rule.category, rule.severity, rule.exclude) == ("A1.4", 3, ("新闻",))
    assert rule.rule == "ops@7#ops.boom"
    assert rs.allow == ["配方奶粉"]


def test_language_is_guessed_and_sets_window_and_context_defaults() -> None:
    rs = parse_yaml("rules:\n- {id: a, category: A1.4, groups: [[炸药], [配方]]}\n"
                    "- {id: b, category: A1.4, groups: [[bomb], [recipe]]}\n", "x.yaml")
    zh, en = rs.rules
    assert (zh.lang, zh.window, zh.context) == ("zh", 20, 12)
    assert (en.lang, en.window, en.context) == ("en", 50, 40)


def test_jsonl_reads_sets_allow_and_rules_line_by_line() -> None:
    text = ('{"set": "boom", "terms": ["炸药"]}\n\n'
            '{"allow": ["配方奶粉"]}\n'
            '{"output_exclude": ["我不能提供"]}\n'
            '{"id": "j1", "category": "A1.4", "groups": ["@boom", ["配方"]], "direction": "output"}\n')
    rs = parse_jsonl(text, "ops.jsonl")
    assert rs.rules[0].groups == (("炸药",), ("配方",)) and rs.rules[0].direction == "output"
    assert rs.allow == ["配方奶粉"] and rs.output_exclude == ["我不能提供"]


def test_every_bad_rule_is_reported_and_nothing_is_loaded() -> None:
    text = ('{"id": "a", "category": "A9.9", "groups": [["x"], ["y"]]}\n'
            'not json\n'
            '{"id": "b", "category": "A1.4", "groups": [["x"]]}\n'
            '{"id": "c", "category": "A1.4", "groups": [["x"], ["y"]], "window": 999}\n'
            '{"id": "d", "category": "A1.4", "groups": [["x"], ["@nope"]]}\n'
            '{"id": "e", "category": "A1.4", "groups": [["x"], ["y"]], "colour": "red"}\n')
    with pytest.raises(InvalidInputError) as err:
        parse_jsonl(text, "bad.jsonl")
    msg = str(err.value)
    for where, reason in [(1, "unknown risk code"), (2, "not valid JSON"), (3, "at least two"), (4, "window"),
                          (5, "unknown set"), (6, "unknown key")]:
        assert f"bad.jsonl:{where}: " in msg and reason in msg
    assert msg.endswith("no rules were loaded")


def test_duplicate_rule_ids_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="used twice"):
        parse_yaml("rules:\n- {id: a, category: A1.4, groups: [[x1], [y1]]}\n"
                   "- {id: a, category: A1.4, groups: [[x2], [y2]]}\n", "dup.yaml")


def test_yaml_that_is_not_a_rule_file_says_what_is_expected() -> None:
    with pytest.raises(InvalidInputError, match="rules:"):
        parse_yaml("- just a list\n", "list.yaml")
    with pytest.raises(InvalidInputError, match="not valid YAML"):
        parse_yaml("rules: [\n", "broken.yaml")


def test_a_term_in_two_groups_of_one_rule_is_refused_when_compiled() -> None:
    rs = parse_yaml("rules:\n- {id: a, category: A1.4, groups: [[炸药, 配方], [配方]]}\n", "x.yaml")
    with pytest.raises(InvalidInputError, match="groups 0 and 1"):
        ComboDetector(rs)


def test_operator_file_may_name_the_shipped_shared_sets(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("rules:\n- {id: mine, category: A1.4, groups: [[炸药], [配方]], exclude: ['@news']}\n",
                    encoding="utf-8")
    (rule,) = load_rules(path).rules
    assert set(shared_sets()["news"]) <= set(rule.exclude)


def test_unreadable_or_unknown_file_type_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read"):
        load_rules(tmp_path / "missing.yaml")
    other = tmp_path / "rules.txt"
    other.write_text("x", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"\.yaml, \.yml or \.jsonl"):
        load_rules(other)
