"""Write a filing ``Document`` as DOCX (python-docx), with East Asian fonts set for Chinese text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docx import Document as new_docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from hegui.filing.document import Document, Heading, Para, Table

EAST_ASIAN_FONT = "宋体"
HEADING_FONT = "黑体"


def _east_asian(style_or_run: Any, font: str) -> None:
    rpr = style_or_run.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.append(fonts)
    fonts.set(qn("w:eastAsia"), font)


def render_docx(doc: Document, path: Path) -> Path:
    """Write ``doc`` to ``path`` (atomically) and return it."""
    d = new_docx()
    normal = d.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10.5)
    _east_asian(normal, EAST_ASIAN_FONT)
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3"):
        _east_asian(d.styles[name], HEADING_FONT)
    d.core_properties.title = doc.title
    d.core_properties.author = "hegui filing build"
    d.add_heading(doc.title, level=0)
    if doc.subtitle:
        sub = d.add_paragraph()
        r = sub.add_run(doc.subtitle)
        r.font.color.rgb = RGBColor(0x66, 0x66, 0x66)
    for b in doc.blocks:
        if isinstance(b, Heading):
            d.add_heading(b.text, level=min(max(b.level, 1), 3))
        elif isinstance(b, Para):
            para = d.add_paragraph()
            run = para.add_run(b.text)
            if b.style == "strong":
                run.bold = True
            elif b.style == "note":
                run.font.size = Pt(8.5)
                run.font.color.rgb = RGBColor(0x66, 0x66, 0x66)
        elif isinstance(b, Table):
            t = d.add_table(rows=1, cols=len(b.headers))
            t.style = "Table Grid"
            t.alignment = WD_TABLE_ALIGNMENT.CENTER
            for cell, text in zip(t.rows[0].cells, b.headers, strict=False):
                cell.text = ""
                run = cell.paragraphs[0].add_run(text)
                run.bold = True
                run.font.size = Pt(9)
            for row in b.rows:
                cells = t.add_row().cells
                for cell, text in zip(cells, row, strict=False):
                    cell.text = ""
                    cell.paragraphs[0].add_run(text).font.size = Pt(9)
            d.add_paragraph()
    tmp = path.with_suffix(path.suffix + ".tmp")
    d.save(str(tmp))
    tmp.replace(path)
    return path
