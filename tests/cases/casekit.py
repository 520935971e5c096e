"""Helpers for the cases and privacy tests: audit records for a user, a manual clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from hegui.audit import log as audit_log
from hegui.audit.log import Exchange
from hegui.context import HeguiContext
from hegui.identity import accounts
from hegui.usage.clock import ManualClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 17:00 in Shanghai


def clock(at: datetime = T0) -> ManualClock:
    return ManualClock(at)


def new_user(ctx: HeguiContext, name: str = "张三") -> str:
    return accounts.create_user(ctx.db, name).user_id


def record(ctx: HeguiContext, user_id: str | None, decision: str = "allow", ts: datetime = T0,
           text: str = "你好", endpoint: str = "chat.completions") -> str:
    """Append one exchange for ``user_id`` to the audit chain; returns its record id."""
    rid = str(uuid.uuid4())
    audit_log.append(ctx.db, ctx.keys, [Exchange(
        record_id=rid, ts=ts, endpoint=endpoint, status_code=200, decision=decision, user_id=user_id,
        categories=["A1.4"] if decision == "refuse" else [],
        content={"request": [{"role": "user", "content": text}], "answer": "好的"})])
    return rid
