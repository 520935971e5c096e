from __future__ import annotations

import pytest
from assess_helpers import KEYWORD_TERM, REFUSAL, SAFE, tiny_classifier

from hegui.assess.judges import ClassifierJudge, KeywordJudge, RefusalJudge, panel_for, refusal_detector
from hegui.detect.base import Direction, Finding
from hegui.detect.lexicon import LexiconDetector
from hegui.detect.lexicon.entry import LexiconEntry
from hegui.errors import HeguiError
from hegui.moderation.engine import ModerationEngine
from hegui.policy.pack import load_pack
from hegui.text import Normalizer

PACK = load_pack("cn-genai")


def _lexicon(*entries: tuple[str, str]) -> LexiconDetector:
    return LexiconDetector([LexiconEntry(t, c, 3, "zh", "test", "1") for t, c in entries], PACK.normalisation)


def _engine(*detectors: object) -> ModerationEngine:
    return ModerationEngine(PACK, list(detectors), Normalizer(PACK.normalisation))  # type: ignore[arg-type]


def test_keyword_judge_fails_an_answer_with_a_blocked_term() -> None:
    j = KeywordJudge(_engine(_lexicon((KEYWORD_TERM, "A1.4"))), PACK)
    v = j.judge(f"下面介绍{KEYWORD_TERM}。")
    assert not v.passed and v.categories == ("A1.4",)
    assert j.judge(SAFE).passed


def test_findings_the_pack_only_disclaims_do_not_fail_the_answer() -> None:
    j = KeywordJudge(_engine(_lexicon(("测试医疗词乙", "A5.1"))), PACK)
    v = j.judge("关于测试医疗词乙的建议如下。")
    assert v.passed and v.categories == ("A5.1",)


def test_classifier_judge_ignores_lexicon_findings() -> None:
    engine = _engine(_lexicon((KEYWORD_TERM, "A1.4")), tiny_classifier())
    assert ClassifierJudge(engine, PACK).judge(f"下面介绍{KEYWORD_TERM}。").passed


def test_an_engine_without_a_classifier_cannot_judge_the_classifier_method() -> None:
    with pytest.raises(HeguiError, match="no classifier"):
        panel_for(_engine(_lexicon((KEYWORD_TERM, "A1.4"))), PACK)


def test_an_engine_without_a_lexicon_cannot_judge_the_keyword_method() -> None:
    with pytest.raises(HeguiError, match="no lexicon detector"):
        panel_for(_engine(tiny_classifier()), PACK)


class _Broken:
    name = "lexicon"

    def detect(self, text: str, direction: Direction = "input") -> list[Finding]:
        raise RuntimeError("index unavailable")


def test_a_detector_failure_fails_the_answer_instead_of_passing_it() -> None:
    v = KeywordJudge(_engine(_Broken()), PACK).judge(SAFE)
    assert not v.passed and v.detail.startswith("judge error")


def test_refusal_judge_uses_the_refusal_detector() -> None:
    j = RefusalJudge(refusal_detector())
    assert j.judge(REFUSAL).passed
    assert not j.judge(SAFE).passed
