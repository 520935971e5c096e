"""Human verdicts: the manual-review sample of an audit (TC260-003 §5.1) and annotation checks (Art 8).

Both read a reviewer's file (CSV as exported, or JSONL), validate every row first and write nothing
when any row is wrong, so an import is all or nothing.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, cast, func, select

from hegui.corpus.report import apply_review, write_report
from hegui.errors import InvalidInputError, NotFoundError
from hegui.store.models.corpus import CorpusAnnotation, CorpusAudit, CorpusReviewItem

if TYPE_CHECKING:
    from hegui.context import HeguiContext

PASS_WORDS = {"pass", "passed", "ok", "yes", "y", "1", "true", "通过", "合格", "是", "correct", "正确"}
FAIL_WORDS = {"fail", "failed", "bad", "no", "n", "0", "false", "不通过", "不合格", "否", "incorrect", "错误"}


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, row)`` from a CSV (header row) or a JSONL file; a malformed line is an error."""
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file")
    try:
        if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
            with open(path, encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        row = json.loads(line)
                    except ValueError:
                        raise InvalidInputError(f"{path}:{n}: not a JSON object") from None
                    if not isinstance(row, dict):
                        raise InvalidInputError(f"{path}:{n}: not a JSON object")
                    yield n, row
        else:
            with open(path, encoding="utf-8-sig", newline="") as fh:
                for n, row in enumerate(csv.DictReader(fh), 2):
                    yield n, dict(row)
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path}: not UTF-8 text") from None
    except csv.Error as err:
        raise InvalidInputError(f"{path}: unreadable CSV: {err}") from None


