"""PNG: ``tEXt`` chunk keyword ``AIGC`` plus the XMP ``iTXt`` chunk (``XML:com.adobe.xmp``).

Chunks are copied byte for byte; only text chunks change, so the image data is untouched. The
content hash covers every chunk except the text chunks and ``tIME``.
"""

from __future__ import annotations

import struct
import zlib

from hegui.labeling.formats import xmp
from hegui.labeling.formats._pillow import check_image, open_header
from hegui.labeling.formats.base import DEFAULT_KEYS, Codec, Keys, bad, sha256_parts

SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_KEYWORD = b"XML:com.adobe.xmp"
_TEXT_TYPES = {b"tEXt", b"zTXt", b"iTXt"}


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, payload) pairs; raises on a bad signature, bad CRC or truncation."""
    if not data.startswith(SIGNATURE):
        raise bad("PNG", "missing PNG signature")
    out = []
    pos = len(SIGNATURE)
    while True:
        if pos + 8 > len(data):
            raise bad("PNG", "truncated (no IEND chunk)")
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise bad("PNG", f"truncated inside chunk {ctype.decode('latin-1')!r}")
        payload = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[end - 4 : end])
        if zlib.crc32(ctype + payload) != crc:
            raise bad("PNG", f"CRC mismatch in chunk {ctype.decode('latin-1')!r}")
        out.append((ctype, payload))
        pos = end
        if ctype == b"IEND":
            return out


def make_chunk(ctype: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + ctype + payload + struct.pack(">I", zlib.crc32(ctype + payload))


def _itxt_text(payload: bytes) -> tuple[bytes, str] | None:
    """(keyword, text) of an iTXt chunk, or None if malformed."""
    try:
        keyword, rest = payload.split(b"\0", 1)
        comp_flag, _method = rest[0], rest[1]
        _lang, rest = rest[2:].split(b"\0", 1)
        _tkey, text = rest.split(b"\0", 1)
        if comp_flag:
            text = zlib.decompress(text)
        return keyword, text.decode("utf-8")
    except (ValueError, IndexError, zlib.error, UnicodeDecodeError):
        return None


def _text_of(ctype: bytes, payload: bytes) -> tuple[bytes, str] | None:
    if ctype == b"tEXt":
        keyword, _, text = payload.partition(b"\0")
        return keyword, text.decode("latin-1")
    if ctype == b"zTXt":
        keyword, _, rest = payload.partition(b"\0")
        try:
            return keyword, zlib.decompress(rest[1:]).decode("latin-1")
        except zlib.error:
            return None
    return _itxt_text(payload)


def itxt(keyword: bytes, text: str) -> bytes:
    return make_chunk(b"iTXt", keyword + b"\0\0\0\0\0" + text.encode("utf-8"))


class PngCodec(Codec):
    name = "png"
    extensions = (".png",)
    places = "tEXt chunk `AIGC` + XMP iTXt chunk `XML:com.adobe.xmp` (TC260:AIGC)"

    def sniff(self, data: bytes) -> bool:
        return data.startswith(SIGNATURE)

    def read(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> list[str]:
        found = []
        for ctype, payload in chunks(data):
            if ctype not in _TEXT_TYPES:
                continue
            kt = _text_of(ctype, payload)
            if kt is None:
                continue
            keyword, text = kt
            if keyword == keys.key.encode("latin-1"):
                found.append(text.strip())
            elif keyword == XMP_KEYWORD:
                found += xmp.read(text, keys.key)
        return found

    def write(self, data: bytes, label_json: str, keys: Keys = DEFAULT_KEYS) -> bytes:
        old_xmp: str | None = None
        kept: list[tuple[bytes, bytes]] = []
        for ctype, payload in chunks(data):
            if ctype in _TEXT_TYPES:
                kt = _text_of(ctype, payload)
                if kt and kt[0] == keys.key.encode("latin-1"):
                    continue
                if kt and kt[0] == XMP_KEYWORD:
                    old_xmp = kt[1]
                    continue
            kept.append((ctype, payload))
        if kept[0][0] != b"IHDR":
            raise bad("PNG", "first chunk is not IHDR")
        new_xmp = xmp.merge(old_xmp, label_json, keys.key, keys.namespace)
        label_chunks = (make_chunk(b"tEXt", keys.key.encode("latin-1") + b"\0" + label_json.encode("ascii"))
                        + itxt(XMP_KEYWORD, new_xmp))
        out = [SIGNATURE, make_chunk(*kept[0]), label_chunks]
        out += [make_chunk(t, p) for t, p in kept[1:]]
        return b"".join(out)

    def digest(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> str:
        parts = []
        for ctype, payload in chunks(data):
            if ctype in _TEXT_TYPES or ctype == b"tIME":
                continue
            parts += [ctype, payload]
        return sha256_parts(parts)

    def check(self, data: bytes) -> None:
        chunks(data)
        check_image(data, "PNG", "PNG")

    def check_output(self, data: bytes) -> None:
        chunks(data)
        open_header(data, "PNG", "PNG")
