"""``run_audit``: plan shards, run the steps on a backend, dedup and sample globally, gate, report, record.

The database gets one ``corpus_audit`` row per run (status ``running`` until the report is written),
one ``corpus_audit_source`` row per source (what obligation O2 shows) and the review-sample items.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import delete, insert, select

from hegui.corpus import pipeline as pl
from hegui.corpus.readers import SHARD_BYTES, Shard, merge_file_stats, missing_paths, plan_shards
from hegui.corpus.report import auto_gates, review_gates, source_gates, unsafe_estimate, write_report
from hegui.corpus.sources import _describe, _get
from hegui.corpus.steps import EngineFactory, SafetyScan, ScannerFactory, Step, default_steps
from hegui.errors import InvalidInputError
from hegui.store.models.corpus import CorpusAudit, CorpusAuditSource, CorpusReviewItem

if TYPE_CHECKING:
    from hegui.context import HeguiContext

Backend = Literal["local", "ray"]
REVIEW_COLUMNS = ("audit_id", "item_key", "source", "auto_unsafe", "pii", "text", "verdict", "reviewer", "note")


@dataclass(frozen=True)
class AuditOptions:
    text_field: str = "text"
    backend: Backend = "local"
    workers: int | None = None
    clean: pl.CleanMode | None = None
    resume: bool = False
    address: str | None = None
    near_threshold: float = 0.8
    batch_size: int = 256
    shard_bytes: int = SHARD_BYTES
    classifier_share: float = 1.0  # the embedded classifier on this pseudo-random share of items (0, 1]


def _fingerprint(inputs: list[tuple[str, str]], opts: AuditOptions, plan: pl.AuditPlan, pack: str) -> str:
    blob = json.dumps([[(s, os.path.abspath(p)) for s, p in inputs], opts.text_field, opts.clean,
                       plan.sample_size, plan.near_threshold, plan.mask_mode, pack, opts.shard_bytes,
                       opts.classifier_share], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def run_audit(ctx: HeguiContext, inputs: list[tuple[str, str]], out_dir: str | Path, opts: AuditOptions,
              factory: ScannerFactory | None = None) -> dict[str, Any]:
    """Audit ``inputs`` (``(source name, path)`` pairs) into ``out_dir``; returns the report."""
    pack = ctx.pack
    g = pack.figures.corpus
    if not inputs:
        raise InvalidInputError("no input paths given")
    gone = missing_paths(inputs)
    if gone:
        raise InvalidInputError(f"input path does not exist: {gone[0]}")
    if not 0 < opts.classifier_share <= 1:
        raise InvalidInputError(f"classifier share {opts.classifier_share}: expected a number in (0, 1]")
    if opts.classifier_share < 1 and pack.moderation.signals == "lexicon_and_classifier":
        raise InvalidInputError(f"pack {pack.name}: moderation.signals is lexicon_and_classifier (a keyword hit "
                                "counts only when the classifier agrees), so every item needs the classifier; "
                                "use classifier share 1")
    with ctx.db.session() as s:
        sources = {name: _describe(s, _get(s, name)) for name in dict.fromkeys(n for n, _ in inputs)}
    out = os.path.abspath(out_dir)
    plan = pl.AuditPlan(out, opts.clean, g.manual_sample_min, pack.moderation.pii.mask_mode, opts.batch_size,
                        opts.near_threshold)
    shards = plan_shards(inputs, opts.text_field, opts.shard_bytes)
    fp = _fingerprint(inputs, opts, plan, f"{pack.name}@{pack.version}")
    # only the work depends on the cutoff (each shard records its own), so it is not in the fingerprint
    plan = replace(plan, sample_cutoff=pl.sample_cutoff(shards, plan.sample_size))
    run_file = os.path.join(plan.work_dir, "run.json")
    audit_id: str | None = None
    if opts.resume and os.path.isfile(run_file):
        with open(run_file, encoding="utf-8") as fh:
            run = json.load(fh)
        if run.get("fingerprint") != fp:
            raise InvalidInputError(f"{out}: the interrupted audit there used other inputs or options; "
                                    "run without --resume to start afresh")
        audit_id = str(run["audit_id"])
    if audit_id is None:
        if os.path.isdir(plan.work_dir):
            shutil.rmtree(plan.work_dir)
        os.makedirs(plan.work_dir)
        audit_id = str(uuid.uuid4())
        with open(run_file, "w", encoding="utf-8") as fh:
            json.dump({"audit_id": audit_id, "fingerprint": fp}, fh)
    with ctx.db.session() as s:
        if s.get(CorpusAudit, audit_id) is None:
            s.add(CorpusAudit(id=audit_id, status="running", backend=opts.backend, out_dir=out, items=0, unsafe=0))

    steps: list[Step] = default_steps(factory or EngineFactory.from_settings(ctx.settings), pack,
                                      opts.classifier_share)
    collector = pl.SampleCollector(plan.sample_size)
    done: dict[str, dict[str, Any]] = {}
    pending: list[Shard] = []
    for sh in shards:
        r = pl.load_checkpoint(sh, plan)
        if r is None:
            pending.append(sh)
        else:
            done[sh.id] = collector.add(r)
    workers = opts.workers or os.cpu_count() or 1
    if opts.backend == "ray":
        fresh = pl.run_ray(pending, steps, plan, workers, opts.address, collector.add)
    else:
        fresh = pl.run_local(pending, steps, plan, workers, collector.add)
    results = pl.ordered_results(shards, [*done.values(), *fresh])
    glob = pl.run_phase2(shards, results, plan, collector)
    outputs: dict[str, Any] = {"report_json": os.path.join(out, "report.json"),
                               "report_html": os.path.join(out, "report.html")}
    if opts.clean:
        counts = pl.write_clean(shards, results, plan, glob.exact_dup, glob.near_dup, glob.offsets)
        outputs.update({"clean_dir": os.path.join(out, "clean"), "rejects": os.path.join(out, "rejects.jsonl"),
                        **counts})
    outputs.update(_write_sample(out, audit_id, glob.sample))
    detectors = _detector_names(steps)
    report = build_report(ctx, audit_id, opts, shards, results, glob, sources, detectors, outputs,
                          resumed=len(shards) - len(pending))
    _record(ctx, audit_id, report, glob.sample)
    write_report(report, out)
    return report


def _detector_names(steps: list[Step]) -> list[str]:
    for st in steps:
        if isinstance(st, SafetyScan):
            dets = getattr(st.engine, "detectors", None)
            if dets is not None:
                return [str(getattr(d, "name", type(d).__name__)) for d in dets]
    return []


def _write_sample(out: str, audit_id: str, sample: list[dict[str, Any]]) -> dict[str, Any]:
    """The reviewers' form: CSV (opens in Excel/WPS) and JSONL, one row per item, verdict left empty."""
    csv_path, jsonl_path = os.path.join(out, "review_sample.csv"), os.path.join(out, "review_sample.jsonl")
    with open(csv_path, "w", encoding="utf-8-sig", newline="") as cf, \
            open(jsonl_path, "w", encoding="utf-8") as jf:
        w = csv.writer(cf)
        w.writerow(REVIEW_COLUMNS)
        for e in sample:
            row = {"audit_id": audit_id, "item_key": e["key"], "source": e["source"],
                   "auto_unsafe": ",".join(e["auto_unsafe"]), "pii": ",".join(e["pii"]), "text": e["text"],
                   "verdict": "", "reviewer": "", "note": ""}
            w.writerow([row[c] for c in REVIEW_COLUMNS])
            jf.write(json.dumps(row, ensure_ascii=False) + "\n")
    return {"review_sample_csv": csv_path, "review_sample_jsonl": jsonl_path, "review_sample_size": len(sample)}


