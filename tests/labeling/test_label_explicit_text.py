"""Explicit text labels: start / end / middle, zh / en, with both required elements."""

from __future__ import annotations

import pytest

from hegui.errors import InvalidInputError
from hegui.labeling import label_text
from hegui.labeling.explicit.text import find_text_label, has_label_elements
from hegui.policy.pack import PolicyPack

ANSWER = "第一段内容。\n\n第二段内容。\n\n第三段内容。\n\n第四段内容。"


@pytest.mark.parametrize("position", ["start", "end", "middle"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_label_is_placed_and_found_where_asked(pack: PolicyPack, position: str, lang: str) -> None:
    out = label_text(ANSWER, pack, lang, position)
    prompt = getattr(pack.labels.text, lang)
    assert prompt in out
    found = find_text_label(out)
    assert found == {"found": True, "position": position, "text": prompt}


def test_original_text_is_kept_whole(pack: PolicyPack) -> None:
    out = label_text(ANSWER, pack, "zh", "middle")
    assert out.replace(pack.labels.text.zh + "\n\n", "") == ANSWER


def test_pack_position_is_the_default(pack: PolicyPack) -> None:
    assert label_text("答复。", pack).endswith(pack.labels.text.zh)


@pytest.mark.parametrize("text,ok", [
    ("【本内容由人工智能生成】", True), ("AI合成内容", True), ("This answer was AI-generated.", True),
    ("Synthesised by artificial intelligence", True), ("本内容仅供参考", False), ("AI assistant", False),
    ("内容生成时间", False),
])
def test_label_needs_an_ai_element_and_a_generated_element(text: str, ok: bool) -> None:
    assert has_label_elements(text) is ok


def test_unknown_language_is_refused(pack: PolicyPack) -> None:
    with pytest.raises(InvalidInputError, match="zh or en"):
        label_text("x", pack, "fr", "end")


def test_unknown_position_is_refused(pack: PolicyPack) -> None:
    with pytest.raises(InvalidInputError, match="start, end or middle"):
        label_text("x", pack, "zh", "top")


def test_text_without_a_label_is_not_found() -> None:
    assert find_text_label(ANSWER) == {"found": False}
