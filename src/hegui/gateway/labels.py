"""The explicit AIGC label on text answers (人工智能生成合成内容标识办法 Art 4; GB 45438-2025 §4).

Texts come from the policy pack (``labels.text``); the language follows the text it labels.
"""

from __future__ import annotations

from hegui.policy.pack import TextLabel


def language_of(text: str) -> str:
    """``zh`` when the text has any CJK ideograph, else ``en``."""
    return "zh" if any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text) else "en"


def label_text(label: TextLabel, lang: str) -> str:
    return label.zh if lang == "zh" else label.en


def apply_label(text: str, label: TextLabel, lang: str | None = None) -> str:
    """``text`` with the label at the pack's position (``none`` leaves it unchanged)."""
    if label.position == "none":
        return text
    mark = label_text(label, lang or language_of(text))
    return f"{mark}\n{text}" if label.position == "start" else f"{text}\n{mark}"