def build_report(ctx: HeguiContext, audit_id: str, opts: AuditOptions, shards: list[Shard],
                 results: list[dict[str, Any]], glob: pl.GlobalResult, sources: dict[str, dict[str, Any]],
                 detectors: list[str], outputs: dict[str, Any], resumed: int = 0) -> dict[str, Any]:
    pack = ctx.pack
    g = pack.figures.corpus
    per: dict[str, pl.Tally] = {name: pl.Tally() for name in sources}
    files: dict[str, list[dict[str, Any]]] = {name: [] for name in sources}
    for r in results:
        per[r["source"]].merge(pl.Tally.from_dict(r["tally"]))
        files[r["source"]].extend(r["files"])
    for name in files:
        files[name] = [{**f, "problems": _problems(f)} for f in merge_file_stats(files[name])]
    total = pl.Tally()
    findings: list[dict[str, Any]] = []
    out_sources = []
    for name, info in sources.items():
        t = per[name]
        total.merge(t)
        exact, near = glob.dup_by_source.get(name, (0, 0))
        est = _estimate(t, opts.classifier_share)
        gates = source_gates(t.items, t.unsafe, info["missing_evidence"], g, est)
        passed = all(gt["passed"] is True for gt in gates.values())
        out_sources.append({
            "name": name, "kind": info["kind"], "licence": info["licence"], **t.to_dict(),
            "unsafe_ratio": est["ratio"], "unsafe_estimate": est,
            "pii_ratio": (t.pii_docs / t.items) if t.items else None,
            "exact_duplicates": exact, "near_duplicates": near,
            "evidence": {"present": sorted({e["kind"] for e in info["evidence"]}),
                         "missing": info["missing_evidence"]},
            "files": files[name], "gates": gates, "passed": passed})
        for ev in info["missing_evidence"]:
            findings.append({"severity": "high", "source": name,
                             "message": f"missing provenance evidence: {ev} (required for {info['kind']} sources)"})
        ug = gates["unsafe_ratio"]
        kind = "estimated unsafe ratio" if est["estimated"] else "unsafe ratio"
        if ug["passed"] is False:
            findings.append({"severity": "high", "source": name,
                             "message": f"{kind} {ug['value']:.2%} exceeds {ug['threshold']:.0%}: "
                                        "do not collect / do not train on this source"})
        elif ug["passed"] is None and t.items:
            findings.append({"severity": "high", "source": name, "message": f"unsafe ratio unknown: {est['text']}"})
        if t.restricted:
            findings.append({"severity": "medium", "source": name,
                             "message": f"{t.restricted} item(s) carry a no-reprint / all-rights-reserved notice "
                                        "(IP, A3.1): check the licence covers training"})
        if t.pii_docs:
            findings.append({"severity": "medium", "source": name,
                             "message": f"{t.pii_docs} item(s) contain personal information: consent or "
                                        "masking needed (PIPL; Measures Art 7)"})
        if t.scan_incomplete:
            failed = ", ".join(f"{d} ({n})" for d, n in sorted(t.scan_errors.items()))
            findings.append({"severity": "high", "source": name,
                             "message": f"{t.scan_incomplete} item(s) were not fully scanned: detector(s) failed: "
                                        f"{failed}"})
        bad = [f for f in files[name] if f["problems"]]
        if bad:
            findings.append({"severity": "low", "source": name,
                             "message": f"{len(bad)} file(s) had unreadable or unusable records "
                                        "(see the per-file table)"})
    total_exact = int(glob.exact_dup.sum())
    total_near = int(glob.near_dup.sum())
    total_est = _estimate(total, opts.classifier_share)
    gates = {**review_gates(total.items, len(glob.sample), 0, 0, g),
             **auto_gates(total.items, total.classified, total.unsafe, detectors, g, total_est)}
    if total_est["estimated"]:
        findings.append({"severity": "medium", "source": None,
                         "message": f"the classifier ran on {total.classified} of {total.items} items "
                                    f"(--classifier-share {opts.classifier_share:g}); unsafe ratios are "
                                    "estimates, and the cleaned corpus drops classifier-only unsafe items only "
                                    "among those"})
    return {
        "audit_id": audit_id, "generated_at": _now().isoformat(), "backend": opts.backend,
        "pack": {"name": pack.name, "version": pack.version, "clause": g.clause},
        "thresholds": g.model_dump(),
        "options": {"text_field": opts.text_field, "clean": opts.clean, "near_threshold": opts.near_threshold,
                    "classifier_share": opts.classifier_share},
        "shards": {"total": len(shards), "resumed": resumed},
        "detectors": detectors,
        "totals": {**total.to_dict(), "unsafe_ratio": total_est["ratio"], "unsafe_estimate": total_est,
                   "exact_duplicates": total_exact, "near_duplicates": total_near,
                   "files": sum(map(len, files.values()))},
        "sources": out_sources,
        "gates": gates,
        "passed": all(s["passed"] for s in out_sources) and all(gt["passed"] is True for gt in gates.values()),
        "review": {"sample_size": len(glob.sample), "reviewed": 0, "passed": 0},
        "findings": findings,
        "outputs": outputs,
    }


