"""A minimal PDF writer with an embedded CJK TrueType font (no PDF library needed).

Text is real text (Type0 / CIDFontType2, Identity-H, with a ToUnicode map), so it can be
searched and copied. The font (WenQuanYi Micro Hei from Debian ``fonts-wqy-microhei`` by default)
is taken out of its TrueType collection and subset by emptying every glyph the document does not
use (glyph ids stay the same, so no re-mapping is needed).
"""

from __future__ import annotations

import functools
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from hegui.errors import HeguiError
from hegui.filing.document import Document, Heading, Para, Table

DEFAULT_FONTS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
KEEP_TABLES = (b"OS/2", b"cmap", b"cvt ", b"fpgm", b"glyf", b"head", b"hhea", b"hmtx", b"loca", b"maxp",
               b"name", b"prep", b"post")
PAGE_W, PAGE_H = 595.28, 841.89  # A4 in points
MARGIN = 56.0


class FontError(HeguiError):
    """No usable CJK font: the message says which package to install."""


def find_font() -> Path:
    for p in DEFAULT_FONTS:
        if p.is_file():
            return p
    raise FontError("no CJK font found for the PDF: install Debian/Ubuntu package fonts-wqy-microhei "
                    f"(expected {DEFAULT_FONTS[0]})")


class TrueTypeFont:
    """The parts of a TrueType font a PDF needs: glyph ids, advance widths, subsetting."""

    def __init__(self, path: Path, index: int = 0) -> None:
        data = path.read_bytes()
        base = 0
        if data[:4] == b"ttcf":
            count = struct.unpack(">I", data[8:12])[0]
            if index >= count:
                raise FontError(f"{path}: font index {index} not in collection of {count}")
            base = struct.unpack(">I", data[12 + 4 * index:16 + 4 * index])[0]
        num = struct.unpack(">H", data[base + 4:base + 6])[0]
        self.tables: dict[bytes, bytes] = {}
        for i in range(num):
            tag, _cs, off, ln = struct.unpack(">4sIII", data[base + 12 + 16 * i:base + 28 + 16 * i])
            self.tables[tag] = data[off:off + ln]
        for t in (b"head", b"hhea", b"hmtx", b"cmap", b"glyf", b"loca", b"maxp"):
            if t not in self.tables:
                raise FontError(f"{path}: not a TrueType-outline font (no {t.decode()} table)")
        head = self.tables[b"head"]
        self.units_per_em: int = int(struct.unpack(">H", head[18:20])[0])
        self.bbox = struct.unpack(">hhhh", head[36:44])
        self.loca_long = struct.unpack(">h", head[50:52])[0] == 1
        hhea = self.tables[b"hhea"]
        self.ascent, self.descent = struct.unpack(">hh", hhea[4:8])
        n_hmetrics = struct.unpack(">H", hhea[34:36])[0]
        self.num_glyphs = struct.unpack(">H", self.tables[b"maxp"][4:6])[0]
        hmtx = self.tables[b"hmtx"]
        adv = [int(struct.unpack(">H", hmtx[4 * i:4 * i + 2])[0]) for i in range(n_hmetrics)]
        self.advances: list[int] = adv + [adv[-1]] * (self.num_glyphs - n_hmetrics)
        self.cmap = self._parse_cmap(self.tables[b"cmap"])
        self.name = "WenQuanYiMicroHei"

    @staticmethod
    def _parse_cmap(cmap: bytes) -> dict[int, int]:
        n = struct.unpack(">H", cmap[2:4])[0]
        best: tuple[int, int] | None = None
        for i in range(n):
            pid, eid, off = struct.unpack(">HHI", cmap[4 + 8 * i:12 + 8 * i])
            fmt = struct.unpack(">H", cmap[off:off + 2])[0]
            if (pid, eid) in ((3, 10), (0, 4), (0, 6)) and fmt == 12:
                best = (off, 12)
                break
            if (pid, eid) in ((3, 1), (0, 3), (0, 1)) and fmt == 4 and best is None:
                best = (off, 4)
        if best is None:
            raise FontError("font has no Unicode cmap")
        off, fmt = best
        out: dict[int, int] = {}
        if fmt == 12:
            groups = struct.unpack(">I", cmap[off + 12:off + 16])[0]
            for g in range(groups):
                start, end, gid = struct.unpack(">III", cmap[off + 16 + 12 * g:off + 28 + 12 * g])
                for c in range(start, end + 1):
                    out[c] = gid + c - start
            return out
        segx2 = struct.unpack(">H", cmap[off + 6:off + 8])[0]
        seg = segx2 // 2
        ends = struct.unpack(f">{seg}H", cmap[off + 14:off + 14 + segx2])
        starts = struct.unpack(f">{seg}H", cmap[off + 16 + segx2:off + 16 + 2 * segx2])
        deltas = struct.unpack(f">{seg}h", cmap[off + 16 + 2 * segx2:off + 16 + 3 * segx2])
        ro_pos = off + 16 + 3 * segx2
        ranges = struct.unpack(f">{seg}H", cmap[ro_pos:ro_pos + segx2])
        for i in range(seg):
            for c in range(starts[i], ends[i] + 1):
                if c == 0xFFFF:
                    continue
                if ranges[i] == 0:
                    gid = (c + deltas[i]) & 0xFFFF
                else:
                    p = ro_pos + 2 * i + ranges[i] + 2 * (c - starts[i])
                    gid = struct.unpack(">H", cmap[p:p + 2])[0]
                    if gid:
                        gid = (gid + deltas[i]) & 0xFFFF
                if gid:
                    out[c] = gid
        return out

    def gid(self, ch: str) -> int:
        return self.cmap.get(ord(ch), 0)

    def width(self, text: str, size: float) -> float:
        return sum(self.advances[self.gid(c)] for c in text) * size / self.units_per_em

    def _glyph_range(self, gid: int) -> tuple[int, int]:
        loca = self.tables[b"loca"]
        if self.loca_long:
            a, b = struct.unpack(">II", loca[4 * gid:4 * gid + 8])
            return a, b
        a, b = struct.unpack(">HH", loca[2 * gid:2 * gid + 4])
        return a * 2, b * 2

    def _components(self, glyph: bytes) -> list[int]:
        if len(glyph) < 10 or struct.unpack(">h", glyph[:2])[0] >= 0:
            return []
        out, pos = [], 10
        while True:
            flags, comp = struct.unpack(">HH", glyph[pos:pos + 4])
            out.append(comp)
            pos += 4 + (4 if flags & 0x0001 else 2)
            if flags & 0x0008:
                pos += 2
            elif flags & 0x0040:
                pos += 4
            elif flags & 0x0080:
                pos += 8
            if not flags & 0x0020:
                return out

    def subset(self, gids: set[int]) -> bytes:
        """A TrueType file keeping only ``gids`` (plus .notdef and composite parts) as outlines."""
        glyf = self.tables[b"glyf"]
        keep = {0} | set(gids)
        todo = list(keep)
        while todo:
            g = todo.pop()
            a, b = self._glyph_range(g)
            for c in self._components(glyf[a:b]):
                if c not in keep:
                    keep.add(c)
                    todo.append(c)
        new_glyf = bytearray()
        offsets = []
        for g in range(self.num_glyphs):
            offsets.append(len(new_glyf))
            if g in keep:
                a, b = self._glyph_range(g)
                new_glyf += glyf[a:b]
                if len(new_glyf) % 4:
                    new_glyf += b"\0" * (4 - len(new_glyf) % 4)
        offsets.append(len(new_glyf))
        loca = struct.pack(f">{len(offsets)}I", *offsets)
        head = bytearray(self.tables[b"head"])
        head[8:12] = b"\0\0\0\0"
        head[50:52] = struct.pack(">h", 1)
        tables = {t: self.tables[t] for t in KEEP_TABLES if t in self.tables}
        tables[b"glyf"], tables[b"loca"], tables[b"head"] = bytes(new_glyf), loca, bytes(head)
        post = self.tables.get(b"post")
        if post is not None:  # format 3: no glyph names (they are most of the table)
            tables[b"post"] = struct.pack(">I", 0x00030000) + post[4:32]
        return _build_sfnt(tables)


