"""Ogg Vorbis / Opus: Vorbis comment ``AIGC=<json>`` in the comment header (written with mutagen).

mutagen rewrites the header pages (and renumbers later pages); the audio packets are unchanged.
The content hash covers every packet of every stream except the comment header (packet 1), so it
is independent of paging. A stream that does not end with an end-of-stream page is truncated.
"""

from __future__ import annotations

import io
import struct
from typing import Any

import mutagen
import mutagen.oggopus
import mutagen.oggvorbis

from hegui.labeling.formats.base import DEFAULT_KEYS, Codec, Keys, bad, sha256_parts


def packets(data: bytes) -> dict[int, list[bytes]]:
    """Packets per stream serial number; raises on truncation or broken pages."""
    streams: dict[int, list[bytes]] = {}
    partial: dict[int, bytearray] = {}
    ended: set[int] = set()
    pos = 0
    while pos < len(data):
        if data[pos : pos + 4] != b"OggS" or pos + 27 > len(data):
            raise bad("Ogg", f"broken page at byte {pos} (truncated?)")
        flags = data[pos + 5]
        (serial,) = struct.unpack("<I", data[pos + 14 : pos + 18])
        nseg = data[pos + 26]
        lacing = data[pos + 27 : pos + 27 + nseg]
        body = pos + 27 + nseg
        if len(lacing) < nseg or body + sum(lacing) > len(data):
            raise bad("Ogg", "truncated inside a page")
        cur = partial.setdefault(serial, bytearray())
        off = body
        for lace in lacing:
            cur += data[off : off + lace]
            off += lace
            if lace < 255:
                streams.setdefault(serial, []).append(bytes(cur))
                cur.clear()
        if flags & 0x04:
            ended.add(serial)
        pos = off
    if not streams:
        raise bad("Ogg", "no packets")
    missing = set(streams) - ended
    if missing:
        raise bad("Ogg", "stream does not end with an end-of-stream page (truncated?)")
    return streams


def _open(data: bytes) -> tuple[io.BytesIO, Any]:
    buf = io.BytesIO(data)
    head = data[28:36]
    kind = mutagen.oggopus.OggOpus if head.startswith(b"OpusHead") else mutagen.oggvorbis.OggVorbis
    try:
        return buf, kind(buf)
    except mutagen.MutagenError as err:
        raise bad("Ogg", f"not Ogg Vorbis or Opus ({err})") from None


class OggCodec(Codec):
    name = "ogg"
    extensions = (".ogg", ".oga", ".opus")
    places = "Vorbis comment `AIGC` (Vorbis and Opus streams)"

    def sniff(self, data: bytes) -> bool:
        return data[:4] == b"OggS"

    def read(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> list[str]:
        _, f = _open(data)
        if f.tags is None:
            return []
        return [v.strip() for v in f.tags.get(keys.key, [])]

    def write(self, data: bytes, label_json: str, keys: Keys = DEFAULT_KEYS) -> bytes:
        buf, f = _open(data)
        f.tags[keys.key] = [label_json]
        try:
            buf.seek(0)
            f.save(buf)
        except mutagen.MutagenError as err:
            raise bad("Ogg", str(err)) from None
        return buf.getvalue()

    def digest(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> str:
        parts: list[bytes] = []
        for serial, pkts in sorted(packets(data).items()):
            parts.append(str(serial).encode())
            parts += [p for i, p in enumerate(pkts) if i != 1]
        return sha256_parts(parts)

    def check(self, data: bytes) -> None:
        packets(data)
        _open(data)
