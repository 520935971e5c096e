"""WAV: a RIFF chunk ``AIGC`` holding the label JSON, placed before the ``data`` chunk.

Every other chunk is copied byte for byte, so the samples are identical. The content hash covers
the ``fmt `` and ``data`` chunks.
"""

from __future__ import annotations

import io

import mutagen
import mutagen.wave

from hegui.labeling.formats import riff
from hegui.labeling.formats.base import DEFAULT_KEYS, Codec, Keys, bad, sha256_parts


def fourcc(keys: Keys) -> bytes:
    return keys.key.encode("ascii")[:4].ljust(4, b" ")


def parse(data: bytes) -> list[tuple[bytes, bytes]]:
    chunks = riff.parse(data, b"WAVE", "WAV")
    names = [f for f, _ in chunks]
    if b"fmt " not in names or b"data" not in names:
        raise bad("WAV", "missing fmt or data chunk (truncated?)")
    return chunks


class WavCodec(Codec):
    name = "wav"
    extensions = (".wav", ".wave")
    places = "RIFF chunk `AIGC` before `data`"

    def sniff(self, data: bytes) -> bool:
        return data[:4] == b"RIFF" and data[8:12] == b"WAVE"

    def read(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> list[str]:
        cc = fourcc(keys)
        return [p.decode("latin-1").rstrip("\0").strip() for f, p in parse(data) if f == cc]

    def write(self, data: bytes, label_json: str, keys: Keys = DEFAULT_KEYS) -> bytes:
        cc = fourcc(keys)
        kept = [(f, p) for f, p in parse(data) if f != cc]
        at = next(i for i, (f, _) in enumerate(kept) if f == b"data")
        kept.insert(at, (cc, label_json.encode("ascii")))
        return riff.build(b"WAVE", kept)

    def digest(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> str:
        parts: list[bytes] = []
        for f, p in parse(data):
            if f in (b"fmt ", b"data"):
                parts += [f, p]
        return sha256_parts(parts)

    def check(self, data: bytes) -> None:
        parse(data)
        try:
            mutagen.wave.WAVE(io.BytesIO(data))  # type: ignore[no-untyped-call]
        except mutagen.MutagenError as err:
            raise bad("WAV", str(err)) from None
