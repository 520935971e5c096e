from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from engine_fixtures import ENTRIES, engine, pack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hegui.detect.base import Direction, Finding
from hegui.detect.lexicon import LexiconDetector
from hegui.detect.pii import find_pii
from hegui.detect.pii.validators import resident_id_check_char
from hegui.moderation import ModerationEngine, StreamModerator

ENGINE = engine()
TERMS = ["炸药配方", "测试政治词甲", "make a pipe bomb", "投资稳赚不赔", "人肉搜索"]
CLEAN = ["今天天气很好", "我们去公园", "散步吧", "hello there", "the weather", "。", "，", "好的", "谢谢你",
         "炸鸡很好吃", "配方", "测试", "make a cake", "pipe", "一二三"]
SEPS = [" ", ".", "\u200b", "😀", "-", "  ", "\n"]
ID_BODY = "11010119900307123"
PII = ["13812345678", "+86 139-1234-5678", ID_BODY + resident_id_check_char(ID_BODY), "zhang.san@example.com",
       "192.168.1.10"]


@st.composite
def stretched(draw: st.DrawFn, term: str) -> str:
    """A term with random separators inserted between its characters."""
    out = []
    for ch in term:
        out.append(ch)
        if draw(st.booleans()):
            out.append(draw(st.sampled_from(SEPS)))
    return "".join(out).rstrip()


def chunks_of(text: str, cuts: list[int]) -> list[str]:
    points = sorted({c % (len(text) + 1) for c in cuts})
    return [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]


def run(sm: StreamModerator, chunks: list[str]) -> str:
    out = []
    for c in chunks:
        out.append(sm.feed(c))
        if sm.stopped:
            return "".join(out)
    out.append(sm.finish())
    return "".join(out)


fragments = st.one_of(
    st.sampled_from(CLEAN), st.sampled_from(SEPS), st.sampled_from(TERMS).flatmap(stretched),
    st.sampled_from(PII),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(fragments, min_size=1, max_size=25), cuts=st.lists(st.integers(0, 10_000), max_size=30),
       direction=st.sampled_from(["input", "output"]))
def test_no_released_prefix_contains_a_violation(parts: list[str], cuts: list[int], direction: Direction) -> None:
    text = "".join(parts)
    whole = ENGINE.moderate(text, direction)
    sm = StreamModerator(ENGINE, direction=direction)
    run(sm, chunks_of(text, cuts))
    released = sm.released_chars
    for f in whole.findings:
        action = ENGINE.rule_for(f.category or "", direction, f.severity, False)[0] if f.detector != "pii" else None
        if action in ("refuse", "block"):
            assert released < f.end, (text, f, released)
    assert not ENGINE.moderate(text[:released], direction).blocked
    if whole.blocked:
        assert sm.stopped and sm.replacement in pack().moderation.refusal.values()


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.one_of(st.sampled_from(CLEAN), st.sampled_from(SEPS)), min_size=1, max_size=40),
       cuts=st.lists(st.integers(0, 10_000), max_size=40))
def test_clean_text_released_whole_and_unchanged(parts: list[str], cuts: list[int]) -> None:
    text = "".join(parts)
    assert ENGINE.moderate(text, "output").findings == []
    sm = StreamModerator(ENGINE)
    assert run(sm, chunks_of(text, cuts)) == text
    assert sm.finished and not sm.stopped
    assert sm.decision is not None and sm.decision.action == "allow"


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(st.one_of(st.sampled_from(CLEAN), st.sampled_from(SEPS),
                                st.sampled_from(PII).map(lambda v: v + "，")),  # a value glued to ASCII is ambiguous
                      min_size=1, max_size=20),
       cuts=st.lists(st.integers(0, 10_000), max_size=40))
