"""Live evidence for O2 (training data, ``corpus.audit``) and O3 (annotation, ``corpus.annotation``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hegui.corpus.review import annotation_accuracy
from hegui.corpus.sources import list_sources
from hegui.obligations import Evidence, Status, evidence_for

if TYPE_CHECKING:
    from hegui.context import HeguiContext


@evidence_for("corpus.audit")
def corpus_audit(ctx: HeguiContext) -> Evidence:
    """The last audit of every registered source, and its provenance evidence."""
    sources = list_sources(ctx)
    if not sources:
        return Evidence("corpus.audit", "not_configured",
                        "no training-data source registered (`hegui corpus source add`)")
    parts, failing, unaudited = [], False, False
    for s in sources:
        last = s["last_audit"]
        missing = s["missing_evidence"]
        if last is None:
            unaudited = True
            parts.append(f"{s['name']}: never audited")
        else:
            failing |= not last["passed"]
            parts.append(f"{s['name']}: {last['unsafe_ratio']:.2%} unsafe of {last['items']} items, "
                         f"{'passed' if last['passed'] else 'FAILED'} ({last['finished_at'][:10]}, "
                         f"audit {last['audit_id'][:8]})")
        if missing:
            failing = True
            parts[-1] += f"; missing evidence: {', '.join(missing)}"
    status: Status = "failing" if failing else ("configured" if unaudited else "working")
    return Evidence("corpus.audit", status, "; ".join(parts))


@evidence_for("corpus.annotation")
def corpus_annotation(ctx: HeguiContext) -> Evidence:
    """Sample checks of annotation accuracy per batch."""
    acc = annotation_accuracy(ctx)
    batches = acc["batches"]
    if not batches:
        return Evidence("corpus.annotation", "not_configured",
                        "no annotation batch imported (`hegui corpus annotation import`)")
    checked = {b: v for b, v in batches.items() if v["checked"]}
    if not checked:
        return Evidence("corpus.annotation", "configured",
                        f"{len(batches)} batch(es) imported, none sample-checked yet (`hegui corpus annotation check`)")
    detail = "; ".join(f"{b}: {v['accuracy']:.1%} of {v['checked']} checked" for b, v in checked.items())
    unchecked = len(batches) - len(checked)
    if unchecked:
        detail += f"; {unchecked} batch(es) not yet checked"
    return Evidence("corpus.annotation", "working", detail)
