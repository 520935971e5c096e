"""Console routes under ``/console``: staff pages, login/logout, public complaint and opt-out pages.

Handlers are thin: they check the role (``auth.require``), the CSRF token on every POST, call the
domain services (lexicon, moderation engine, audit log, cases, policy) and render a template.
"""

from __future__ import annotations

import json
import math
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import resources
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from hegui.audit import log as audit_log
from hegui.console import auth, charts, data, optout
from hegui.console import cases as cases_mod
from hegui.console import policy as policy_mod
from hegui.console import staff as staff_mod
from hegui.console.auth import ALL, AUDIT, CONTENT, EDIT, EXPORT, checked_form, field, public_form, require
from hegui.console.i18n import DEFAULT_LANG, LANGS, translate
from hegui.console.staff import Staff
from hegui.context import HeguiContext
from hegui.detect.lexicon.entry import check_severity
from hegui.detect.lexicon.formats import parse_text
from hegui.detect.lexicon.service import LexiconService
from hegui.errors import HeguiError, NotFoundError
from hegui.obligations import report as obligations_report
from hegui.policy.taxonomy import CATEGORIES, RISKS

T = TypeVar("T")
router = APIRouter(prefix="/console")
_env = Environment(loader=PackageLoader("hegui.console", "templates"), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)
STATIC_TYPES = {"console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8"}
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
PAGE = 50
OBLIGATIONS_TTL = 300.0  # seconds a dashboard may show an obligation report before refreshing it
OBLIGATIONS_WAIT = 3.0  # seconds a dashboard load waits for a refresh before showing the last report

Role = Callable[..., Any]
Any_ = Annotated[Staff, Depends(require(*ALL))]
Editor = Annotated[Staff, Depends(require(*EDIT))]
ContentReader = Annotated[Staff, Depends(require(*CONTENT))]
Auditing = Annotated[Staff, Depends(require(*AUDIT))]
Exporter = Annotated[Staff, Depends(require(*EXPORT))]
UsersReader = Annotated[Staff, Depends(require("admin", "compliance", "auditor"))]
UserDetail = Annotated[Staff, Depends(require("admin", "compliance"))]
Admin = Annotated[Staff, Depends(require("admin"))]
CaseReader = Annotated[Staff, Depends(require("admin", "compliance", "reviewer", "auditor"))]
CaseNoter = Annotated[Staff, Depends(require("admin", "compliance", "reviewer"))]

NAV: list[tuple[str, list[tuple[str, str, tuple[str, ...]]]]] = [
    ("Content", [("Dashboard", "/console/dashboard", ALL), ("Review queue", "/console/review", ALL),
                 ("Lexicons", "/console/lexicon", ALL)]),
    ("Queues", [("Complaints", "/console/cases/complaints", ALL), ("PI requests", "/console/cases/pi_requests", ALL),
                ("Incidents", "/console/cases/incidents", ALL), ("Sanctions", "/console/cases/sanctions", ALL),
                ("Rectification", "/console/cases/rectification", ALL)]),
    ("Governance", [("Users", "/console/users", ("admin", "compliance", "auditor")),
                    ("Policy pack", "/console/policy", ALL), ("Obligations", "/console/obligations", ALL),
                    ("Audit log", "/console/audit", AUDIT), ("Staff activity", "/console/activity", AUDIT),
                    ("Staff", "/console/staff", ("admin",))]),
]


def install(app: FastAPI, ctx: HeguiContext) -> None:
    """Add the console to the gateway app (routes + its own error pages)."""
    app.state.console_ctx = ctx
    app.state.console_obligations = ObligationCache()
    app.include_router(router)

    @app.exception_handler(auth.LoginRequired)
    async def _login(request: Request, _: auth.LoginRequired) -> Response:
        if request.method == "GET":
            nxt = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""), safe="")
            return RedirectResponse(f"/console/login?next={nxt}", status_code=303)
        return _page(request, None, "error.html", status=401, title="Log in",
                     message="Your session has expired or you are not logged in.")

    @app.exception_handler(auth.RoleRefused)
    async def _refused(request: Request, err: auth.RoleRefused) -> Response:
        return _page(request, err.staff, "error.html", status=403, title="Access refused",
                     message="Your role does not allow this page.", roles=err.roles)

    @app.exception_handler(auth.CsrfRefused)
    async def _csrf(request: Request, _: auth.CsrfRefused) -> Response:
        st = getattr(request.state, "staff", None)
        return _page(request, st, "error.html", status=403, title="Access refused",
                     message="The form was stale or forged (CSRF check failed). Reload the page and try again.")


