"""What the console pages show, read from the real tables: traffic, flagged exchanges, users, runs.

Aggregations run in Python over a bounded window (the dashboard's 14 days, the last N flagged
records) so that the same code works on SQLite and PostgreSQL; the window bounds the cost.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape
from sqlalchemy import func, select

from hegui.audit.log import open_content
from hegui.context import HeguiContext
from hegui.detect.pii.masking import partial_mask
from hegui.errors import NotFoundError
from hegui.store.models.assess import AssessmentRun
from hegui.store.models.audit import AuditRecord
from hegui.store.models.cases import Sanction
from hegui.store.models.console import ConsoleReview, ConsoleStaff
from hegui.store.models.corpus import CorpusAudit
from hegui.store.models.identity import User
from hegui.store.models.usage import UsageDaily
from hegui.store.models.verification import IdentityProfile

TOP_LEVEL = ("A1", "A2", "A3", "A4", "A5", "J")
BLOCKING = ("refuse", "block")
STAFF_ENDPOINT = "console"  # staff actions chained into the audit log; not traffic
TERM_SAMPLE = 500  # flagged records whose findings feed "top triggered terms"


def aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def top_level(code: str) -> str:
    head = code.split(".", 1)[0]
    return head if head in TOP_LEVEL else "other"


@dataclass
class Dashboard:
    days: list[str]
    traffic: list[int]
    flagged_by_cat: dict[str, list[int]]
    decisions: dict[str, int]
    refusals: int
    total: int
    top_terms: list[tuple[str, int]]
    last_corpus: dict[str, Any] | None
    last_assessment: dict[str, Any] | None
    unreviewed: int
    categories: list[tuple[str, int]] = field(default_factory=list)


def dashboard(ctx: HeguiContext, days: int = 14, today: date | None = None) -> Dashboard:
    tz = ZoneInfo(ctx.pack.minors.timezone)
    today = today or datetime.now(tz).date()
    first = today - timedelta(days=days - 1)
    labels = [(first + timedelta(days=i)).isoformat() for i in range(days)]
    since = datetime(first.year, first.month, first.day, tzinfo=tz).astimezone(UTC)
    traffic = [0] * days
    by_cat: dict[str, list[int]] = {c: [0] * days for c in TOP_LEVEL}
    decisions: Counter[str] = Counter()
    cats: Counter[str] = Counter()
    t = AuditRecord
    with ctx.db.engine.connect() as conn:
        # one indexed range query per local day, grouped in SQL: the cost follows the number of
        # distinct (decision, categories) pairs, not the number of exchanges
        for i in range(days):
            day = first + timedelta(days=i)
            lo = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)
            hi = lo + timedelta(days=1)
            rows = conn.execute(select(t.decision, t.categories, func.count())
                                .where(t.ts >= lo, t.ts < hi, t.endpoint != STAFF_ENDPOINT)
                                .group_by(t.decision, t.categories))
            for decision, categories, n in rows:
                traffic[i] += n
                decisions[decision] += n
                if decision != "allow" and categories:
                    codes = [c for c in categories.split(",") if c]
                    for c in codes:
                        cats[c] += n
                    for top in {top_level(c) for c in codes}:
                        by_cat.setdefault(top, [0] * days)[i] += n
        reviewed = select(ConsoleReview.record_id)
        unreviewed = int(conn.execute(select(func.count()).select_from(t).where(
            t.decision != "allow", t.ts >= since, t.record_id.not_in(reviewed))).scalar() or 0)
    return Dashboard(labels, traffic, {k: v for k, v in by_cat.items() if any(v)}, dict(decisions),
                     sum(decisions[d] for d in BLOCKING), sum(traffic), top_terms(ctx, since),
                     last_corpus_audit(ctx), last_assessment(ctx), unreviewed, cats.most_common(8))


def top_terms(ctx: HeguiContext, since: datetime, limit: int = 10) -> list[tuple[str, int]]:
    """Lexicon terms behind the last ``TERM_SAMPLE`` flagged exchanges (the content is opened in
    memory only to read the decisions' findings; no text leaves this function)."""
    t = AuditRecord
    terms: Counter[str] = Counter()
    with ctx.db.engine.connect() as conn:
        rows = conn.execute(select(t.record_id, t.content).where(
            t.ts >= since, t.decision != "allow", t.content.is_not(None)).order_by(t.seq.desc()).limit(TERM_SAMPLE))
        for record_id, sealed in rows:
            if sealed is None:
                continue
            try:
                content = open_content(ctx.keys, record_id, sealed)
            except Exception:  # a record sealed with a retired key: skip it, the count is a sample
                continue
            for key in ("input_decision", "output_decision"):
                dec = content.get(key) or {}
                for f in dec.get("findings") or []:
                    if f.get("detector") == "lexicon" and f.get("match"):
                        terms[str(f["match"])] += 1
    return terms.most_common(limit)


def last_corpus_audit(ctx: HeguiContext) -> dict[str, Any] | None:
    with ctx.db.session() as s:
        a = s.scalar(select(CorpusAudit).order_by(CorpusAudit.created_at.desc()).limit(1))
        if a is None:
            return None
        report = a.report or {}
        return {"id": a.id, "status": a.status, "items": a.items, "unsafe": a.unsafe,
                "finished_at": a.finished_at, "passed": report.get("passed"),
                "ratio": (a.unsafe / a.items) if a.items else None}


def last_assessment(ctx: HeguiContext) -> dict[str, Any] | None:
    with ctx.db.session() as s:
        r = s.scalar(select(AssessmentRun).order_by(AssessmentRun.scored_at.desc()).limit(1))
        if r is None:
            return None
        failed = [c for c in (r.checks or []) if isinstance(c, dict) and c.get("passed") is False]
        return {"run_id": r.run_id, "model": r.model, "passed": r.passed, "scored_at": r.scored_at,
                "answered": r.answered, "failed_checks": len(failed), "checks": len(r.checks or [])}


# ---- review queue ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FlaggedRow:
    seq: int
    record_id: str
    ts: datetime
    user: str
    endpoint: str
    decision: str
    categories: list[str]
    verdict: str | None


def flagged(ctx: HeguiContext, *, decision: str | None = None, category: str | None = None,
            status: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[FlaggedRow], int]:
    """Exchanges the engine did not simply allow, newest first, with the latest review verdict."""
    t = AuditRecord
    q = select(t.seq, t.record_id, t.ts, t.user_id, t.endpoint, t.decision, t.categories).where(t.decision != "allow")
    if decision:
        q = q.where(t.decision == decision)
    if category:
        q = q.where(t.categories.contains(category, autoescape=True))
    reviewed = select(ConsoleReview.record_id)
    if status == "open":
        q = q.where(t.record_id.not_in(reviewed))
    elif status == "reviewed":
        q = q.where(t.record_id.in_(reviewed))
    total_q = select(func.count()).select_from(q.subquery())
    with ctx.db.session() as s:
        total = int(s.scalar(total_q) or 0)
        rows = s.execute(q.order_by(t.seq.desc()).limit(limit).offset(offset)).all()
        ids = [r.record_id for r in rows]
        verdicts: dict[str, str] = {}
        for rid, verdict in s.execute(select(ConsoleReview.record_id, ConsoleReview.verdict)
                                      .where(ConsoleReview.record_id.in_(ids)).order_by(ConsoleReview.id)):
            verdicts[rid] = verdict
    out = [FlaggedRow(r.seq, r.record_id, aware(r.ts), mask_id(r.user_id), r.endpoint, r.decision,
                      [c for c in r.categories.split(",") if c], verdicts.get(r.record_id)) for r in rows]
    return out, total


def mask_id(user_id: str | None) -> str:
    """User ids are pseudonymous already; the console still shows only enough to tell them apart."""
    if not user_id:
        return "—"
    return user_id[:6] + "…" + user_id[-4:] if len(user_id) > 12 else user_id


def record_meta(ctx: HeguiContext, record_id: str) -> dict[str, Any]:
    t = AuditRecord
    with ctx.db.engine.connect() as conn:
        r = conn.execute(select(t).where(t.record_id == record_id)).first()
    if r is None:
        raise NotFoundError(f"no audit record {record_id!r}")
    m = dict(r._mapping)
    m["ts"] = aware(m["ts"])
    m["categories"] = [c for c in m["categories"].split(",") if c]
    m["user_masked"] = mask_id(m["user_id"])
    return m


def record_content(ctx: HeguiContext, meta: dict[str, Any]) -> dict[str, Any] | None:
    """The decrypted request/answer/decisions of one record (None after a retention purge)."""
    if meta.get("content") is None:
        return None
    return open_content(ctx.keys, meta["record_id"], meta["content"])


def reviews(ctx: HeguiContext, record_id: str) -> list[dict[str, Any]]:
    with ctx.db.session() as s:
        rows = s.execute(select(ConsoleReview, ConsoleStaff.username)
                         .outerjoin(ConsoleStaff, ConsoleStaff.id == ConsoleReview.staff_id)
                         .where(ConsoleReview.record_id == record_id).order_by(ConsoleReview.id)).all()
        out = []
        for rv, name in rows:
            note = ctx.keys.decrypt(rv.note_sealed, associated=f"review:{record_id}".encode()) if rv.note_sealed else ""
            out.append({"ts": aware(rv.ts), "staff": name or rv.staff_id, "verdict": rv.verdict, "note": note})
        return out


VERDICTS = ("confirmed", "false_positive", "escalated")


def add_review(ctx: HeguiContext, record_id: str, staff_id: str, verdict: str, note: str) -> None:
    from hegui.errors import InvalidInputError

    if verdict not in VERDICTS:
        raise InvalidInputError(f"verdict must be one of {', '.join(VERDICTS)}")
    record_meta(ctx, record_id)
    sealed = ctx.keys.encrypt(note.strip()[:4000], associated=f"review:{record_id}".encode()) if note.strip() else None
    with ctx.db.session() as s:
        s.add(ConsoleReview(record_id=record_id, ts=datetime.now(UTC), staff_id=staff_id, verdict=verdict,
                            note_sealed=sealed))


def highlight(text: str, findings: list[dict[str, Any]]) -> Markup:
    """``text`` with each finding's [start, end) wrapped in <mark>, overlapping spans merged."""
    spans = sorted((int(f["start"]), int(f["end"]), f) for f in findings
                   if 0 <= int(f.get("start", -1)) < int(f.get("end", -1)) <= len(text))
    out: list[str] = []
    pos = 0
    for start, end, f in spans:
        if start < pos:
            continue
        out.append(str(escape(text[pos:start])))
        tip = f"{f.get('detector')}: {f.get('category') or f.get('type')} ({f.get('rule') or ''})"
        cls = "hit-pii" if f.get("detector") == "pii" else "hit"
        out.append(f'<mark class="{cls}" title="{escape(tip)}">{escape(text[start:end])}</mark>')
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def messages_of(request: Any) -> list[dict[str, Any]]:
    """Messages of a stored request body (chat) or its single input (moderations, completions)."""
    if isinstance(request, dict):
        if isinstance(request.get("messages"), list):
            return [m for m in request["messages"] if isinstance(m, dict)]
        inp = request.get("input", request.get("prompt"))
        if isinstance(inp, str):
            return [{"role": "user", "content": inp}]
        if isinstance(inp, list):
            return [{"role": "user", "content": x} for x in inp if isinstance(x, str)]
    if isinstance(request, str):
        return [{"role": "user", "content": request}]
    if isinstance(request, list):  # /v1/moderations keeps its list of inputs
        return [{"role": "user", "content": x} for x in request if isinstance(x, str)]
    return []


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return json.dumps(content, ensure_ascii=False) if content is not None else ""


# ---- users -----------------------------------------------------------------------------------------

@dataclass
class UserRow:
    id: str
    masked_id: str
    name: str
    role: str
    status: str
    created_at: datetime
    verification: str
    age: int | None
    minor: bool
    minutes_today: float
    minutes_week: float
    sanctions: list[dict[str, Any]]


def mask_name(name: str) -> str:
    return partial_mask("cn_name", name) if name else ""


def _age(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def users(ctx: HeguiContext, search: str | None = None, only: str | None = None, limit: int = 200) -> list[UserRow]:
    """Users with verification state, minors' usage and sanctions; names masked."""
    tz = ZoneInfo(ctx.pack.minors.timezone)
    today = datetime.now(tz).date()
    week = [(today - timedelta(days=i)).isoformat() for i in range(7)]
    adult = ctx.pack.minors.adult_age
    q = select(User).order_by(User.created_at.desc(), User.id).limit(limit)
    if search:
        q = q.where(User.id.contains(search.strip(), autoescape=True))
    with ctx.db.session() as s:
        us = list(s.scalars(q))
        ids = [u.id for u in us]
        profiles = {p.user_id: p for p in s.scalars(select(IdentityProfile).where(IdentityProfile.user_id.in_(ids)))}
        usage: dict[str, dict[str, float]] = defaultdict(dict)
        for uid, day, secs in s.execute(select(UsageDaily.user_id, UsageDaily.day, UsageDaily.seconds)
                                        .where(UsageDaily.user_id.in_(ids), UsageDaily.day.in_(week))):
            usage[uid][day] = float(secs)
        sanctions: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for sn in s.scalars(select(Sanction).where(Sanction.user_id.in_(ids)).order_by(Sanction.created_at)):
            sanctions[sn.user_id].append({"step": sn.step, "reason": sn.reason, "at": aware(sn.created_at),
                                          "until": sn.until, "lifted": sn.lifted_at is not None})
    rows = []
    for u in us:
        p = profiles.get(u.id)
        age = _age(p.birth_date if p else None, today)
        minor = age is not None and age < adult
        row = UserRow(u.id, mask_id(u.id), mask_name(u.name), u.role, u.status, aware(u.created_at),
                      p.state if p else "unverified", age, minor, usage[u.id].get(today.isoformat(), 0.0) / 60,
                      sum(usage[u.id].values()) / 60, sanctions[u.id])
        if only == "minors" and not row.minor:
            continue
        if only == "sanctioned" and not row.sanctions:
            continue
        if only == "unverified" and row.verification == "verified":
            continue
        rows.append(row)
    return rows