def test_output_pii_masked_even_across_chunk_boundaries(parts: list[str], cuts: list[int]) -> None:
    text = "".join(parts)
    sm = StreamModerator(ENGINE)
    out = run(sm, chunks_of(text, cuts))
    assert not sm.stopped
    assert find_pii(out) == []
    for span in find_pii(text):
        assert out.count(span.value) < text.count(span.value)
    if find_pii(text):
        assert out == ENGINE.moderate(text, "output").masked_text
        assert sm.decision is not None and sm.decision.action == "mask"


def test_stream_masks_straddling_mobile_like_whole_text() -> None:
    text = "请联系他，电话是13812345678，谢谢。" * 3
    sm = StreamModerator(ENGINE)
    out = run(sm, [text[i:i + 3] for i in range(0, len(text), 3)])
    assert out == ENGINE.moderate(text, "output").masked_text


def test_stop_on_violation_gives_refusal_and_nothing_more() -> None:
    text = "好的，下面是内容。" * 10 + "炸 药 配 方：" + "后面的内容" * 10
    sm = StreamModerator(ENGINE)
    out = run(sm, [text[i:i + 5] for i in range(0, len(text), 5)])
    assert sm.stopped
    assert "炸" not in out
    assert sm.decision is not None and sm.decision.action == "block" and sm.decision.categories == ["A1.4"]
    assert sm.replacement == pack().moderation.refusal["zh"]
    assert sm.feed("more") == "" and sm.finish() == ""


def test_separator_stretched_term_is_held_until_complete() -> None:
    sm = StreamModerator(ENGINE)
    released = sm.feed("炸" + " " * 200)  # the rest of the term may still come after any number of spaces
    assert "炸" not in released
    assert sm.feed("药配方" + "后文" * 100) == ""
    assert sm.stopped


def test_window_covers_longest_term_and_pii() -> None:
    sm = StreamModerator(ENGINE)
    assert sm.window() >= max(len(t) for t in (e.term for e in ENTRIES))
    assert sm.window() >= 80 + pack().moderation.stream_window_extra_chars


@dataclass
class Recording:
    inner: LexiconDetector
    name: str = "lexicon"
    lengths: list[int] = field(default_factory=list)

    @property
    def max_term_length(self) -> int:
        return self.inner.max_term_length

    def normalize(self, text: str) -> object:
        return self.inner.normalize(text)

    def detect(self, text: str, direction: Direction = "input") -> list[Finding]:
        self.lengths.append(len(text))
        return self.inner.detect(text, direction)


def test_recheck_cost_bounded_per_check() -> None:
    p = pack()
    rec = Recording(LexiconDetector.from_entries(ENTRIES, p.normalisation))
    eng = ModerationEngine(p, [rec])
    sm = StreamModerator(eng)
    text = "这是一段很长的干净文字，没有任何问题。" * 300
    out = "".join(sm.feed(ch) for ch in text) + sm.finish()
    assert out == text
    w = sm.window()
    assert max(rec.lengths) <= 3 * w + sm.step + 20  # a window, never the whole text
    # per release: one check of the held text, one of the prefix to be released judged on its own
    assert len(rec.lengths) <= 2 * (len(text) // sm.step) + 2


@pytest.fixture(scope="module")
def shipped() -> ModerationEngine:
    return ModerationEngine.default()


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), cuts=st.lists(st.integers(0, 10_000), max_size=30))
def test_no_released_prefix_contains_a_violation_with_shipped_lexicon(shipped: ModerationEngine, data: st.DataObject,
                                                                       cuts: list[int]) -> None:
    terms = [e.term for lx in shipped.lexicons() for e in lx.entries][::97]
    allow = [a.phrase for lx in shipped.lexicons() for a in lx.allow][::7]
    parts = data.draw(st.lists(st.one_of(st.sampled_from(CLEAN), st.sampled_from(SEPS), st.sampled_from(PII),
                                         st.sampled_from(terms).flatmap(stretched), st.sampled_from(allow)),
                               min_size=1, max_size=20))
    text = "".join(parts)
    whole = shipped.moderate(text, "output")
    sm = StreamModerator(shipped)
    run(sm, chunks_of(text, cuts))
    for f in whole.findings:
        if f.detector != "pii" and shipped.rule_for(f.category or "", "output", f.severity, False)[0] in (
                "refuse", "block"):
            assert sm.released_chars < f.end, (text, f)
    assert not shipped.moderate(text[:sm.released_chars], "output").blocked


