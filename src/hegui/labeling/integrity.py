"""``ReservedCode1`` / ``ReservedCode2``: keyed integrity tags that bind a label to its file.

The tag is an HMAC-SHA256 (``KeyRing.sign``) over the hash of the file's *content* (what the
format's codec hashes: pixels/compressed image data, audio frames, media data, document parts —
never the label itself) and the fields the signer owns. So a label copied onto another file, a
tampered field or edited content fails verification, while a propagator adding its own fields
does not disturb the producer's tag. Format: ``hg1:<key id>:<64 hex>`` (printable ASCII).
"""

from __future__ import annotations

import hmac
from typing import Literal, Protocol

from hegui.labeling.model import AigcLabel

PREFIX = "hg1"
Integrity = Literal["valid", "invalid", "absent"]


class Signer(Protocol):
    """What ``hegui.privacy.crypto.KeyRing`` offers: a current key id and an HMAC tag."""

    @property
    def current_key_id(self) -> str: ...

    def sign(self, data: bytes) -> str: ...


def _producer_message(fmt: str, digest: str, label: AigcLabel) -> bytes:
    parts = ["hegui/aigc/rc1", fmt, digest, label.Label, label.ContentProducer, label.ProduceID]
    return "\n".join(parts).encode("utf-8")


def _propagator_message(fmt: str, digest: str, label: AigcLabel) -> bytes:
    parts = ["hegui/aigc/rc2", fmt, digest, label.Label, label.ContentProducer, label.ProduceID,
             label.ReservedCode1, label.ContentPropagator, label.PropagateID]
    return "\n".join(parts).encode("utf-8")


def _tag(signer: Signer, message: bytes) -> str:
    return f"{PREFIX}:{signer.current_key_id}:{signer.sign(message)}"


def producer_code(signer: Signer, fmt: str, digest: str, label: AigcLabel) -> str:
    """The ``ReservedCode1`` value for ``label`` on content with ``digest``."""
    return _tag(signer, _producer_message(fmt, digest, label))


def propagator_code(signer: Signer, fmt: str, digest: str, label: AigcLabel) -> str:
    """The ``ReservedCode2`` value: covers the propagator's fields and the producer's tag."""
    return _tag(signer, _propagator_message(fmt, digest, label))


def _check(signer: Signer, value: str, message: bytes, field: str) -> tuple[Integrity, str | None]:
    if not value:
        return "absent", None
    parts = value.split(":")
    if len(parts) != 3 or parts[0] != PREFIX:
        return "absent", f"{field} is not a hegui integrity tag; it cannot be checked here"
    kid, tag = parts[1], parts[2]
    if not value.isascii():
        return "invalid", f"{field} contains characters outside printable ASCII"
    if kid != signer.current_key_id:
        return "invalid", f"{field} was made with key {kid}, not this installation's current key"
    if not hmac.compare_digest(tag, signer.sign(message)):
        return "invalid", (f"{field} does not match the content and fields "
                           "(copied label, edited content or tampered field)")
    return "valid", None


def check_producer(signer: Signer, fmt: str, digest: str, label: AigcLabel) -> tuple[Integrity, str | None]:
    return _check(signer, label.ReservedCode1, _producer_message(fmt, digest, label), "ReservedCode1")


def check_propagator(signer: Signer, fmt: str, digest: str, label: AigcLabel) -> tuple[Integrity, str | None]:
    return _check(signer, label.ReservedCode2, _propagator_message(fmt, digest, label), "ReservedCode2")
