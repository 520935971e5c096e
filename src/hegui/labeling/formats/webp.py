"""WebP: the ``XMP `` chunk (``TC260:AIGC``) of the extended format.

A simple (VP8/VP8L-only) file is converted to the extended layout by adding a ``VP8X`` header
chunk; the bitstream chunks are copied unchanged, so pixels stay identical. The content hash
covers every chunk except ``VP8X``, ``EXIF`` and ``XMP ``.
"""

from __future__ import annotations

import struct

from hegui.labeling.formats import riff, xmp
from hegui.labeling.formats._pillow import check_image, open_header
from hegui.labeling.formats.base import DEFAULT_KEYS, Codec, Keys, bad, sha256_parts

XMP_FLAG, ALPHA_FLAG = 0x04, 0x10
_META = {b"VP8X", b"EXIF", b"XMP "}


def _canvas(chunks: list[tuple[bytes, bytes]]) -> tuple[int, int, bool]:
    """Width, height and alpha of a simple WebP, read from its bitstream header."""
    fourcc, p = chunks[0]
    if fourcc == b"VP8 " and len(p) >= 10 and p[3:6] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", p[6:10])
        return w & 0x3FFF, h & 0x3FFF, False
    if fourcc == b"VP8L" and len(p) >= 5 and p[0] == 0x2F:
        (bits,) = struct.unpack("<I", p[1:5])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    raise bad("WebP", "unrecognised bitstream header")


class WebpCodec(Codec):
    name = "webp"
    extensions = (".webp",)
    places = "`XMP ` chunk (TC260:AIGC), VP8X flag set"

    def sniff(self, data: bytes) -> bool:
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"

    def read(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> list[str]:
        found: list[str] = []
        for fourcc, payload in riff.parse(data, b"WEBP", "WebP"):
            if fourcc == b"XMP ":
                found += xmp.read(payload.decode("utf-8", "replace"), keys.key)
        return found

    def write(self, data: bytes, label_json: str, keys: Keys = DEFAULT_KEYS) -> bytes:
        chunks = riff.parse(data, b"WEBP", "WebP")
        if not chunks:
            raise bad("WebP", "no chunks")
        old_xmp = next((p.decode("utf-8", "replace") for f, p in chunks if f == b"XMP "), None)
        body = [(f, p) for f, p in chunks if f != b"XMP "]
        if body[0][0] == b"VP8X":
            vp8x = bytearray(body[0][1])
            if len(vp8x) < 10:
                raise bad("WebP", "short VP8X chunk")
            vp8x[0] |= XMP_FLAG
            body[0] = (b"VP8X", bytes(vp8x))
        else:
            w, h, alpha = _canvas(body)
            flags = XMP_FLAG | (ALPHA_FLAG if alpha else 0)
            header = bytes([flags, 0, 0, 0]) + (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little")
            body.insert(0, (b"VP8X", header))
        new_xmp = xmp.merge(old_xmp, label_json, keys.key, keys.namespace)
        body.append((b"XMP ", new_xmp.encode("utf-8")))
        return riff.build(b"WEBP", body)

    def digest(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> str:
        parts: list[bytes] = []
        for fourcc, payload in riff.parse(data, b"WEBP", "WebP"):
            if fourcc not in _META:
                parts += [fourcc, payload]
        return sha256_parts(parts)

    def check(self, data: bytes) -> None:
        riff.parse(data, b"WEBP", "WebP")
        check_image(data, "WebP", "WEBP")

    def check_output(self, data: bytes) -> None:
        riff.parse(data, b"WEBP", "WebP")
        open_header(data, "WebP", "WEBP")
