"""What every format codec does: recognise its bytes, read/write the label, hash the content.

``write`` replaces any label already present (in every place the codec uses), so the same code
serves producers and propagators; refusing to relabel is the service's job, not the codec's.
``digest`` hashes the content *without* the label, and must not change when ``write`` runs.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass

from hegui.errors import InvalidInputError
from hegui.labeling.formats.xmp import NAMESPACE


class BadFileError(InvalidInputError):
    """The bytes are not a valid file of the claimed format (truncated, corrupt, unsupported variant)."""


@dataclass(frozen=True, slots=True)
class Keys:
    """The metadata key and XMP namespace in force (``pack.labels.implicit_key`` / ``xmp_namespace``)."""

    key: str = "AIGC"
    namespace: str = NAMESPACE


DEFAULT_KEYS = Keys()


class Codec(ABC):
    """One file format's label carrier."""

    name: str = ""
    extensions: tuple[str, ...] = ()
    places: str = ""  # where the label goes, for docs and `verify`

    @abstractmethod
    def sniff(self, data: bytes) -> bool:
        """True if ``data`` looks like this format (magic bytes only, cheap)."""

    @abstractmethod
    def read(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> list[str]:
        """The label JSON texts found, one per place (empty list: unlabelled)."""

    @abstractmethod
    def write(self, data: bytes, label_json: str, keys: Keys = DEFAULT_KEYS) -> bytes:
        """``data`` with the label in every place this codec uses (old labels replaced)."""

    @abstractmethod
    def digest(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> str:
        """Hex SHA-256 of the content, label excluded; stable across ``write``."""

    def check(self, data: bytes) -> None:
        """Raise ``BadFileError`` unless the file opens in its format's own library."""
        self.digest(data)

    def check_output(self, data: bytes) -> None:
        """The check run on our own output, whose content hash is also compared with the input's.

        Codecs that copy the media bytes unchanged override this with a structural check plus a
        header-only open, since an equal content hash already proves the media data is intact."""
        self.check(data)


def sha256_parts(parts: list[bytes]) -> str:
    """Hash a list of byte strings unambiguously (each prefixed by its length)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(len(p).to_bytes(8, "big"))
        h.update(p)
    return h.hexdigest()


def bad(fmt: str, why: str) -> BadFileError:
    return BadFileError(f"not a valid {fmt} file: {why}")


def unwrap(text: str, key: str) -> str | None:
    """The label JSON inside ``{"<key>": {...}}`` (EXIF UserComment, GIF comment), or None."""
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
        return json.dumps(obj[key], separators=(",", ":"), ensure_ascii=True)
    return None


def wrap(label_json: str, key: str) -> str:
    return "{" + json.dumps(key) + ":" + label_json + "}"
