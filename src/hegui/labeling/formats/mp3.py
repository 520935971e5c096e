"""MP3: ID3v2 frame ``TXXX`` with description ``AIGC`` (written with mutagen).

mutagen rewrites only the ID3v2 tag at the front; the MPEG frames after it are untouched. The
content hash covers the audio between the ID3v2 tag(s) and a trailing ID3v1 tag.
"""

from __future__ import annotations

import io
from typing import Any

import mutagen
import mutagen.id3
import mutagen.mp3

from hegui.labeling.formats.base import DEFAULT_KEYS, Codec, Keys, bad, sha256_parts

_BITRATES = {1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
             2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160]}
_RATES = {3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000]}


def audio_span(data: bytes) -> tuple[int, int]:
    """Start and end of the MPEG audio (after ID3v2 tags, before an ID3v1 tag)."""
    start = 0
    while data[start : start + 3] == b"ID3" and len(data) >= start + 10:
        size = 0
        for b in data[start + 6 : start + 10]:
            size = (size << 7) | (b & 0x7F)
        start += 10 + size + (10 if data[start + 5] & 0x10 else 0)
    end = len(data)
    if end - start >= 128 and data[end - 128 : end - 125] == b"TAG":
        end -= 128
    if start >= end:
        raise bad("MP3", "no audio after the ID3 tag (truncated?)")
    return start, end


def walk_frames(data: bytes, start: int, end: int) -> int:
    """Count Layer III frames from ``start``; raise if the last one runs past ``end`` (truncation)."""
    pos, frames = start, 0
    while pos + 4 <= end:
        h = int.from_bytes(data[pos : pos + 4], "big")
        if (h >> 21) != 0x7FF:
            break  # lost sync (junk or a trailing tag): stop checking
        version, layer = (h >> 19) & 3, (h >> 17) & 3
        br_idx, sr_idx, pad = (h >> 12) & 15, (h >> 10) & 3, (h >> 9) & 1
        if layer != 1 or version == 1 or br_idx in (0, 15) or sr_idx == 3:
            break  # not Layer III or free format: cannot check further
        br = _BITRATES[1 if version == 3 else 2][br_idx] * 1000
        sr = _RATES[version][sr_idx]
        length = (144 if version == 3 else 72) * br // sr + pad
        if pos + length > end:
            raise bad("MP3", f"truncated inside audio frame {frames + 1}")
        pos += length
        frames += 1
    return frames


def _open(data: bytes) -> tuple[io.BytesIO, Any]:
    buf = io.BytesIO(data)
    try:
        return buf, mutagen.mp3.MP3(buf)  # type: ignore[no-untyped-call]
    except mutagen.MutagenError as err:
        raise bad("MP3", str(err)) from None


class Mp3Codec(Codec):
    name = "mp3"
    extensions = (".mp3",)
    places = "ID3v2 `TXXX` frame, description `AIGC`"

    def sniff(self, data: bytes) -> bool:
        try:
            start, _ = audio_span(data)
        except ValueError:
            return False
        head = data[start : start + 2]
        return len(head) == 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0 and (head[1] & 0x06) != 0

    def read(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> list[str]:
        _, f = _open(data)
        if f.tags is None:
            return []
        return [str(t).strip() for fr in f.tags.getall("TXXX:" + keys.key) for t in fr.text]

    def write(self, data: bytes, label_json: str, keys: Keys = DEFAULT_KEYS) -> bytes:
        buf, f = _open(data)
        if f.tags is None:
            f.add_tags()
        f.tags.delall("TXXX:" + keys.key)
        f.tags.add(mutagen.id3.TXXX(encoding=mutagen.id3.Encoding.LATIN1, desc=keys.key, text=[label_json]))  # type: ignore[no-untyped-call]
        try:
            buf.seek(0)
            f.save(buf)
        except mutagen.MutagenError as err:
            raise bad("MP3", str(err)) from None
        return buf.getvalue()

    def digest(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> str:
        start, end = audio_span(data)
        return sha256_parts([data[start:end]])

    def check(self, data: bytes) -> None:
        _open(data)
        start, end = audio_span(data)
        if walk_frames(data, start, end) == 0 and data[start] != 0xFF:
            raise bad("MP3", "no MPEG audio frames found")
