"""MP4 / MOV: ``moov/udta/meta`` with an ``mdta`` handler, a ``keys`` entry ``AIGC`` and its ``ilst`` value.

Written box by box: only ``moov`` changes. When ``moov`` sits before the media data (fast-start
files), its growth shifts the media, so every ``stco``/``co64`` chunk offset pointing past it is
moved by the same amount; the media bytes themselves are never touched. Fragmented MP4 is refused.
The content hash covers the payload of every ``mdat`` box.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import mutagen
import mutagen.mp4

from hegui.labeling.formats.base import DEFAULT_KEYS, Codec, Keys, bad, sha256_parts

_CONTAINERS = {b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf"}
MDTA, UTF8 = b"mdta", 1


@dataclass(frozen=True, slots=True)
class Box:
    type: bytes
    start: int
    header: int
    end: int

    def payload(self, data: bytes) -> bytes:
        return data[self.start + self.header : self.end]


def boxes(data: bytes, start: int = 0, end: int | None = None) -> list[Box]:
    end = len(data) if end is None else end
    out = []
    pos = start
    while pos < end:
        if pos + 8 > end:
            raise bad("MP4", f"truncated box header at byte {pos}")
        size, typ = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            if pos + 16 > end:
                raise bad("MP4", "truncated box header")
            (size,) = struct.unpack(">Q", data[pos + 8 : pos + 16])
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise bad("MP4", f"box {typ.decode('latin-1')!r} runs past the end of its container (truncated?)")
        out.append(Box(typ, pos, header, pos + size))
        pos += size
    return out


def make_box(typ: bytes, payload: bytes) -> bytes:
    if len(payload) + 8 <= 0xFFFFFFFF:
        return struct.pack(">I4s", len(payload) + 8, typ) + payload
    return struct.pack(">I4sQ", 1, typ, len(payload) + 16) + payload


def _top(data: bytes) -> tuple[list[Box], Box]:
    if data[4:8] not in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"pnot"):
        raise bad("MP4", "no ftyp/moov box at the start")
    top = boxes(data)
    moovs = [b for b in top if b.type == b"moov"]
    if len(moovs) != 1:
        raise bad("MP4", "no moov box (truncated or still being written?)" if not moovs else "several moov boxes")
    if any(b.type == b"moof" for b in top):
        raise bad("MP4", "fragmented MP4 (moof boxes) is not supported")
    return top, moovs[0]


def _meta_children(data: bytes, meta: Box) -> tuple[bytes, list[Box]]:
    """(prefix: version/flags for the ISO full-box form or b"" for QuickTime, children)."""
    p0 = meta.start + meta.header
    if data[p0 + 4 : p0 + 8] == b"hdlr":
        return b"", boxes(data, p0, meta.end)
    return data[p0 : p0 + 4], boxes(data, p0 + 4, meta.end)


def _handler(data: bytes, children: list[Box]) -> bytes:
    for c in children:
        if c.type == b"hdlr":
            return data[c.start + c.header + 8 : c.start + c.header + 12]
    return b""


def _keys_items(data: bytes, children: list[Box]) -> list[tuple[bytes, bytes, bytes]]:
    """(namespace, key name, raw ilst item payload) for every key of an mdta meta box."""
    names: list[tuple[bytes, bytes]] = []
    items: dict[int, bytes] = {}
    for c in children:
        p = c.payload(data)
        if c.type == b"keys":
            (count,) = struct.unpack(">I", p[4:8])
            pos = 8
            for _ in range(count):
                if pos + 8 > len(p):
                    raise bad("MP4", "truncated keys box")
                (n,) = struct.unpack(">I", p[pos : pos + 4])
                names.append((p[pos + 4 : pos + 8], p[pos + 8 : pos + n]))
                pos += n
        elif c.type == b"ilst":
            for item in boxes(data, c.start + c.header, c.end):
                items[int.from_bytes(item.type, "big")] = item.payload(data)
    return [(ns, name, items.get(i + 1, b"")) for i, (ns, name) in enumerate(names)]


def _item_value(data: bytes) -> str | None:
    for d in boxes(data):
        if d.type == b"data":
            p = d.payload(data)
            return p[8:].decode("utf-8", "replace")
    return None


def _mdta_meta(prefix: bytes, keys: list[tuple[bytes, bytes, bytes]]) -> bytes:
    hdlr = make_box(b"hdlr", b"\0" * 8 + MDTA + b"\0" * 12 + b"\0")
    kpayload = b"\0\0\0\0" + struct.pack(">I", len(keys))
    kpayload += b"".join(struct.pack(">I", 8 + len(name)) + ns + name for ns, name, _ in keys)
    ilst = b"".join(make_box(struct.pack(">I", i + 1), item) for i, (_, _, item) in enumerate(keys))
    return make_box(b"meta", prefix + hdlr + make_box(b"keys", kpayload) + make_box(b"ilst", ilst))


def _label_item(label_json: str) -> bytes:
    return make_box(b"data", struct.pack(">II", UTF8, 0) + label_json.encode("ascii"))


def _shift_offsets(moov: bytearray, box: Box, base: int, threshold: int, delta: int) -> None:
    """Add ``delta`` to every chunk offset ≥ ``threshold`` in the stco/co64 boxes under ``box``."""
    for child in boxes(bytes(moov), box.start + box.header, box.end):
        if child.type in _CONTAINERS:
            _shift_offsets(moov, child, base, threshold, delta)
        elif child.type in (b"stco", b"co64"):
            p = child.start + child.header
            (count,) = struct.unpack(">I", moov[p + 4 : p + 8])
            width, fmt = (4, ">I") if child.type == b"stco" else (8, ">Q")
            for i in range(count):
                at = p + 8 + i * width
                (off,) = struct.unpack(fmt, moov[at : at + width])
                if off >= threshold:
                    off += delta
                    if width == 4 and off > 0xFFFFFFFF:
                        raise bad("MP4", "chunk offsets would overflow 32 bits")
                    moov[at : at + width] = struct.pack(fmt, off)


class Mp4Codec(Codec):
    name = "mp4"
    extensions = (".mp4", ".m4v", ".m4a", ".mov", ".qt")
    places = "`moov/udta/meta` (handler `mdta`): `keys` entry `AIGC` + `ilst` UTF-8 value"

    def sniff(self, data: bytes) -> bool:
        return data[4:8] in (b"ftyp", b"moov", b"wide", b"free", b"mdat") and len(data) >= 8

    def _metas(self, data: bytes, moov: Box) -> list[Box]:
        out = []
        for child in boxes(data, moov.start + moov.header, moov.end):
            if child.type == b"meta":
                out.append(child)
            elif child.type == b"udta":
                out += [b for b in boxes(data, child.start + child.header, child.end) if b.type == b"meta"]
        return out

    def read(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> list[str]:
        _, moov = _top(data)
        found = []
        for meta in self._metas(data, moov):
            _, children = _meta_children(data, meta)
            if _handler(data, children) != MDTA:
                continue
            for ns, name, item in _keys_items(data, children):
                if ns == MDTA and name == keys.key.encode("ascii"):
                    value = _item_value(item)
                    if value:
                        found.append(value.strip())
        return found

    def write(self, data: bytes, label_json: str, keys: Keys = DEFAULT_KEYS) -> bytes:
        top, moov = _top(data)
        key = keys.key.encode("ascii")
        moov_bytes = bytearray(data[moov.start : moov.end])
        local = Box(moov.type, 0, moov.header, moov.end - moov.start)
        children = boxes(bytes(moov_bytes), local.header, local.end)
        new_children: list[bytes] = []
        udta_done = False
        for child in children:
            raw = bytes(moov_bytes[child.start : child.end])
            if child.type != b"udta":
                new_children.append(raw)
                continue
            udta_parts: list[bytes] = []
            placed = False
            for sub in boxes(raw, child.header, len(raw)):
                sub_raw = raw[sub.start : sub.end]
                if sub.type == b"meta" and not placed:
                    prefix, mchildren = _meta_children(raw, sub)
                    if _handler(raw, mchildren) == MDTA:
                        entries = [e for e in _keys_items(raw, mchildren) if not (e[0] == MDTA and e[1] == key)]
                        entries.append((MDTA, key, _label_item(label_json)))
                        udta_parts.append(_mdta_meta(prefix, entries))
                        placed = True
                        continue
                udta_parts.append(sub_raw)
            if not placed:
                udta_parts.append(_mdta_meta(b"\0\0\0\0", [(MDTA, key, _label_item(label_json))]))
            new_children.append(make_box(b"udta", b"".join(udta_parts)))
            udta_done = True
        if not udta_done:
            new_children.append(make_box(b"udta", _mdta_meta(b"\0\0\0\0", [(MDTA, key, _label_item(label_json))])))
        new_moov_len = 8 + sum(len(c) for c in new_children)
        delta = new_moov_len - (moov.end - moov.start)
        if delta and any(b.start >= moov.end for b in top if b.type == b"mdat"):
            _shift_offsets(moov_bytes, local, 0, moov.end, delta)
            children = boxes(bytes(moov_bytes), local.header, local.end)
            new_children = [bytes(moov_bytes[c.start : c.end]) if c.type != b"udta" else new_children[i]
                            for i, c in enumerate(children)] + new_children[len(children):]
        new_moov = make_box(b"moov", b"".join(new_children))
        return data[: moov.start] + new_moov + data[moov.end :]

    def digest(self, data: bytes, keys: Keys = DEFAULT_KEYS) -> str:
        top, _ = _top(data)
        return sha256_parts([b.payload(data) for b in top if b.type == b"mdat"])

    def check(self, data: bytes) -> None:
        top, _ = _top(data)
        if not any(b.type == b"mdat" for b in top):
            raise bad("MP4", "no mdat box (no media data)")
        try:
            mutagen.mp4.MP4(io.BytesIO(data))  # type: ignore[no-untyped-call]
        except mutagen.MutagenError as err:
            raise bad("MP4", str(err)) from None
