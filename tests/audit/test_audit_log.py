"""The hash-chained audit log: append, verify (tampering of every kind), export, purge."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, text, update

from hegui.audit import log as audit_log
from hegui.audit.log import Exchange
from hegui.context import HeguiContext
from hegui.privacy.crypto import DecryptionError, KeyRing, generate_key
from hegui.store.models.audit import AuditChainHead, AuditRecord


def ex(i: int = 0, ts: datetime | None = None, **kw: object) -> Exchange:
    base: dict[str, object] = dict(
        record_id=str(uuid.uuid4()), ts=ts or datetime.now(UTC), endpoint="chat.completions", status_code=200,
        decision="allow", user_id="u_1", key_id="k1", client_ip="127.0.0.1", client_port=5000 + i,
        model="m", categories=["A1.4"] if i % 2 else [],
        content={"request": [{"role": "user", "content": f"问题{i}"}], "answer": f"回答{i}"})
    base.update(kw)
    return Exchange(**base)  # type: ignore[arg-type]


def test_appended_chain_verifies(ctx: HeguiContext) -> None:
    seqs = audit_log.append(ctx.db, ctx.keys, [ex(i) for i in range(5)])
    seqs += audit_log.append(ctx.db, ctx.keys, [ex(9)])
    assert seqs == [1, 2, 3, 4, 5, 6]
    res = audit_log.verify(ctx.db)
    assert res.ok and res.records == 6 and res.last_seq == 6, res.problems


def test_empty_log_verifies(ctx: HeguiContext) -> None:
    res = audit_log.verify(ctx.db)
    assert res.ok and res.records == 0


def test_modified_record_is_detected(ctx: HeguiContext) -> None:
    audit_log.append(ctx.db, ctx.keys, [ex(i) for i in range(4)])
    with ctx.db.engine.begin() as c:
        c.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(decision="refuse"))
    res = audit_log.verify(ctx.db)
    assert not res.ok and any("seq 2" in p and "modified" in p for p in res.problems)


def test_rehashed_modified_record_breaks_the_next_link(ctx: HeguiContext) -> None:
    """An attacker who recomputes the changed record's own hash still breaks the chain after it."""
    audit_log.append(ctx.db, ctx.keys, [ex(i) for i in range(4)])
    rows = list(audit_log.export(ctx.db, None))
    forged = dict(rows[1], decision="block")
    forged["categories"] = ",".join(forged["categories"])
    with ctx.db.engine.begin() as c:
        c.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(
            decision="block", record_hash=audit_log.record_hash(forged)))
    res = audit_log.verify(ctx.db)
    assert not res.ok and any("seq 3" in p and "prev_hash" in p for p in res.problems)


def test_deleted_record_is_detected(ctx: HeguiContext) -> None:
    audit_log.append(ctx.db, ctx.keys, [ex(i) for i in range(4)])
    with ctx.db.engine.begin() as c:
        c.execute(delete(AuditRecord).where(AuditRecord.seq == 2))
    res = audit_log.verify(ctx.db)
    assert not res.ok and any("seq 3" in p for p in res.problems)


def test_deleted_last_record_is_detected_by_the_head(ctx: HeguiContext) -> None:
    audit_log.append(ctx.db, ctx.keys, [ex(i) for i in range(3)])
    with ctx.db.engine.begin() as c:
        c.execute(delete(AuditRecord).where(AuditRecord.seq == 3))
    res = audit_log.verify(ctx.db)
    assert not res.ok and any("chain head" in p for p in res.problems)


def test_reordered_records_are_detected(ctx: HeguiContext) -> None:
    audit_log.append(ctx.db, ctx.keys, [ex(i) for i in range(3)])
    with ctx.db.engine.begin() as c:  # swap seq 1 and 2
        c.execute(update(AuditRecord).where(AuditRecord.seq == 1).values(seq=100))
        c.execute(update(AuditRecord).where(AuditRecord.seq == 2).values(seq=1))
        c.execute(update(AuditRecord).where(AuditRecord.seq == 100).values(seq=2))
    res = audit_log.verify(ctx.db)
    assert not res.ok


