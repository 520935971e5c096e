"""``hegui moderate``: one text (human or JSON output) or a JSONL batch through the moderation engine."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from hegui.cli.common import STATE, console, err_console, print_json
from hegui.detect.base import Direction
from hegui.errors import InvalidInputError
from hegui.moderation import Decision, ModerationContext, ModerationEngine

ACTION_STYLE = {"allow": "green", "disclaim": "cyan", "mask": "yellow", "refuse": "red", "block": "bold red"}
PROGRESS_MIN_BYTES = 256 * 1024
#: JSONL inputs at least this large load the compiled kernels first (~1 s to load and build the automata,
#: ~5-10 % less per line with the default engine and models: worth it from about this size on)
KERNELS_MIN_BYTES = 16 * 1024 * 1024


def _engine(use_db: bool, models: bool) -> ModerationEngine:
    ctx = STATE.ctx()
    if not use_db:
        return ModerationEngine.default(ctx.pack, models=models)
    from hegui.install import ensure_database

    ensure_database(ctx)
    engine = ModerationEngine.from_context(ctx, models=models)
    for det in engine.detectors:  # compile the lexicon now, so a database problem is one clear error
        if hasattr(det, "reload"):
            det.reload()
    return engine


def _finding_line(d: Decision) -> list[dict[str, Any]]:
    return [{"detector": f.detector, "type": f.type, "category": f.category, "start": f.start, "end": f.end}
            for f in d.findings]


def _print_human(text: str, d: Decision) -> None:
    style = ACTION_STYLE.get(d.action, "")
    console.print(Text.assemble(("action     ", "bold"), (d.action, style)))
    console.print(f"categories {', '.join(d.categories) or '-'}")
    console.print(f"rule       {d.rule or '-'}")
    if d.findings:
        shown = Text(text)
        for f in d.findings:
            if f.start < f.end <= len(text):
                shown.stylize("reverse " + (style or "yellow"), f.start, f.end)
        console.print(Text.assemble(("text       ", "bold"), shown))
        table = Table("detector", "type", "category", "severity", "span", "match", "score")
        for f in d.findings:
            table.add_row(f.detector, f.type, f.category or "-", str(f.severity), f"{f.start}-{f.end}", f.match,
                          f"{f.score:.2f}")
        console.print(table)
    if d.refusal_text:
        console.print(f"refusal    {d.refusal_text}")
    if d.disclaimer:
        console.print(f"disclaimer {d.disclaimer}")
    if d.masked_text is not None:
        console.print(Text.assemble(("masked     ", "bold"), d.masked_text))
    if d.errors:
        console.print(f"[yellow]detectors failed: {', '.join(d.errors)}[/]")


@contextmanager
def _open_in(path: str) -> Iterator[tuple[IO[str], int | None]]:
    if path == "-":
        yield sys.stdin, None
        return
    p = Path(path)
    if not p.is_file():
        raise InvalidInputError(f"--jsonl: no such file: {path}")
    with p.open("r", encoding="utf-8", errors="replace", newline="") as fh:
        yield fh, p.stat().st_size


@contextmanager
def _open_out(path: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        fh = Path(path).open("w", encoding="utf-8")  # noqa: SIM115 - closed by the with below
    except OSError as err:
        raise InvalidInputError(f"--out: cannot write {path}: {err.strerror}") from None
    with fh:
        yield fh


def _line_result(engine: ModerationEngine, raw: str, n: int, direction: Direction,
                 context: ModerationContext | None) -> tuple[dict[str, Any], bool]:
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as err:
        return {"id": None, "line": n, "error": f"not JSON: {err.msg} at column {err.colno}"}, False
    if not isinstance(obj, dict):
        return {"id": None, "line": n, "error": "not a JSON object"}, False
    rid = obj.get("id")
    if "text" not in obj:
        return {"id": rid, "line": n, "error": "missing field 'text'"}, False
    text = obj["text"]
    if not isinstance(text, str):
        return {"id": rid, "line": n, "error": f"field 'text' must be a string, got {type(text).__name__}"}, False
    d = engine.moderate(text, direction, context)
    return {"id": rid, "action": d.action, "categories": d.categories, "findings": _finding_line(d)}, True


def _run_jsonl(engine: ModerationEngine, src: str, dst: str, direction: Direction,
               context: ModerationContext | None) -> int:
    errors = 0
    with _open_in(src) as (fin, size), _open_out(dst) as fout:
        show = size is not None and size >= PROGRESS_MIN_BYTES and err_console.is_terminal
        progress = Progress(TextColumn("moderating"), BarColumn(), TextColumn("{task.completed:,.0f} lines"),
                            TimeRemainingColumn(), console=err_console, transient=True, disable=not show)
        with progress:
            task = progress.add_task("moderate", total=size)
            for n, raw in enumerate(fin, 1):
                if show:
                    progress.update(task, advance=len(raw.encode("utf-8")))
                if not raw.strip():
                    continue
                result, ok = _line_result(engine, raw, n, direction, context)
                errors += not ok
                fout.write(json.dumps(result, ensure_ascii=False) + "\n")
    if errors:
        err_console.print(f"[yellow]{errors} line(s) could not be moderated (see their \"error\" field)[/]")
    return errors


def moderate_command(
    text: Annotated[str | None, typer.Argument(help="the text to check (omit with --jsonl)")] = None,
    direction: Annotated[str, typer.Option("--direction", "-d", help="input (user prompt) or output (model answer)")
                         ] = "input",
    json_out: Annotated[bool, typer.Option("--json", help="the full decision as JSON on stdout")] = False,
    jsonl: Annotated[str | None, typer.Option("--jsonl", help="JSONL file of {\"text\", \"id\"} objects; - = stdin")
                     ] = None,
    out: Annotated[str, typer.Option("--out", "-o", help="where JSONL results go; - = stdout")] = "-",
    minor: Annotated[bool, typer.Option("--minor", help="apply the pack's rules for minors")] = False,
    lang: Annotated[str | None, typer.Option("--lang", help="zh or en for the refusal text (default: detect)")
                    ] = None,
    use_db: Annotated[bool, typer.Option("--db/--no-db", help="use the database lexicons (default) or the "
                                         "shipped default lexicons only")] = True,
    models: Annotated[bool, typer.Option("--models/--no-models", help="also run the jailbreak detector and "
                                         "embedded classifier when installed")] = True,
) -> None:
    """Moderate a text or a JSONL file with the policy pack in force."""
    if direction not in ("input", "output"):
        raise InvalidInputError(f"--direction must be input or output, got {direction!r}")
    if lang not in (None, "zh", "en"):
        raise InvalidInputError(f"--lang must be zh or en, got {lang!r}")
    if (text is None) == (jsonl is None):
        raise InvalidInputError("give either a TEXT argument or --jsonl FILE (not both)")
    dir_: Direction = "input" if direction == "input" else "output"
    context = ModerationContext(language=lang, minor=minor) if (lang or minor) else None  # type: ignore[arg-type]
    engine = _engine(use_db, models)
    if jsonl is not None:
        if jsonl != "-" and Path(jsonl).is_file() and Path(jsonl).stat().st_size >= KERNELS_MIN_BYTES:
            engine.compile_kernels()
        if _run_jsonl(engine, jsonl, out, dir_, context):
            raise typer.Exit(1)
        return
    assert text is not None
    d = engine.moderate(text, dir_, context)
    if json_out:
        print_json(d.to_dict())
    else:
        _print_human(text, d)
