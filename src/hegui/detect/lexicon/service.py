"""The lexicon in the database: add, remove, list, import, export, stats. Every change bumps the version.

Each change runs in one transaction that also increments ``lexicon_revision.version``, so
``LexiconRegistry.refresh_if_changed()`` in any worker sees the edit with one cheap query.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from hegui.context import HeguiContext
from hegui.detect.lexicon.entry import (
    ALL_SCOPE,
    AllowPhrase,
    LexiconEntry,
    check_category,
    check_scope,
    check_severity,
    check_term,
    guess_lang,
)
from hegui.detect.lexicon.formats import DEFAULT_SOURCE, Format, dump, load_default_data, read_file
from hegui.errors import InvalidInputError, NotFoundError
from hegui.policy.taxonomy import APPENDIX_A_CODES, POLITICAL_CODES, RISKS
from hegui.store.models.base import utcnow
from hegui.store.models.lexicon import LexiconAllow, LexiconRevision, LexiconSeed, LexiconTerm

Entries = list[LexiconEntry]
Phrases = list[AllowPhrase]


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    total: int
    version: int


@dataclass(frozen=True)
class SeedResult:
    seeded: bool
    fingerprint: str
    terms: int
    allow: int


@dataclass(frozen=True)
class RiskCount:
    code: str
    name: str
    terms: int
    minimum: int | None
    political: bool

    @property
    def status(self) -> str:
        if self.political and self.terms == 0:
            return "operator slot, empty"
        if self.minimum is None:
            return "no minimum"
        return "ok" if self.terms >= self.minimum else "below minimum"


@dataclass(frozen=True)
class LexiconStats:
    risks: list[RiskCount]
    total: int
    min_total: int
    allow_phrases: int
    version: int
    clause: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version, "total": self.total, "min_total": self.min_total,
            "total_ok": self.total >= self.min_total, "allow_phrases": self.allow_phrases, "clause": self.clause,
            "risks": [{"code": r.code, "name": r.name, "terms": r.terms, "minimum": r.minimum,
                       "status": r.status} for r in self.risks],
        }


def _to_entry(row: LexiconTerm) -> LexiconEntry:
    return LexiconEntry(term=row.term, category=row.category, severity=row.severity, lang=row.lang,
                        source=row.source, version=row.version, allow=tuple(json.loads(row.allow or "[]")),
                        note=row.note)


def _bump(s: Session) -> int:
    s.execute(update(LexiconRevision).where(LexiconRevision.id == 1)
              .values(version=LexiconRevision.version + 1, updated_at=utcnow()))
    v = s.scalar(select(LexiconRevision.version).where(LexiconRevision.id == 1))
    if v is None:  # the migration inserts the row; recreate it if someone deleted it
        s.add(LexiconRevision(id=1, version=1))
        return 1
    return int(v)


def _upsert(s: Session, entries: Iterable[LexiconEntry], version: str | None) -> tuple[int, int]:
    """Insert or update entries (keyed by source, category, term); ``version`` overrides the entries'."""
    added = updated = 0
    unique: dict[tuple[str, str, str], LexiconEntry] = {}
    for e in entries:
        unique[(e.source, e.category, e.term)] = e
    existing: dict[tuple[str, str, str], LexiconTerm] = {}
    keys = list(unique)
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        terms = {k[2] for k in chunk}
        for row in s.scalars(select(LexiconTerm).where(LexiconTerm.term.in_(terms))):
            existing[(row.source, row.category, row.term)] = row
    new_rows: list[dict[str, Any]] = []
    now = utcnow()
    for key, e in unique.items():
        found = existing.get(key)
        fields = {"severity": e.severity, "lang": e.lang, "version": version or e.version,
                  "allow": json.dumps(list(e.allow), ensure_ascii=False) if e.allow else "[]", "note": e.note}
        if found is None:
            new_rows.append({"term": e.term, "category": e.category, "source": e.source, "created_at": now,
                             **fields})
        else:
            for k, v in fields.items():
                setattr(found, k, v)
            updated += 1
    if new_rows:  # one bulk INSERT (executemany) instead of one ORM object per term: seeding is ~11k rows
        s.execute(insert(LexiconTerm), new_rows)
        added = len(new_rows)
    return added, updated