@pytest.mark.parametrize("chunk", [1, 3, 1000])
def test_lexicon_and_classifier_signals_stop_the_stream_as_the_whole_text_is_blocked(chunk: int) -> None:
    """``signals: lexicon_and_classifier``: the lexicon hit (span checks) and the classifier's finding
    (whole-text checks) arrive in different checks; they corroborate each other across them."""
    from engine_fixtures import ScoreDetector

    p = pack({"moderation.signals": "lexicon_and_classifier"})
    eng = engine(p, extra=[ScoreDetector({"A1.4": 0.9})])
    text = "下面是炸药配方，请看。" + "这是一段普通的文字。" * 20
    whole = eng.moderate(text, "output")
    assert whole.action == "block"
    sm = StreamModerator(eng)
    released = ""
    for i in range(0, len(text), chunk):
        released += sm.feed(text[i:i + chunk])
        if sm.stopped:
            break
    else:
        released += sm.finish()
    assert sm.stopped and sm.decision is not None
    assert sm.decision.action == "block" and sm.decision.categories == whole.categories


def test_lexicon_and_classifier_signals_release_an_uncorroborated_hit() -> None:
    from engine_fixtures import ScoreDetector

    p = pack({"moderation.signals": "lexicon_and_classifier"})
    eng = engine(p, extra=[ScoreDetector({"A1.4": 0.9}, trigger="nothing-here")])
    text = "下面是炸药配方，请看。" + "这是一段普通的文字。" * 5
    assert eng.moderate(text, "output").action == "allow"
    sm = StreamModerator(eng)
    out = sm.feed(text) + sm.finish()
    assert not sm.stopped and out == text
    assert sm.decision is not None and sm.decision.action == "allow"


@pytest.mark.parametrize("piece", [1, 3, 1000])
@pytest.mark.parametrize("lead", range(12))
def test_a_released_prefix_never_ends_on_a_term_whose_allow_phrase_is_still_held(piece: int, lead: int) -> None:
    """炸药配方 alone is blocked; 炸药配方史 is allowed. Released up to 炸药配方 with 史 still held, a client
    whose stream is cut there would keep the bare term (found by the shipped-lexicon property test).
    ``lead`` shifts where the release points fall."""
    eng = engine()
    text = "课" * lead + "炸药配方史" + "是一门讲工业发展的历史课程。" * 20  # longer than the held-back window
    assert eng.moderate(text, "output").action == "allow"
    sm = StreamModerator(eng)
    for i in range(0, len(text), piece):
        sm.feed(text[i:i + piece])
        assert not eng.moderate(text[:sm.released_chars], "output").blocked, (piece, sm.released_chars)
    sm.finish()
    assert sm.decision is not None and sm.decision.action == "allow" and sm.released_chars == len(text)


def test_kept_rulings_are_matched_by_key_not_against_each_other(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long stream with a value to mask every few characters: each check's rulings are looked up in a
    set of the kept ones (pairwise comparison made 40,000 characters of phone numbers take 9 s)."""
    from hegui.moderation import stream

    calls = 0
    real = stream._key

    def counting(x: object) -> object:
        nonlocal calls
        calls += 1
        return real(x)  # type: ignore[arg-type]

    monkeypatch.setattr(stream, "_key", counting)
    text = "电话13812345678，" * 600
    sm = StreamModerator(ENGINE)
    out = "".join(sm.feed(text[i:i + 16]) for i in range(0, len(text), 16)) + sm.finish()
    assert out == ENGINE.moderate(text, "output").masked_text
    assert len(sm._rulings) == 600
    assert calls <= 60 * 600
