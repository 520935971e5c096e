"""``hegui corpus``: training-data sources, audits, manual review and annotation checks (Art 7–8)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.table import Table

from hegui.cli.common import STATE, JsonFlag, console, print_json
from hegui.context import HeguiContext
from hegui.errors import InvalidInputError
from hegui.install import ensure_database

corpus_app = typer.Typer(help="Training-corpus audit (TC260-003 §5): sources, audit, review, annotation.",
                         no_args_is_help=True)
source_app = typer.Typer(help="The registry of training-data sources and their provenance evidence.",
                         no_args_is_help=True)
review_app = typer.Typer(help="Manual review of an audit's random sample.", no_args_is_help=True)
annotation_app = typer.Typer(help="Annotation batches and their sample checks (Measures Art 8).",
                             no_args_is_help=True)
corpus_app.add_typer(source_app, name="source")
corpus_app.add_typer(review_app, name="review")
corpus_app.add_typer(annotation_app, name="annotation")



def _ctx() -> HeguiContext:
    """The installation, its schema brought up to date first (as every domain command does)."""
    ctx = STATE.ctx()
    ensure_database(ctx)
    return ctx


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.2%}"


def _print_source(src: dict[str, Any]) -> None:
    console.print(f"[bold]{src['name']}[/] ({src['kind']}) licence: {src['licence'] or '—'}")
    for e in src["evidence"]:
        console.print(f"  evidence {e['kind']:<18} {e['sha256'][:16]}…  {e['path']}")
    if src["missing_evidence"]:
        console.print(f"  [red]missing evidence:[/] {', '.join(src['missing_evidence'])}")
    last = src["last_audit"]
    if last:
        console.print(f"  last audit {last['audit_id']} {last['finished_at'][:19]}: {last['items']} items, "
                      f"unsafe {_pct(last['unsafe_ratio'])} → {'passed' if last['passed'] else 'FAILED'}")
    else:
        console.print("  never audited")


@source_app.command("add")
def source_add(
    name: Annotated[str, typer.Argument(help="short name, e.g. wiki-zh")],
    kind: Annotated[str, typer.Option("--kind", help="open | self | commercial | user")],
    licence: Annotated[str | None, typer.Option("--licence", help="licence name or SPDX id (open corpora)")] = None,
    evidence: Annotated[list[str] | None, typer.Option(
        "--evidence", help="evidence file, as KIND=FILE (licence, collection_record, opt_out, contract, "
        "supplier_guarantee, authorisation, other) or FILE (kind guessed from the name); repeatable")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Register a source with its provenance evidence; missing evidence is reported as a finding."""
    from hegui.corpus.sources import add_source

    src = add_source(_ctx(), name, kind, licence, evidence or [], description)
    if json_out:
        print_json(src)
        return
    _print_source(src)


@source_app.command("evidence")
def source_evidence(
    name: Annotated[str, typer.Argument()],
    evidence: Annotated[list[str], typer.Argument(help="KIND=FILE or FILE")],
    json_out: JsonFlag = False,
) -> None:
    """Add evidence files to a registered source."""
    from hegui.corpus.sources import add_evidence

    src = add_evidence(_ctx(), name, evidence)
    if json_out:
        print_json(src)
        return
    _print_source(src)


@source_app.command("list")
def source_list(json_out: JsonFlag = False) -> None:
    """Every source, its evidence status and its last audit."""
    from hegui.corpus.sources import list_sources

    srcs = list_sources(_ctx())
    if json_out:
        print_json(srcs)
        return
    t = Table("source", "kind", "licence", "missing evidence", "last audit", "unsafe", "result")
    for s in srcs:
        last = s["last_audit"]
        t.add_row(s["name"], s["kind"], s["licence"] or "—", ", ".join(s["missing_evidence"]) or "—",
                  last["finished_at"][:10] if last else "never", _pct(last["unsafe_ratio"]) if last else "—",
                  ("pass" if last["passed"] else "FAIL") if last else "—")
    console.print(t)


@source_app.command("show")
def source_show(name: Annotated[str, typer.Argument()], json_out: JsonFlag = False) -> None:
    """One source with its evidence (hash and path) and last audit."""
    from hegui.corpus.sources import show_source

    src = show_source(_ctx(), name)
    if json_out:
        print_json(src)
        return
    _print_source(src)


