"""The hash-chained exchange log: append, verify, export, purge.

Canonical form of a record (version 1): the UTF-8 bytes of a JSON object holding exactly the
fields in ``HASHED_FIELDS``, keys sorted, no whitespace (``separators=(",", ":")``), non-ASCII
kept as is, ``ts`` as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC, ``categories`` as the stored
comma-joined string, ``stream`` as 0/1, missing values as ``null``.
``record_hash = SHA-256("hegui-audit-v1\\n" + canonical)``. ``prev_hash`` is the previous record's
``record_hash`` (``"0" * 64`` before the first). The content (request and answer) is sealed with
the key ring (AES-GCM, the record id as associated data) and only ``content_hash =
SHA-256(sealed content)`` enters the chain, so purging content after the retention period keeps
the chain verifiable and ``verify`` needs no key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update

from hegui.privacy.crypto import DecryptionError, KeyRing
from hegui.store.db import Database
from hegui.store.models.audit import AuditChainHead, AuditRecord

GENESIS_HASH = "0" * 64
HASH_DOMAIN = b"hegui-audit-v1\n"
_RECORDS = cast(Table, AuditRecord.__table__)
_HEAD = cast(Table, AuditChainHead.__table__)
HASHED_FIELDS: tuple[str, ...] = (
    "seq", "record_id", "ts", "user_id", "key_id", "client_ip", "client_port", "endpoint", "model",
    "upstream", "status_code", "decision", "categories", "stream", "error", "total_us", "upstream_us",
    "moderation_us", "content_hash", "prev_hash",
)


@dataclass(slots=True)
class Exchange:
    """What the gateway hands to the log for one exchange (before it is sealed and chained)."""

    record_id: str
    ts: datetime
    endpoint: str
    status_code: int
    decision: str
    user_id: str | None = None
    key_id: str | None = None
    client_ip: str | None = None
    client_port: int | None = None
    model: str | None = None
    upstream: str | None = None
    categories: Sequence[str] = ()
    stream: bool = False
    error: str | None = None
    total_us: int = 0
    upstream_us: int = 0
    moderation_us: int = 0
    content: dict[str, Any] = field(default_factory=dict)


def format_ts(ts: datetime) -> str:
    """The one textual form of a timestamp in the chain (UTC, microseconds, ``Z``)."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: dict[str, Any]) -> bytes:
    """Canonical bytes of a record's hashed fields (see module docstring)."""
    doc = {k: fields.get(k) for k in HASHED_FIELDS}
    ts = doc["ts"]
    if isinstance(ts, datetime):
        doc["ts"] = format_ts(ts)
    doc["stream"] = 1 if doc["stream"] else 0
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def record_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(HASH_DOMAIN + canonical(fields)).hexdigest()


def content_hash(sealed: str) -> str:
    return hashlib.sha256(sealed.encode("ascii")).hexdigest()


