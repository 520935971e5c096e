"""FLAC: Vorbis comment ``AIGC=<json>`` in the VORBIS_COMMENT metadata block (written with mutagen).

mutagen rewrites only metadata blocks; audio frames are copied. The content hash covers the
STREAMINFO block and everything after the last metadata block.
"""

from __future__ import annotations

import io
from typing import Any

import mutagen
import mutagen.flac

from hegui.labeling.formats.base import DEFAULT_KEYS, Codec, Keys, bad, sha256_parts
from hegui.labeling.formats.mp3 import audio_span


def _blocks(data: bytes) -> tuple[bytes, int]:
    """(STREAMINFO payload, offset of the first audio frame)."""
    start = audio_span(data)[0] if data[:3] == b"ID3" else 0
    if data[start : start + 4] != b"fLaC":
        raise bad("FLAC", "missing fLaC marker")
    pos, streaminfo = start + 4, b""
    while True:
        if pos + 4 > len(data):
            raise bad("FLAC", "truncated inside metadata")
        last, kind = data[pos] & 0x80, data[pos] & 0x7F
        n = int.from_bytes(data[pos + 1 : pos + 4], "big")
        if pos + 4 + n > len(data):
            raise bad("FLAC", "truncated inside metadata")
        if kind == 0:
            streaminfo = data[pos + 4 : pos + 4 + n]
        pos += 4 + n
        if last:
            if not streaminfo:
                raise bad("FLAC", "no STREAMINFO block")
            if pos >= len(data) or data[pos] != 0xFF:
                raise bad("FLAC", "no audio frames after the metadata (truncated?)")
            return streaminfo, pos


def _crc16_table() -> list[int]:
    table = []
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x8005) if c & 0x8000 else (c << 1)
        table.append(c & 0xFFFF)
    return table


_CRC16 = _crc16_table()


def _crc16(data: bytes) -> int:
    c = 0
    for b in data:
        c = ((c << 8) & 0xFFFF) ^ _CRC16[(c >> 8) ^ b]
    return c


def last_frame_complete(data: bytes, first_frame: int, streaminfo: bytes) -> bool:
    """True if the file ends with a whole frame (some sync code in the tail starts a frame whose CRC-16 is
    the file's last two bytes); a file cut inside a frame fails this."""
    max_frame = int.from_bytes(streaminfo[7:10], "big") if len(streaminfo) >= 10 else 0
    span = (max_frame or 1 << 20) + 16
    lo = max(first_frame, len(data) - span)
    want = int.from_bytes(data[-2:], "big")
    pos = data.rfind(b"\xff", lo, len(data) - 2)
    while pos >= lo:
        if data[pos + 1] in (0xF8, 0xF9) and _crc16(data[pos:-2]) == want:
            return True
        pos = data.rfind(b"\xff", lo, pos)
    return False


def _open(data: bytes) -> tuple[io.BytesIO, Any]:
    buf = io.BytesIO(data)
    try:
        return buf, mutagen.flac.FLAC(buf)  # type: ignore[no-untyped-call]
    except mutagen.MutagenError as err:
        raise bad("FLAC", str(err)) from None


class FlacCodec(Codec):
    name = "flac"
    extensions = (".flac",)
    places = "Vorbis comment `AIGC`"

    def sniff(self, data: bytes) -> bool:
        if data[:3] == b"ID3":
            try:
                start = audio_span(data)[0]
            except ValueError:
                return False
            return data[start : start + 4] == b"fLaC"
        return data[:4] == b"fLaC"

    def read(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> list[str]:
        _, f = _open(data)
        if f.tags is None:
            return []
        return [v.strip() for v in f.tags.get(keys.key, [])]

    def write(self, data: bytes, label_json: str, keys: Keys = DEFAULT_KEYS) -> bytes:
        buf, f = _open(data)
        if f.tags is None:
            f.add_tags()
        f.tags[keys.key] = [label_json]
        try:
            buf.seek(0)
            f.save(buf)
        except mutagen.MutagenError as err:
            raise bad("FLAC", str(err)) from None
        return buf.getvalue()

    def digest(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> str:
        streaminfo, pos = _blocks(data)
        return sha256_parts([streaminfo, data[pos:]])

    def check(self, data: bytes) -> None:
        streaminfo, first = _blocks(data)
        _open(data)
        if not last_frame_complete(data, first, streaminfo):
            raise bad("FLAC", "truncated inside the last audio frame")