@corpus_app.command("audit")
def audit(
    paths: Annotated[list[str], typer.Argument(help="files or folders; prefix NAME= to assign a path to a source")],
    out: Annotated[Path, typer.Option("--out", help="output folder for the report, sample, cleaned corpus")],
    source: Annotated[str | None, typer.Option("--source", help="registered source of paths without NAME=")] = None,
    text_field: Annotated[str, typer.Option("--text-field", help="field/column holding the text (a.b nests)")
                          ] = "text",
    backend: Annotated[str, typer.Option("--backend", help="local | ray")] = "local",
    workers: Annotated[int | None, typer.Option("--workers", help="worker processes (default: one per core)")
                       ] = None,
    address: Annotated[str | None, typer.Option("--address", help="Ray cluster address (ray backend)")] = None,
    clean: Annotated[str | None, typer.Option("--clean", help="write the cleaned corpus: drop | mask")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="continue an interrupted audit in --out")] = False,
    near_threshold: Annotated[float, typer.Option("--near-threshold", help="MinHash similarity of near duplicates")
                              ] = 0.8,
    classifier_share: Annotated[float, typer.Option(
        "--classifier-share", help="run the embedded classifier on this pseudo-random share of items (0, 1]; "
        "keyword detectors always run on every item; below 1 the unsafe ratios are estimates and a share below "
        "the pack's auto_sample_ratio fails the auto_sample gate")] = 1.0,
    json_out: JsonFlag = False,
) -> None:
    """Audit a corpus: safety, PI, licence markers, languages, lengths, duplicates; TC260 gates.

    Exit status 1 when a gate fails (a source over the unsafe limit, missing evidence …)."""
    from hegui.corpus.audit import AuditOptions, run_audit

    if backend not in ("local", "ray"):
        raise InvalidInputError(f"--backend {backend!r}: expected local or ray")
    if clean not in (None, "drop", "mask"):
        raise InvalidInputError(f"--clean {clean!r}: expected drop or mask")
    if workers is not None and workers < 1:
        raise InvalidInputError("--workers must be at least 1")
    if not 0 < near_threshold <= 1:
        raise InvalidInputError("--near-threshold must be in (0, 1]")
    if not 0 < classifier_share <= 1:
        raise InvalidInputError("--classifier-share must be in (0, 1]")
    inputs: list[tuple[str, str]] = []
    for p in paths:
        name, sep, rest = p.partition("=")
        if sep and not Path(p).exists():
            inputs.append((name, rest))
        elif source is None:
            raise InvalidInputError(f"{p}: which source? give --source NAME or write NAME={p}")
        else:
            inputs.append((source, p))
    be: Literal["local", "ray"] = "ray" if backend == "ray" else "local"
    cl: Literal["drop", "mask"] | None = "drop" if clean == "drop" else ("mask" if clean == "mask" else None)
    report = run_audit(_ctx(), inputs, out, AuditOptions(text_field, be, workers, cl, resume, address,
                                                             near_threshold, classifier_share=classifier_share))
    if json_out:
        print_json(report)
    else:
        _print_report(report)
    failed = any(gt["passed"] is False for gt in report["gates"].values()) or not all(
        s["passed"] for s in report["sources"])
    if failed:
        raise typer.Exit(1)


def _print_report(report: dict[str, Any]) -> None:
    t = report["totals"]
    est = t.get("unsafe_estimate") or {}
    console.print(f"audit {report['audit_id']}: {t['items']:,} items, {t['bytes']:,} bytes, "
                  f"unsafe {'≈' if est.get('estimated') else ''}{_pct(t['unsafe_ratio'])}, "
                  f"duplicates {t['exact_duplicates']:,} exact / "
                  f"{t['near_duplicates']:,} near")
    tab = Table("source", "items", "unsafe", "PI items", "missing evidence", "result")
    for s in report["sources"]:
        tab.add_row(s["name"], f"{s['items']:,}", _pct(s["unsafe_ratio"]), f"{s['pii_docs']:,}",
                    ", ".join(s["evidence"]["missing"]) or "—", "pass" if s["passed"] else "[red]FAIL[/]")
    console.print(tab)
    if est.get("estimated"):
        console.print(f"unsafe ratios are estimates: {est['text']}")
    _print_gates(report["gates"])
    console.print(f"report: {report['outputs']['report_html']}")
    console.print(f"review sample ({report['review']['sample_size']} items): "
                  f"{report['outputs']['review_sample_csv']}")


