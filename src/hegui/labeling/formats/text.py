"""Plain text: the label is the file's last line, ``AIGC:{json}``, after a line break.

The convention (ours, documented in docs/labeling.md): writing appends ``"\\n" + "AIGC:" + json + "\\n"``
to the text, so removing exactly that suffix gives the original bytes back. Readers take the last
line only, and only if it parses as a JSON object. The content hash covers the text without it.
"""

from __future__ import annotations

import json

from hegui.labeling.formats.base import DEFAULT_KEYS, Codec, Keys, sha256_parts
from hegui.labeling.formats.markdown import decode


def split(text: str, key: str) -> tuple[str, str | None]:
    """(content, label JSON or None)."""
    if not text.endswith("\n"):
        return text, None
    cut = text.rfind("\n", 0, len(text) - 1)
    if cut < 0:
        return text, None
    last = text[cut + 1 : -1]
    prefix = key + ":"
    if not last.startswith(prefix):
        return text, None
    body = last[len(prefix):].strip()
    try:
        obj = json.loads(body)
    except (json.JSONDecodeError, RecursionError):
        return text, None
    if not isinstance(obj, dict):
        return text, None
    return text[:cut], body


class TextCodec(Codec):
    name = "text"
    extensions = (".txt", ".text", ".log")
    places = "last line `AIGC:{…}` (hegui convention)"

    def sniff(self, data: bytes) -> bool:
        if b"\0" in data[:4096]:
            return False
        try:
            data[:4096].decode("utf-8")
        except UnicodeDecodeError as err:
            return err.start > 4090  # a character cut at the sniff boundary
        return True

    def read(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> list[str]:
        _, label = split(decode(data, "text"), keys.key)
        return [label] if label else []

    def write(self, data: bytes, label_json: str, keys: Keys = DEFAULT_KEYS) -> bytes:
        content, _ = split(decode(data, "text"), keys.key)
        return (content + "\n" + keys.key + ":" + label_json + "\n").encode("utf-8")

    def digest(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> str:
        content, _ = split(decode(data, "text"), keys.key)
        return sha256_parts([content.encode("utf-8")])

    def check(self, data: bytes) -> None:
        decode(data, "text")
