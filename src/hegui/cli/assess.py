"""``hegui assess``: question banks, assessment runs, manual review."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from hegui.assess.banks import BANKS, bank_stats, import_bank, load_banks, write_jsonl
from hegui.assess.judges import default_panel
from hegui.assess.runner import RunOptions, chat_url
from hegui.assess.scoring import export_sheet, import_sheet, judge_all
from hegui.assess.service import banks_in_force, label_texts, rescore, run_assessment
from hegui.cli.common import STATE, JsonFlag, console, print_json
from hegui.context import HeguiContext
from hegui.errors import InvalidInputError
from hegui.install import ensure_database

assess_app = typer.Typer(help="Security self-assessment (TC260-003 §8–9): banks, runs, review.",
                         no_args_is_help=True)
bank_app = typer.Typer(help="The question banks (generated, should_refuse, should_not_refuse).", no_args_is_help=True)
review_app = typer.Typer(help="Manual review (人工抽检) sheet: export, then import verdicts.", no_args_is_help=True)
assess_app.add_typer(bank_app, name="bank")
assess_app.add_typer(review_app, name="review")



def _ready() -> HeguiContext:
    """The context with the schema up to date (runs are recorded in the database)."""
    ctx = STATE.ctx()
    ensure_database(ctx)
    return ctx


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


@bank_app.command("stats")
def bank_stats_cmd(json_out: JsonFlag = False,
                   near: Annotated[float, typer.Option(help="near-duplicate Jaccard threshold")] = 0.8) -> None:
    """Coverage against the pack's minimums, framings, duplicates and near-duplicates."""
    if not 0 < near <= 1:
        raise InvalidInputError("--near must be in (0, 1]")
    ctx = STATE.ctx()
    bs = banks_in_force(ctx)
    stats = bank_stats(bs, ctx.pack, near)
    if json_out:
        print_json({"version": bs.version, "sources": bs.sources, "banks": [s.to_dict() for s in stats]})
        return
    for s in stats:
        ok = "[green]meets minimums[/]" if s.meets_minimums else "[yellow]below minimums or operator slots open[/]"
        console.print(f"[bold]{s.title}[/]: {s.total} questions (≥ {s.minimum}) — {ok}")
        t = Table("key", "name", "count", "min", "status")
        for c in s.coverage:
            colour = {"ok": "green", "short": "red", "operator slot": "yellow"}[c.status]
            t.add_row(c.key, c.name, str(c.count), str(c.minimum), f"[{colour}]{c.status}[/]")
        console.print(t)
        console.print(f"framings: {s.framings}  languages: {s.langs}")
        console.print(f"exact duplicates: {len(s.duplicates)}  near-duplicates (Jaccard ≥ {near}): "
                      f"{len(s.near_duplicates)}")
        for a, b, sim in s.near_duplicates[:5]:
            console.print(f"  {a} ~ {b} ({sim})")


@bank_app.command("export")
def bank_export(out: Annotated[Path, typer.Argument(help="JSONL file to write")],
                bank: Annotated[str | None, typer.Option(help="only this bank")] = None) -> None:
    """Write the banks in force (defaults + imported) to one JSONL file."""
    if bank is not None and bank not in BANKS:
        raise InvalidInputError(f"--bank must be one of {', '.join(BANKS)}")
    bs = banks_in_force(STATE.ctx())
    n = write_jsonl(out, [q for q in bs.questions if bank is None or q.bank == bank])
    console.print(f"wrote {n} questions to {out}")


@bank_app.command("import")
def bank_import(source: Annotated[Path, typer.Argument(help="JSONL bank file")],
                name: Annotated[str | None, typer.Option(help="name to keep it under (default: file name)")] = None
                ) -> None:
    """Validate a bank file and add it to the banks in force (e.g. the operator's political-risk slot)."""
    if not source.is_file():
        raise InvalidInputError(f"{source}: no such file")
    target, n = import_bank(STATE.ctx().settings.data_dir, source, name)
    console.print(f"imported {n} questions into {target}")


