"""Who may open a console route: the session cookie, the role check, CSRF.

Every staff route declares its roles with ``Depends(require(...))``; the dependency carries the
roles in ``console_roles`` so a test can enumerate the app's routes and prove each one checks.
Routes without a role check must be listed in ``PUBLIC_ROUTES``.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from fastapi import Request
from starlette.datastructures import FormData

from hegui.console import staff as staff_mod
from hegui.console.staff import STAFF_ROLES, Staff
from hegui.context import HeguiContext

COOKIE = "hegui_console"
PRE_COOKIE = "hegui_form"  # double-submit CSRF token for forms without a session (login, public pages)
LANG_COOKIE = "hegui_lang"

ALL = STAFF_ROLES
EDIT = ("admin", "compliance")
CONTENT = ("admin", "compliance", "reviewer")  # may read decrypted exchange content
AUDIT = ("admin", "compliance", "auditor")
EXPORT = ("admin", "auditor")

# (method, path) of console routes that need no login. Everything else must declare roles.
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset({
    ("GET", "/console"),
    ("GET", "/console/login"),
    ("POST", "/console/login"),
    ("GET", "/console/lang/{code}"),
    ("GET", "/console/static/{name}"),
    ("GET", "/console/public"),
    ("GET", "/console/public/process"),
    ("GET", "/console/public/complaint"),
    ("POST", "/console/public/complaint"),
    ("GET", "/console/public/status"),
    ("GET", "/console/public/training"),
    ("POST", "/console/public/training"),
})


class LoginRequired(Exception):
    """No valid session: pages redirect to the login form, form posts answer 401."""


class RoleRefused(Exception):
    def __init__(self, staff: Staff, roles: tuple[str, ...]) -> None:
        super().__init__(f"role {staff.role} may not open this page (needs {', '.join(roles)})")
        self.staff, self.roles = staff, roles


class CsrfRefused(Exception):
    """A POST without the form's CSRF token (or with a wrong one)."""


def console_ctx(request: Request) -> HeguiContext:
    ctx: HeguiContext = request.app.state.console_ctx
    return ctx


def require(*roles: str) -> Callable[[Request], Awaitable[Staff]]:
    """A dependency: a logged-in staff member whose role is one of ``roles``."""
    for r in roles:
        if r not in STAFF_ROLES:
            raise ValueError(f"unknown staff role {r!r}")

    async def dep(request: Request) -> Staff:
        token = request.cookies.get(COOKIE, "")
        ctx = console_ctx(request)
        st = await anyio.to_thread.run_sync(staff_mod.session_staff, ctx.db, token) if token else None
        if st is None:
            raise LoginRequired()
        if st.role not in roles:
            raise RoleRefused(st, roles)
        request.state.staff = st
        return st

    dep.console_roles = roles  # type: ignore[attr-defined]
    return dep


def route_roles(route: Any) -> tuple[str, ...] | None:
    """The roles a route's dependencies require (None when it has no console role check)."""
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return None
    stack = list(dependant.dependencies)
    while stack:
        d = stack.pop()
        roles = getattr(d.call, "console_roles", None)
        if roles is not None:
            return tuple(roles)
        stack.extend(d.dependencies)
    return None


async def checked_form(request: Request, st: Staff) -> FormData:
    """The POSTed form after checking its ``csrf`` field against the session's token."""
    form = await request.form()
    sent = form.get("csrf")
    if not isinstance(sent, str) or not st.csrf or not hmac.compare_digest(sent, st.csrf):
        raise CsrfRefused()
    return form


async def public_form(request: Request) -> FormData:
    """A POSTed form from a page without a session: double-submit cookie check."""
    form = await request.form()
    sent, cookie = form.get("csrf"), request.cookies.get(PRE_COOKIE, "")
    if not isinstance(sent, str) or not cookie or not hmac.compare_digest(sent, cookie):
        raise CsrfRefused()
    return form


def form_token(request: Request) -> str:
    """The double-submit token for a public form (reuses the browser's cookie if it has one)."""
    tok = request.cookies.get(PRE_COOKIE)
    if tok and 20 <= len(tok) <= 64:
        return tok
    return secrets.token_urlsafe(24)


def field(form: FormData, name: str, default: str = "") -> str:
    v = form.get(name)
    return v if isinstance(v, str) else default
