"""What every case kind shares: the injectable clock, ids, deadlines (calendar and working days), notes."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from hegui.privacy.crypto import KeyRing
from hegui.store.models.cases import CaseNote
from hegui.usage.clock import Clock, utc_now

__all__ = ["Clock", "add_working_days", "aware", "iso", "new_id", "note", "open_text", "seal_text", "utc_now"]


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


def aware(ts: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def iso(ts: datetime | None) -> str | None:
    return None if ts is None else aware(ts).astimezone(UTC).isoformat().replace("+00:00", "Z")


def add_working_days(start: datetime, days: int) -> datetime:
    """``start`` plus ``days`` working days (Monday–Friday); the time of day is kept.

    Public holidays are not known to hegui; an operator who needs them shortens the pack figure.
    """
    t = start
    left = days
    while left > 0:
        t += timedelta(days=1)
        if t.weekday() < 5:
            left -= 1
    return t


def seal_text(keys: KeyRing, value: str | None, purpose: str) -> str | None:
    """Free text that may hold personal data, sealed; ``purpose`` binds it to its column."""
    return None if value is None else keys.encrypt(value, associated=purpose.encode("utf-8"))


def open_text(keys: KeyRing, sealed: str | None, purpose: str) -> str | None:
    return None if sealed is None else keys.decrypt(sealed, associated=purpose.encode("utf-8"))


def note(s: Session, keys: KeyRing, case_id: str, author: str, kind: str, text: str | None, now: datetime) -> None:
    """Append one history entry to a case (text sealed)."""
    s.add(CaseNote(case_id=case_id, ts=now, author=author, kind=kind,
                   text=seal_text(keys, text, f"note:{case_id}")))


def notes(s: Session, keys: KeyRing, case_id: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    rows = s.scalars(select(CaseNote).where(CaseNote.case_id == case_id).order_by(CaseNote.id)).all()
    return [{"ts": iso(n.ts), "author": n.author, "kind": n.kind,
             "text": open_text(keys, n.text, f"note:{case_id}") if n.text is not None else None} for n in rows]


def rowcount(result: object) -> int:
    """Rows an UPDATE/DELETE touched (typed access to ``CursorResult.rowcount``)."""
    return int(getattr(result, "rowcount", 0) or 0)


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
