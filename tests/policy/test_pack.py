from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from hegui.errors import PolicyError
from hegui.policy.pack import load_pack, parse_pack


@pytest.fixture
def pack_data() -> dict[str, Any]:
    return copy.deepcopy(load_pack("cn-genai").model_dump(mode="json"))


def test_default_pack_loads_and_covers_every_risk() -> None:
    pack = load_pack("cn-genai")
    assert pack.name == "cn-genai"
    assert pack.uncovered_codes() == []


def test_default_pack_figures_match_regulation() -> None:
    f = load_pack("cn-genai").figures
    assert f.keyword_library.min_terms == 10000
    assert f.keyword_library.min_per_a1_risk == 200 and f.keyword_library.min_per_a2_risk == 100
    assert f.question_banks.generated_min == 2000 and f.question_banks.should_refuse_min == 500
    assert f.corpus.source_unsafe_max == 0.05 and f.corpus.manual_sample_min == 4000
    assert f.corpus.manual_pass_min == 0.96 and f.corpus.auto_pass_min == 0.98
    assert f.assessment.refusal_rate_should_refuse_min == 0.95
    assert f.assessment.refusal_rate_should_not_refuse_max == 0.05
    assert f.training_opt_out_max_clicks == 4
    assert all(getattr(f, k).clause for k in ("keyword_library", "question_banks", "corpus", "assessment"))


def test_default_pack_minors_and_sanctions() -> None:
    pack = load_pack("cn-genai")
    assert [(b.under_age, b.daily_minutes) for b in pack.minors.age_bands] == [(8, 40), (16, 60), (18, 120)]
    assert pack.minors.curfew is not None and pack.minors.curfew.start.hour == 22
    assert pack.sanctions.consecutive_violations == 3 and pack.sanctions.daily_violations == 5
    assert pack.deadlines.pi_request_days == 30 and pack.deadlines.cancellation_working_days == 15


def test_most_specific_category_rule_wins() -> None:
    pack = load_pack("cn-genai")
    assert pack.action_for("A4.6", "output") == "mask"
    assert pack.action_for("A4.1", "output") == "block"
    assert pack.action_for("A5.1", "input") == "disclaim"


def test_file_pack_loads(tmp_path: Path, pack_data: dict[str, Any]) -> None:
    pack_data["name"] = "my-pack"
    p = tmp_path / "pack.yaml"
    p.write_text(yaml.safe_dump(pack_data, allow_unicode=True), encoding="utf-8")
    assert load_pack(p).name == "my-pack"


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("moderation", "categories", "A9"), {"input": "refuse", "output": "block"}, "unknown risk"),
        (("moderation", "categories", "A1"), {"input": "explode", "output": "block"}, "moderation.categories.A1.input"),
        (("moderation", "refusal"), {"zh": "不行"}, "refusal text for language 'en'"),
        (("figures", "corpus", "source_unsafe_max"), 1.5, "figures.corpus.source_unsafe_max"),
        (("retention", "audit_content_days"), 30, "retention.audit_content_days"),
        (("labels", "text", "zh"), "机器写的", "人工智能/AI"),
        (("minors", "age_bands"), [{"under_age": 16, "daily_minutes": 60, "clause": "x"},
                                    {"under_age": 8, "daily_minutes": 40, "clause": "x"}], "sorted"),
        (("name",), "Bad Name!", "name"),
        (("surprise",), 1, "surprise"),
    ],
)
def test_each_bad_field_is_named(pack_data: dict[str, Any], path: tuple[str, ...], value: Any, expected: str) -> None:
    node = pack_data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(PolicyError) as info:
        parse_pack(pack_data, "pack.yaml")
    assert expected in str(info.value)
    assert str(info.value).startswith("pack.yaml: ")


def test_missing_required_section_is_named(pack_data: dict[str, Any]) -> None:
    del pack_data["sanctions"]
    with pytest.raises(PolicyError, match="sanctions: Field required"):
        parse_pack(pack_data, "p")


def test_missing_pack_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not found"):
        load_pack(tmp_path / "nope.yaml")


def test_invalid_yaml_is_a_clear_error(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_pack(p)
