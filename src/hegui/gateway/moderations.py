"""``/v1/moderations`` results in OpenAI's shape, plus hegui's own risk codes and findings.

OpenAI's categories are coarser and different from TC260-003 Appendix A; the mapping below says
which hegui risks light up which OpenAI category, so apps that read ``results[].categories``
keep working. The authoritative answer is ``hegui.categories`` (risk codes) and ``hegui.action``.
"""

from __future__ import annotations

from typing import Any

OPENAI_CATEGORIES: tuple[str, ...] = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
    "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence",
    "violence/graphic",
)

# hegui risk code (or category) → OpenAI categories it counts as
RISK_TO_OPENAI: dict[str, tuple[str, ...]] = {
    "A1.4": ("violence", "illicit/violent"),
    "A1.5": ("hate",),
    "A1.6": ("violence", "sexual"),
    "A1.7": ("illicit",),
    "A1.8": ("illicit",),
    "A2": ("hate",),
    "A3": ("illicit",),
    "A4.1": ("self-harm", "harassment/threatening"),
    "A4.3": ("harassment",),
    "A4.4": ("harassment",),
}


def openai_categories(code: str) -> tuple[str, ...]:
    if code in RISK_TO_OPENAI:
        return RISK_TO_OPENAI[code]
    return RISK_TO_OPENAI.get(code.split(".", 1)[0], ())


def moderation_result(decision: Any) -> dict[str, Any]:
    """One ``results[]`` entry for a decision."""
    cats = sorted({str(c) for c in (decision.categories or [])})
    scores: dict[str, float] = {str(k): float(v) for k, v in (getattr(decision, "scores", None) or {}).items()}
    flags = dict.fromkeys(OPENAI_CATEGORIES, False)
    cat_scores = dict.fromkeys(OPENAI_CATEGORIES, 0.0)
    for code in cats:
        for oc in openai_categories(code):
            flags[oc] = True
            cat_scores[oc] = max(cat_scores[oc], scores.get(code, 1.0))
    for code, s in scores.items():
        for oc in openai_categories(code):
            cat_scores[oc] = max(cat_scores[oc], s)
    return {
        "flagged": decision.action != "allow" and bool(cats),
        "categories": flags,
        "category_scores": cat_scores,
        "category_applied_input_types": {k: ["text"] for k in OPENAI_CATEGORIES},
        "hegui": decision.to_dict(),
    }
