"""Egress control: user content goes only to configured upstreams, optionally with PII tokenised.

The destination of every upstream call comes from configuration (``upstreams[].base_url``), never
from the request: no body field or header can name a host. ``check_destination`` is the last gate
before a call; with ``privacy.egress_allow_hosts`` set, an upstream outside that list is refused
(and the refusal is audited by the gateway like any failed exchange).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from hegui.config import Settings
from hegui.detect.pii.masking import PiiTokenizer
from hegui.errors import HeguiError


class EgressDenied(HeguiError):
    """A destination is not on the egress allow-list."""


def host_of(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def allowed_hosts(settings: Settings) -> set[str]:
    """The operator's allow-list, or (when empty) exactly the configured upstreams' hosts."""
    explicit = {h.strip().lower() for h in settings.privacy.egress_allow_hosts if h.strip()}
    return explicit or {host_of(u.base_url) for u in settings.upstreams}


def check_destination(settings: Settings, url: str) -> None:
    """Raise ``EgressDenied`` unless ``url``'s host (with or without its port) is allowed."""
    allowed = allowed_hosts(settings)
    hp = host_of(url)
    host = hp.split(":", 1)[0] if not hp.startswith("[") else hp
    if hp not in allowed and host not in allowed:
        raise EgressDenied(f"egress to {hp!r} is not allowed: user content may only go to "
                           f"{', '.join(sorted(allowed)) or 'no host (no upstream configured)'} "
                           "(privacy.egress_allow_hosts)")


def mask_upstream_body(body: dict[str, Any], tokenizer: PiiTokenizer) -> dict[str, Any]:
    """A copy of a chat body with identifiers in user/system/tool text replaced by reversible tokens.

    The gateway restores the tokens in the answer (``PiiTokenizer.restore`` / stream restorer).
    """
    msgs = []
    for m in body.get("messages") or []:
        if not isinstance(m, dict):
            msgs.append(m)
            continue
        content = m.get("content")
        if isinstance(content, str):
            m = {**m, "content": tokenizer.mask(content)}
        elif isinstance(content, list):
            parts = []
            for p in content:
                if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str):
                    p = {**p, "text": tokenizer.mask(p["text"])}
                parts.append(p)
            m = {**m, "content": parts}
        msgs.append(m)
    return {**body, "messages": msgs}
