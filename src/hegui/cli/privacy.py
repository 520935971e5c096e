"""``hegui privacy``: retention purge, user export/deletion, training-use consent, key rotation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from hegui.cases.pi_requests import PiRequestService
from hegui.cli.common import STATE, JsonFlag, console, print_json
from hegui.context import HeguiContext
from hegui.errors import InvalidInputError
from hegui.install import ensure_database
from hegui.privacy import consent, rights
from hegui.privacy.rekey import rekey
from hegui.privacy.retention import last_runs, purge, retention_days

privacy_app = typer.Typer(help="Personal-data protection: retention, user rights, consent, keys (O7).",
                          no_args_is_help=True)


def _ctx() -> HeguiContext:
    ctx = STATE.ctx()
    ensure_database(ctx)
    return ctx


@privacy_app.command("purge")
def purge_cmd(json_out: JsonFlag = False) -> None:
    """Apply every retention rule of the pack now (``hegui serve`` also runs this on a schedule)."""
    res = purge(_ctx())
    if json_out:
        print_json(res)
        return
    for r in res:
        console.print(f"{r['kind']}: {r['removed']} item(s) older than {r['older_than_days']} days removed")


@privacy_app.command("retention")
def retention_cmd(json_out: JsonFlag = False) -> None:
    """The retention rules in force and the last purge runs."""
    ctx = _ctx()
    days, runs = retention_days(ctx), last_runs(ctx)
    if json_out:
        print_json({"days": days, "last_runs": runs})
        return
    for kind, n in days.items():
        console.print(f"{kind}: {n} days")
    console.print(f"last purge: {runs[0]['ts']}" if runs else "no purge has run yet")


@privacy_app.command("export")
def export_cmd(
    user: Annotated[str, typer.Argument(help="user id")],
    fmt: Annotated[str, typer.Option("--format", help="json or text")] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
    force: Annotated[bool, typer.Option("--force", help="overwrite the output file if it exists")] = False,
) -> None:
    """A copy of everything held on a user (recorded as a completed access/export request)."""
    if fmt not in ("json", "text"):
        raise InvalidInputError(f"--format: expected json or text, got {fmt!r}")
    if output is not None and output.exists() and not force:  # never clobber an earlier export silently
        raise InvalidInputError(f"{output} exists: pass --force to overwrite it")
    if output is not None and not output.parent.is_dir():
        raise InvalidInputError(f"{output.parent}: no such directory")
    ctx = _ctx()
    PiRequestService(ctx).submit(user, "export" if fmt == "json" else "access")
    doc = rights.export_user_data(ctx, user)
    text = json.dumps(doc, ensure_ascii=False, indent=2) if fmt == "json" else rights.render_text(doc)
    if output is None:
        print(text)
        return
    output.write_text(text + "\n", encoding="utf-8")
    console.print(f"export written to {output}")


@privacy_app.command("delete")
def delete_cmd(
    user: Annotated[str, typer.Argument(help="user id")],
    cancel: Annotated[bool, typer.Option("--cancel-account", help="also cancel (disable) the account")] = False,
    json_out: JsonFlag = False,
) -> None:
    """Delete a user's content and derived data now, as a tracked request (audit metadata is kept)."""
    svc = PiRequestService(_ctx())
    req = svc.submit(user, "cancellation" if cancel else "deletion")
    done = svc.complete(req["id"], "cli")
    if json_out:
        print_json(done)
        return
    console.print(f"request {done['id']} completed: {done['result']}")


@privacy_app.command("consent")
def consent_cmd(
    user: Annotated[str, typer.Argument(help="user id")],
    training: Annotated[bool | None, typer.Option("--training/--no-training",
                                                  help="set training-use consent")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Show (or set) a user's training-use consent; the default is off."""
    ctx = _ctx()
    c = consent.get_consent(ctx, user) if training is None else consent.set_consent(ctx, user, training)
    if json_out:
        print_json(c)
        return
    console.print(f"{user}: training use {'allowed' if c['training_use'] else 'not allowed'}"
                  + (" (default)" if c["default"] else f" (set {c['updated_at']})"))


@privacy_app.command("rekey")
def rekey_cmd(json_out: JsonFlag = False) -> None:
    """Re-seal case data under the current key after a rotation (audit content keeps its key)."""
    res = rekey(_ctx())
    if json_out:
        print_json(res)
        return
    n = sum(res["resealed"].values())
    console.print(f"{n} sealed value(s) re-encrypted under key {res['current_key_id']}; "
                  f"{res['audit_records_under_old_keys']} audit record(s) remain under older keys "
                  "(keep those keys in old_secret_keys until the content is purged)")
