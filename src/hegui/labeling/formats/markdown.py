"""Markdown: YAML front matter key ``AIGC`` whose value is the label as a YAML flow mapping (JSON).

A file without front matter gets one; in an existing block only the ``AIGC`` line changes. The
content hash covers the other front-matter lines and the body.
"""

from __future__ import annotations

import json
import re

import yaml

from hegui.labeling.formats.base import DEFAULT_KEYS, Codec, Keys, bad, sha256_parts

_OPEN = re.compile(r"\A(\ufeff?)---[ \t]*\r?\n")
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.M)


def decode(data: bytes, fmt: str) -> str:
    if b"\0" in data:
        raise bad(fmt, "contains NUL bytes (binary, not text)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise bad(fmt, f"not UTF-8 text ({err.reason} at byte {err.start})") from None


def split(text: str) -> tuple[str, list[str], str] | None:
    """(opening line, front-matter lines with line ends, closing line + body) or None."""
    m = _OPEN.match(text)
    if not m:
        return None
    close = _CLOSE.search(text, m.end())
    if not close:
        raise bad("Markdown", "front matter opened with --- but never closed")
    return text[: m.end()], text[m.end() : close.start()].splitlines(keepends=True), text[close.start() :]


def _without_key(lines: list[str], key: str) -> list[str]:
    out: list[str] = []
    skipping = False
    for line in lines:
        if re.match(rf"{re.escape(key)}\s*:", line):
            skipping = True
            continue
        if skipping and line[:1] in (" ", "\t"):
            continue
        skipping = False
        out.append(line)
    return out


class MarkdownCodec(Codec):
    name = "markdown"
    extensions = (".md", ".markdown")
    places = "YAML front matter key `AIGC`"

    def sniff(self, data: bytes) -> bool:
        return data.lstrip(b"\xef\xbb\xbf").startswith(b"---")

    def read(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> list[str]:
        parts = split(decode(data, "Markdown"))
        if parts is None:
            return []
        try:
            front = yaml.safe_load("".join(parts[1]))
        except yaml.YAMLError as err:
            raise bad("Markdown", f"front matter is not valid YAML ({str(err).splitlines()[0]})") from None
        if not isinstance(front, dict) or keys.key not in front:
            return []
        value = front[keys.key]
        if isinstance(value, dict):
            return [json.dumps(value, separators=(",", ":"), ensure_ascii=True)]
        return [str(value).strip()]

    def write(self, data: bytes, label_json: str, keys: Keys = DEFAULT_KEYS) -> bytes:
        text = decode(data, "Markdown")
        line = f"{keys.key}: {label_json}\n"
        parts = split(text)
        if parts is None:
            return ("---\n" + line + "---\n" + text).encode("utf-8")
        opening, lines, rest = parts
        return (opening + line + "".join(_without_key(lines, keys.key)) + rest).encode("utf-8")

    def digest(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> str:
        text = decode(data, "Markdown")
        parts = split(text)
        if parts is None:
            return sha256_parts([b"", text.encode("utf-8")])
        return sha256_parts(["".join(_without_key(parts[1], keys.key)).encode("utf-8"), parts[2].encode("utf-8")])

    def check(self, data: bytes) -> None:
        self.read(data)
