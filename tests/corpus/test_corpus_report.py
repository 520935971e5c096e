"""The report's unsafe-ratio estimate when the classifier ran on a share of the items."""

from __future__ import annotations

import pytest

from hegui.corpus.report import auto_gates, source_gates, unsafe_estimate
from hegui.policy.pack import load_pack


def test_estimate_adds_the_classifier_only_rate_of_the_share_to_the_keyword_ratio() -> None:
    est = unsafe_estimate(items=1000, unsafe=23, keyword_unsafe=20, classified=100, classifier_only=3, share=0.1)
    assert est["estimated"] is True and est["ratio"] == pytest.approx(0.02 + 0.03)
    assert "ESTIMATED" in est["text"] and "extrapolated" in est["text"]


def test_full_share_is_counted_not_estimated() -> None:
    est = unsafe_estimate(items=1000, unsafe=23, keyword_unsafe=20, classified=1000, classifier_only=3, share=1.0)
    assert est["estimated"] is False and est["ratio"] == pytest.approx(0.023)


def test_source_with_no_item_in_the_share_has_a_pending_unsafe_gate() -> None:
    g = load_pack("cn-genai").figures.corpus
    est = unsafe_estimate(items=5, unsafe=0, keyword_unsafe=0, classified=0, classifier_only=0, share=0.1)
    gate = source_gates(5, 0, [], g, est)["unsafe_ratio"]
    assert est["ratio"] is None and gate["status"] == "pending" and "NOT POSSIBLE" in gate["detail"]


def test_share_below_the_pack_ratio_fails_the_sample_gate_even_if_the_draw_was_lucky() -> None:
    g = load_pack("cn-genai").figures.corpus
    est = unsafe_estimate(items=100, unsafe=0, keyword_unsafe=0, classified=12, classifier_only=0, share=0.08)
    gates = auto_gates(100, 12, 0, ["lexicon", "classifier"], g, est)
    assert gates["auto_sample"]["value"] == pytest.approx(0.12) and gates["auto_sample"]["status"] == "fail"
