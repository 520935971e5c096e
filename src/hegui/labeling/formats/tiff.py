"""TIFF: XMP tag 700 (``TC260:AIGC``) in the first IFD.

Nothing in the original file moves: a copy of IFD0 with the XMP entry added is appended at the end
and the header is pointed at it (all offsets stay valid, pixel strips are untouched). Classic TIFF
only; BigTIFF is refused. The content hash covers the decoded pixels of every page.
"""

from __future__ import annotations

import struct

from hegui.labeling.formats import xmp
from hegui.labeling.formats._pillow import check_image, open_header, pixel_digest
from hegui.labeling.formats.base import DEFAULT_KEYS, Codec, Keys, bad

XMP_TAG, BYTE = 700, 1
_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}


def _ifd0(data: bytes) -> tuple[str, int, list[bytes], int]:
    """(byte order, IFD0 offset, raw 12-byte entries, next-IFD offset)."""
    if data[:4] == b"II*\0":
        bo = "<"
    elif data[:4] == b"MM\0*":
        bo = ">"
    elif data[:4] in (b"II+\0", b"MM\0+"):
        raise bad("TIFF", "BigTIFF is not supported")
    else:
        raise bad("TIFF", "missing TIFF header")
    if len(data) < 8:
        raise bad("TIFF", "truncated header")
    (off,) = struct.unpack(bo + "I", data[4:8])
    if off + 2 > len(data):
        raise bad("TIFF", "truncated (first IFD beyond end of file)")
    (n,) = struct.unpack(bo + "H", data[off : off + 2])
    end = off + 2 + 12 * n
    if end + 4 > len(data):
        raise bad("TIFF", "truncated inside the first IFD")
    entries = [data[off + 2 + 12 * i : off + 14 + 12 * i] for i in range(n)]
    (nxt,) = struct.unpack(bo + "I", data[end : end + 4])
    return bo, off, entries, nxt


def _value(data: bytes, bo: str, entry: bytes) -> bytes:
    _tag, typ, count = struct.unpack(bo + "HHI", entry[:8])
    size = _TYPE_SIZE.get(typ, 1) * count
    if size <= 4:
        return entry[8 : 8 + size]
    (off,) = struct.unpack(bo + "I", entry[8:12])
    if off + size > len(data):
        raise bad("TIFF", "truncated tag value")
    return data[off : off + size]


def _xmp_of(data: bytes, bo: str, entries: list[bytes]) -> str | None:
    for e in entries:
        if struct.unpack(bo + "H", e[:2])[0] == XMP_TAG:
            return _value(data, bo, e).decode("utf-8", "replace")
    return None


class TiffCodec(Codec):
    name = "tiff"
    extensions = (".tif", ".tiff")
    places = "XMP tag 700 (TC260:AIGC) in IFD0"

    def sniff(self, data: bytes) -> bool:
        return data[:4] in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")

    def read(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> list[str]:
        bo, _, entries, _ = _ifd0(data)
        packet = _xmp_of(data, bo, entries)
        return xmp.read(packet, keys.key) if packet else []

    def write(self, data: bytes, label_json: str, keys: Keys = DEFAULT_KEYS) -> bytes:
        bo, _, entries, nxt = _ifd0(data)
        packet = xmp.merge(_xmp_of(data, bo, entries), label_json, keys.key, keys.namespace).encode("utf-8")
        out = bytearray(data)
        if len(out) & 1:
            out += b"\0"
        xmp_off = len(out)
        out += packet
        if len(out) & 1:
            out += b"\0"
        ifd_off = len(out)
        if ifd_off + 6 + 12 * (len(entries) + 1) > 0xFFFFFFFF:
            raise bad("TIFF", "file too large for classic TIFF offsets")
        kept = [e for e in entries if struct.unpack(bo + "H", e[:2])[0] != XMP_TAG]
        kept.append(struct.pack(bo + "HHII", XMP_TAG, BYTE, len(packet), xmp_off))
        kept.sort(key=lambda e: struct.unpack(bo + "H", e[:2])[0])
        out += struct.pack(bo + "H", len(kept)) + b"".join(kept) + struct.pack(bo + "I", nxt)
        out[4:8] = struct.pack(bo + "I", ifd_off)
        return bytes(out)

    def digest(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> str:
        _ifd0(data)
        return pixel_digest(data, "TIFF", "TIFF")

    def check(self, data: bytes) -> None:
        _ifd0(data)
        check_image(data, "TIFF", "TIFF")

    def check_output(self, data: bytes) -> None:
        _ifd0(data)
        open_header(data, "TIFF", "TIFF")
