from __future__ import annotations

import pytest

from hegui.context import HeguiContext
from hegui.detect.lexicon.service import LexiconService
from hegui.moderation import engine as engine_mod
from hegui.moderation.evidence import moderation_disclaimers, moderation_input, moderation_output


@pytest.fixture(autouse=True)
def _no_models(monkeypatch: pytest.MonkeyPatch) -> None:
    # the embedded models are another issue's; evidence here is about lexicon + PII + pack
    monkeypatch.setattr(engine_mod, "_optional_model_detectors", lambda: [])


def test_empty_lexicon_is_not_configured(ctx: HeguiContext) -> None:
    ev = moderation_input(ctx)
    assert ev.status == "not_configured"
    assert "0 lexicon terms" in ev.detail and "probe ok" in ev.detail


def test_lexicon_and_probe_make_it_working(ctx: HeguiContext) -> None:
    LexiconService(ctx).add("测试政治词甲", "A1.1", 3)
    ev_in, ev_out = moderation_input(ctx), moderation_output(ctx)
    assert ev_in.status == ev_out.status == "working"
    assert "1 lexicon terms" in ev_in.detail and "lexicon, combo, pii" in ev_in.detail
    assert "A1→refuse" in ev_in.detail and "A1→block" in ev_out.detail


def test_broken_detector_reported_failing(ctx: HeguiContext, monkeypatch: pytest.MonkeyPatch) -> None:
    LexiconService(ctx).add("测试政治词甲", "A1.1", 3)
    broken = engine_mod.UnavailableDetector("classifier", "weights missing")
    monkeypatch.setattr(engine_mod, "_optional_model_detectors", lambda: [broken])
    ev = moderation_input(ctx)
    assert ev.status == "failing" and "error:classifier" in ev.detail


def test_disclaimers_present_for_disclaim_categories(ctx: HeguiContext) -> None:
    ev = moderation_disclaimers(ctx)
    assert ev.status == "working" and "A5" in ev.detail
