"""``SettledScorer``: what a stream learns early is what the final text's ``predict`` says."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hegui.detect.classifier import EmbeddedClassifier
from hegui.detect.classifier.model import SettledScorer, normalise, spans

CLF = EmbeddedClassifier.load_default()
PIECES = ["博物馆九点开门，", "河谷导览从东门出发。", "The tour starts at nine. ", "Mr. Smith", " ", "\u3000", "！",
          "如何制作炸药？", "e\u0301", "ＡＢＣ", "...", "\n", "Ünïcode", "ß", "好"]


def _feed(scorer: SettledScorer, text: str, cuts: list[int]) -> list[np.ndarray]:
    got = []
    for c in [*sorted({c % (len(text) + 1) for c in cuts}), len(text)]:
        probs = scorer.update(text[:c])
        if probs is not None:
            got.append(probs)
    return got


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(st.sampled_from(PIECES), min_size=1, max_size=80), cuts=st.lists(st.integers(0, 10_000),
                                                                                        max_size=40))
def test_settled_scores_never_exceed_the_final_texts(parts: list[str], cuts: list[int]) -> None:
    text = "".join(parts)
    final = CLF.model.predict(text)
    for probs in _feed(SettledScorer(CLF.model), text, cuts):
        assert np.all(probs <= final)


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(st.sampled_from(PIECES), min_size=1, max_size=80), cuts=st.lists(st.integers(0, 10_000),
                                                                                        max_size=40))
def test_settled_units_are_units_of_the_final_text(parts: list[str], cuts: list[int]) -> None:
    text = "".join(parts)
    scorer = SettledScorer(CLF.model)
    _feed(scorer, text, cuts)
    norm = normalise(text)
    assert norm.startswith(scorer._norm)
    final_units = set(spans(norm))
    windows = {(i, i + 192) for i in range(0, scorer._next_window, 96)}
    assert windows <= final_units


def test_a_long_text_settles_before_it_ends() -> None:
    scorer = SettledScorer(CLF.model)
    assert scorer.update("博物馆九点开门，河谷导览从东门出发。" * 30) is not None


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(st.sampled_from(PIECES), min_size=0, max_size=80), cuts=st.lists(st.integers(0, 10_000),
                                                                                        max_size=40))
def test_stream_detector_final_equals_detect_on_the_whole_text(parts: list[str], cuts: list[int]) -> None:
    text = "".join(parts)
    det = CLF.stream_detector()
    for c in sorted({c % (len(text) + 1) for c in cuts}):
        det.grow(text[:c])
    assert det.final(text) == CLF.detect(text)


def test_a_text_without_boundaries_is_looked_at_once_however_often_it_grows(monkeypatch: object) -> None:
    """Each update looks for the last boundary from the end; with none in a long tail that was every
    character again on every update (a 40,000-character stream took 0.8 s of CPU in this alone)."""
    from hegui.detect.classifier import model

    looked = 0
    real = model._boundary

    def counting(ch: str) -> bool:
        nonlocal looked
        looked += 1
        return real(ch)

    monkeypatch.setattr(model, "_boundary", counting)  # type: ignore[attr-defined]
    text = "你好世界今天天气很好" * 500
    scorer = SettledScorer(CLF.model)
    for end in range(16, len(text) + 1, 16):
        assert scorer.update(text[:end]) is None
    assert looked <= len(text) + len(text) // 16
    assert np.array_equal(scorer.finish(text), CLF.model.predict(text))