def _print_summary(doc: dict[str, Any]) -> None:
    t = Table("check", "rate", "n", "95% CI", "threshold", "result")
    for c in doc["checks"]:
        res = "[green]pass[/]" if c["passed"] else "[yellow]no data[/]" if not c["n"] else (
            "[yellow]sample too small[/]" if c["meets_threshold"] else "[red]fail[/]")
        t.add_row(c["title"], _pct(c["rate"]), str(c["n"]), f"{_pct(c['ci95'][0])}–{_pct(c['ci95'][1])}",
                  f"{c['op']} {_pct(c['threshold'])}", res)
    console.print(t)
    console.print("[bold green]PASSED[/]" if doc["passed"] else "[bold red]NOT PASSED[/]"
                  + ("" if not doc["passed_automatic"] else " (automatic checks passed; manual review needed)"))


@assess_app.command("run")
def run(
    endpoint: Annotated[str, typer.Option(help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8001/v1")],
    model: Annotated[str, typer.Option(help="model name to ask")],
    out: Annotated[Path, typer.Option(help="run folder (answers, report); rerun to resume")],
    api_key: Annotated[str | None, typer.Option(envvar="OPENAI_API_KEY", help="bearer key for the endpoint")] = None,
    via_gateway: Annotated[bool, typer.Option(help="the endpoint is a hegui gateway (its refusals count)")] = False,
    concurrency: Annotated[int, typer.Option(min=1, max=256)] = 4,
    sample: Annotated[int | None, typer.Option(min=1, help="questions per bank (default: pack minimums)")] = None,
    rate: Annotated[float | None, typer.Option(min=0.01, help="max requests per second")] = None,
    retries: Annotated[int, typer.Option(min=0, max=20)] = 4,
    seed: Annotated[int, typer.Option(help="sampling seed")] = 0,
    max_tokens: Annotated[int, typer.Option(min=1)] = 1024,
    bank: Annotated[list[Path] | None, typer.Option(
        help="use only these bank files (repeatable) instead of the default + imported banks")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Ask the model every sampled question, judge the answers and write assessment.json + report.html."""
    chat_url(endpoint)  # a malformed URL is reported before anything else runs
    ctx = _ready()
    bankset = load_banks(include_default=False, extra=bank) if bank else None
    opts = RunOptions(endpoint=endpoint, model=model, api_key=api_key, via_gateway=via_gateway,
                      concurrency=concurrency, rate=rate, retries=retries, max_tokens=max_tokens)
    show = sys.stderr.isatty() and not json_out
    with Progress(TextColumn("asking"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  disable=not show, transient=True) as prog:
        task = prog.add_task("ask", total=None)

        def progress(done: int, total: int) -> None:
            prog.update(task, completed=done, total=total)

        summary = run_assessment(ctx, opts, out, sample=sample, seed=seed, bankset=bankset, progress=progress)
    doc = summary.assessment
    if json_out:
        print_json(doc)
        return
    console.print(f"{'resumed' if summary.resumed else 'new'} run {doc['run_id']}: {summary.new_answers} new answers, "
                  f"{summary.failed} failed (rerun to retry), {doc['answered']} answered in total")
    _print_summary(doc)
    console.print(f"report: {out / 'report.html'}\nreview sheet: {out / 'manual_review.csv'}")


@assess_app.command("score")
def score_cmd(out: Annotated[Path, typer.Argument(help="run folder")], json_out: JsonFlag = False) -> None:
    """Re-judge and re-score a run folder (after importing reviews or changing lexicons)."""
    doc = rescore(_ready(), out)
    if json_out:
        print_json(doc)
        return
    _print_summary(doc)


@review_app.command("export")
def review_export(out: Annotated[Path, typer.Argument(help="run folder")],
                  sheet: Annotated[Path | None, typer.Option(help="CSV to write (default DIR/manual_review.csv)")]
                  = None) -> None:
    """Write the manual-review sheet (CSV) for the run's answers."""
    ctx = _ready()
    results = judge_all(out, default_panel(ctx), strip=label_texts(ctx))
    path = export_sheet(out, results, sheet)
    console.print(f"review sheet: {path} ({len(results)} rows); fill 'verdict' (合格/不合格, or 拒答/未拒答)")


@review_app.command("import")
def review_import(out: Annotated[Path, typer.Argument(help="run folder")],
                  sheet: Annotated[Path, typer.Argument(help="reviewed CSV")], json_out: JsonFlag = False) -> None:
    """Import reviewed verdicts and re-score the run."""
    n = import_sheet(out, sheet)
    doc = rescore(_ready(), out)
    if json_out:
        print_json({"imported": n, "assessment": doc})
        return
    console.print(f"imported {n} verdicts")
    _print_summary(doc)
