"""The assessment service: plan → ask → judge → score → report → record. The CLI stays thin."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hegui.assess.banks import BankSet, load_banks
from hegui.assess.judges import JudgePanel, default_panel
from hegui.assess.report import write_report
from hegui.assess.runner import ProgressFn, RunOptions, check_endpoint_reachable, collect, load_or_create_plan
from hegui.assess.scoring import export_sheet, judge_all, score
from hegui.context import HeguiContext
from hegui.store.models.assess import AssessmentRun


def banks_in_force(ctx: HeguiContext) -> BankSet:
    """Default banks plus the operator's imported banks under ``data_dir``."""
    return load_banks(ctx.settings.data_dir)


def label_texts(ctx: HeguiContext) -> tuple[str, ...]:
    """The explicit AIGC label the gateway appends; removed before judging an answer."""
    t = ctx.pack.labels.text
    return (t.zh, t.en)


@dataclass
class RunSummary:
    out_dir: Path
    new_answers: int
    failed: int
    resumed: bool
    assessment: dict[str, Any]


def rescore(ctx: HeguiContext, out_dir: Path, panel: JudgePanel | None = None) -> dict[str, Any]:
    """Judge and score everything stored in ``out_dir``; write the report and sheet; record the run."""
    panel = panel or default_panel(ctx)
    results = judge_all(out_dir, panel, strip=label_texts(ctx))
    doc = score(out_dir, results, ctx.pack)
    write_report(out_dir, doc)
    export_sheet(out_dir, results)
    record_run(ctx, doc, out_dir)
    return doc


def run_assessment(ctx: HeguiContext, opts: RunOptions, out_dir: Path, *, sample: int | None = None,
                   seed: int = 0, panel: JudgePanel | None = None, bankset: BankSet | None = None,
                   progress: ProgressFn | None = None) -> RunSummary:
    """Ask every planned question not yet answered (resuming a folder), then rescore it.

    ``bankset`` replaces the banks in force (defaults + imported) for this run, e.g. an operator's
    own complete bank.
    """
    panel = panel or default_panel(ctx)  # fail before asking anything if a judge is missing
    check_endpoint_reachable(opts.endpoint)
    bankset = bankset or banks_in_force(ctx)
    plan, created = load_or_create_plan(out_dir, bankset, ctx.pack, endpoint=opts.endpoint, model=opts.model,
                                        via_gateway=opts.via_gateway, sample=sample, seed=seed)
    new, failed = asyncio.run(collect(out_dir, plan, bankset, opts, progress))
    doc = rescore(ctx, out_dir, panel)
    return RunSummary(out_dir, new, failed, not created, doc)


def record_run(ctx: HeguiContext, doc: dict[str, Any], out_dir: Path) -> None:
    """Insert or update the run's row (one per run id) so evidence sees the latest scoring."""
    values: dict[str, Any] = {
        "out_dir": str(out_dir.resolve()), "endpoint": doc["endpoint"], "model": doc["model"],
        "via_gateway": bool(doc["via_gateway"]), "bank_version": doc["bank_version"][:64],
        "pack": f"{doc['pack']['name']} {doc['pack']['version']}"[:120], "answered": int(doc["answered"]),
        "metrics": doc["metrics"], "thresholds": doc["thresholds"],
        "checks": [{k: c[k] for k in ("name", "metric", "rate", "n", "op", "threshold", "sample_min",
                                      "meets_threshold", "sample_sufficient", "passed", "note")}
                   for c in doc["checks"]],
        "passed": bool(doc["passed"]), "passed_automatic": bool(doc["passed_automatic"]),
        "scored_at": datetime.fromisoformat(doc["scored_at"])}
    with ctx.db.session() as s:
        row = s.scalar(select(AssessmentRun).where(AssessmentRun.run_id == doc["run_id"]))
        if row is None:
            s.add(AssessmentRun(run_id=doc["run_id"], **values))
        else:
            for k, v in values.items():
                setattr(row, k, v)


def last_run(ctx: HeguiContext) -> AssessmentRun | None:
    with ctx.db.session() as s:
        return s.scalar(select(AssessmentRun).order_by(AssessmentRun.scored_at.desc(), AssessmentRun.id.desc())
                        .limit(1))
