"""The AIGC JSON object: field rules of GB 45438-2025 (printable ASCII, Label 1/2/3, known fields)."""

from __future__ import annotations

import pytest

from hegui.labeling import AigcLabel, LabelFormatError


def test_well_formed_label_has_no_problems() -> None:
    assert AigcLabel("1", "P1", "abc").problems() == []


def test_non_ascii_value_is_rejected() -> None:
    with pytest.raises(LabelFormatError, match="printable ASCII"):
        AigcLabel("1", "生产者", "abc").validate()


def test_control_characters_are_rejected() -> None:
    assert any("printable ASCII" in p for p in AigcLabel("1", "P1\n", "abc").problems())


def test_label_value_must_be_1_2_or_3() -> None:
    assert any("Label must be" in p for p in AigcLabel("4", "P1", "abc").problems())


def test_producer_without_produce_id_is_a_problem() -> None:
    assert "ContentProducer is set but ProduceID is empty" in AigcLabel("1", "P1", "").problems()


def test_unknown_field_is_rejected_when_parsing() -> None:
    with pytest.raises(LabelFormatError, match="unknown fields: Extra"):
        AigcLabel.from_json('{"Label":"1","Extra":"x"}')


def test_wrapped_form_is_accepted() -> None:
    lab = AigcLabel.from_json('{"AIGC":{"Label":"2","ContentPropagator":"X","PropagateID":"9"}}')
    assert (lab.Label, lab.ContentPropagator, lab.ContentProducer) == ("2", "X", "")


def test_invalid_json_is_a_label_format_error() -> None:
    with pytest.raises(LabelFormatError, match="not valid JSON"):
        AigcLabel.from_json("{Label: 1")


def test_json_keeps_the_standard_field_order() -> None:
    assert AigcLabel("1", "P", "I").to_json().startswith('{"Label":"1","ContentProducer":"P","ProduceID":"I",')
