"""GIF: a Comment Extension block holding ``{"AIGC":{...}}`` before the first image.

GIF has no key/value metadata, so the comment carries the wrapped JSON (the same convention as the
JPEG EXIF UserComment). Image blocks are copied byte for byte; a GIF87a header becomes GIF89a
(extensions need 89a). The content hash covers the screen descriptor, colour table and every block
except comments and an XMP application extension.
"""

from __future__ import annotations

from hegui.labeling.formats._pillow import check_image, open_header
from hegui.labeling.formats.base import DEFAULT_KEYS, Codec, Keys, bad, sha256_parts, unwrap, wrap

COMMENT, APP_EXT = 0xFE, 0xFF


def _sub_blocks(data: bytes, pos: int) -> tuple[bytes, int]:
    """Concatenated sub-block data starting at ``pos``; returns it and the position after the terminator."""
    out = bytearray()
    while True:
        if pos >= len(data):
            raise bad("GIF", "truncated inside a data block")
        n = data[pos]
        pos += 1
        if n == 0:
            return bytes(out), pos
        if pos + n > len(data):
            raise bad("GIF", "truncated inside a data block")
        out += data[pos : pos + n]
        pos += n


def parse(data: bytes) -> tuple[bytes, list[bytes]]:
    """(screen descriptor + global colour table, raw blocks up to and including the trailer)."""
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        raise bad("GIF", "missing GIF header")
    packed = data[10]
    pos = 13 + (3 * (2 ** ((packed & 7) + 1)) if packed & 0x80 else 0)
    head = data[6:pos]
    blocks: list[bytes] = []
    while True:
        if pos >= len(data):
            raise bad("GIF", "truncated (no trailer)")
        start = pos
        kind = data[pos]
        if kind == 0x3B:
            blocks.append(b"\x3b")
            return head, blocks
        if kind == 0x21:
            if pos + 2 > len(data):
                raise bad("GIF", "truncated extension")
            _, pos = _sub_blocks(data, pos + 2)
        elif kind == 0x2C:
            if pos + 10 > len(data):
                raise bad("GIF", "truncated image descriptor")
            ipacked = data[pos + 9]
            pos += 10 + (3 * (2 ** ((ipacked & 7) + 1)) if ipacked & 0x80 else 0)
            _, pos = _sub_blocks(data, pos + 1)  # skip LZW minimum code size
        else:
            raise bad("GIF", f"unknown block type 0x{kind:02x}")
        blocks.append(data[start:pos])


def _comment_text(block: bytes) -> str | None:
    if len(block) < 2 or block[0] != 0x21 or block[1] != COMMENT:
        return None
    text, _ = _sub_blocks(block, 2)
    return text.decode("latin-1")


def comment_block(text: bytes) -> bytes:
    out = bytearray(b"\x21\xfe")
    for i in range(0, len(text), 255):
        part = text[i : i + 255]
        out += bytes([len(part)]) + part
    return bytes(out + b"\0")


class GifCodec(Codec):
    name = "gif"
    extensions = (".gif",)
    places = 'Comment Extension `{"AIGC":{…}}` before the first image'

    def sniff(self, data: bytes) -> bool:
        return data[:6] in (b"GIF87a", b"GIF89a")

    def read(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> list[str]:
        found = []
        for block in parse(data)[1]:
            text = _comment_text(block)
            inner = unwrap(text, keys.key) if text else None
            if inner:
                found.append(inner)
        return found

    def write(self, data: bytes, label_json: str, keys: Keys = DEFAULT_KEYS) -> bytes:
        head, blocks = parse(data)
        kept = []
        for block in blocks:
            text = _comment_text(block)
            if text is not None and unwrap(text, keys.key):
                continue
            kept.append(block)
        label = comment_block(wrap(label_json, keys.key).encode("ascii"))
        return b"GIF89a" + head + label + b"".join(kept)

    def digest(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> str:
        head, blocks = parse(data)
        parts = [head]
        for block in blocks:
            if block[:2] == b"\x21\xfe" or (block[:2] == b"\x21\xff" and block[3:14] == b"XMP DataXMP"):
                continue
            parts.append(block)
        return sha256_parts(parts)

    def check(self, data: bytes) -> None:
        parse(data)
        check_image(data, "GIF", "GIF")

    def check_output(self, data: bytes) -> None:
        parse(data)
        open_header(data, "GIF", "GIF")
