"""hegui (合规): the compliance system a generative-AI provider runs under China's Generative AI Measures."""

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hegui.moderation import moderate as moderate


def __getattr__(name: str) -> Any:
    """``hegui.moderate`` is imported on first use, so ``import hegui`` stays cheap."""
    if name == "moderate":
        from hegui.moderation import moderate

        return moderate
    raise AttributeError(f"module 'hegui' has no attribute {name!r}")
