"""`hegui label`: add, verify and propagate AIGC labels (GB 45438-2025) on files or whole folders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from hegui.cli.common import STATE, JsonFlag, console, err_console, print_json
from hegui.errors import HeguiError, InvalidInputError
from hegui.labeling import Labeler, write_atomic
from hegui.labeling.formats import supported

label_app = typer.Typer(help="AIGC labels (GB 45438-2025): add, verify, propagate.", no_args_is_help=True)

ForceFlag = Annotated[bool, typer.Option("--force", help="overwrite OUT if it exists")]


def _labeler(producer: str | None = None) -> Labeler:
    ctx = STATE.ctx()
    return Labeler(ctx.pack, ctx.keys, producer or ctx.settings.provider.producer_code)


def _files(root: Path, skip: Path | None = None) -> list[Path]:
    """Supported files under ``root`` (sorted), leaving out anything inside ``skip`` (the output folder)."""
    out = []
    for p in sorted(root.rglob("*")):
        if not p.is_file() or not supported(p.name):
            continue
        if skip is not None and skip.resolve() in p.resolve().parents:
            continue
        out.append(p)
    return out


def _check_target(src: Path, dst: Path, force: bool) -> None:
    if dst.resolve() == src.resolve():
        raise InvalidInputError(f"OUT must differ from IN ({dst}); hegui never overwrites the input")
    if dst.exists() and not force:
        raise InvalidInputError(f"{dst} exists; pass --force to overwrite it")
    if dst.exists() and dst.is_dir():
        raise InvalidInputError(f"{dst} is a folder, expected a file path")


def _progress() -> Progress:
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), TextColumn("{task.fields[current]}"), console=err_console)


def _batch(src: Path, dst: Path, force: bool, what: str, one: Callable[[Path, Path], dict[str, object]],
           json_out: bool) -> None:
    """Apply ``one`` to every supported file of ``src``, mirroring the tree under ``dst``."""
    if dst.exists() and not dst.is_dir():
        raise InvalidInputError(f"{dst}: IN is a folder, so OUT must be a folder too")
    if dst.resolve() == src.resolve():
        raise InvalidInputError("OUT must differ from IN; hegui never overwrites the input")
    files = _files(src, skip=dst)
    if not files:
        raise InvalidInputError(f"{src}: no supported files found")
    results: list[dict[str, object]] = []
    failures: list[str] = []
    with _progress() as progress:
        task = progress.add_task(what, total=len(files), current="")
        for f in files:
            progress.update(task, current=str(f.relative_to(src)))
            target = dst / f.relative_to(src)
            try:
                _check_target(f, target, force)
                results.append({"file": str(f), "out": str(target), **one(f, target)})
            except HeguiError as err:
                failures.append(f"{f}: {err}")
                results.append({"file": str(f), "error": str(err)})
            progress.advance(task)
    if json_out:
        print_json(results)
    for line in failures:
        err_console.print(f"[bold red]error:[/] {line}", highlight=False, soft_wrap=True)
    if not json_out:
        console.print(f"{len(files) - len(failures)} of {len(files)} files done, {len(failures)} failed")
    if failures:
        raise typer.Exit(2)


def _apply(src: Path, dst: Path, force: bool, what: str, one: Callable[[Path, Path], dict[str, object]],
           json_out: bool, summary: Callable[[dict[str, object]], str]) -> None:
    """Run ``one`` over a folder (batch) or a single file, with the same target checks and output."""
    if src.is_dir():
        _batch(src, dst, force, what, one, json_out)
        return
    if not src.is_file():
        raise InvalidInputError(f"{src}: no such file or folder")
    _check_target(src, dst, force)
    result = one(src, dst)
    if json_out:
        print_json({"file": str(src), "out": str(dst), **result})
    else:
        console.print(summary(result))


@label_app.command("add")
def add(
    src: Annotated[Path, typer.Argument(metavar="IN", help="file or folder to label")],
    dst: Annotated[Path, typer.Argument(metavar="OUT", help="output file (or folder when IN is a folder)")],
    producer: Annotated[str | None, typer.Option(help="ContentProducer code (default: provider.producer_code)")] = None,
    explicit: Annotated[bool, typer.Option("--explicit/--no-explicit",
                                           help="also add the visible/audible label")] = True,
    position: Annotated[str | None, typer.Option(
        help="text: start|end|middle; image/video/PDF: top-left|top-right|bottom-left|bottom-right "
             "(default: the policy pack's)")] = None,
    lang: Annotated[str, typer.Option(help="language of the explicit label: zh or en")] = "zh",
    force: ForceFlag = False,
    json_out: JsonFlag = False,
) -> None:
    """Add the explicit and implicit AIGC labels; writes OUT only when the whole file labelled cleanly."""
    labeler = _labeler(producer)

    def one(f: Path, target: Path) -> dict[str, object]:
        done = labeler.add(f, explicit=explicit, position=position, lang=lang)
        write_atomic(target, done.data)
        return {"format": done.format, "implicit": done.label.to_dict(), "explicit": done.explicit}

    _apply(src, dst, force, "labelling", one, json_out,
           lambda r: f"{dst}: labelled ({r['format']}, ProduceID {labeler_id(r)})")


def labeler_id(result: dict[str, object]) -> str:
    implicit = result.get("implicit")
    return str(implicit.get("ProduceID", "")) if isinstance(implicit, dict) else ""


@label_app.command("verify")
def verify(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="file or folder to check")],
    explicit: Annotated[bool, typer.Option("--explicit/--no-explicit", help="also look for the explicit label")] = True,
    json_out: JsonFlag = False,
) -> None:
    """Read and check the labels. Exit 0 if every file is compliant, 1 if not, 2 on bad input."""
    labeler = _labeler()
    if path.is_dir():
        files = _files(path)
        if not files:
            raise InvalidInputError(f"{path}: no supported files found")
        results: list[dict[str, object]] = []
        with _progress() as progress:
            task = progress.add_task("verifying", total=len(files), current="")
            for f in files:
                progress.update(task, current=str(f.relative_to(path)))
                try:
                    results.append({"file": str(f), **labeler.verify(f, check_explicit=explicit).to_dict()})
                except HeguiError as err:
                    results.append({"file": str(f), "error": str(err)})
                progress.advance(task)
        if json_out:
            print_json(results)
        else:
            for r in results:
                console.print(f"{r['file']}: {r.get('verdict') or 'error: ' + str(r.get('error'))}")
        errors = sum(1 for r in results if "error" in r)
        bad = sum(1 for r in results if r.get("verdict") not in (None, "compliant"))
        if errors:
            raise typer.Exit(2)
        if bad:
            raise typer.Exit(1)
        return
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file or folder")
    result = labeler.verify(path, check_explicit=explicit)
    if json_out:
        print_json(result.to_dict())
    else:
        colour = {"compliant": "green", "noncompliant": "red", "not_found": "yellow"}[result.verdict]
        console.print(f"{path}: [{colour}]{result.verdict}[/] ({result.format}, integrity {result.integrity})")
        if result.implicit:
            console.print("  implicit: " + ", ".join(f"{k}={v}" for k, v in result.implicit.items() if v),
                          soft_wrap=True)
        console.print(f"  explicit: {result.explicit}")
        for p in result.problems:
            console.print(f"  problem: {p}")
    if result.verdict != "compliant":
        raise typer.Exit(1)


@label_app.command("propagate")
def propagate(
    src: Annotated[Path, typer.Argument(metavar="FILE", help="labelled file (or folder) received for distribution")],
    dst: Annotated[Path, typer.Argument(metavar="OUT", help="output file (or folder)")],
    propagator: Annotated[str, typer.Option(help="ContentPropagator code of this platform")],
    unlabelled: Annotated[str, typer.Option(
        help="files without a label: error (refuse), possibly (Label 2) or suspected (Label 3)")] = "error",
    force: ForceFlag = False,
    json_out: JsonFlag = False,
) -> None:
    """Add this platform's ContentPropagator / PropagateID, keeping the producer's fields intact."""
    if unlabelled not in ("error", "possibly", "suspected"):
        raise InvalidInputError(f"--unlabelled must be error, possibly or suspected, got {unlabelled!r}")
    mode: Literal["error", "possibly", "suspected"] = unlabelled  # type: ignore[assignment]
    labeler = _labeler()

    def one(f: Path, target: Path) -> dict[str, object]:
        done = labeler.propagate(f, propagator, unlabelled=mode)
        write_atomic(target, done.data)
        return {"format": done.format, "implicit": done.label.to_dict()}

    _apply(src, dst, force, "propagating", one, json_out, lambda r: f"{dst}: propagated ({r['format']})")