class LexiconService:
    """Operator-facing lexicon operations on ``ctx.db``."""

    def __init__(self, ctx: HeguiContext) -> None:
        self.ctx = ctx

    # reading ---------------------------------------------------------------------------------
    def version(self) -> int:
        """The current lexicon version (one indexed row read: cheap enough to poll)."""
        with self.ctx.db.session() as s:
            v = s.scalar(select(LexiconRevision.version).where(LexiconRevision.id == 1))
        return int(v or 0)

    def list(self, category: str | None = None, search: str | None = None, source: str | None = None,
             limit: int | None = None) -> Entries:
        q = select(LexiconTerm).order_by(LexiconTerm.category, LexiconTerm.term, LexiconTerm.source)
        if category:
            q = q.where(or_(LexiconTerm.category == category, LexiconTerm.category.like(category + ".%")))
        if search:
            q = q.where(LexiconTerm.term.contains(search, autoescape=True))
        if source:
            q = q.where(LexiconTerm.source == source)
        if limit:
            q = q.limit(limit)
        with self.ctx.db.session() as s:
            return [_to_entry(r) for r in s.scalars(q)]

    def allow_phrases(self, scope: str | None = None) -> Phrases:
        q = select(LexiconAllow).order_by(LexiconAllow.scope, LexiconAllow.phrase)
        if scope:
            q = q.where(LexiconAllow.scope == scope)
        with self.ctx.db.session() as s:
            return [AllowPhrase(r.phrase, r.scope, r.source) for r in s.scalars(q)]

    def snapshot(self) -> tuple[int, Entries, Phrases]:
        """Version, terms and allow phrases read in ONE transaction (what the registry compiles)."""
        with self.ctx.db.session() as s:
            v = int(s.scalar(select(LexiconRevision.version).where(LexiconRevision.id == 1)) or 0)
            # plain columns, not ORM objects: ~22k rows per reload, and every process compiles them; read
            # through the session's connection (same transaction), which skips the ORM's row loading
            conn = s.connection()
            t = LexiconTerm
            rows = conn.execute(select(t.term, t.category, t.severity, t.lang, t.source, t.version, t.allow, t.note)
                                .order_by(t.id))
            entries = [LexiconEntry(term, category, severity, lang, source, version,
                                    () if allow_json in ("", "[]") else tuple(json.loads(allow_json)), note)
                       for term, category, severity, lang, source, version, allow_json, note in rows]
            allow = [AllowPhrase(phrase, scope, source) for phrase, scope, source in conn.execute(
                select(LexiconAllow.phrase, LexiconAllow.scope, LexiconAllow.source).order_by(LexiconAllow.id))]
        return v, entries, allow

    # changing --------------------------------------------------------------------------------
    def add(self, term: str, category: str, severity: int = 2, lang: str | None = None, source: str = "operator",
            allow: Iterable[str] = (), note: str = "") -> LexiconEntry:
        """Add a term (or update its severity/allow phrases if the source already has it)."""
        check_category(category)
        with self.ctx.db.session() as s:
            v = _bump(s)
            e = LexiconEntry(check_term(term), category, check_severity(severity), lang or guess_lang(term),
                             source, str(v), tuple(allow), note)
            _upsert(s, [e], None)
        return e

    def remove(self, term: str, category: str | None = None, source: str | None = None) -> int:
        """Remove a term (from every risk and source unless narrowed); ``NotFoundError`` if absent."""
        q = delete(LexiconTerm).where(LexiconTerm.term == term.strip())
        if category:
            q = q.where(LexiconTerm.category == category)
        if source:
            q = q.where(LexiconTerm.source == source)
        with self.ctx.db.session() as s:
            n = s.execute(q).rowcount  # type: ignore[attr-defined]
            if not n:
                where = f" in {category}" if category else ""
                raise NotFoundError(f"term {term.strip()!r} is not in the lexicon{where}")
            _bump(s)
        return int(n)

    def add_allow(self, phrase: str, scope: str = ALL_SCOPE, source: str = "operator") -> AllowPhrase:
        a = AllowPhrase(phrase, check_scope(scope), source)
        with self.ctx.db.session() as s:
            exists = s.scalar(select(LexiconAllow.id).where(
                LexiconAllow.phrase == a.phrase, LexiconAllow.scope == a.scope, LexiconAllow.source == source))
            if exists is None:
                s.add(LexiconAllow(phrase=a.phrase, scope=a.scope, source=source))
            _bump(s)
        return a

    def remove_allow(self, phrase: str, scope: str | None = None) -> int:
        q = delete(LexiconAllow).where(LexiconAllow.phrase == phrase.strip())
        if scope:
            q = q.where(LexiconAllow.scope == scope)
        with self.ctx.db.session() as s:
            n = s.execute(q).rowcount  # type: ignore[attr-defined]
            if not n:
                raise NotFoundError(f"allow phrase {phrase.strip()!r} is not in the allow-list")
            _bump(s)
        return int(n)

    def import_entries(self, entries: Iterable[LexiconEntry]) -> ImportResult:
        """Insert/update entries in ONE transaction (all or nothing); operator entries get the new version."""
        items = list(entries)
        with self.ctx.db.session() as s:
            v = _bump(s)
            added, updated = _upsert(s, items, str(v))
        return ImportResult(added, updated, len(items), v)

    def import_file(self, path: Path, category: str | None = None, fmt: Format | None = None,
                    source: str | None = None) -> ImportResult:
        """Parse the whole file (errors name ``file:line``; nothing is written then), then import it."""
        if category:
            check_category(category)
        if source == DEFAULT_SOURCE:
            raise InvalidInputError(f"source {DEFAULT_SOURCE!r} is reserved for the shipped lexicons")
        parsed = read_file(path, fmt, category, source or "operator")
        if not parsed.entries:
            raise InvalidInputError(f"{path}: no terms found")
        return self.import_entries(parsed.entries)

    def export(self, fmt: Format, category: str | None = None, source: str | None = None) -> str:
        return dump(self.list(category=category, source=source), fmt)

    def export_file(self, path: Path, fmt: Format, category: str | None = None, source: str | None = None) -> int:
        entries = self.list(category=category, source=source)
        path.write_text(dump(entries, fmt), encoding="utf-8")
        return len(entries)

    # shipped defaults ------------------------------------------------------------------------
    def seed_defaults(self, root: Path | None = None) -> SeedResult:
        """Load the shipped default lexicons as source ``hegui-default`` unless this version is loaded.

        Idempotent: keyed by a fingerprint of the data files. A new fingerprint replaces every
        ``hegui-default`` term and allow phrase in one transaction; operator entries are untouched.
        """
        data = load_default_data(root)
        with self.ctx.db.session() as s:
            seed = s.get(LexiconSeed, DEFAULT_SOURCE)
            if seed is not None and seed.version == data.fingerprint:
                return SeedResult(False, data.fingerprint, len(data.entries), len(data.allow))
            s.execute(delete(LexiconTerm).where(LexiconTerm.source == DEFAULT_SOURCE))
            s.execute(delete(LexiconAllow).where(LexiconAllow.source == DEFAULT_SOURCE))
            s.flush()
            _upsert(s, data.entries, None)
            seen: set[tuple[str, str]] = set()
            now = utcnow()
            rows: list[dict[str, Any]] = []
            for a in data.allow:
                if (a.scope, a.phrase) not in seen:
                    seen.add((a.scope, a.phrase))
                    rows.append({"phrase": a.phrase, "scope": a.scope, "source": DEFAULT_SOURCE,
                                 "created_at": now})
            if rows:
                s.execute(insert(LexiconAllow), rows)
            if seed is None:
                s.add(LexiconSeed(source=DEFAULT_SOURCE, version=data.fingerprint))
            else:
                seed.version = data.fingerprint
                seed.seeded_at = utcnow()
            _bump(s)
        return SeedResult(True, data.fingerprint, len(data.entries), len(data.allow))

    # figures ---------------------------------------------------------------------------------
    def stats(self) -> LexiconStats:
        """Terms per risk against the TC260 keyword-library minimums of the policy pack.

        A term counts once per risk even if several sources hold it.
        """
        figures = self.ctx.pack.figures.keyword_library
        with self.ctx.db.session() as s:
            rows = s.execute(select(LexiconTerm.category, func.count(func.distinct(LexiconTerm.term)))
                             .group_by(LexiconTerm.category)).all()
            total = int(s.scalar(select(func.count(func.distinct(LexiconTerm.term)))) or 0)
            allow_n = int(s.scalar(select(func.count(LexiconAllow.id))) or 0)
            v = int(s.scalar(select(LexiconRevision.version).where(LexiconRevision.id == 1)) or 0)
        counts: Counter[str] = Counter({str(c): int(n) for c, n in rows})
        risks = []
        for code in (*APPENDIX_A_CODES, "J"):
            r = RISKS[code]
            minimum = (figures.min_per_a1_risk if r.parent == "A1" else
                       figures.min_per_a2_risk if r.parent == "A2" else None)
            risks.append(RiskCount(code, r.name_en, counts.get(code, 0), minimum, code in POLITICAL_CODES))
        return LexiconStats(risks, total, figures.min_terms, allow_n, v, figures.clause)
