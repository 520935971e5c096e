from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pii_factories import resident_id

from hegui.detect.pii import PiiDetector, PiiTokenizer, find_pii, mask_text, partial_mask


def test_partial_mask_mobile_and_id() -> None:
    assert partial_mask("cn_mobile", "+86 138-1234-5678") == "138****5678"
    assert partial_mask("cn_resident_id", "110101199003071234") == "110101********1234"


def test_redact_mode() -> None:
    text = "电话13812345678。"
    assert mask_text(text, find_pii(text), "redact") == "电话[cn_mobile]。"


def test_partial_mode() -> None:
    text = "电话13812345678。"
    assert mask_text(text, find_pii(text), "partial") == "电话138****5678。"


def test_mask_accepts_findings() -> None:
    text = "邮箱 zhang@example.com"
    assert mask_text(text, PiiDetector().detect(text), "redact") == "邮箱 [email]"


def test_token_mode_needs_tokenizer() -> None:
    with pytest.raises(ValueError, match="PiiTokenizer"):
        mask_text("13812345678", find_pii("13812345678"), "token")


def test_tokens_stable_per_value_and_restorable() -> None:
    tok = PiiTokenizer()
    text = "打13812345678或13912345678，再打13812345678"
    masked = tok.mask(text)
    assert masked == "打⟦PII:cn_mobile:1⟧或⟦PII:cn_mobile:2⟧，再打⟦PII:cn_mobile:1⟧"
    assert tok.restore(masked) == text


def test_restore_leaves_unknown_tokens() -> None:
    assert PiiTokenizer().restore("x ⟦PII:cn_mobile:9⟧") == "x ⟦PII:cn_mobile:9⟧"


@settings(max_examples=200, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=12))
def test_stream_restore_handles_tokens_split_across_chunks(cuts: list[int]) -> None:
    tok = PiiTokenizer()
    clear = f"您的身份证{resident_id()}和手机13812345678已登记，邮箱a.b@example.com。"
    masked = tok.mask(clear)
    assert "⟦" in masked
    points = sorted({min(c, len(masked)) for c in cuts})
    chunks = [masked[a:b] for a, b in zip([0, *points], [*points, len(masked)], strict=True)]
    restorer = tok.stream_restorer()
    out = "".join(restorer.feed(c) for c in chunks) + restorer.finish()
    assert out == clear