def _print_gates(gates: dict[str, Any]) -> None:
    g = Table("gate", "status", "value", "threshold")
    for name, gt in gates.items():
        v = gt["value"]
        g.add_row(name, gt["status"], "—" if v is None else (f"{v:.2%}" if isinstance(v, float) else str(v)),
                  f"{gt['threshold']:.2%}" if isinstance(gt["threshold"], float) else str(gt["threshold"]))
    console.print(g)


@review_app.command("import")
def review_import(
    file: Annotated[Path, typer.Argument(help="the review sample CSV/JSONL with the verdict column filled in")],
    audit_id: Annotated[str | None, typer.Option("--audit", help="audit id (default: the file's audit_id column)")
                        ] = None,
    json_out: JsonFlag = False,
) -> None:
    """Record reviewers' verdicts (pass / fail, 通过 / 不通过) and update the manual-review gate."""
    from hegui.corpus.review import import_review

    r = import_review(_ctx(), file, audit_id)
    if json_out:
        print_json(r)
        return
    console.print(f"audit {r['audit_id']}: {r['imported']} verdict(s) imported; {r['reviewed']} of "
                  f"{r['sample_size']} reviewed, {r['passed']} pass")
    _print_gates({"manual_review_pass": r["gate"]})


@annotation_app.command("import")
def annotation_import(file: Annotated[Path, typer.Argument(help="CSV/JSONL: batch, item_id, annotator, label")],
                      json_out: JsonFlag = False) -> None:
    """Import annotation batches (who labelled what)."""
    from hegui.corpus.review import import_annotations

    r = import_annotations(_ctx(), file)
    if json_out:
        print_json(r)
        return
    console.print(f"{r['added']} added, {r['updated']} updated in batch(es) {', '.join(r['batches'])}")


@annotation_app.command("sample")
def annotation_sample(
    batch: Annotated[str, typer.Option("--batch")],
    out: Annotated[Path, typer.Option("--out", help="CSV form for the checker")],
    size: Annotated[int | None, typer.Option("--size", help="items to check")] = None,
    ratio: Annotated[float | None, typer.Option("--ratio", help="share of the batch to check (default 0.1)")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="for a reproducible sample")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Draw a random check sample of a batch."""
    from hegui.corpus.review import sample_annotations

    if ratio is not None and not 0 < ratio <= 1:
        raise InvalidInputError("--ratio must be in (0, 1]")
    r = sample_annotations(_ctx(), batch, size, ratio, out, seed)
    if json_out:
        print_json(r)
        return
    console.print(f"{r['sampled']} of {r['batch_size']} annotations of {batch} → {r['file']}")


def _print_accuracy(acc: dict[str, Any]) -> None:
    for key in ("annotators", "batches"):
        t = Table(key[:-1], "annotations", "checked", "correct", "accuracy")
        for name, v in acc[key].items():
            t.add_row(name, str(v["annotations"]), str(v["checked"]), str(v["correct"]), _pct(v["accuracy"]))
        console.print(t)


@annotation_app.command("check")
def annotation_check(file: Annotated[Path, typer.Argument(help="the sample CSV with verdicts filled in")],
                     json_out: JsonFlag = False) -> None:
    """Record checkers' verdicts; print accuracy per annotator and batch."""
    from hegui.corpus.review import check_annotations

    r = check_annotations(_ctx(), file)
    if json_out:
        print_json(r)
        return
    console.print(f"{r['checked']} verdict(s) recorded")
    _print_accuracy(r)


@annotation_app.command("stats")
def annotation_stats(json_out: JsonFlag = False) -> None:
    """Accuracy per annotator and batch so far."""
    from hegui.corpus.review import annotation_accuracy

    r = annotation_accuracy(_ctx())
    if json_out:
        print_json(r)
        return
    _print_accuracy(r)
