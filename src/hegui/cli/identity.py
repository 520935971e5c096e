"""``hegui identity``: real-name registration and verification, service agreements, guardian controls.

The operator's side of ``hegui.identity`` and ``hegui.usage``; users do the same through the
gateway's ``/v1/identity/*`` routes. Personal data typed here is sealed at once and never printed.
"""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from hegui.cli.common import STATE, JsonFlag, console, print_json
from hegui.errors import InvalidInputError
from hegui.identity import agreements
from hegui.identity.service import IdentityService, default_sender
from hegui.identity.sms import ConsoleSmsSender
from hegui.identity.verification import DOC_TYPES, parse_birth_date
from hegui.install import ensure_database
from hegui.usage import guardians
from hegui.usage.gate import UsageGate

identity_app = typer.Typer(help="Real-name verification, service agreements, minors' guardian controls.",
                           no_args_is_help=True)
agreement_app = typer.Typer(help="Versioned service agreements (服务协议) and acceptance.", no_args_is_help=True)
guardian_app = typer.Typer(help="Guardian controls for minors (lower limits, allowed hours).", no_args_is_help=True)
identity_app.add_typer(agreement_app, name="agreement")
identity_app.add_typer(guardian_app, name="guardian")

UserArg = Annotated[str, typer.Argument(help="the user's id (u_…)")]
ByOpt = Annotated[str | None, typer.Option("--by", help="who decides (default: your login name)")]


def _service() -> IdentityService:
    ctx = STATE.ctx()
    ensure_database(ctx)
    sender = default_sender()
    if isinstance(sender, ConsoleSmsSender):
        sender = ConsoleSmsSender(stream=sys.stdout)  # the operator relays the code
    return IdentityService(ctx, sender=sender)


def _by(by: str | None) -> str:
    return (by or "").strip() or getpass.getuser()


