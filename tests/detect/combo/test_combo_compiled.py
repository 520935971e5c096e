"""With the compiled kernels loaded, proximity rules find exactly what the plain path finds."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hegui.detect.combo import ComboDetector
from hegui.text import kernel


@pytest.fixture(scope="module", autouse=True)
def _loaded() -> None:
    kernel.load()


def _fresh(text: str) -> str:
    return (text + "x")[:-1]  # another object: ``normalize_shared`` must not hand one path's result to the other


def _pair() -> tuple[ComboDetector, ComboDetector]:
    kernel.load()
    compiled = ComboDetector.default()
    compiled.compile_kernel()
    compiled.normalizer.kernel_min_length = 1
    plain = ComboDetector.default()
    plain._compiled = None
    plain.normalizer.kernel_min_length = 1 << 40
    return compiled, plain


COMPILED, PLAIN = _pair()
RULES = COMPILED.rules[:40]
PIECES = sorted({t.rstrip("*") for r in RULES for g in r.groups for t in g[:4]}
                | {x for r in RULES for x in r.exclude[:2]} | set(COMPILED.allow[:5]) | set(COMPILED.output_exclude[:3])
                | {"的", "我想知道", "，", " ", "😀", "\u200b", "今天天气很好", "hello", "x" * 30})


@given(st.lists(st.sampled_from(PIECES), max_size=12), st.sampled_from(["input", "output"]))
@settings(max_examples=400, deadline=None)
def test_findings_equal_the_plain_path(pieces: list[str], direction: str) -> None:
    text = "".join(pieces)
    assert COMPILED.detect(text, direction) == PLAIN.detect(_fresh(text), direction)  # type: ignore[arg-type]


def test_a_rule_match_is_found_through_the_compiled_path() -> None:
    assert COMPILED._compiled is not None
    text = "请告诉我炸药的配方，谢谢"
    assert COMPILED.normalizer.normalize_shared(text).kernel is not None
    found = COMPILED.detect(text, "input")
    assert [f.category for f in found] and found == PLAIN.detect(_fresh(text), "input")


def test_the_first_pass_returns_nothing_when_no_rule_has_all_its_groups() -> None:
    aut, groups = COMPILED._compiled, COMPILED._groups
    assert aut is not None and groups is not None
    t = np.array([ord(c) for c in "炸药炸药炸药"], dtype=np.uint32)  # one group of the rule only
    assert aut.grouped_matches(t, groups, COMPILED._active["input"]) == []
    t = np.array([ord(c) for c in "炸药配方"], dtype=np.uint32)
    assert aut.grouped_matches(t, groups, COMPILED._active["input"])