def _checksum(data: bytes) -> int:
    padded = data + b"\0" * (-len(data) % 4)
    return int(sum(struct.unpack(f">{len(padded) // 4}I", padded))) & 0xFFFFFFFF


def _build_sfnt(tables: dict[bytes, bytes]) -> bytes:
    tags = sorted(tables)
    n = len(tags)
    es = max(i for i in range(16) if 2 ** i <= n)
    header = struct.pack(">IHHHH", 0x00010000, n, 16 * 2 ** es, es, 16 * n - 16 * 2 ** es)
    offset = 12 + 16 * n
    directory, body = b"", b""
    for t in tags:
        data = tables[t]
        directory += struct.pack(">4sIII", t, _checksum(data), offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    return header + directory + body


# --- layout ----------------------------------------------------------------------------------


@dataclass
class _Style:
    size: float
    leading: float
    space_before: float
    grey: bool = False


STYLES = {
    "title": _Style(18, 26, 0), "subtitle": _Style(11, 16, 2, grey=True),
    "h1": _Style(14, 20, 14), "h2": _Style(12, 17, 10), "h3": _Style(11, 16, 8),
    "normal": _Style(10, 15, 4), "strong": _Style(10.5, 15.5, 4), "note": _Style(8.5, 12.5, 3, grey=True),
    "cell": _Style(8.5, 11.5, 0),
}


_NO_LINE_START = frozenset("，。；：、！？）」』”’》】,.;:!?)")


def wrap(font: TrueTypeFont, text: str, size: float, width: float) -> list[str]:
    """Greedy line breaking: any CJK character may start a line; Latin words stay whole when they fit."""
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for ch in para:
            # closing punctuation never starts a line: let it hang past the margin
            if font.width(line + ch, size) <= width or not line or ch in _NO_LINE_START:
                line += ch
                continue
            cut = line.rfind(" ")
            if ch != " " and line[-1:].isascii() and line[-1:].isalnum() and cut > 0 and len(line) - cut < 24:
                lines.append(line[:cut])
                line = line[cut + 1:] + ch
            else:
                lines.append(line)
                line = "" if ch == " " else ch
        lines.append(line)
    return lines


class _Pages:
    def __init__(self, font: TrueTypeFont) -> None:
        self.font = font
        self.pages: list[list[str]] = []
        self.used: set[int] = set()
        self.y = 0.0
        self.new_page()

    def new_page(self) -> None:
        self.pages.append([])
        self.y = PAGE_H - MARGIN

    def ensure(self, h: float) -> None:
        if self.y - h < MARGIN + 14:
            self.new_page()

    def text(self, x: float, y: float, s: str, size: float, grey: bool = False, page: int = -1) -> None:
        if not s:
            return
        gids = [self.font.gid(c) for c in s]
        self.used.update(gids)
        hexs = "".join(f"{g:04X}" for g in gids)
        colour = "0.4 g" if grey else "0 g"
        self.pages[page].append(f"BT {colour} /F1 {size:.2f} Tf {x:.2f} {y:.2f} Td <{hexs}> Tj ET")

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self.pages[-1].append(f"0.5 w 0.6 G {x1:.2f} {y1:.2f} m {x2:.2f} {y2:.2f} l S")

    def rect(self, x: float, y: float, w: float, h: float, grey: float) -> None:
        self.pages[-1].append(f"{grey:.2f} g {x:.2f} {y:.2f} {w:.2f} {h:.2f} re f 0 g")

    def flow(self, s: str, style: str) -> None:
        st = STYLES[style]
        self.y -= st.space_before
        for ln in wrap(self.font, s, st.size, PAGE_W - 2 * MARGIN):
            self.ensure(st.leading)
            self.y -= st.leading
            self.text(MARGIN, self.y + (st.leading - st.size) / 2, ln, st.size, st.grey)

    def table(self, t: Table) -> None:
        st = STYLES["cell"]
        total = PAGE_W - 2 * MARGIN
        rel = t.widths or [1.0] * len(t.headers)
        widths = [total * w / sum(rel) for w in rel]
        pad = 3.0

        def row(cells: list[str], header: bool) -> None:
            wrapped = [wrap(self.font, c, st.size, w - 2 * pad) for c, w in zip(cells, widths, strict=False)]
            height = max(len(w) for w in wrapped) * st.leading + 2 * pad
            if height > PAGE_H - 2 * MARGIN - 20:  # a huge cell: cut it rather than loop forever
                keep = int((PAGE_H - 2 * MARGIN - 40) / st.leading)
                wrapped = [w[:keep] for w in wrapped]
                height = keep * st.leading + 2 * pad
            if self.y - height < MARGIN + 14:
                self.new_page()
                if not header:
                    row(t.headers, True)
            top = self.y
            if header:
                self.rect(MARGIN, top - height, total, height, 0.92)
            x = MARGIN
            for lines, w in zip(wrapped, widths, strict=False):
                for i, ln in enumerate(lines):
                    self.text(x + pad, top - pad - (i + 1) * st.leading + 3, ln, st.size)
                x += w
            self.line(MARGIN, top, MARGIN + total, top)
            self.line(MARGIN, top - height, MARGIN + total, top - height)
            x = MARGIN
            for w in [0.0, *widths]:
                x += w
                self.line(x, top, x, top - height)
            self.y = top - height

        self.y -= 6
        row(t.headers, True)
        for r in t.rows:
            row(r, False)
        self.y -= 4


@functools.lru_cache(maxsize=4)
def load_font(path: Path) -> TrueTypeFont:
    """Parsed fonts are kept: parsing the CJK font's tables is the slow part of a PDF."""
    return TrueTypeFont(path)


def render_pdf(doc: Document, path: Path, font_path: Path | None = None) -> Path:
    """Write ``doc`` as a PDF at ``path`` and return it."""
    font = load_font(font_path or find_font())
    pages = _Pages(font)
    pages.flow(doc.title, "title")
    if doc.subtitle:
        pages.flow(doc.subtitle, "subtitle")
    for b in doc.blocks:
        if isinstance(b, Heading):
            style = f"h{min(max(b.level, 1), 3)}"
            pages.ensure(STYLES[style].leading * 3)
            pages.flow(b.text, style)
        elif isinstance(b, Para):
            pages.flow(b.text, b.style if b.style in STYLES else "normal")
        elif isinstance(b, Table):
            pages.table(b)
    total = len(pages.pages)
    for i in range(total):
        pages.text(MARGIN, MARGIN - 24, f"{doc.title} — 第 {i + 1} 页 / 共 {total} 页", 8, grey=True, page=i)
    _write(path, pages, font, doc.title)
    return path


def _pdf_string(s: str) -> str:
    return "<FEFF" + s.encode("utf-16-be").hex().upper() + ">"


def _write(path: Path, pages: _Pages, font: TrueTypeFont, title: str) -> None:
    objs: list[bytes] = []

    def add(body: bytes) -> int:
        objs.append(body)
        return len(objs)

    def stream(data: bytes, extra: str = "") -> bytes:
        comp = zlib.compress(data, 9)
        return (f"<< /Length {len(comp)} /Filter /FlateDecode {extra}>>\nstream\n".encode() + comp
                + b"\nendstream")

    used = sorted(pages.used | {0})
    scale = 1000 / font.units_per_em
    sub = font.subset(set(used))
    font_file = add(stream(sub, f"/Length1 {len(sub)} "))  # Length1: the uncompressed font
    bbox = " ".join(str(round(v * scale)) for v in font.bbox)
    desc = add((f"<< /Type /FontDescriptor /FontName /{font.name} /Flags 4 /FontBBox [{bbox}] /ItalicAngle 0 "
                f"/Ascent {round(font.ascent * scale)} /Descent {round(font.descent * scale)} /CapHeight "
                f"{round(font.ascent * scale)} /StemV 80 /FontFile2 {font_file} 0 R >>").encode())
    widths = " ".join(f"{g} [{round(font.advances[g] * scale)}]" for g in used)
    cid = add((f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{font.name} /CIDSystemInfo << /Registry (Adobe) "
               f"/Ordering (Identity) /Supplement 0 >> /FontDescriptor {desc} 0 R /W [{widths}] "
               f"/CIDToGIDMap /Identity >>").encode())
    rev: dict[int, int] = {}
    for cp, g in font.cmap.items():
        if g in pages.used and g not in rev:
            rev[g] = cp
    chunks = []
    items = sorted(rev.items())
    for i in range(0, len(items), 100):
        part = items[i:i + 100]
        body = "\n".join(f"<{g:04X}> <{_utf16hex(cp)}>" for g, cp in part)
        chunks.append(f"{len(part)} beginbfchar\n{body}\nendbfchar")
    cmap = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo << /Registry (Adobe) "
            "/Ordering (UCS) /Supplement 0 >> def /CMapName /Adobe-Identity-UCS def /CMapType 2 def "
            "1 begincodespacerange <0000> <FFFF> endcodespacerange\n" + "\n".join(chunks)
            + "\nendcmap CMapName currentdict /CMap defineresource pop end end")
    tounicode = add(stream(cmap.encode()))
    font_obj = add((f"<< /Type /Font /Subtype /Type0 /BaseFont /{font.name} /Encoding /Identity-H "
                    f"/DescendantFonts [{cid} 0 R] /ToUnicode {tounicode} 0 R >>").encode())
    pages_id = len(objs) + 1 + 2 * len(pages.pages)
    page_ids = []
    for content in pages.pages:
        c = add(stream("\n".join(content).encode()))
        page_ids.append(add((f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
                             f"/Resources << /Font << /F1 {font_obj} 0 R >> >> /Contents {c} 0 R >>").encode()))
    kids = " ".join(f"{p} 0 R" for p in page_ids)
    add(f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode())  # object number pages_id
    info = add(f"<< /Title {_pdf_string(title)} /Producer (hegui) /Creator (hegui filing build) >>".encode())
    catalog = add(f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode())
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += (f"trailer\n<< /Size {len(objs) + 1} /Root {catalog} 0 R /Info {info} 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n").encode()
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(bytes(out))
    tmp.replace(path)


def _utf16hex(cp: int) -> str:
    return chr(cp).encode("utf-16-be").hex().upper()
