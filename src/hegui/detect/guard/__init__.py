"""Adapters for guard models served behind an OpenAI-compatible chat endpoint (vLLM, SGLang, TGI).

Each adapter is a ``Detector`` named ``guard:<name>``: it sends the text to the guard model, parses
the model's verdict and maps the guard's categories to hegui's risk codes. Timeouts and retries are
per adapter; when the guard cannot answer, ``fail="closed"`` (the default) returns one finding of type
``guard_unavailable`` (category ``fail_category``, default ``J``, score 1.0) so the engine refuses, and
``fail="open"`` returns nothing. See docs/classifier.md for configuration.
"""

from hegui.detect.guard.base import GuardAdapter, GuardConfig, GuardUnavailable, GuardVerdict, build_guard
from hegui.detect.guard.json_verdict import JsonVerdictAdapter
from hegui.detect.guard.llamaguard import LLAMA_GUARD_MAP, LlamaGuardAdapter
from hegui.detect.guard.qwen3guard import QWEN3GUARD_MAP, Qwen3GuardAdapter

__all__ = [
    "LLAMA_GUARD_MAP",
    "QWEN3GUARD_MAP",
    "GuardAdapter",
    "GuardConfig",
    "GuardUnavailable",
    "GuardVerdict",
    "JsonVerdictAdapter",
    "LlamaGuardAdapter",
    "Qwen3GuardAdapter",
    "build_guard",
]