@identity_app.command("register")
def register(
    name: Annotated[str, typer.Option("--name", help="real name as on the document")],
    doc_number: Annotated[str, typer.Option("--doc-number", help="document number")],
    mobile: Annotated[str, typer.Option("--mobile", help="mainland mobile number")],
    doc_type: Annotated[str, typer.Option("--doc-type", help=f"one of {', '.join(DOC_TYPES)}")] = "resident_id",
    display_name: Annotated[str | None, typer.Option("--display-name", help="non-identifying account label")] = None,
    birth_date: Annotated[str | None, typer.Option(
        "--birth-date", help="YYYY-MM-DD, for documents whose number carries none (passport, permits)")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Register an account with real-name data; prints its API key (usable once verified and agreed)."""
    reg = _service().register(name, doc_type, doc_number, mobile, display_name, birth_date)
    if json_out:
        print_json({"user_id": reg.issued.user_id, "api_key": reg.issued.api_key, "state": reg.status.state})
        return
    console.print(f"user    {reg.issued.user_id} (state {reg.status.state})")
    console.print(f"api key {reg.issued.api_key}")
    console.print(f"[dim]next: hegui identity send-code {reg.issued.user_id}[/]")


@identity_app.command("send-code")
def send_code(user_id: UserArg, json_out: JsonFlag = False) -> None:
    """Send a one-time code to the user's mobile (console sender: printed here for the operator to relay)."""
    expires = _service().send_code(user_id)
    if json_out:
        print_json({"user_id": user_id, "expires_at": expires.isoformat()})
        return
    console.print(f"code sent; valid until {expires.isoformat(timespec='seconds')}")


@identity_app.command("verify")
def verify(user_id: UserArg, code: Annotated[str, typer.Argument(help="the 6-digit code")],
           json_out: JsonFlag = False) -> None:
    """Confirm the mobile with the code; the identity match runs and decides the state."""
    svc = _service()
    st = svc.confirm_code(user_id, code)
    if json_out:
        print_json(st.to_dict(svc._today()))
        return
    console.print(f"user {user_id}: {st.state} (method {st.method})")


@identity_app.command("status")
def status(user_id: UserArg, json_out: JsonFlag = False) -> None:
    """A user's verification state, age, agreement and today's usage (no personal data is shown)."""
    svc = _service()
    st = svc.status(user_id)
    pending = agreements.pending_version(svc.db, user_id)
    gate = UsageGate(svc.ctx)
    now = datetime.now(UTC)
    lim = gate.limits(user_id, now)
    used = gate.store.peek(user_id, now, gate.tz).today_seconds
    out = {**st.to_dict(svc._today()), "agreement_to_accept": pending, "minor": lim.minor,
           "daily_limit_minutes": int(lim.daily_seconds // 60) if lim.daily_seconds else None,
           "used_today_minutes": int(used // 60)}
    if json_out:
        print_json(out)
        return
    for k, v in out.items():
        console.print(f"{k:22} {v}")


@identity_app.command("attest")
def attest(user_id: UserArg,
           reason: Annotated[str, typer.Option("--reason", help="why the operator vouches (recorded, audited)")],
           birth_date: Annotated[str | None, typer.Option("--birth-date", help="YYYY-MM-DD, for minors' rules")] = None,
           by: ByOpt = None, json_out: JsonFlag = False) -> None:
    """Operator-attested verification of an existing account (e.g. service accounts created before real-name
    checks were enforced); audited."""
    svc = _service()
    born = parse_birth_date(birth_date, svc._today()) if birth_date else None
    st = svc.attest(user_id, _by(by), reason, born)
    if json_out:
        print_json(st.to_dict(svc._today()))
        return
    console.print(f"user {user_id}: verified (operator-attested by {st.verified_by})")


@identity_app.command("decide")
def decide(user_id: UserArg,
           verified: Annotated[bool, typer.Option("--verified/--rejected", help="the decision")],
           reason: Annotated[str, typer.Option("--reason", help="why (recorded and audited)")],
           by: ByOpt = None, json_out: JsonFlag = False) -> None:
    """Settle a pending (or rejected) verification by hand; audited."""
    svc = _service()
    st = svc.decide(user_id, verified, _by(by), reason)
    if json_out:
        print_json(st.to_dict(svc._today()))
        return
    console.print(f"user {user_id}: {st.state}")


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidInputError(f"cannot read the {what} agreement text {path}: {err}") from None


@agreement_app.command("publish")
def publish(version: Annotated[str, typer.Option("--version", help="e.g. 2026-01")],
            zh: Annotated[Path, typer.Option("--zh", help="Chinese text file (UTF-8)")],
            en: Annotated[Path, typer.Option("--en", help="English text file (UTF-8)")],
            by: ByOpt = None, json_out: JsonFlag = False) -> None:
    """Publish a new agreement version; every user must accept it before the next model call."""
    svc = _service()
    info = agreements.publish(svc.db, version, _read_text(zh, "Chinese"), _read_text(en, "English"), _by(by),
                              svc.clock())
    if json_out:
        print_json(info.to_dict(with_text=False))
        return
    console.print(f"agreement {info.version} published; users must accept it before further use")


@agreement_app.command("show")
def show(json_out: JsonFlag = False) -> None:
    """The current agreement."""
    info = agreements.current(_service().db)
    if info is None:
        raise InvalidInputError("no service agreement has been published (hegui identity agreement publish)")
    if json_out:
        print_json(info.to_dict())
        return
    console.print(f"version {info.version}, published {info.published_at:%Y-%m-%d %H:%M} by {info.published_by}")
    console.print(info.text_zh)
    console.print(info.text_en)


@agreement_app.command("accept")
def accept(user_id: UserArg, version: Annotated[str, typer.Argument(help="the version being accepted")],
           json_out: JsonFlag = False) -> None:
    """Record acceptance on the user's behalf (e.g. a service account the operator runs)."""
    svc = _service()
    when = agreements.accept(svc.db, user_id, version, "cli", svc.clock())
    if json_out:
        print_json({"user_id": user_id, "version": version, "accepted_at": when.isoformat()})
        return
    console.print(f"user {user_id} accepted agreement {version} at {when.isoformat(timespec='seconds')}")


@guardian_app.command("set")
def guardian_set(
    guardian: Annotated[str, typer.Option("--guardian", help="the guardian's user id")],
    minor: Annotated[str, typer.Option("--minor", help="the minor's user id")],
    daily_minutes: Annotated[int | None, typer.Option("--daily-minutes", help="lower daily limit")] = None,
    allowed_from: Annotated[str | None, typer.Option("--from", help="allowed from HH:MM (local time)")] = None,
    allowed_until: Annotated[str | None, typer.Option("--until", help="allowed until HH:MM (local time)")] = None,
    birth_date: Annotated[str | None, typer.Option("--birth-date", help="guardian-declared YYYY-MM-DD")] = None,
    json_out: JsonFlag = False,
) -> None:
    """Link a guardian to a minor and set the controls (replaces earlier ones)."""
    svc = _service()
    born = parse_birth_date(birth_date, svc._today()) if birth_date else None
    if born is not None and svc.status(minor).birth_source == "document":
        raise InvalidInputError(f"user {minor}'s age comes from the verified document and cannot be changed")
    g = guardians.set_controls(svc.db, guardian, minor, svc.clock(), daily_minutes, allowed_from, allowed_until)
    if born is not None:
        svc.set_birth_date(minor, born, "guardian")
    out = {"minor_user_id": minor, "guardian_user_id": g.guardian_user_id, "daily_minutes": g.daily_minutes,
           "allowed_from": g.allowed_from.strftime("%H:%M") if g.allowed_from else None,
           "allowed_until": g.allowed_until.strftime("%H:%M") if g.allowed_until else None}
    if json_out:
        print_json(out)
        return
    console.print(f"guardian {guardian} controls {minor}: {out}")


def check_attestation(verified: bool, reason: str | None, birth_date: str | None) -> date | None:
    """Validate ``users create --verified/--reason/--birth-date`` before anything is written."""
    if verified and not (reason or "").strip():
        raise InvalidInputError("--verified needs --reason (why the operator attests this identity)")
    if reason and not verified:
        raise InvalidInputError("--reason only goes with --verified")
    today = datetime.now(UTC).date()
    return parse_birth_date(birth_date, today) if birth_date else None


def attest_new_user(user_id: str, verified: bool, reason: str | None, born: date | None) -> dict[str, Any]:
    """Record the operator's attestation (who, when, why; audited) and/or the birth date for a new user."""
    svc = _service()
    if verified:
        st = svc.attest(user_id, _by(None), reason or "", born)
    elif born is not None:
        st = svc.set_birth_date(user_id, born, "operator")
    else:
        st = svc.status(user_id)
    return st.to_dict(svc._today())