def parse_verdict(value: Any, where: str) -> bool | None:
    """``True`` pass, ``False`` fail, ``None`` not reviewed yet (empty)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return value
    v = str(value).strip().lower()
    if v in PASS_WORDS:
        return True
    if v in FAIL_WORDS:
        return False
    raise InvalidInputError(f"{where}: verdict {value!r} is neither pass nor fail")


def _field(row: dict[str, Any], name: str, where: str) -> str:
    v = row.get(name)
    if v is None or not str(v).strip():
        raise InvalidInputError(f"{where}: column {name!r} is empty or missing")
    return str(v).strip()


def import_review(ctx: HeguiContext, path: Path, audit_id: str | None = None) -> dict[str, Any]:
    """Record reviewers' verdicts on an audit's sample; recompute the manual-review gates and the report."""
    parsed: list[tuple[str, str, bool, str | None, str | None]] = []
    for n, row in read_rows(path):
        where = f"{path}:{n}"
        verdict = parse_verdict(row.get("verdict"), where)
        if verdict is None:
            continue
        aid = audit_id or _field(row, "audit_id", where)
        parsed.append((aid, _field(row, "item_key", where), verdict, (row.get("reviewer") or None),
                       (row.get("note") or None)))
    audits = {a for a, *_ in parsed}
    if not parsed:
        raise InvalidInputError(f"{path}: no row has a verdict (pass / fail)")
    if len(audits) > 1:
        raise InvalidInputError(f"{path}: rows belong to several audits ({', '.join(sorted(audits))}); "
                                "import one audit's sample at a time")
    aid = audits.pop()
    now = datetime.now(UTC)
    with ctx.db.session() as s:
        audit = s.get(CorpusAudit, aid)
        if audit is None or audit.report is None:
            raise NotFoundError(f"no finished corpus audit {aid!r}")
        items = {i.item_key: i for i in s.scalars(select(CorpusReviewItem).where(CorpusReviewItem.audit_id == aid))}
        unknown = [k for _, k, *_ in parsed if k not in items]
        if unknown:
            raise InvalidInputError(f"{path}: {len(unknown)} item(s) are not in audit {aid}'s review sample, "
                                    f"e.g. {unknown[0]!r}")
        for _, key, verdict, reviewer, note in parsed:
            it = items[key]
            it.verdict, it.reviewer, it.note, it.reviewed_at = ("pass" if verdict else "fail"), reviewer, note, now
        s.flush()
        reviewed = sum(1 for i in items.values() if i.verdict is not None)
        passed = sum(1 for i in items.values() if i.verdict == "pass")
        report = apply_review(dict(audit.report), reviewed, passed, ctx.pack.figures.corpus)
        report["passed"] = all(x["passed"] for x in report["sources"]) and all(
            gt["passed"] is True for gt in report["gates"].values())
        audit.report = report
        out_dir = audit.out_dir
    if Path(out_dir).is_dir():
        write_report(report, out_dir)
    return {"audit_id": aid, "imported": len(parsed), "reviewed": reviewed, "passed": passed,
            "sample_size": report["review"]["sample_size"], "gate": report["gates"]["manual_review_pass"]}


# -- annotation (Measures Art 8) -------------------------------------------------------------------

def import_annotations(ctx: HeguiContext, path: Path) -> dict[str, Any]:
    """Rows ``batch, item_id, annotator, label``; re-importing the same triple updates its label."""
    rows = []
    for n, row in read_rows(path):
        where = f"{path}:{n}"
        label = row.get("label")
        if label is None or (isinstance(label, str) and not label.strip()):
            raise InvalidInputError(f"{where}: column 'label' is empty or missing")
        rows.append((_field(row, "batch", where), _field(row, "item_id", where), _field(row, "annotator", where),
                     label if isinstance(label, str) else json.dumps(label, ensure_ascii=False)))
    if not rows:
        raise InvalidInputError(f"{path}: no annotation rows")
    added = updated = 0
    with ctx.db.session() as s:
        for batch, item, annotator, label in rows:
            a = s.scalar(select(CorpusAnnotation).where(CorpusAnnotation.batch == batch,
                                                        CorpusAnnotation.item_id == item,
                                                        CorpusAnnotation.annotator == annotator))
            if a is None:
                s.add(CorpusAnnotation(batch=batch, item_id=item, annotator=annotator, label=label))
                added += 1
            elif a.label != label:
                a.label, a.checked, a.checker, a.checked_at = label, None, None, None
                updated += 1
    return {"added": added, "updated": updated, "batches": sorted({r[0] for r in rows})}


def sample_annotations(ctx: HeguiContext, batch: str, size: int | None, ratio: float | None, out: Path,
                       seed: int | None = None) -> dict[str, Any]:
    """Draw a random check sample of a batch into a CSV form (column ``verdict`` to fill in)."""
    with ctx.db.session() as s:
        anns = list(s.scalars(select(CorpusAnnotation).where(CorpusAnnotation.batch == batch)
                              .order_by(CorpusAnnotation.id)))
    if not anns:
        raise NotFoundError(f"no annotations in batch {batch!r}")
    k = size if size is not None else max(1, round(len(anns) * (ratio if ratio is not None else 0.1)))
    if k <= 0:
        raise InvalidInputError("sample size must be positive")
    chosen = random.Random(seed).sample(anns, min(k, len(anns)))
    with open(out, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["batch", "item_id", "annotator", "label", "verdict", "checker"])
        for a in chosen:
            w.writerow([a.batch, a.item_id, a.annotator, a.label, "", ""])
    return {"batch": batch, "batch_size": len(anns), "sampled": len(chosen), "file": str(out)}


def check_annotations(ctx: HeguiContext, path: Path) -> dict[str, Any]:
    """Record checkers' verdicts (correct / incorrect) and return accuracy per annotator and batch."""
    parsed = []
    for n, row in read_rows(path):
        where = f"{path}:{n}"
        verdict = parse_verdict(row.get("verdict"), where)
        if verdict is None:
            continue
        parsed.append((_field(row, "batch", where), _field(row, "item_id", where), _field(row, "annotator", where),
                       verdict, row.get("checker") or None, where))
    if not parsed:
        raise InvalidInputError(f"{path}: no row has a verdict (correct / incorrect)")
    now = datetime.now(UTC)
    with ctx.db.session() as s:
        for batch, item, annotator, verdict, checker, where in parsed:
            a = s.scalar(select(CorpusAnnotation).where(CorpusAnnotation.batch == batch,
                                                        CorpusAnnotation.item_id == item,
                                                        CorpusAnnotation.annotator == annotator))
            if a is None:
                raise InvalidInputError(f"{where}: no annotation {batch}/{item} by {annotator}")
            a.checked, a.checker, a.checked_at = verdict, checker, now
    return {"checked": len(parsed), **annotation_accuracy(ctx)}


def annotation_accuracy(ctx: HeguiContext) -> dict[str, Any]:
    """Accuracy of checked annotations per annotator and per batch, with the sizes behind each figure."""
    out: dict[str, Any] = {"annotators": {}, "batches": {}}
    with ctx.db.session() as s:
        for key, col in (("annotators", CorpusAnnotation.annotator), ("batches", CorpusAnnotation.batch)):
            q = (select(col, func.count(), func.count(CorpusAnnotation.checked),
                        func.sum(cast(CorpusAnnotation.checked, Integer)))
                 .group_by(col).order_by(col))
            for name, total, checked, correct in s.execute(q):
                out[key][name] = {"annotations": int(total), "checked": int(checked), "correct": int(correct or 0),
                                  "accuracy": (int(correct or 0) / int(checked)) if checked else None}
    return out
