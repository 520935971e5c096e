"""RIFF chunk lists (WebP, WAV): parse and rebuild, padding to even sizes as the format requires."""

from __future__ import annotations

import struct

from hegui.labeling.formats.base import bad


def parse(data: bytes, form: bytes, fmt: str) -> list[tuple[bytes, bytes]]:
    """(fourcc, payload) of each top-level chunk of a ``RIFF <form>`` file."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != form:
        raise bad(fmt, f"not a RIFF {form.decode()} file")
    (size,) = struct.unpack("<I", data[4:8])
    end = 8 + size
    if end > len(data):
        raise bad(fmt, f"truncated (RIFF header says {end} bytes, file has {len(data)})")
    out = []
    pos = 12
    while pos + 8 <= end:
        fourcc = data[pos : pos + 4]
        (n,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        if pos + 8 + n > end:
            raise bad(fmt, f"truncated inside chunk {fourcc.decode('latin-1')!r}")
        out.append((fourcc, data[pos + 8 : pos + 8 + n]))
        pos += 8 + n + (n & 1)
    return out


def chunk(fourcc: bytes, payload: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) & 1 else b"")


def build(form: bytes, chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = form + b"".join(chunk(f, p) for f, p in chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body
