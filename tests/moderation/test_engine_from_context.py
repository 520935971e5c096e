from __future__ import annotations

import pytest

from hegui.context import HeguiContext
from hegui.detect.lexicon.registry import LexiconRegistry
from hegui.detect.lexicon.service import LexiconService
from hegui.moderation import ModerationEngine, StreamModerator


@pytest.fixture
def engine(ctx: HeguiContext) -> ModerationEngine:
    return ModerationEngine.from_context(ctx, models=False)


def test_from_context_uses_database_lexicon_and_pii(ctx: HeguiContext, engine: ModerationEngine) -> None:
    LexiconService(ctx).add("测试政治词甲", "A1.1", 3)
    assert [d.name for d in engine.detectors] == ["lexicon", "combo", "pii"]
    d = engine.moderate("这里有测试政治词甲，电话13812345678", "output")
    assert d.action == "block" and d.categories == ["A1.1", "A4.6"]


def test_engine_picks_up_lexicon_change_without_restart(ctx: HeguiContext, engine: ModerationEngine) -> None:
    registry = engine.detectors[0]
    assert isinstance(registry, LexiconRegistry)
    registry.check_interval = 0
    assert engine.moderate("这里有测试政治词乙").action == "allow"
    registry.wait(30)  # that call's version check, so that the change below is seen by the next one
    LexiconService(ctx).add("测试政治词乙", "A1.2", 3)
    engine.moderate("warm-up")  # notices the new version, rebuilds in the background
    registry.wait(30)
    assert engine.moderate("这里有测试政治词乙").action == "refuse"


def test_stream_window_follows_database_lexicon(ctx: HeguiContext, engine: ModerationEngine) -> None:
    LexiconService(ctx).add("一个相当长的测试政治词组丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥", "A1.3", 3)
    sm = StreamModerator(engine)
    assert engine.term_window() >= 30
    assert sm.window() >= engine.term_window() + engine.pack.moderation.stream_window_extra_chars
