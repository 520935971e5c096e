"""``hegui audit``: verify the hash chain, export records as JSONL, purge content after retention."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from hegui.audit import log as audit_log
from hegui.cli.common import STATE, JsonFlag, console, err_console, print_json
from hegui.errors import InvalidInputError
from hegui.install import ensure_database

audit_app = typer.Typer(help="The tamper-evident audit log of every exchange (O15).", no_args_is_help=True)


def _time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(f"{name}: expected an ISO-8601 date or time (2026-01-31 or "
                                f"2026-01-31T08:00:00Z), got {value!r}") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@audit_app.command("verify")
def verify(json_out: JsonFlag = False) -> None:
    """Check every link and hash of the chain; exit 1 if anything was modified, deleted or reordered."""
    ctx = STATE.ctx()
    ensure_database(ctx)
    res = audit_log.verify(ctx.db)
    if json_out:
        print_json(res.to_dict())
    elif res.ok:
        console.print(f"audit chain OK: {res.records} records (last seq {res.last_seq}), "
                      f"{res.purged} with content purged after retention")
    else:
        err_console.print(f"[bold red]audit chain BROKEN[/]: {len(res.problems)} problem(s) in {res.records} records")
        for p in res.problems:
            err_console.print(f"  {p}", highlight=False)
    if not res.ok:
        raise typer.Exit(1)


@audit_app.command("export")
def export(
    since: Annotated[str | None, typer.Option("--since", help="from this time (inclusive), ISO-8601")] = None,
    until: Annotated[str | None, typer.Option("--until", help="to this time (exclusive), ISO-8601")] = None,
    decrypt: Annotated[bool, typer.Option("--decrypt", help="include the decrypted content (needs the key)")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write to this file instead of stdout")] = None,
    force: Annotated[bool, typer.Option("--force", help="overwrite the output file if it exists")] = False,
) -> None:
    """Export records as JSON lines; content stays sealed unless --decrypt."""
    if output is not None and output.exists() and not force:  # never clobber an earlier export silently
        raise InvalidInputError(f"{output} exists: pass --force to overwrite it")
    if output is not None and not output.parent.is_dir():
        raise InvalidInputError(f"{output.parent}: no such directory")
    ctx = STATE.ctx()
    ensure_database(ctx)
    s, u = _time(since, "--since"), _time(until, "--until")
    out = output.open("w", encoding="utf-8") if output else sys.stdout
    n = 0
    try:
        for rec in audit_log.export(ctx.db, ctx.keys, s, u, decrypt):
            out.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
            n += 1
    finally:
        if output:
            out.close()
    if output:
        console.print(f"{n} records written to {output}")


@audit_app.command("purge")
def purge(
    days: Annotated[int | None, typer.Option("--days", help="override the pack's retention.audit_content_days",
                                             min=1)] = None,
    json_out: JsonFlag = False,
) -> None:
    """Delete the content of records older than the retention period; the metadata chain stays verifiable."""
    ctx = STATE.ctx()
    ensure_database(ctx)
    keep = days if days is not None else ctx.pack.retention.audit_content_days
    n = audit_log.purge_content(ctx.db, keep)
    if json_out:
        print_json({"content_purged": n, "older_than_days": keep})
        return
    console.print(f"content of {n} record(s) older than {keep} days deleted; metadata chain kept")
