"""Incidents of illegal content (Measures Art 14): opened from refused exchanges, worked, reported.

``after_refusal`` is the gateway's hook: a refused exchange whose worst finding reaches the pack's
``sanctions.incident_min_severity`` opens an incident, and a refused *input* counts toward the
user's sanctions ladder. ``take_down`` marks an audit record (and deletes its sealed content; the
hash chain still verifies). ``confirm`` turns an incident into rectification follow-ups.
``report`` gathers what a regulator report needs, exported as JSON, CSV or DOCX.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select, update

from hegui.cases.common import Clock, iso, new_id, utc_now
from hegui.cases.rectification import KINDS, RectificationService
from hegui.cases.sanctions import SanctionService
from hegui.errors import InvalidInputError, NotFoundError
from hegui.store.models.audit import AuditRecord
from hegui.store.models.cases import Incident, RectificationItem, Sanction, TakeDown

if TYPE_CHECKING:
    from hegui.context import HeguiContext

log = logging.getLogger("hegui.cases")
STATUSES = ("open", "confirmed", "dismissed", "reported", "closed")
ReportFormat = Literal["json", "csv", "docx"]


@dataclass
class RefusedExchange:
    """What the gateway knows about a refused exchange when its audit record is committed."""

    record_id: str
    user_id: str | None
    categories: list[str]
    severity: int
    input_refused: bool
    direction: str = "input"
    extra: dict[str, Any] = field(default_factory=dict)


def worst_severity(*decisions: dict[str, Any] | None) -> int:
    """Highest finding severity in decision dicts (``Decision.to_dict()``); 0 when none."""
    sev = 0
    for d in decisions:
        for f in (d or {}).get("findings") or []:
            try:
                sev = max(sev, int(f.get("severity") or 0))
            except (TypeError, ValueError):
                continue
    return sev


def after_refusal(ctx: HeguiContext, ex: RefusedExchange, clock: Clock = utc_now) -> dict[str, Any]:
    """The gateway hook (runs off the event loop after the audit record is committed)."""
    out: dict[str, Any] = {}
    if ex.severity >= ctx.pack.sanctions.incident_min_severity:
        out["incident"] = IncidentService(ctx, clock).open(
            f"refused {ex.direction} ({', '.join(ex.categories) or 'policy'})", ex.severity, source="exchange",
            record_id=ex.record_id, user_id=ex.user_id, categories=ex.categories)["id"]
    if ex.input_refused and ex.user_id:
        applied = SanctionService(ctx, clock).record_violation(ex.user_id, ex.record_id, ex.categories)
        if applied:
            out["sanction"] = applied
            log.warning("sanction %s applied to user %s: %s", applied["step"], ex.user_id, applied["reason"])
    return out


class IncidentService:
    def __init__(self, ctx: HeguiContext, clock: Clock = utc_now) -> None:
        self.ctx, self.clock = ctx, clock

    def _find(self, s: Any, incident_id: str) -> Incident:
        inc = s.get(Incident, incident_id)
        if inc is None:
            raise NotFoundError(f"no incident {incident_id!r}")
        assert isinstance(inc, Incident)
        return inc

    @staticmethod
    def _view(i: Incident) -> dict[str, Any]:
        return {"id": i.id, "opened_at": iso(i.opened_at), "source": i.source, "severity": i.severity,
                "status": i.status, "record_id": i.record_id, "user_id": i.user_id,
                "categories": [c for c in i.categories.split(",") if c], "summary": i.summary,
                "confirmed_at": iso(i.confirmed_at), "closed_at": iso(i.closed_at)}

    def open(self, summary: str, severity: int, source: str = "manual", record_id: str | None = None,
             user_id: str | None = None, categories: list[str] | None = None) -> dict[str, Any]:
        if not 1 <= severity <= 3:
            raise InvalidInputError("severity: expected 1, 2 or 3")
        if not summary.strip():
            raise InvalidInputError("summary: must not be empty")
        with self.ctx.db.session() as s:
            if record_id is not None and source != "exchange":
                row = s.execute(select(AuditRecord.user_id).where(AuditRecord.record_id == record_id)).first()
                if row is None:
                    raise InvalidInputError(f"record_id: no audit record {record_id!r}")
                user_id = user_id or row.user_id
            inc = Incident(id=new_id("inc"), opened_at=self.clock(), source=source[:16], severity=severity,
                           status="open", record_id=record_id, user_id=user_id,
                           categories=",".join(sorted(set(categories or [])))[:400], summary=summary.strip()[:4000])
            s.add(inc)
            return self._view(inc)

    def get(self, incident_id: str) -> dict[str, Any]:
        with self.ctx.db.session() as s:
            return self._view(self._find(s, incident_id))

    def search(self, status: str | None = None) -> list[dict[str, Any]]:
        stmt = select(Incident).order_by(Incident.opened_at.desc())
        if status:
            if status not in STATUSES:
                raise InvalidInputError(f"status: expected one of {', '.join(STATUSES)}, got {status!r}")
            stmt = stmt.where(Incident.status == status)
        with self.ctx.db.session() as s:
            return [self._view(i) for i in s.scalars(stmt)]

    def set_status(self, incident_id: str, status: str) -> dict[str, Any]:
        if status not in STATUSES:
            raise InvalidInputError(f"status: expected one of {', '.join(STATUSES)}, got {status!r}")
        with self.ctx.db.session() as s:
            inc = self._find(s, incident_id)
            inc.status = status
            if status == "closed":
                inc.closed_at = self.clock()
            return self._view(inc)

    def confirm(self, incident_id: str, follow_ups: list[str] | None = None,
                description: str | None = None) -> dict[str, Any]:
        """A confirmed violation: one rectification item per follow-up kind (default: all four)."""
        kinds = follow_ups or list(KINDS)
        bad = [k for k in kinds if k not in KINDS]
        if bad:
            raise InvalidInputError(f"follow-up {bad[0]!r}: expected one of {', '.join(KINDS)}")
        rect = RectificationService(self.ctx, self.clock)
        with self.ctx.db.session() as s:
            inc = self._find(s, incident_id)
            if inc.status not in ("open", "confirmed"):
                raise InvalidInputError(f"incident {incident_id} is {inc.status}; only open incidents can be confirmed")
            inc.status, inc.confirmed_at = "confirmed", self.clock()
            what = description or inc.summary
            for k in dict.fromkeys(kinds):
                rect.create_in(s, inc.id, k, f"{KINDS[k]}: {what}")
            return self._view(inc)

    def take_down(self, record_id: str, reason: str, by: str, incident_id: str | None = None) -> dict[str, Any]:
        """Mark an audit record as taken down and delete its sealed content (the chain stays verifiable)."""
        if not reason.strip():
            raise InvalidInputError("reason: a take-down needs a reason")
        now = self.clock()
        with self.ctx.db.session() as s:
            if s.scalars(select(AuditRecord.seq).where(AuditRecord.record_id == record_id)).first() is None:
                raise NotFoundError(f"no audit record {record_id!r}")
            if incident_id is not None:
                self._find(s, incident_id)
            if s.get(TakeDown, record_id) is None:
                s.add(TakeDown(record_id=record_id, incident_id=incident_id, ts=now, by=by[:40], reason=reason[:400]))
            s.execute(update(AuditRecord).where(AuditRecord.record_id == record_id,
                                                AuditRecord.content.is_not(None))
                      .values(content=None, content_purged_at=now))
        return {"record_id": record_id, "taken_down_at": iso(now), "incident_id": incident_id}

    # regulator report ------------------------------------------------------------------------------
    def report(self, incident_id: str) -> dict[str, Any]:
        with self.ctx.db.session() as s:
            inc = self._find(s, incident_id)
            rec = None
            if inc.record_id:
                r = s.scalars(select(AuditRecord).where(AuditRecord.record_id == inc.record_id)).first()
                if r is not None:
                    rec = {"record_id": r.record_id, "seq": r.seq, "ts": iso(r.ts), "endpoint": r.endpoint,
                           "model": r.model, "decision": r.decision, "categories": r.categories,
                           "status_code": r.status_code, "record_hash": r.record_hash,
                           "content_removed": r.content is None}
            tds = [{"record_id": t.record_id, "ts": iso(t.ts), "by": t.by, "reason": t.reason}
                   for t in s.scalars(select(TakeDown).where(TakeDown.incident_id == inc.id))]
            sanctions = [{"id": x.id, "step": x.step, "reason": x.reason, "created_at": iso(x.created_at),
                          "until": iso(x.until), "lifted_at": iso(x.lifted_at)}
                         for x in s.scalars(select(Sanction).where(Sanction.user_id == inc.user_id)
                                            .order_by(Sanction.id))] if inc.user_id else []
            rect = [{"id": x.id, "kind": x.kind, "status": x.status, "due_at": iso(x.due_at),
                     "done_at": iso(x.done_at)}
                    for x in s.scalars(select(RectificationItem).where(RectificationItem.incident_id == inc.id)
                                       .order_by(RectificationItem.id))]
            provider = self.ctx.settings.provider
            return {"report": "illegal-content incident report (违法内容处置报告)", "generated_at": iso(self.clock()),
                    "provider": provider.name, "service": provider.service_name, "incident": self._view(inc),
                    "audit_record": rec, "takedowns": tds, "user_sanctions": sanctions, "rectification": rect,
                    "clause": "Interim Measures Art 14"}

    def export(self, incident_id: str, fmt: ReportFormat) -> bytes:
        rep = self.report(incident_id)
        if fmt == "json":
            import json

            return json.dumps(rep, ensure_ascii=False, indent=2).encode("utf-8")
        rows = _flat_rows(rep)
        if fmt == "csv":
            buf = io.StringIO()
            w = csv.writer(buf)
            w.writerow(["section", "field", "value"])
            w.writerows(rows)
            return buf.getvalue().encode("utf-8")
        if fmt == "docx":
            return _docx(rep, rows)
        raise InvalidInputError(f"format: expected json, csv or docx, got {fmt!r}")


def _flat_rows(rep: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = [("report", "generated_at", str(rep["generated_at"])),
                                        ("report", "provider", str(rep["provider"] or "(not configured)")),
                                        ("report", "service", str(rep["service"] or "(not configured)"))]
    rows += [("incident", k, str(v)) for k, v in rep["incident"].items()]
    if rep["audit_record"]:
        rows += [("audit_record", k, str(v)) for k, v in rep["audit_record"].items()]
    for section in ("takedowns", "user_sanctions", "rectification"):
        for i, item in enumerate(rep[section], 1):
            rows += [(f"{section}[{i}]", k, str(v)) for k, v in item.items()]
    return rows


def _docx(rep: dict[str, Any], rows: list[tuple[str, str, str]]) -> bytes:
    from docx import Document

    doc = Document()
    doc.add_heading("违法内容处置报告 / Illegal-content incident report", level=1)
    doc.add_paragraph(f"Incident {rep['incident']['id']} — {rep['incident']['summary']}")
    table = doc.add_table(rows=1, cols=3)
    hdr = table.rows[0].cells
    hdr[0].text, hdr[1].text, hdr[2].text = "Section", "Field", "Value"
    for sec, k, v in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text, cells[2].text = sec, k, v
    doc.add_paragraph(f"Legal basis: {rep['clause']}")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
