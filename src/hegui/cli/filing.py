"""``hegui filing``: build the filing folder (DOCX + PDF) from live evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hegui.cli.common import STATE, console, print_json
from hegui.errors import InvalidInputError
from hegui.filing.build import build_filing
from hegui.install import ensure_database

filing_app = typer.Typer(help="Algorithm filing and security self-assessment documents.", no_args_is_help=True)


@filing_app.command("build")
def build(
    out: Annotated[Path, typer.Option(help="folder to write the documents into")],
    assessment: Annotated[Path | None, typer.Option(help="assessment run folder (default: the last recorded run)")]
    = None,
    declarations: Annotated[Path | None, typer.Option(help="YAML with operator facts and clause statements")]
    = None,
    pdf: Annotated[bool, typer.Option(help="also write PDF next to each DOCX")] = True,
    with_banks: Annotated[bool, typer.Option(help="attach the question banks (JSONL)")] = False,
    with_keywords: Annotated[bool, typer.Option(help="attach the keyword list (CSV; political lists excluded)")]
    = False,
    with_political: Annotated[bool, typer.Option(help="include the operator's political lists in attachments")]
    = False,
    json_out: Annotated[bool, typer.Option("--json", help="machine-readable JSON on stdout")] = False,
) -> None:
    """Write the filing form, self-assessment report, content to publish and annexes (Chinese)."""
    if declarations is not None and not declarations.is_file():
        raise InvalidInputError(f"--declarations {declarations}: no such file")
    if with_political and not (with_banks or with_keywords):
        raise InvalidInputError("--with-political only applies with --with-banks or --with-keywords")
    ctx = STATE.ctx()
    ensure_database(ctx)
    r = build_filing(ctx, out, assessment_dir=assessment, declarations=declarations, pdf=pdf,
                     with_banks=with_banks, with_keywords=with_keywords, with_political=with_political)
    if json_out:
        print_json({"out_dir": str(r.out_dir), "files": [str(f) for f in r.files], "summary": r.summary,
                    "missing_facts": r.missing_facts, "assessment_run_id": r.assessment_run_id})
        return
    console.print(f"filing folder {r.out_dir}: {len(r.files)} files")
    console.print("clauses: " + ", ".join(f"{k} {v}" for k, v in r.summary.items()))
    if r.assessment_run_id is None:
        console.print("[yellow]no assessment recorded: run `hegui assess run` first[/]")
    if r.missing_facts:
        console.print(f"[yellow]missing facts ({len(r.missing_facts)}), set them under provider: in hegui.yaml "
                      "or in --declarations:[/]")
        for m in r.missing_facts:
            console.print(f"  - {m}")
