"""``hegui users``: accounts and API keys (the key is printed once, never stored)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from hegui.cli.common import STATE, JsonFlag, console, print_json
from hegui.identity import accounts
from hegui.install import ensure_database
from hegui.store.db import Database

users_app = typer.Typer(help="Users and their API keys.", no_args_is_help=True)


def _db() -> Database:
    ctx = STATE.ctx()
    ensure_database(ctx)
    return ctx.db


@users_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="who the user is (person or application)")],
    role: Annotated[str, typer.Option("--role", help=f"one of {', '.join(accounts.ROLES)}")] = "user",
    verified: Annotated[bool, typer.Option("--verified", help="operator-attested real-name verification")] = False,
    reason: Annotated[str | None, typer.Option("--reason", help="why it is attested (recorded, audited)")] = None,
    birth_date: Annotated[str | None, typer.Option("--birth-date", help="YYYY-MM-DD, for minors' rules")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Create a user with an API key; the key is shown only now."""
    from hegui.cli.identity import attest_new_user, check_attestation

    born = check_attestation(verified, reason, birth_date)
    issued = accounts.create_user(_db(), name, role)
    identity = attest_new_user(issued.user_id, verified, reason, born) if (verified or born) else None
    if json_out:
        extra = {"identity": identity} if identity else {}
        print_json({"user_id": issued.user_id, "api_key": issued.api_key, **extra})
        return
    if identity:
        console.print(f"identity {identity['state']} ({identity['method'] or 'not verified'}), age {identity['age']}")
    console.print(f"user    {issued.user_id} ({name}, role {role})")
    console.print(f"api key {issued.api_key}")
    console.print("[dim]store the key now: hegui keeps only its hash[/]")


@users_app.command("list")
def list_(json_out: JsonFlag = False) -> None:
    """List users with their status, role and key ids."""
    users = accounts.list_users(_db())
    if json_out:
        print_json([u.to_dict() for u in users])
        return
    t = Table("user_id", "name", "status", "role", "created", "key ids")
    for u in users:
        t.add_row(u.id, u.name, u.status, u.role, u.created_at.strftime("%Y-%m-%d %H:%M"), ", ".join(u.key_ids))
    console.print(t)


@users_app.command("disable")
def disable(user_id: Annotated[str, typer.Argument(help="the user's id (u_…)")], json_out: JsonFlag = False) -> None:
    """Disable a user: all of their keys stop working immediately."""
    info = accounts.disable_user(_db(), user_id)
    if json_out:
        print_json(info.to_dict())
        return
    console.print(f"user {info.id} disabled")


@users_app.command("rotate-key")
def rotate(user_id: Annotated[str, typer.Argument(help="the user's id (u_…)")], json_out: JsonFlag = False) -> None:
    """Revoke the user's keys and issue a new one (shown only now)."""
    issued = accounts.rotate_key(_db(), user_id)
    if json_out:
        print_json({"user_id": issued.user_id, "api_key": issued.api_key})
        return
    console.print(f"user    {issued.user_id}: previous keys revoked")
    console.print(f"api key {issued.api_key}")


@users_app.command("set-role")
def set_role(user_id: Annotated[str, typer.Argument(help="the user's id (u_…)")],
             role: Annotated[str, typer.Argument(help=f"one of {', '.join(accounts.ROLES)}")],
             json_out: JsonFlag = False) -> None:
    """Change a user's role (admin, compliance, reviewer, auditor may use /admin)."""
    info = accounts.set_role(_db(), user_id, role)
    if json_out:
        print_json(info.to_dict())
        return
    console.print(f"user {info.id} now has role {info.role}")
