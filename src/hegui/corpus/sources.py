"""The source registry: training-data sources and the provenance evidence each kind needs.

TC260-003 §5.1 (REGULATION.md §3): open-source corpora need their licence; self-collected data
needs collection records and proof that robots.txt / opt-outs were respected; commercial corpora
need the contract and the supplier's guarantee of lawfulness; user data needs authorisation records.
Evidence files are copied into ``data_dir/corpus/evidence/<sha256>`` and recorded by hash and path,
so the record stays verifiable even when the original file moves.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from hegui.errors import InvalidInputError, NotFoundError
from hegui.store.models.corpus import CorpusAudit, CorpusAuditSource, CorpusEvidence, CorpusSource

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from hegui.context import HeguiContext

KINDS: tuple[str, ...] = ("open", "self", "commercial", "user")
EVIDENCE_KINDS: tuple[str, ...] = ("licence", "collection_record", "opt_out", "contract", "supplier_guarantee",
                                   "authorisation", "other")
REQUIRED: dict[str, tuple[str, ...]] = {
    "open": ("licence",),
    "self": ("collection_record", "opt_out"),
    "commercial": ("contract", "supplier_guarantee"),
    "user": ("authorisation",),
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# Guessing the evidence kind from a file name when the operator did not say ``KIND=FILE``.
_GUESS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("supplier_guarantee", re.compile(r"guarant|warrant|承诺|保证", re.I)),
    ("contract", re.compile(r"contract|agreement|合同|协议", re.I)),
    ("opt_out", re.compile(r"robots|opt.?out|退出|拒绝", re.I)),
    ("collection_record", re.compile(r"collect|crawl|采集|爬取|record|log", re.I)),
    ("authorisation", re.compile(r"authori[sz]|consent|授权|同意", re.I)),
    ("licence", re.compile(r"licen[cs]e|copying|许可", re.I)),
)


@dataclass(frozen=True, slots=True)
class EvidenceSpec:
    kind: str
    path: Path


def parse_evidence(arg: str) -> EvidenceSpec:
    """``KIND=FILE`` or ``FILE`` (kind guessed from the file name, else ``other``)."""
    kind, sep, path = arg.partition("=")
    if sep and kind in EVIDENCE_KINDS:
        return EvidenceSpec(kind, Path(path))
    if sep and "/" not in kind and not Path(arg).exists():
        raise InvalidInputError(f"unknown evidence kind {kind!r} (expected one of: {', '.join(EVIDENCE_KINDS)})")
    p = Path(arg)
    for guess, rx in _GUESS:
        if rx.search(p.name):
            return EvidenceSpec(guess, p)
    return EvidenceSpec("other", p)


def missing_evidence(kind: str, licence: str | None, have: set[str]) -> list[str]:
    """Evidence kinds a source of ``kind`` still lacks (an open corpus may name its licence instead)."""
    need = [k for k in REQUIRED[kind] if k not in have]
    if kind == "open" and licence and "licence" in need:
        need.remove("licence")
    return need


def _store_file(ctx: HeguiContext, path: Path) -> tuple[str, int]:
    if not path.is_file():
        raise InvalidInputError(f"evidence file {str(path)!r} does not exist or is not a file")
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    digest = h.hexdigest()
    dest_dir = ctx.settings.data_dir / "corpus" / "evidence"
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / digest
    if not dest.exists():
        shutil.copyfile(path, str(dest) + ".tmp")
        os.replace(str(dest) + ".tmp", dest)
    return digest, path.stat().st_size


def _get(s: Session, name: str) -> CorpusSource:
    src = s.scalar(select(CorpusSource).where(CorpusSource.name == name))
    if src is None:
        raise NotFoundError(f"unknown corpus source {name!r}; register it with `hegui corpus source add`")
    return src


def add_source(ctx: HeguiContext, name: str, kind: str, licence: str | None, evidence: list[str],
               description: str | None = None) -> dict[str, Any]:
    if not _NAME.match(name):
        raise InvalidInputError(f"source name {name!r}: use letters, digits, '.', '_' or '-' (max 128)")
    if kind not in KINDS:
        raise InvalidInputError(f"source kind {kind!r}: expected one of {', '.join(KINDS)}")
    specs = [parse_evidence(e) for e in evidence]
    stored = [(sp, *_store_file(ctx, sp.path)) for sp in specs]
    with ctx.db.session() as s:
        if s.scalar(select(CorpusSource.id).where(CorpusSource.name == name)) is not None:
            raise InvalidInputError(f"corpus source {name!r} already exists; add evidence with "
                                    "`hegui corpus source evidence`")
        src = CorpusSource(name=name, kind=kind, licence=licence, description=description)
        s.add(src)
        s.flush()
        for sp, digest, size in stored:
            s.add(CorpusEvidence(source_id=src.id, kind=sp.kind, path=str(sp.path.resolve()), sha256=digest,
                                 size=size))
    return show_source(ctx, name)


def add_evidence(ctx: HeguiContext, name: str, evidence: list[str]) -> dict[str, Any]:
    specs = [parse_evidence(e) for e in evidence]
    stored = [(sp, *_store_file(ctx, sp.path)) for sp in specs]
    with ctx.db.session() as s:
        src = _get(s, name)
        for sp, digest, size in stored:
            s.add(CorpusEvidence(source_id=src.id, kind=sp.kind, path=str(sp.path.resolve()), sha256=digest,
                                 size=size))
    return show_source(ctx, name)


def _describe(s: Session, src: CorpusSource) -> dict[str, Any]:
    ev = list(s.scalars(select(CorpusEvidence).where(CorpusEvidence.source_id == src.id)
                        .order_by(CorpusEvidence.id)))
    last = s.execute(select(CorpusAuditSource, CorpusAudit.out_dir).join(CorpusAudit)
                     .where(CorpusAuditSource.source_id == src.id)
                     .order_by(CorpusAuditSource.finished_at.desc(), CorpusAuditSource.id.desc()).limit(1)).first()
    return {
        "name": src.name, "kind": src.kind, "licence": src.licence, "description": src.description,
        "created_at": src.created_at.isoformat(),
        "evidence": [{"kind": e.kind, "path": e.path, "sha256": e.sha256, "size": e.size} for e in ev],
        "missing_evidence": missing_evidence(src.kind, src.licence, {e.kind for e in ev}),
        "last_audit": None if last is None else {
            "audit_id": last[0].audit_id, "items": last[0].items, "unsafe": last[0].unsafe,
            "unsafe_ratio": last[0].unsafe_ratio, "passed": last[0].passed,
            "finished_at": last[0].finished_at.isoformat(), "out_dir": last[1]},
    }


def show_source(ctx: HeguiContext, name: str) -> dict[str, Any]:
    with ctx.db.session() as s:
        return _describe(s, _get(s, name))


def list_sources(ctx: HeguiContext) -> list[dict[str, Any]]:
    with ctx.db.session() as s:
        return [_describe(s, src) for src in s.scalars(select(CorpusSource).order_by(CorpusSource.name))]
