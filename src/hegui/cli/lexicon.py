"""``hegui lexicon``: import, export, list, add, remove, test, stats; ``hegui lexicon allow``: allow-lists."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from hegui.cli.common import STATE, JsonFlag, console, print_json
from hegui.context import HeguiContext
from hegui.detect.lexicon.detector import Hit
from hegui.detect.lexicon.formats import FORMATS, Format, guess_format
from hegui.detect.lexicon.registry import LexiconRegistry
from hegui.detect.lexicon.service import LexiconService
from hegui.errors import InvalidInputError
from hegui.install import ensure_database

lexicon_app = typer.Typer(help="Risk lexicons (sensitive-word lists): load, edit, test, count.", no_args_is_help=True)
allow_app = typer.Typer(help="Allow-lists: phrases that cancel a lexicon hit they cover (炸鸡 for 炸).",
                        no_args_is_help=True)
lexicon_app.add_typer(allow_app, name="allow")

CategoryOpt = Annotated[str | None, typer.Option("--category", "-k", help="risk code, e.g. A1.4")]


def _ctx() -> HeguiContext:
    ctx = STATE.ctx()
    ensure_database(ctx)
    return ctx


def _fmt(value: str | None, path: Path | None = None) -> Format:
    if value is None:
        return guess_format(path) if path is not None else "txt"
    if value not in FORMATS:
        raise InvalidInputError(f"--format must be one of {', '.join(FORMATS)}, got {value!r}")
    return value  # type: ignore[return-value]


@lexicon_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="txt (term or term<TAB>severity per line), csv or jsonl")],
    category: CategoryOpt = None,
    fmt: Annotated[str | None, typer.Option("--format", help="txt | csv | jsonl (default: from the suffix)")] = None,
    source: Annotated[str | None, typer.Option("--source", help="name of the list, shown in findings")] = None,
) -> None:
    """Import a term list in one transaction: a bad line names file:line and nothing is imported."""
    r = LexiconService(_ctx()).import_file(file, category=category, fmt=_fmt(fmt, file), source=source)
    console.print(f"imported {r.total} terms from {escape(str(file))}: {r.added} new, {r.updated} updated "
                  f"(lexicon version {r.version})")


@lexicon_app.command("export")
def export_cmd(
    category: CategoryOpt = None,
    fmt: Annotated[str, typer.Option("--format", help="txt | csv | jsonl")] = "csv",
    source: Annotated[str | None, typer.Option("--source")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="file to write (default: stdout)")] = None,
) -> None:
    """Export terms (txt needs one --category)."""
    svc = LexiconService(_ctx())
    if out is None:
        sys.stdout.write(svc.export(_fmt(fmt), category=category, source=source))
        return
    n = svc.export_file(out, _fmt(fmt), category=category, source=source)
    console.print(f"wrote {n} terms to {escape(str(out))}")


@lexicon_app.command("list")
def list_cmd(
    category: CategoryOpt = None,
    search: Annotated[str | None, typer.Option("--search", "-s", help="terms containing this text")] = None,
    source: Annotated[str | None, typer.Option("--source")] = None,
    limit: Annotated[int, typer.Option("--limit", help="at most this many (0 = all)")] = 200,
    json_out: JsonFlag = False,
) -> None:
    """List terms."""
    entries = LexiconService(_ctx()).list(category=category, search=search, source=source, limit=limit or None)
    if json_out:
        print_json([{"term": e.term, "category": e.category, "severity": e.severity, "lang": e.lang,
                     "source": e.source, "version": e.version, "allow": list(e.allow)} for e in entries])
        return
    t = Table("term", "risk", "severity", "lang", "source", "allow")
    for e in entries:
        t.add_row(escape(e.term), e.category, str(e.severity), e.lang, f"{e.source}@{e.version}",
                  escape(" | ".join(e.allow)))
    console.print(t)
    console.print(f"{len(entries)} terms" + (" (limit reached; use --limit 0)" if limit and len(entries) >= limit
                                             else ""))


@lexicon_app.command("add")
def add_cmd(
    term: str,
    category: Annotated[str, typer.Option("--category", "-k", help="risk code, e.g. A1.4")],
    severity: Annotated[int, typer.Option("--severity", help="1 low, 2 medium, 3 high")] = 2,
    allow: Annotated[list[str] | None, typer.Option("--allow", help="phrase that cancels this term (repeatable)")]
    = None,
    source: Annotated[str, typer.Option("--source")] = "operator",
) -> None:
    """Add a term (or change its severity)."""
    e = LexiconService(_ctx()).add(term, category, severity, source=source, allow=allow or ())
    console.print(f"added {escape(e.term)} to {e.category} (severity {e.severity}, {e.rule})")


@lexicon_app.command("remove")
def remove_cmd(
    term: str,
    category: CategoryOpt = None,
    source: Annotated[str | None, typer.Option("--source")] = None,
) -> None:
    """Remove a term (from every risk and source unless narrowed)."""
    n = LexiconService(_ctx()).remove(term, category=category, source=source)
    console.print(f"removed {n} entr{'y' if n == 1 else 'ies'} of {escape(term)}")


def _highlight(text: str, hits: list[Hit]) -> str:
    live = sorted((h.finding.start, h.finding.end) for h in hits if h.cancelled_by is None)
    out, pos = [], 0
    for s, e in live:
        if s < pos:  # overlapping hits: extend the current highlight
            if e > pos:
                out.append(f"[bold red]{escape(text[pos:e])}[/]")
                pos = e
            continue
        out.append(escape(text[pos:s]))
        out.append(f"[bold red]{escape(text[s:e])}[/]")
        pos = e
    out.append(escape(text[pos:]))
    return "".join(out)


@lexicon_app.command("test")
def test_cmd(text: str, json_out: JsonFlag = False) -> None:
    """Show what the current lexicon finds in TEXT: hits highlighted, and why each matched (or was allowed)."""
    det = LexiconRegistry(_ctx()).detector
    hits = det.explain(text)
    norm = det.normalize(text).text
    if json_out:
        print_json({"normalised": norm, "hits": [
            {**h.finding.to_dict(), "variant": h.variant, "via_pinyin": h.via_pinyin,
             "cancelled_by": None if h.cancelled_by is None else
             {"phrase": h.cancelled_by.phrase, "scope": h.cancelled_by.scope}} for h in hits]})
        return
    console.print(_highlight(text, hits))
    console.print(f"[dim]normalised:[/] {escape(norm)}")
    if not hits:
        console.print("no lexicon hits")
        return
    for h in hits:
        f = h.finding
        how = f"pinyin {h.variant!r}" if h.via_pinyin else f"normalised {h.variant!r}"
        line = (f"{f.start}-{f.end} {escape(text[f.start:f.end])!r}: term {escape(f.match)!r} "
                f"{f.category} severity {f.severity} ({f.rule}; {escape(how)})")
        if h.cancelled_by is not None:
            line = f"[green]allowed[/] {line} — covered by allow phrase {escape(h.cancelled_by.phrase)!r} " \
                   f"({h.cancelled_by.scope})"
        console.print(line)


@lexicon_app.command("stats")
def stats_cmd(json_out: JsonFlag = False) -> None:
    """Terms per risk against the TC260 keyword-library minimums."""
    st = LexiconService(_ctx()).stats()
    if json_out:
        print_json(st.to_dict())
        return
    t = Table("risk", "name", "terms", "minimum", "status", title=f"Lexicon v{st.version} ({st.clause})")
    for r in st.risks:
        colour = {"ok": "green", "below minimum": "yellow"}.get(r.status, "dim")
        t.add_row(r.code, r.name, str(r.terms), "-" if r.minimum is None else str(r.minimum),
                  f"[{colour}]{r.status}[/]")
    console.print(t)
    ok = "ok" if st.total >= st.min_total else "below minimum"
    console.print(f"total {st.total} distinct terms (minimum {st.min_total}: {ok}); {st.allow_phrases} allow phrases")


@allow_app.command("add")
def allow_add(
    phrase: str,
    scope: Annotated[str, typer.Option("--category", "-k", help="risk/category code, or * for all")] = "*",
) -> None:
    """Add an allow phrase."""
    a = LexiconService(_ctx()).add_allow(phrase, scope)
    console.print(f"allow phrase {escape(a.phrase)!r} added for {a.scope}")


@allow_app.command("remove")
def allow_remove(phrase: str, scope: Annotated[str | None, typer.Option("--category", "-k")] = None) -> None:
    """Remove an allow phrase."""
    n = LexiconService(_ctx()).remove_allow(phrase, scope)
    console.print(f"removed {n} allow phrase(s)")


@allow_app.command("list")
def allow_list(scope: Annotated[str | None, typer.Option("--category", "-k")] = None,
               json_out: JsonFlag = False) -> None:
    """List allow phrases."""
    items = LexiconService(_ctx()).allow_phrases(scope)
    if json_out:
        print_json([{"phrase": a.phrase, "scope": a.scope, "source": a.source} for a in items])
        return
    t = Table("phrase", "scope", "source")
    for a in items:
        t.add_row(escape(a.phrase), a.scope, a.source)
    console.print(t)
