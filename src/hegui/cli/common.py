"""What every command shares: the lazily built context, consoles, JSON output."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from hegui.context import HeguiContext

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@dataclass
class CliState:
    config_file: Path | None = None
    _ctx: HeguiContext | None = None

    def ctx(self) -> HeguiContext:
        if self._ctx is None:
            self._ctx = HeguiContext.load(self.config_file)
        return self._ctx

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.close()
            self._ctx = None


STATE = CliState()

#: the `--json` flag every command that prints results offers
JsonFlag = Annotated[bool, typer.Option("--json", help="machine-readable JSON on stdout")]


def print_json(obj: Any) -> None:
    """Machine output: UTF-8 JSON on stdout, nothing else."""
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))
