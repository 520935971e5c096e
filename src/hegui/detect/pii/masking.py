"""Masking personal identifiers: redact, partial, or reversible tokens.

``partial`` keeps enough to recognise one's own number (138****5678); ``redact`` keeps only the
type (``[cn_mobile]``); ``token`` swaps each value for a stable token (``⟦PII:cn_mobile:1⟧``) that
``PiiTokenizer.restore`` puts back, so the gateway can hide identifiers from the upstream model
and restore them in its answer, also when a token arrives split across stream chunks.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Literal, Protocol

from hegui.detect.pii.detector import PiiDetector, fold_width
from hegui.detect.pii.validators import validate_landline

MaskMode = Literal["redact", "partial", "token"]

TOKEN_OPEN = "⟦"
TOKEN_CLOSE = "⟧"
TOKEN_RE = re.compile(r"⟦PII:([a-z0-9_]+):(\d+)⟧")
MAX_TOKEN_LENGTH = 40  # ⟦PII:<type ≤ 20>:<counter>⟧ comfortably fits


class _Span(Protocol):
    @property
    def type(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


def _stars(n: int) -> str:
    return "*" * max(n, 1)


def partial_mask(pii_type: str, value: str) -> str:
    """The value with its identifying middle hidden, e.g. ``138****5678``, ``110101********1234``."""
    clean = re.sub(r"[\s\-()·•]", "", fold_width(value))
    if pii_type == "cn_name":
        return value[:1] + _stars(len(value) - 1)
    if pii_type == "cn_address":
        return value[:6] + "****"
    if len(clean) < 8:  # too short to keep anything of it
        return _stars(len(clean))
    if pii_type == "cn_mobile":
        digits = clean[-11:]
        return digits[:3] + "****" + digits[-4:]
    if pii_type == "cn_resident_id":
        return clean[:6] + _stars(len(clean) - 10) + clean[-4:]
    if pii_type == "bank_card":
        return clean[:4] + _stars(len(clean) - 8) + clean[-4:]
    if pii_type == "cn_landline":
        canon = validate_landline(fold_width(value)) or clean
        return canon.split("-")[0] + "-****" + canon[-4:]
    if pii_type == "email":
        local, _, domain = clean.partition("@")
        return local[:1] + "***@" + domain
    if pii_type == "ipv4":
        a, b, *_ = clean.split(".")
        return f"{a}.{b}.*.*"
    if pii_type == "ipv6":
        return clean.split(":", 1)[0] + ":****"
    if pii_type == "cn_license_plate":
        return clean[:2] + _stars(len(clean) - 4) + clean[-2:]
    # passports, permits, USCC: first character and last three
    return clean[:1] + _stars(len(clean) - 4) + clean[-3:]


class PiiTokenizer:
    """Reversible masking: same value → same token for the tokenizer's life (one exchange).

    Thread-safe. Keep one tokenizer per exchange so tokens never leak values across users.
    """

    def __init__(self, detector: PiiDetector | None = None) -> None:
        self.detector = detector or PiiDetector()
        self._lock = threading.Lock()
        self._by_value: dict[tuple[str, str], str] = {}
        self._by_token: dict[str, str] = {}
        self._count: dict[str, int] = {}

    def token_for(self, pii_type: str, value: str) -> str:
        with self._lock:
            key = (pii_type, value)
            tok = self._by_value.get(key)
            if tok is None:
                n = self._count.get(pii_type, 0) + 1
                self._count[pii_type] = n
                tok = f"{TOKEN_OPEN}PII:{pii_type}:{n}{TOKEN_CLOSE}"
                self._by_value[key] = tok
                self._by_token[tok] = value
            return tok

    def mask(self, text: str) -> str:
        """Replace every identifier the detector finds with its token."""
        return mask_text(text, self.detector.spans(text), "token", self)

    def restore(self, text: str) -> str:
        """Put the clear values back; unknown tokens stay as they are."""
        if TOKEN_OPEN not in text:
            return text
        return TOKEN_RE.sub(lambda m: self._by_token.get(m.group(0), m.group(0)), text)

    def __len__(self) -> int:
        return len(self._by_token)

    def stream_restorer(self) -> TokenRestorer:
        return TokenRestorer(self)


class TokenRestorer:
    """Restores tokens in a stream: holds back a tail that could be the start of a split token."""

    def __init__(self, tokenizer: PiiTokenizer) -> None:
        self.tokenizer = tokenizer
        self._buf = ""

    def feed(self, chunk: str) -> str:
        buf = self._buf + chunk
        cut = len(buf)
        i = buf.rfind(TOKEN_OPEN)
        if i != -1 and TOKEN_CLOSE not in buf[i:] and len(buf) - i < MAX_TOKEN_LENGTH:
            cut = i
        self._buf = buf[cut:]
        return self.tokenizer.restore(buf[:cut])

    def finish(self) -> str:
        out, self._buf = self.tokenizer.restore(self._buf), ""
        return out


def mask_text(text: str, spans: Sequence[_Span], mode: MaskMode = "partial",
              tokenizer: PiiTokenizer | None = None) -> str:
    """``text`` with each span (PII findings or ``PiiSpan``s, non-overlapping) masked by ``mode``."""
    if mode == "token" and tokenizer is None:
        raise ValueError("token masking needs a PiiTokenizer to keep the values for restore()")
    parts: list[str] = []
    pos = 0
    for sp in sorted(spans, key=lambda s: s.start):
        if sp.start < pos:
            continue  # overlapping span: the earlier one already covers it
        value = text[sp.start:sp.end]
        parts.append(text[pos:sp.start])
        if mode == "redact":
            parts.append(f"[{sp.type}]")
        elif mode == "partial":
            parts.append(partial_mask(sp.type, value))
        else:
            assert tokenizer is not None
            parts.append(tokenizer.token_for(sp.type, value))
        pos = sp.end
    parts.append(text[pos:])
    return "".join(parts)