def _estimate(t: pl.Tally, share: float) -> dict[str, Any]:
    return unsafe_estimate(t.items, t.unsafe, t.keyword_unsafe, t.classified, t.classifier_only_unsafe, share)


def _problems(f: dict[str, Any]) -> int:
    return int(f["broken"] + f["bad_encoding"] + f["missing_text"] + f["empty_text"] + int(f["empty_file"])
               + int(f["error"] is not None))


def _record(ctx: HeguiContext, audit_id: str, report: dict[str, Any], sample: list[dict[str, Any]]) -> None:
    now = _now()
    with ctx.db.session() as s:
        audit = s.get(CorpusAudit, audit_id)
        assert audit is not None
        audit.status, audit.items, audit.unsafe = "done", report["totals"]["items"], report["totals"]["unsafe"]
        audit.finished_at, audit.report = now, report
        s.execute(delete(CorpusAuditSource).where(CorpusAuditSource.audit_id == audit_id))
        s.execute(delete(CorpusReviewItem).where(CorpusReviewItem.audit_id == audit_id))
        for src in report["sources"]:
            sid = _get(s, src["name"]).id
            s.add(CorpusAuditSource(audit_id=audit_id, source_id=sid, items=src["items"], unsafe=src["unsafe"],
                                    unsafe_ratio=src["unsafe_ratio"] or 0.0, passed=src["passed"], finished_at=now))
        if sample:  # one executemany: thousands of ORM objects would cost more than the rest of this record
            s.execute(insert(CorpusReviewItem),
                      [{"audit_id": audit_id, "item_key": e["key"][:512], "source": e["source"]} for e in sample])


def latest_audit_id(ctx: HeguiContext) -> str | None:
    with ctx.db.session() as s:
        return s.scalar(select(CorpusAudit.id).where(CorpusAudit.status == "done")
                        .order_by(CorpusAudit.finished_at.desc()).limit(1))
