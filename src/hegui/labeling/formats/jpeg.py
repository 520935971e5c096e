"""JPEG: APP1 XMP segment (``TC260:AIGC``) and the EXIF ``UserComment`` holding ``{"AIGC":{...}}``.

Segments are copied byte for byte and the entropy-coded data is never touched, so decoded pixels
stay identical. An existing EXIF block is re-serialised by Pillow with the UserComment set. The
content hash covers every segment except APP1 (EXIF/XMP) and COM, plus the scan data.
"""

from __future__ import annotations

import io
import struct
import warnings

from PIL import Image

from hegui.labeling.formats import xmp
from hegui.labeling.formats._pillow import check_image, open_header
from hegui.labeling.formats.base import DEFAULT_KEYS, Codec, Keys, bad, sha256_parts, unwrap, wrap

XMP_ID = b"http://ns.adobe.com/xap/1.0/\0"
EXIF_ID = b"Exif\0\0"
APP0, APP1, SOS, COM = 0xE0, 0xE1, 0xDA, 0xFE
EXIF_IFD, USER_COMMENT = 0x8769, 0x9286
ASCII_CODE = b"ASCII\0\0\0"


def segments(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """(marker, payload) up to and including SOS, then the rest (scan data to EOI and beyond)."""
    if not data.startswith(b"\xff\xd8"):
        raise bad("JPEG", "missing SOI marker")
    segs: list[tuple[int, bytes]] = []
    pos = 2
    while True:
        if pos >= len(data) or data[pos] != 0xFF:
            raise bad("JPEG", "truncated or corrupt marker structure")
        while pos < len(data) and data[pos] == 0xFF:
            pos += 1
        if pos >= len(data):
            raise bad("JPEG", "truncated")
        marker = data[pos]
        pos += 1
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            segs.append((marker, b""))
            continue
        if marker == 0xD9:
            raise bad("JPEG", "no image data before EOI")
        if pos + 2 > len(data):
            raise bad("JPEG", "truncated")
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        if length < 2 or pos + length > len(data):
            raise bad("JPEG", "truncated inside a segment")
        segs.append((marker, data[pos + 2 : pos + length]))
        pos += length
        if marker == SOS:
            rest = data[pos:]
            if b"\xff\xd9" not in rest:
                raise bad("JPEG", "truncated (no EOI marker)")
            return segs, rest


def _segment(marker: int, payload: bytes) -> bytes:
    if 0xD0 <= marker <= 0xD7 or marker == 0x01:
        return bytes([0xFF, marker])
    if len(payload) + 2 > 0xFFFF:
        raise bad("JPEG", "metadata segment would exceed 64 KiB")
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _exif(payload: bytes) -> Image.Exif:
    exif = Image.Exif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exif.load(payload)
    except (SyntaxError, ValueError, struct.error, OSError) as err:
        raise bad("JPEG", f"unreadable EXIF block ({err})") from None
    return exif


def _user_comment(exif: Image.Exif) -> str | None:
    raw = exif.get_ifd(EXIF_IFD).get(USER_COMMENT)
    if isinstance(raw, str):
        return raw
    if not isinstance(raw, bytes):
        return None
    if raw[:8] in (ASCII_CODE, b"\0" * 8):
        raw = raw[8:]
    elif raw[:8] == b"UNICODE\0":
        try:
            return raw[8:].decode("utf-16-be" if raw[8:9] == b"\0" else "utf-16-le")
        except UnicodeDecodeError:
            return None
    return raw.decode("latin-1").rstrip("\0 ")


class JpegCodec(Codec):
    name = "jpeg"
    extensions = (".jpg", ".jpeg", ".jpe")
    places = 'APP1 XMP (TC260:AIGC) + EXIF UserComment `{"AIGC":{…}}`'

    def sniff(self, data: bytes) -> bool:
        return data.startswith(b"\xff\xd8\xff")

    def read(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> list[str]:
        found: list[str] = []
        segs, _ = segments(data)
        for marker, payload in segs:
            if marker != APP1:
                continue
            if payload.startswith(XMP_ID):
                found += xmp.read(payload[len(XMP_ID):].decode("utf-8", "replace"), keys.key)
            elif payload.startswith(EXIF_ID):
                comment = _user_comment(_exif(payload))
                inner = unwrap(comment, keys.key) if comment else None
                if inner:
                    found.append(inner)
        return found

    def write(self, data: bytes, label_json: str, keys: Keys = DEFAULT_KEYS) -> bytes:
        segs, scan = segments(data)
        old_xmp: str | None = None
        exif_at: int | None = None
        kept: list[tuple[int, bytes]] = []
        for marker, payload in segs:
            if marker == APP1 and payload.startswith(XMP_ID):
                old_xmp = payload[len(XMP_ID):].decode("utf-8", "replace")
                continue
            if marker == APP1 and payload.startswith(EXIF_ID) and exif_at is None:
                exif_at = len(kept)
            kept.append((marker, payload))
        comment = ASCII_CODE + wrap(label_json, keys.key).encode("ascii")
        if exif_at is not None:
            exif = _exif(kept[exif_at][1])
            exif.get_ifd(EXIF_IFD)[USER_COMMENT] = comment
            kept[exif_at] = (APP1, exif.tobytes())
        else:
            exif = Image.Exif()
            exif.get_ifd(EXIF_IFD)[USER_COMMENT] = comment
            exif_at = 0
            while exif_at < len(kept) and kept[exif_at][0] == APP0:
                exif_at += 1
            kept.insert(exif_at, (APP1, exif.tobytes()))
        xmp_seg = (APP1, XMP_ID + xmp.merge(old_xmp, label_json, keys.key, keys.namespace).encode("utf-8"))
        kept.insert(exif_at + 1, xmp_seg)
        return b"\xff\xd8" + b"".join(_segment(m, p) for m, p in kept) + scan

    def digest(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> str:
        segs, scan = segments(data)
        parts = [bytes([m]) + p for m, p in segs if m not in (APP1, COM)]
        return sha256_parts([*parts, scan])

    def check(self, data: bytes) -> None:
        segments(data)
        check_image(data, "JPEG", "JPEG")


def exif_user_comment(data: bytes) -> str | None:
    """The UserComment text Pillow sees in a JPEG (for tests and diagnostics)."""
    with Image.open(io.BytesIO(data)) as im:
        raw = im.getexif().get_ifd(EXIF_IFD).get(USER_COMMENT)
    if isinstance(raw, bytes):
        return raw[8:].decode("latin-1") if raw[:8] == ASCII_CODE else raw.decode("latin-1")
    return raw if isinstance(raw, str) else None

    def check_output(self, data: bytes) -> None:
        segments(data)
        open_header(data, "JPEG", "JPEG")