def test_replaced_content_is_detected(ctx: HeguiContext) -> None:
    recs = [ex(i) for i in range(2)]
    audit_log.append(ctx.db, ctx.keys, recs)
    other = audit_log.seal_content(ctx.keys, recs[0].record_id, {"answer": "forged"})
    with ctx.db.engine.begin() as c:
        c.execute(update(AuditRecord).where(AuditRecord.seq == 1).values(content=other))
    res = audit_log.verify(ctx.db)
    assert not res.ok and any("content" in p for p in res.problems)


def test_content_deleted_without_purge_is_detected(ctx: HeguiContext) -> None:
    audit_log.append(ctx.db, ctx.keys, [ex(0)])
    with ctx.db.engine.begin() as c:
        c.execute(update(AuditRecord).values(content=None))
    res = audit_log.verify(ctx.db)
    assert not res.ok and any("without a retention purge" in p for p in res.problems)


def test_content_is_encrypted_at_rest(ctx: HeguiContext) -> None:
    audit_log.append(ctx.db, ctx.keys, [ex(0, content={"answer": "敏感回答内容"})])
    with ctx.db.engine.connect() as c:
        raw = c.execute(text("SELECT content FROM audit_records")).scalar_one()
    assert "敏感" not in raw and raw.startswith("v1.")


def test_export_decrypts_only_with_the_key(ctx: HeguiContext) -> None:
    audit_log.append(ctx.db, ctx.keys, [ex(0, content={"answer": "回答"})])
    sealed = list(audit_log.export(ctx.db, ctx.keys))
    assert sealed[0]["content"] == "(sealed)"
    opened = list(audit_log.export(ctx.db, ctx.keys, decrypt=True))
    assert opened[0]["content"]["answer"] == "回答"
    with pytest.raises(DecryptionError):
        list(audit_log.export(ctx.db, KeyRing(generate_key()), decrypt=True))


def test_export_filters_by_time_window(ctx: HeguiContext) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    audit_log.append(ctx.db, ctx.keys, [ex(i, ts=t0 + timedelta(days=i)) for i in range(5)])
    rows = list(audit_log.export(ctx.db, None, since=t0 + timedelta(days=1), until=t0 + timedelta(days=3)))
    assert [r["seq"] for r in rows] == [2, 3]
    json.dumps(rows)  # JSON-serialisable as is


def test_purge_keeps_the_chain_verifiable(ctx: HeguiContext) -> None:
    now = datetime.now(UTC)
    old = [ex(i, ts=now - timedelta(days=400)) for i in range(3)]
    new = [ex(i, ts=now - timedelta(days=1)) for i in range(2)]
    audit_log.append(ctx.db, ctx.keys, old + new)
    assert audit_log.purge_content(ctx.db, 183, now) == 3
    res = audit_log.verify(ctx.db)
    assert res.ok and res.purged == 3, res.problems
    rows = list(audit_log.export(ctx.db, ctx.keys, decrypt=True))
    assert [r["content"] is None for r in rows] == [True, True, True, False, False]
    assert audit_log.purge_content(ctx.db, 183, now) == 0


def test_canonical_form_is_stable_across_timezones() -> None:
    fields = {"seq": 1, "ts": datetime(2026, 1, 1, 8, 0, tzinfo=UTC), "stream": True, "categories": "A1.4"}
    naive = dict(fields, ts=datetime(2026, 1, 1, 8, 0))
    assert audit_log.canonical(fields) == audit_log.canonical(naive)
    assert b'"ts":"2026-01-01T08:00:00.000000Z"' in audit_log.canonical(fields)
    assert b'"stream":1' in audit_log.canonical(fields)


def test_head_tracks_the_last_record(ctx: HeguiContext) -> None:
    audit_log.append(ctx.db, ctx.keys, [ex(i) for i in range(3)])
    with ctx.db.session() as s:
        head = s.get(AuditChainHead, 1)
        last = s.get(AuditRecord, 3)
        assert head is not None and last is not None
        assert (head.last_seq, head.last_hash) == (3, last.record_hash)
