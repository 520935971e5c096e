"""A small document model (headings, paragraphs, tables) rendered to DOCX and PDF alike.

The filing documents are built once as blocks, then written by ``docx_writer`` and
``pdf_writer``, so both formats always say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Heading:
    text: str
    level: int = 1


@dataclass(frozen=True, slots=True)
class Para:
    text: str
    style: str = "normal"  # normal | note | strong


@dataclass(frozen=True, slots=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    widths: list[float] | None = None  # relative column widths


Block = Heading | Para | Table


@dataclass
class Document:
    """One filing document: a title and its blocks."""

    slug: str
    title: str
    subtitle: str = ""
    blocks: list[Block] = field(default_factory=list)

    def h(self, text: str, level: int = 1) -> None:
        self.blocks.append(Heading(text, level))

    def p(self, text: str, style: str = "normal") -> None:
        self.blocks.append(Para(text, style))

    def table(self, headers: list[str], rows: list[list[str]], widths: list[float] | None = None) -> None:
        self.blocks.append(Table(headers, rows, widths))

    def text(self) -> str:
        """Plain text of the whole document (for checks and search)."""
        out = [self.title, self.subtitle]
        for b in self.blocks:
            if isinstance(b, Table):
                out.append(" | ".join(b.headers))
                out.extend(" | ".join(r) for r in b.rows)
            else:
                out.append(b.text)
        return "\n".join(out)
