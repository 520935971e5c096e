"""``Normalizer.normalize_shared``: detectors of one check share one normalisation of the same string."""

from __future__ import annotations

from hegui.policy.pack import NormalisationSteps
from hegui.text import Normalizer


def test_two_normalizers_with_equal_steps_share_the_result_for_the_same_string() -> None:
    text = "炸 药的ＴＮＴ配方"
    a, b = Normalizer(NormalisationSteps()), Normalizer(NormalisationSteps())
    first = a.normalize_shared(text)
    assert b.normalize_shared(text) is first
    assert first.text == a.normalize(text).text


def test_a_different_string_is_normalised_afresh() -> None:
    n = Normalizer(NormalisationSteps())
    first = n.normalize_shared("炸 药")
    second = n.normalize_shared("火 药")
    assert second is not first and second.text == n.normalize("火 药").text


def test_different_steps_never_share_a_result() -> None:
    text = "ＡＢＣ 炸 药"
    plain = Normalizer(NormalisationSteps()).normalize_shared(text)
    narrow = Normalizer(NormalisationSteps(fullwidth=False, strip_separators=False))
    other = narrow.normalize_shared(text)
    assert other is not plain and other.text == narrow.normalize(text).text
    assert other.text != plain.text
