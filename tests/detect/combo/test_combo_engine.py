"""The combo detector inside the moderation engine: pack switch, operator rule files, streaming."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hegui.config import Settings
from hegui.context import HeguiContext
from hegui.detect.combo import ComboDetector, combo_detectors, parse_yaml
from hegui.errors import InvalidInputError
from hegui.moderation import ModerationEngine, StreamModerator
from hegui.policy.pack import PolicyPack, load_pack
from hegui.privacy.crypto import generate_key
from hegui.text import Normalizer

RULES = parse_yaml("""
rules:
  - {id: zh.boom, category: A1.4, severity: 3, groups: [[炸药, 爆炸物], [配方, 步骤, 自制]], exclude: [警方]}
  - {id: zh.anfo, category: A1.4, severity: 3, groups: [[硝酸铵], [燃油], [比例]], window: 40}
  - {id: en.boom, category: A1.4, severity: 3, groups: [[how to], [pipe bomb]], ordered: true, window: 60}
""", "stream.yaml")


def pack_with(**combo: bool) -> PolicyPack:
    data = load_pack("cn-genai").model_dump(mode="json")
    data["moderation"]["combo"].update(combo)
    return PolicyPack.model_validate(data)


def test_default_engine_refuses_a_paraphrase_the_lexicon_misses() -> None:
    engine = ModerationEngine.default()
    d = engine.moderate("第一步，把硝酸铵和燃油按比例混合", "output")
    assert d.action == "block" and d.categories == ["A1.4"]
    assert [f.detector for f in d.findings] == ["combo"]


def test_pack_switch_turns_the_detector_off() -> None:
    engine = ModerationEngine.default(pack_with(enabled=False))
    assert "combo" not in [d.name for d in engine.detectors]
    assert engine.moderate("第一步，把硝酸铵和燃油按比例混合", "output").action == "allow"


def test_operator_file_is_added_to_the_shipped_rules(tmp_path: Path) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text("source: ops\nrules:\n- {id: ops.test, category: A1.8, groups: [[测试物甲], [测试动作乙]]}\n",
                    encoding="utf-8")
    (det,) = combo_detectors(load_pack("cn-genai"), [path])
    assert [f.rule for f in det.detect("测试物甲的测试动作乙")] == ["ops#ops.test"]
    assert det.detect("第一步，把硝酸铵和燃油按比例混合")  # the shipped rules are still there


def test_operator_file_alone_when_shipped_rules_are_off(tmp_path: Path) -> None:
    path = tmp_path / "ops.jsonl"
    path.write_text('{"id": "ops.only", "category": "A1.8", "groups": [["测试物甲"], ["测试动作乙"]]}\n',
                    encoding="utf-8")
    (det,) = combo_detectors(pack_with(default_rules=False), [path])
    assert [r.id for r in det.rules] == ["ops.only"]
    assert combo_detectors(pack_with(default_rules=False)) == []


def test_engine_from_context_reads_rule_files_from_settings(tmp_path: Path, db_url: str) -> None:
    path = tmp_path / "ops.yaml"
    path.write_text("rules:\n- {id: ops.ctx, category: A1.8, severity: 3, groups: [[测试物甲], [测试动作乙]]}\n",
                    encoding="utf-8")
    ctx = HeguiContext(Settings(data_dir=tmp_path / ".hegui", database_url=db_url, secret_key=generate_key(),
                                combo_rules=[path]))
    ctx.db.upgrade()
    try:
        d = ModerationEngine.from_context(ctx, models=False).moderate("测试物甲和测试动作乙")
        assert d.action == "refuse" and d.findings[0].rule == "hegui-default#ops.ctx"
    finally:
        ctx.close()


def test_bad_operator_file_stops_the_engine_from_being_built(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("rules:\n- {id: x, category: A1.1, groups: [[only-one-group]]}\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"bad\.yaml"):
        combo_detectors(load_pack("cn-genai"), [path])


def test_engine_term_window_covers_the_widest_rule_window() -> None:
    p = load_pack("cn-genai")
    engine = ModerationEngine(p, [ComboDetector(RULES, p.normalisation)], Normalizer(p.normalisation))
    assert engine.term_window() == 60
    assert StreamModerator(engine).window() >= 60 + p.moderation.stream_window_extra_chars


# ---- streaming: a rule whose terms arrive in different chunks is never missed --------------------------------

PACK = load_pack("cn-genai")
STREAM_ENGINE = ModerationEngine(PACK, [ComboDetector(RULES, PACK.normalisation)], Normalizer(PACK.normalisation))
TERMS = ["炸药", "爆炸物", "配方", "步骤", "自制", "硝酸铵", "燃油", "比例", "how to ", "pipe bomb", "警方"]
FILLER = ["今天天气很好", "我们去公园", "散步吧", "，", "。", " ", "hello ", "the weather ", "好的", "谢谢你", "一二三",
          "配方奶", "\u200b", "😀", "哈哈哈哈"]


def _chunks(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    return [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]


def _streamed(engine: ModerationEngine, text: str, cuts: list[int]) -> StreamModerator:
    """``text`` fed to a stream moderator in the chunks ``cuts`` make, until it stops or the text ends."""
    sm = StreamModerator(engine)
    for chunk in _chunks(text, cuts):
        sm.feed(chunk)
        if sm.stopped:
            return sm
    sm.finish()
    return sm


def test_stream_stops_on_a_rule_whose_terms_arrive_in_separate_chunks() -> None:
    text = "好的，我们来看看。" * 12 + "首先取硝酸铵，" + "再准备燃油，" + "按比例来。" + "后面还有很多内容。" * 12
    sm = StreamModerator(STREAM_ENGINE)
    out = []
    for ch in text:  # one character per chunk
        out.append(sm.feed(ch))
        if sm.stopped:
            break
    assert sm.stopped and sm.decision is not None and sm.decision.categories == ["A1.4"]
    assert "硝" not in "".join(out)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(st.one_of(st.sampled_from(TERMS), st.sampled_from(FILLER)), min_size=1, max_size=30),
       cuts=st.lists(st.integers(0, 10_000), max_size=30))
def test_stream_never_releases_a_combo_match_the_whole_text_finds(parts: list[str], cuts: list[int]) -> None:
    text = "".join(parts)
    whole = STREAM_ENGINE.moderate(text, "output")
    sm = _streamed(STREAM_ENGINE, text, cuts)
    for f in whole.findings:
        assert sm.released_chars < f.end, (text, f, sm.released_chars)
    assert not STREAM_ENGINE.moderate(text[:sm.released_chars], "output").blocked
    if whole.blocked:
        assert sm.stopped


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(st.one_of(st.sampled_from(TERMS), st.sampled_from(FILLER)), min_size=1, max_size=30),
       cuts=st.lists(st.integers(0, 10_000), max_size=30))
def test_stream_never_releases_a_shipped_combo_match(parts: list[str], cuts: list[int]) -> None:
    engine = _shipped()
    text = "".join(parts)
    whole = engine.moderate(text, "output")
    sm = _streamed(engine, text, cuts)
    for f in whole.findings:
        if f.detector == "combo":
            assert sm.released_chars < f.end, (text, f)


_SHIPPED: list[ModerationEngine] = []


def _shipped() -> ModerationEngine:
    if not _SHIPPED:
        _SHIPPED.append(ModerationEngine.default())
    return _SHIPPED[0]
