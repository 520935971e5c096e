"""``hegui console``: staff accounts for the web console (passwords are stored only as argon2 hashes)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from hegui.cli.common import STATE, console, print_json
from hegui.console import staff
from hegui.errors import InvalidInputError
from hegui.install import ensure_database
from hegui.store.db import Database

console_app = typer.Typer(help="Staff accounts of the web console (/console).", no_args_is_help=True)
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin (scripts)")]


def _db() -> Database:
    ctx = STATE.ctx()
    ensure_database(ctx)
    return ctx.db


def _password(from_stdin: bool) -> str:
    if from_stdin:
        pw = sys.stdin.readline().rstrip("\r\n")
        if not pw:
            raise InvalidInputError("no password on stdin")
        return pw
    pw = str(typer.prompt("password", hide_input=True, confirmation_prompt=True))
    return pw


@console_app.command("create-staff")
def create_staff(
    username: Annotated[str, typer.Option("--username", help="login name (letters, digits, . _ -)")],
    role: Annotated[str, typer.Option("--role", help=f"one of {', '.join(staff.STAFF_ROLES)}")],
    name: Annotated[str | None, typer.Option("--name", help="display name (default: the username)")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a staff account; asks for the password (or reads it from stdin)."""
    info = staff.create_staff(_db(), username, role, _password(password_stdin), name)
    console.print(f"staff {info.username} ({info.role}) created; log in at /console/login")


@console_app.command("set-password")
def set_password(
    username: Annotated[str, typer.Option("--username")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a new password (also unlocks a locked account and ends its sessions)."""
    info = staff.set_password(_db(), username, _password(password_stdin))
    console.print(f"password of {info.username} changed; every session of it was ended")


@console_app.command("disable-staff")
def disable_staff(username: Annotated[str, typer.Option("--username")]) -> None:
    """Disable a staff account and end its sessions."""
    staff.set_status(_db(), username, "disabled")
    console.print(f"staff {username} disabled")


@console_app.command("list-staff")
def list_staff(json_out: Annotated[bool, typer.Option("--json", help="machine-readable JSON")] = False) -> None:
    """List staff accounts with role, status and last login."""
    rows = staff.list_staff(_db())
    if json_out:
        print_json([{"username": r.username, "name": r.display_name, "role": r.role, "status": r.status,
                     "created_at": r.created_at, "last_login_at": r.last_login_at} for r in rows])
        return
    t = Table("username", "name", "role", "status", "last login")
    for r in rows:
        t.add_row(r.username, r.display_name, r.role, r.status,
                  r.last_login_at.strftime("%Y-%m-%d %H:%M") if r.last_login_at else "—")
    console.print(t)
