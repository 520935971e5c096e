"""The ``hegui`` command. Thin: parses arguments, calls domain services, prints results."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from hegui import __version__
from hegui.cli import common
from hegui.cli.assess import assess_app
from hegui.cli.audit import audit_app
from hegui.cli.cases import complaints_app, incidents_app, rectification_app, requests_app, sanctions_app
from hegui.cli.classifier import classifier_app
from hegui.cli.combo import combo_app
from hegui.cli.console import console_app
from hegui.cli.corpus import corpus_app
from hegui.cli.filing import filing_app
from hegui.cli.foundation import db_app, register_foundation
from hegui.cli.identity import identity_app
from hegui.cli.label import label_app
from hegui.cli.lexicon import lexicon_app
from hegui.cli.moderate import moderate_command
from hegui.cli.privacy import privacy_app
from hegui.cli.serve import serve
from hegui.cli.users import users_app
from hegui.errors import HeguiError

app = typer.Typer(
    name="hegui",
    help="hegui (合规): compliance for generative-AI services under China's Generative AI Measures.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hegui {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="config file (default: $HEGUI_CONFIG or ./hegui.yaml)")
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    common.STATE.config_file = config


register_foundation(app)
app.add_typer(db_app, name="db")
app.add_typer(classifier_app, name="classifier")
app.add_typer(corpus_app, name="corpus")
# Domain command groups register below, one line each.
app.add_typer(label_app, name="label")
app.add_typer(users_app, name="users")
app.add_typer(identity_app, name="identity")
app.add_typer(audit_app, name="audit")
app.add_typer(complaints_app, name="complaints")
app.add_typer(requests_app, name="requests")
app.add_typer(incidents_app, name="incidents")
app.add_typer(sanctions_app, name="sanctions")
app.add_typer(rectification_app, name="rectification")
app.add_typer(privacy_app, name="privacy")
app.add_typer(assess_app, name="assess")
app.add_typer(filing_app, name="filing")
app.add_typer(lexicon_app, name="lexicon")
app.add_typer(combo_app, name="combo")
app.add_typer(console_app, name="console")
app.command("serve")(serve)
app.command("moderate")(moderate_command)


def run() -> None:
    """Entry point: user errors become one clear line on stderr and exit code 2."""
    try:
        app()
    except HeguiError as err:
        common.err_console.print(f"[bold red]error:[/] {err}", highlight=False, soft_wrap=True)
        sys.exit(2)
    finally:
        common.STATE.close()