# ---- rendering -------------------------------------------------------------------------------------

def _lang(request: Request) -> str:
    lang = request.cookies.get(auth.LANG_COOKIE, DEFAULT_LANG)
    return lang if lang in LANGS else DEFAULT_LANG


def _page(request: Request, st: Staff | None, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    lang = _lang(request)

    def t(text: str) -> str:
        return translate(text, lang)

    nav = [(group, [(label, href) for label, href, roles in items if st is not None and st.role in roles])
           for group, items in NAV]
    html = _env.get_template(template).render(
        t=t, lang=lang, staff=st, csrf=st.csrf if st else "", nav=nav, path=request.url.path,
        risks=RISKS, rname=lambda code: _risk_name(code, lang), fmt_ts=_fmt_ts, **values)
    resp = HTMLResponse(html, status_code=status)
    _secure(resp)
    return resp


def _risk_name(code: str, lang: str) -> str:
    r = RISKS.get(code)
    if r is None:
        return ""
    return r.name_zh if lang == "zh" else r.name_en


def _category_name(code: str, lang: str) -> str:
    c = CATEGORIES.get(code)
    if c is None:
        return code
    return c.name_zh if lang == "zh" else c.name_en


def _secure(resp: Response) -> None:
    resp.headers["content-security-policy"] = CSP
    resp.headers["x-content-type-options"] = "nosniff"
    resp.headers["referrer-policy"] = "same-origin"
    resp.headers["x-frame-options"] = "DENY"
    resp.headers.setdefault("cache-control", "no-store")


def _fmt_ts(ts: datetime | str | None) -> str:
    if ts is None:
        return "—"
    if isinstance(ts, str):
        try:
            when = datetime.fromisoformat(ts.replace("Z", "+00:00"))
        except ValueError:
            return ts
    else:
        when = ts
    return str(data.aware(when).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"))


def _log(ctx: HeguiContext, st: Staff, action: str, target: str = "", **detail: Any) -> None:
    """Record a staff action twice: in the staff activity log (searchable, exportable) and as a sealed
    record in the hash-chained audit log (endpoint ``console``), so a deleted or edited activity row
    is still evident from the chain."""
    staff_mod.record(ctx.db, st, action, target, **detail)
    audit_log.append(ctx.db, ctx.keys, [audit_log.Exchange(
        record_id=str(uuid.uuid4()), ts=datetime.now(UTC), endpoint=data.STAFF_ENDPOINT, status_code=200,
        decision="allow", user_id=st.id,
        content={"staff": st.username, "role": st.role, "action": action, "target": target, "detail": detail})])


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def _run(fn: Callable[..., T], *args: Any) -> T:
    return await anyio.to_thread.run_sync(fn, *args)


def _ctx(request: Request) -> HeguiContext:
    return auth.console_ctx(request)


def _flash(request: Request) -> str | None:
    v = request.query_params.get("ok")
    return v[:200] if v else None


def _set_form_cookie(request: Request, resp: Response, token: str) -> None:
    resp.set_cookie(auth.PRE_COOKIE, token, httponly=True, samesite="lax", path="/console",
                    secure=request.url.scheme == "https")


# ---- public: entry, login, language, static ---------------------------------------------------------

@router.get("")
async def root() -> RedirectResponse:
    return _redirect("/console/dashboard")


@router.get("/static/{name}")
async def static(name: str) -> Response:
    if name not in STATIC_TYPES:
        return PlainTextResponse("not found", status_code=404)
    body = resources.files("hegui.console").joinpath("static", name).read_bytes()
    return Response(body, media_type=STATIC_TYPES[name], headers={"cache-control": "public, max-age=300"})


@router.get("/lang/{code}")
async def set_lang(request: Request, code: str) -> RedirectResponse:
    nxt = request.query_params.get("next", "/console/public")
    resp = _redirect(nxt if nxt.startswith("/console") and "//" not in nxt else "/console/public")
    if code in LANGS:
        resp.set_cookie(auth.LANG_COOKIE, code, max_age=365 * 86400, samesite="lax", path="/console")
    return resp


def _safe_next(nxt: str) -> str:
    return nxt if nxt.startswith("/console/") and "//" not in nxt and "\\" not in nxt else "/console/dashboard"


@router.get("/login")
async def login_form(request: Request) -> HTMLResponse:
    tok = auth.form_token(request)
    resp = _page(request, None, "login.html", form_csrf=tok, next=_safe_next(request.query_params.get("next", "")),
                 error=None)
    _set_form_cookie(request, resp, tok)
    return resp


@router.post("/login")
async def login(request: Request) -> Response:
    form = await public_form(request)
    ctx = _ctx(request)
    st = await _run(staff_mod.authenticate, ctx.db, field(form, "username"), field(form, "password"))
    nxt = _safe_next(field(form, "next"))
    if st is None:
        tok = auth.form_token(request)
        resp = _page(request, None, "login.html", status=401, form_csrf=tok, next=nxt,
                     error="Wrong username or password, or the account is locked.")
        _set_form_cookie(request, resp, tok)
        return resp
    token, who = await _run(staff_mod.start_session, ctx.db, st)
    await _run(lambda: _log(ctx, who, "login"))
    ok = _redirect(nxt)
    ok.set_cookie(auth.COOKIE, token, httponly=True, samesite="lax", path="/console",
                    secure=request.url.scheme == "https", max_age=staff_mod.SESSION_HOURS * 3600)
    return ok


@router.post("/logout")
async def logout(request: Request, st: Any_) -> Response:
    await checked_form(request, st)
    ctx = _ctx(request)
    await _run(staff_mod.end_session, ctx.db, request.cookies.get(auth.COOKIE, ""))
    await _run(lambda: _log(ctx, st, "logout"))
    resp = _redirect("/console/login")
    resp.delete_cookie(auth.COOKIE, path="/console")
    return resp


# ---- dashboard and obligations -------------------------------------------------------------------

def _complaint_figures(ctx: HeguiContext) -> dict[str, Any] | None:
    svc = cases_mod.service(ctx, "complaints")
    if svc is None:
        return None
    items = svc.search()
    open_ = [c for c in items if c.get("status") not in ("resolved", "rejected")]
    overdue = [c for c in open_ if c.get("overdue")]
    return {"open": len(open_), "overdue": len(overdue), "items": open_[:6]}


def _rectification_figures(ctx: HeguiContext) -> dict[str, Any] | None:
    svc = cases_mod.service(ctx, "rectification")
    if svc is None:
        return None
    items = svc.search(overdue=True)
    return {"overdue": len(items), "items": items[:6]}


@router.get("/dashboard")
async def dashboard(request: Request, st: Any_) -> HTMLResponse:
    ctx = _ctx(request)
    d = await _run(data.dashboard, ctx)
    obligations, as_of = await _cached_obligations(request)
    complaints = await _run(_complaint_figures, ctx)
    rect = await _run(_rectification_figures, ctx)
    lbl = translate("Decisions by risk category", _lang(request))
    series = d.flagged_by_cat or {"A1": [0] * len(d.days)}
    chart = charts.stacked_bars(d.days, series, title=lbl, legend=False)
    lang = _lang(request)
    legend = [(code, _category_name(code, lang), charts.PALETTE.get(code, charts.PALETTE["other"]),
               sum(series[code])) for code in series]
    traffic = charts.stacked_bars(d.days, {"exchanges": d.traffic}, title="traffic",
                                  colours={"exchanges": "#5d8aa8"}, height=160)
    terms = charts.hbars(d.top_terms, title="top terms", colour="#c0392b") if d.top_terms else None
    return _page(request, st, "dashboard.html", d=d, chart=chart, traffic_chart=traffic, terms_chart=terms,
                 obligations=obligations, obligations_as_of=as_of, complaints=complaints, rect=rect,
                 spark=charts.sparkline(d.traffic), legend=legend)


class ObligationCache:
    """The obligation report for the dashboard, recomputed off the request path.

    Some evidence checks walk whole tables (the audit-chain verification reads every record), so
    the dashboard never waits for more than ``wait`` seconds: it starts a refresh when the report is
    older than ``OBLIGATIONS_TTL`` and shows the last one (or none yet) until the refresh lands.
    """

    def __init__(self) -> None:
        self.rows: list[Any] | None = None
        self.as_of: datetime | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _refresh(self, ctx: HeguiContext) -> None:
        rows = obligations_report(ctx)
        self.rows, self.as_of = rows, datetime.now(UTC)

    def get(self, ctx: HeguiContext, wait: float) -> tuple[list[Any] | None, datetime | None]:
        with self._lock:
            fresh = self.as_of is not None and (datetime.now(UTC) - self.as_of).total_seconds() < OBLIGATIONS_TTL
            if not fresh and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(target=self._refresh, args=(ctx,), name="hegui-console-obligations",
                                                 daemon=True)
                self._thread.start()
            t = self._thread
        if not fresh and t is not None:
            t.join(wait)
        return self.rows, self.as_of

    def put(self, rows: list[Any]) -> None:
        self.rows, self.as_of = rows, datetime.now(UTC)


async def _cached_obligations(request: Request) -> tuple[list[Any] | None, datetime | None]:
    cache: ObligationCache = request.app.state.console_obligations
    return await _run(cache.get, _ctx(request), OBLIGATIONS_WAIT)


@router.get("/obligations")
async def obligations(request: Request, st: Any_) -> HTMLResponse:
    rows = await _run(obligations_report, _ctx(request))
    request.app.state.console_obligations.put(rows)
    return _page(request, st, "obligations.html", rows=rows, as_of=datetime.now(UTC))


# ---- review queue ----------------------------------------------------------------------------------

@router.get("/review")
async def review_queue(request: Request, st: Any_) -> HTMLResponse:
    q = request.query_params
    page = max(int(q.get("page", "1") or 1) if (q.get("page") or "1").isdigit() else 1, 1)
    status = q.get("status") or "open"
    rows, total = await _run(lambda: data.flagged(_ctx(request), decision=q.get("decision") or None,
                                                  category=q.get("category") or None,
                                                  status=None if status == "all" else status,
                                                  limit=PAGE, offset=(page - 1) * PAGE))
    return _page(request, st, "review.html", rows=rows, total=total, page=page, pages=max(math.ceil(total / PAGE), 1),
                 state=status, decision=q.get("decision", ""), category=q.get("category", ""))


@router.get("/review/{record_id}")
async def review_item(request: Request, record_id: str, st: Any_) -> HTMLResponse:
    ctx = _ctx(request)
    try:
        meta = await _run(data.record_meta, ctx, record_id)
    except NotFoundError as err:
        return _page(request, st, "error.html", status=404, title="Not found", message=str(err))
    content = None
    if st.role in CONTENT:
        content = await _run(data.record_content, ctx, meta)
        await _run(lambda: _log(ctx, st, "view_content", record_id, purged=content is None))
    msgs: list[dict[str, Any]] = []
    answer = None
    if content is not None:
        msgs = _highlighted_messages(content)
        out_dec = content.get("output_decision") or {}
        if content.get("answer"):
            answer = data.highlight(str(content["answer"]), out_dec.get("findings") or [])
    revs = await _run(data.reviews, ctx, record_id) if st.role in CONTENT else []
    return _page(request, st, "review_item.html", meta=meta, content=content, msgs=msgs, answer=answer,
                 reviews=revs, can_content=st.role in CONTENT, verdicts=data.VERDICTS, ok=_flash(request))


def _highlighted_messages(content: dict[str, Any]) -> list[dict[str, Any]]:
    dec = content.get("input_decision") or {}
    findings = dec.get("findings") or []
    index = dec.get("message_index")
    msgs = data.messages_of(content.get("request"))
    out = []
    for i, m in enumerate(msgs):
        text = data.text_of(m.get("content"))
        mine = [f for k, f in enumerate(findings) if (index[k] if index and k < len(index) else len(msgs) - 1) == i]
        out.append({"role": m.get("role", "user"), "html": data.highlight(text, mine)})
    return out


@router.post("/review/{record_id}")
async def review_verdict(request: Request, record_id: str, st: ContentReader) -> Response:
    form = await checked_form(request, st)
    ctx = _ctx(request)
    verdict = field(form, "verdict")
    try:
        await _run(data.add_review, ctx, record_id, st.id, verdict, field(form, "note"))
    except HeguiError as err:
        return _page(request, st, "error.html", status=400, title="Error", message=str(err))
    await _run(lambda: _log(ctx, st, "review", record_id, verdict=verdict))
    return _redirect(f"/console/review/{record_id}?ok=saved")


# ---- lexicons --------------------------------------------------------------------------------------

def _lexicon_page(request: Request, st: Staff, status: int = 200, **extra: Any) -> HTMLResponse:
    ctx = _ctx(request)
    q = request.query_params
    svc = LexiconService(ctx)
    search, category = q.get("q", "").strip(), q.get("category", "").strip()
    entries = svc.list(category=category or None, search=search or None, limit=200)
    stats = svc.stats()
    values: dict[str, Any] = {"entries": entries, "search": search, "category": category, "stats": stats,
                              "ok": _flash(request), "test": None, "error": None}
    values.update(extra)
    return _page(request, st, "lexicon.html", status=status, **values)


@router.get("/lexicon")
async def lexicon(request: Request, st: Any_) -> HTMLResponse:
    return await _run(lambda: _lexicon_page(request, st))


@router.post("/lexicon/add")
async def lexicon_add(request: Request, st: Editor) -> Response:
    form = await checked_form(request, st)
    ctx = _ctx(request)
    term, cat = field(form, "term").strip(), field(form, "category").strip()
    allow = [a.strip() for a in field(form, "allow").split(",") if a.strip()]
    try:
        sev = check_severity(field(form, "severity", "2"))
        e = await _run(lambda: LexiconService(ctx).add(term, cat, sev, None, "operator", allow, field(form, "note")))
    except HeguiError as err:
        msg = str(err)
        return await _run(lambda: _lexicon_page(request, st, 400, error=msg))
    await _run(_reload_live, _engine(request))
    await _run(lambda: _log(ctx, st, "lexicon_add", f"{e.category}:{e.term}", severity=e.severity))
    return _redirect(f"/console/lexicon?q={quote(e.term)}&ok=saved")


@router.post("/lexicon/remove")
async def lexicon_remove(request: Request, st: Editor) -> Response:
    form = await checked_form(request, st)
    ctx = _ctx(request)
    term, cat, src = field(form, "term"), field(form, "category"), field(form, "source")
    try:
        await _run(lambda: LexiconService(ctx).remove(term, cat or None, src or None))
    except HeguiError as err:
        msg = str(err)
        return await _run(lambda: _lexicon_page(request, st, 400, error=msg))
    await _run(_reload_live, _engine(request))
    await _run(lambda: _log(ctx, st, "lexicon_remove", f"{cat}:{term}", source=src))
    return _redirect("/console/lexicon?ok=removed")


@router.post("/lexicon/import")
async def lexicon_import(request: Request, st: Editor) -> Response:
    form = await checked_form(request, st)
    ctx = _ctx(request)
    text = field(form, "text")
    upload = form.get("file")
    if upload is not None and not isinstance(upload, str):
        raw = await upload.read()
        if raw:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                return await _run(lambda: _lexicon_page(request, st, 400, error="the file is not UTF-8 text"))
    fmt = field(form, "format", "csv")
    if fmt not in ("csv", "txt", "jsonl"):
        return await _run(lambda: _lexicon_page(request, st, 400, error=f"unknown format {fmt!r}"))
    cat = field(form, "category").strip() or None
    try:
        parsed = parse_text(text, "upload", fmt, cat, "operator", None)  # type: ignore[arg-type]
        if not parsed.entries:
            raise HeguiError("no terms found in the import")
        res = await _run(LexiconService(ctx).import_entries, parsed.entries)
    except HeguiError as err:
        msg = str(err)
        return await _run(lambda: _lexicon_page(request, st, 400, error=msg))
    await _run(_reload_live, _engine(request))
    await _run(lambda: _log(ctx, st, "lexicon_import", fmt, added=res.added, updated=res.updated))
    return _redirect(f"/console/lexicon?ok=imported+{res.added}+added+{res.updated}+updated")


@router.get("/lexicon/export")
async def lexicon_export(request: Request, st: Any_) -> Response:
    ctx = _ctx(request)
    fmt = request.query_params.get("format", "csv")
    if fmt not in ("csv", "txt", "jsonl"):
        return PlainTextResponse(f"unknown format {fmt!r}: csv, txt or jsonl", status_code=400)
    cat = request.query_params.get("category") or None
    body = await _run(lambda: LexiconService(ctx).export(fmt, cat))  # type: ignore[arg-type]
    await _run(lambda: _log(ctx, st, "lexicon_export", cat or "*", format=fmt))
    return Response(body, media_type="text/plain; charset=utf-8",
                    headers={"content-disposition": f'attachment; filename="lexicon.{fmt}"'})


@router.post("/lexicon/test")
async def lexicon_test(request: Request, st: Any_) -> HTMLResponse:
    form = await checked_form(request, st)
    text = field(form, "text")[:20000]
    direction = "output" if field(form, "direction") == "output" else "input"
    engine = _engine(request)
    decision = await _run(lambda: _moderate_now(engine, text, direction))
    marked = data.highlight(text, [f.to_dict() for f in decision.findings])
    return await _run(lambda: _lexicon_page(request, st, test={"text": text, "decision": decision, "html": marked,
                                                               "direction": direction}))


def _reload_live(engine: Any) -> None:
    """Publish the newest lexicon in this worker now (other workers see the version bump and follow)."""
    for d in getattr(engine, "detectors", []):
        if hasattr(d, "refresh_if_changed") and hasattr(d, "reload"):
            d.reload()


def _engine(request: Request) -> Any:
    return request.app.state.gateway.engine


def _moderate_now(engine: Any, text: str, direction: str) -> Any:
    """Moderate with the newest lexicon (the console may just have changed it)."""
    _reload_live(engine)
    return engine.moderate(text, direction)


# ---- users -----------------------------------------------------------------------------------------

@router.get("/users")
async def users(request: Request, st: UsersReader) -> HTMLResponse:
    q = request.query_params
    rows = await _run(lambda: data.users(_ctx(request), q.get("q") or None, q.get("only") or None))
    return _page(request, st, "users.html", rows=rows, search=q.get("q", ""), only=q.get("only", ""))


# ---- policy pack -----------------------------------------------------------------------------------

def _policy_values(ctx: HeguiContext) -> dict[str, Any]:
    return {"active": policy_mod.active_source(ctx), "operator_path": str(policy_mod.operator_path(ctx)),
            "uses_operator": policy_mod.uses_operator_pack(ctx), "history": policy_mod.history(ctx, 20),
            "pack": ctx.pack}


@router.get("/policy")
async def policy(request: Request, st: Any_) -> HTMLResponse:
    ctx = _ctx(request)
    text = await _run(policy_mod.current_text, ctx)
    values = await _run(_policy_values, ctx)
    return _page(request, st, "policy.html", text=text, diff=None, error=None, stage="view", ok=_flash(request),
                 can_edit=st.role in EDIT, **values)


@router.post("/policy/preview")
async def policy_preview(request: Request, st: Editor) -> HTMLResponse:
    form = await checked_form(request, st)
    ctx = _ctx(request)
    text = field(form, "text").replace("\r\n", "\n")
    old = await _run(policy_mod.current_text, ctx)
    values = await _run(_policy_values, ctx)
    try:
        await _run(policy_mod.validate, text)
    except HeguiError as err:
        return _page(request, st, "policy.html", status=400, text=text, diff=None, error=str(err), stage="edit",
                     ok=None, can_edit=True, **values)
    return _page(request, st, "policy.html", text=text, diff=policy_mod.diff(old, text), error=None, stage="preview",
                 ok=None, can_edit=True, **values)


@router.post("/policy/save")
async def policy_save(request: Request, st: Editor) -> Response:
    form = await checked_form(request, st)
    ctx = _ctx(request)
    text = field(form, "text").replace("\r\n", "\n")
    old = await _run(policy_mod.current_text, ctx)
    try:
        saved = await _run(policy_mod.save, ctx, text, st.id, field(form, "comment"))
    except HeguiError as err:
        values = await _run(_policy_values, ctx)
        return _page(request, st, "policy.html", status=400, text=text, diff=policy_mod.diff(old, text),
                     error=str(err), stage="preview", ok=None, can_edit=True, **values)
    changed = sum(1 for k, _ in policy_mod.diff(old, text) if k in ("add", "del"))
    await _run(lambda: _log(ctx, st, "policy_save", f"revision {saved.revision}",
                                        sha256=saved.sha256, lines_changed=changed, comment=field(form, "comment")))
    return _redirect("/console/policy?ok=saved")


# ---- cases queues ----------------------------------------------------------------------------------

def _queue(request: Request, st: Staff, queue: str) -> tuple[cases_mod.Queue | None, Any, HTMLResponse | None]:
    q = cases_mod.QUEUES.get(queue)
    if q is None:
        return None, None, _page(request, st, "error.html", status=404, title="Not found",
                                 message=f"no queue {queue!r}")
    svc = cases_mod.service(_ctx(request), queue)
    if svc is None:
        return q, None, _page(request, st, "slot.html", title=q.title)
    return q, svc, None


@router.get("/cases/{queue}")
async def case_queue(request: Request, queue: str, st: CaseReader) -> HTMLResponse:
    q, svc, refused = _queue(request, st, queue)
    if refused is not None or q is None:
        return refused  # type: ignore[return-value]
    status = request.query_params.get("status") or None
    if status is not None and status not in q.statuses:
        status = None
    try:
        items = await _run(lambda: [cases_mod.mask_user(i) for i in q.list_items(svc, status)])
    except HeguiError as err:
        return _page(request, st, "error.html", status=400, title="Error", message=str(err))
    return _page(request, st, "cases.html", q=q, items=items, state=status or "")


@router.get("/cases/{queue}/{ref}")
async def case_item(request: Request, queue: str, ref: str, st: CaseReader) -> HTMLResponse:
    q, svc, refused = _queue(request, st, queue)
    if refused is not None or q is None:
        return refused  # type: ignore[return-value]
    ctx = _ctx(request)
    full = st.role in CONTENT
    try:
        item = await _run(lambda: q.get_item(svc, ref, full))
    except HeguiError as err:
        return _page(request, st, "error.html", status=404, title="Not found", message=str(err))
    if full:
        await _run(lambda: _log(ctx, st, "view_case", f"{queue}:{ref}"))
    actions = [(a, a.choices(item) if a.choices else None) for a in q.actions if st.role in a.roles and a.applies(item)]
    return _page(request, st, "case_item.html", q=q, item=cases_mod.mask_user(item), ref=ref, full=full,
                 actions=actions, ok=_flash(request))


@router.post("/cases/{queue}/{ref}/{action}")
async def case_action(request: Request, queue: str, ref: str, action: str, st: CaseNoter) -> Response:
    form = await checked_form(request, st)
    q, svc, refused = _queue(request, st, queue)
    if refused is not None or q is None:
        return refused  # type: ignore[return-value]
    act = next((a for a in q.actions if a.name == action), None)
    if act is None:
        return _page(request, st, "error.html", status=404, title="Not found", message=f"no action {action!r}")
    if st.role not in act.roles:
        raise auth.RoleRefused(st, act.roles)
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    ctx = _ctx(request)
    try:
        await _run(lambda: act.run(svc, ref, values, st.username))
    except HeguiError as err:
        return _page(request, st, "error.html", status=400, title="Error", message=str(err))
    await _run(lambda: _log(ctx, st, f"case_{action}", f"{queue}:{ref}",
                                        **{k: v for k, v in values.items() if k in ("status", "assignee")}))
    return _redirect(f"/console/cases/{queue}/{quote(ref)}?ok={quote(values.get('status') or act.label)}")


# ---- audit log, staff activity, staff ----------------------------------------------------------------

@router.get("/audit")
async def audit_page(request: Request, st: Auditing) -> HTMLResponse:
    ctx = _ctx(request)
    stats = await _run(audit_log.stats, ctx.db)
    verify = None
    if request.query_params.get("verify"):
        verify = await _run(audit_log.verify, ctx.db)
        await _run(lambda: _log(ctx, st, "audit_verify", "", ok=verify.ok if verify else None))
    return _page(request, st, "audit.html", stats=stats, verify=verify, can_export=st.role in EXPORT)


@router.get("/audit/export")
async def audit_export(request: Request, st: Exporter) -> Response:
    """Audit-log metadata as JSONL (content stays sealed: the export is for chain checks and statistics)."""
    ctx = _ctx(request)
    rows = await _run(lambda: list(audit_log.export(ctx.db, None, None, None, False)))
    await _run(lambda: _log(ctx, st, "audit_export", "", records=len(rows)))
    body = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in rows)
    return Response(body, media_type="application/x-ndjson",
                    headers={"content-disposition": 'attachment; filename="hegui-audit.jsonl"'})


@router.get("/activity")
async def activity(request: Request, st: Auditing) -> HTMLResponse:
    q = request.query_params
    page = int(q["page"]) if q.get("page", "").isdigit() and int(q["page"]) > 0 else 1
    rows, total = await _run(lambda: staff_mod.events(_ctx(request).db, q.get("action") or None, None, PAGE,
                                                      (page - 1) * PAGE))
    return _page(request, st, "activity.html", rows=rows, total=total, page=page,
                 pages=max(math.ceil(total / PAGE), 1), action=q.get("action", ""), can_export=st.role in EXPORT)


@router.get("/activity/export")
async def activity_export(request: Request, st: Exporter) -> StreamingResponse:
    ctx = _ctx(request)
    rows, _ = await _run(lambda: staff_mod.events(ctx.db, None, None, 1_000_000, 0))
    await _run(lambda: _log(ctx, st, "activity_export", "", events=len(rows)))

    async def lines() -> Any:
        for e in rows:
            d = asdict(e)
            d["ts"] = e.ts.isoformat()
            yield (json.dumps(d, ensure_ascii=False) + "\n").encode("utf-8")

    return StreamingResponse(lines(), media_type="application/x-ndjson",
                             headers={"content-disposition": 'attachment; filename="console-activity.jsonl"'})


@router.get("/staff")
async def staff_list(request: Request, st: Admin) -> HTMLResponse:
    return await _staff_page(request, st)


async def _staff_page(request: Request, st: Staff, status: int = 200, error: str | None = None) -> HTMLResponse:
    rows = await _run(staff_mod.list_staff, _ctx(request).db)
    return _page(request, st, "staff.html", status=status, rows=rows, roles=staff_mod.STAFF_ROLES, error=error,
                 ok=_flash(request))


@router.post("/staff")
async def staff_create(request: Request, st: Admin) -> Response:
    form = await checked_form(request, st)
    ctx = _ctx(request)
    username, role = field(form, "username").strip(), field(form, "role")
    try:
        await _run(lambda: staff_mod.create_staff(ctx.db, username, role, field(form, "password"),
                                                  field(form, "display_name") or None))
    except HeguiError as err:
        return await _staff_page(request, st, 400, str(err))
    await _run(lambda: _log(ctx, st, "staff_create", username, role=role))
    return _redirect(f"/console/staff?ok={quote(username)}")


@router.post("/staff/{username}/status")
async def staff_status(request: Request, username: str, st: Admin) -> Response:
    form = await checked_form(request, st)
    ctx = _ctx(request)
    status = field(form, "status")
    if username == st.username and status != "active":
        return await _staff_page(request, st, 400, "you cannot disable your own account")
    try:
        await _run(staff_mod.set_status, ctx.db, username, status)
    except HeguiError as err:
        return await _staff_page(request, st, 400, str(err))
    await _run(lambda: _log(ctx, st, "staff_status", username, status=status))
    return _redirect(f"/console/staff?ok={quote(username)}")


# ---- public pages ----------------------------------------------------------------------------------

def _public(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    tok = auth.form_token(request)
    resp = _page(request, None, template, status=status, form_csrf=tok, public=True, **values)
    _set_form_cookie(request, resp, tok)
    return resp


def _process(ctx: HeguiContext) -> dict[str, Any] | None:
    svc = cases_mod.service(ctx, "complaints")
    return svc.policy() if svc is not None else None


@router.get("/public")
async def public_home(request: Request) -> HTMLResponse:
    ctx = _ctx(request)
    return _public(request, "public_home.html", complaints=cases_mod.service(ctx, "complaints") is not None)


@router.get("/public/process")
async def public_process(request: Request) -> HTMLResponse:
    return _public(request, "public_process.html", process=await _run(_process, _ctx(request)))


@router.get("/public/complaint")
async def public_complaint_form(request: Request) -> HTMLResponse:
    ctx = _ctx(request)
    svc = cases_mod.service(ctx, "complaints")
    cats = dict(svc.policy()["categories"]) if svc is not None else {}
    return _public(request, "public_complaint.html", available=svc is not None, categories=cats, ack=None,
                   error=None)


@router.post("/public/complaint")
async def public_complaint(request: Request) -> HTMLResponse:
    form = await public_form(request)
    ctx = _ctx(request)
    svc = cases_mod.service(ctx, "complaints")
    if svc is None:
        return _public(request, "public_complaint.html", status=404, available=False, categories={}, ack=None,
                       error=None)
    cats = dict(svc.policy()["categories"])
    ids = [x.strip() for x in field(form, "record_ids").replace(",", " ").split() if x.strip()]
    try:
        ack = await _run(lambda: svc.file(field(form, "category"), field(form, "description"),
                                          field(form, "contact") or None, ids))
    except HeguiError as err:
        return _public(request, "public_complaint.html", status=400, available=True, categories=cats, ack=None,
                       error=str(err))
    return _public(request, "public_complaint.html", available=True, categories=cats, ack=ack, error=None)


@router.get("/public/status")
async def public_status(request: Request) -> HTMLResponse:
    ctx = _ctx(request)
    svc = cases_mod.service(ctx, "complaints")
    ticket = request.query_params.get("ticket", "").strip()
    result, error = None, None
    if svc is not None and ticket:
        try:
            result = await _run(svc.status_for_ticket, ticket)
        except HeguiError as err:
            error = str(err)
    return _public(request, "public_status.html", available=svc is not None, ticket=ticket, result=result,
                   error=error)


@router.get("/public/training")
async def public_training(request: Request) -> HTMLResponse:
    return _public(request, "public_training.html", done=None, error=None)


@router.post("/public/training")
async def public_training_set(request: Request) -> HTMLResponse:
    form = await public_form(request)
    ctx = _ctx(request)
    on = field(form, "choice") == "on"
    try:
        await _run(optout.set_training_use, ctx, field(form, "api_key"), on)
    except HeguiError as err:
        return _public(request, "public_training.html", status=400, done=None, error=str(err))
    return _public(request, "public_training.html", done="on" if on else "off", error=None)