def seal_content(keys: KeyRing, record_id: str, content: dict[str, Any]) -> str:
    plain = json.dumps(content, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return keys.encrypt(plain, associated=record_id.encode("ascii"))


def open_content(keys: KeyRing, record_id: str, sealed: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(keys.decrypt(sealed, associated=record_id.encode("ascii")))
    return data


def _row_fields(ex: Exchange, seq: int, sealed: str, prev: str) -> dict[str, Any]:
    ts = ex.ts if ex.ts.tzinfo else ex.ts.replace(tzinfo=UTC)
    return {
        "seq": seq, "record_id": ex.record_id, "ts": ts, "user_id": ex.user_id, "key_id": ex.key_id,
        "client_ip": ex.client_ip, "client_port": ex.client_port, "endpoint": ex.endpoint, "model": ex.model,
        "upstream": ex.upstream, "status_code": ex.status_code, "decision": ex.decision,
        "categories": ",".join(sorted(set(ex.categories)))[:400], "stream": 1 if ex.stream else 0,
        "error": (ex.error or None) and ex.error[:400], "total_us": int(ex.total_us),
        "upstream_us": int(ex.upstream_us), "moderation_us": int(ex.moderation_us),
        "content": sealed, "content_hash": content_hash(sealed), "prev_hash": prev,
    }


def append(db: Database, keys: KeyRing, exchanges: Sequence[Exchange]) -> list[int]:
    """Append exchanges to the chain in ONE transaction; return their sequence numbers.

    The first statement updates the single chain-head row, which takes the write lock (a row lock
    on PostgreSQL, the database write lock on SQLite) before the head is read, so writers in
    several processes extend the chain one after the other and it stays linear.
    """
    if not exchanges:
        return []
    sealed = [seal_content(keys, ex.record_id, ex.content) for ex in exchanges]
    with db.engine.begin() as conn:
        conn.execute(_LOCK_HEAD)
        seq, prev = conn.execute(_READ_HEAD).one()
        rows = []
        for ex, sl in zip(exchanges, sealed, strict=True):
            seq += 1
            row = _row_fields(ex, seq, sl, prev)
            row["record_hash"] = prev = record_hash(row)
            rows.append(row)
        conn.execute(_INSERT_RECORDS, rows)
        conn.execute(_MOVE_HEAD, {"new_seq": seq, "new_hash": prev})
    return [r["seq"] for r in rows]


# The statements of ``append``, built once (building and cache-keying them cost more than running them).
_LOCK_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(last_seq=_HEAD.c.last_seq)
_READ_HEAD = select(_HEAD.c.last_seq, _HEAD.c.last_hash).where(_HEAD.c.id == 1)
_INSERT_RECORDS = insert(_RECORDS)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(last_seq=bindparam("new_seq"), last_hash=bindparam("new_hash"))


@dataclass
class VerifyResult:
    ok: bool
    records: int
    purged: int
    last_seq: int
    problems: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "records": self.records, "content_purged": self.purged,
                "last_seq": self.last_seq, "problems": self.problems}


_ROW_COLUMNS = [*HASHED_FIELDS, "record_hash", "content", "content_purged_at"]


def verify(db: Database, max_problems: int = 100) -> VerifyResult:
    """Walk the whole chain: sequence without gaps, each link, each hash, each content hash, the head."""
    problems: list[str] = []
    tbl = _RECORDS
    cols = [tbl.c[name] for name in _ROW_COLUMNS]
    expected_seq, prev, count, purged = 1, GENESIS_HASH, 0, 0

    def problem(msg: str) -> None:
        if len(problems) < max_problems:
            problems.append(msg)

    with db.engine.connect() as conn:
        result = conn.execution_options(yield_per=2000).execute(select(*cols).order_by(tbl.c.seq))
        for r in result:
            row = dict(r._mapping)
            count += 1
            seq = row["seq"]
            if seq != expected_seq:
                problem(f"record seq {seq}: expected seq {expected_seq} (records missing or reordered)")
            if row["prev_hash"] != prev:
                problem(f"record seq {seq}: prev_hash does not match the previous record's hash "
                        "(a record before it was changed, deleted or reordered)")
            if record_hash(row) != row["record_hash"]:
                problem(f"record seq {seq}: record_hash does not match its fields (the record was modified)")
            if row["content"] is not None:
                if content_hash(row["content"]) != row["content_hash"]:
                    problem(f"record seq {seq}: content does not match content_hash (content was replaced)")
            elif row["content_purged_at"] is None:
                problem(f"record seq {seq}: content missing without a retention purge")
            else:
                purged += 1
            prev, expected_seq = row["record_hash"], seq + 1
        head = conn.execute(select(AuditChainHead.last_seq, AuditChainHead.last_hash)
                            .where(AuditChainHead.id == 1)).first()
    last_seq = expected_seq - 1
    if head is None:
        problem("chain head row is missing")
    elif (head.last_seq, head.last_hash) != (last_seq, prev):
        problem(f"chain head says seq {head.last_seq} but the log ends at seq {last_seq} "
                "(records at the end were deleted or the head was changed)")
    return VerifyResult(not problems, count, purged, last_seq, problems)


def export(db: Database, keys: KeyRing | None, since: datetime | None = None, until: datetime | None = None,
           decrypt: bool = False) -> Iterator[dict[str, Any]]:
    """Records with ``since <= ts < until`` as dicts; content decrypted only when asked (needs the key)."""
    tbl = _RECORDS
    stmt = select(tbl).order_by(tbl.c.seq)
    if since is not None:
        stmt = stmt.where(tbl.c.ts >= since)
    if until is not None:
        stmt = stmt.where(tbl.c.ts < until)
    with db.engine.connect() as conn:
        for r in conn.execution_options(yield_per=1000).execute(stmt):
            row = dict(r._mapping)
            out = {k: row[k] for k in HASHED_FIELDS}
            out["ts"] = format_ts(row["ts"])
            out["categories"] = [c for c in row["categories"].split(",") if c]
            out["stream"] = bool(row["stream"])
            out["record_hash"] = row["record_hash"]
            purged_at = row["content_purged_at"]
            out["content_purged_at"] = format_ts(purged_at) if purged_at else None
            if decrypt and row["content"] is not None:
                if keys is None:
                    raise DecryptionError("decrypting audit content needs the key ring")
                out["content"] = open_content(keys, row["record_id"], row["content"])
            else:
                out["content"] = None if row["content"] is None else "(sealed)"
            yield out


def purge_content(db: Database, older_than_days: int, now: datetime | None = None) -> int:
    """Delete the content of records older than the retention period; the metadata chain stays."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=older_than_days)
    tbl = _RECORDS
    with db.engine.begin() as conn:
        res = conn.execute(update(tbl).where(tbl.c.ts < cutoff, tbl.c.content.is_not(None))
                           .values(content=None, content_purged_at=now))
        return int(res.rowcount or 0)


def stats(db: Database) -> dict[str, Any]:
    tbl = _RECORDS
    with db.engine.connect() as conn:
        n, first, last = conn.execute(select(func.count(), func.min(tbl.c.ts), func.max(tbl.c.ts))).one()
    return {"records": int(n), "first": format_ts(first) if first else None, "last": format_ts(last) if last else None}
