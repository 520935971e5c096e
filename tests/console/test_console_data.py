"""Dashboard figures from the real audit log, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from consolekit import SEED_TERMS, seed_history

from hegui.audit.log import export
from hegui.console import data
from hegui.context import HeguiContext
from hegui.identity import accounts


def test_dashboard_counts_match_the_log_day_by_day(ctx: HeguiContext) -> None:
    uid = accounts.create_user(ctx.db, "u").user_id
    n = seed_history(ctx, [uid], days=5)
    tz = ZoneInfo(ctx.pack.minors.timezone)
    d = data.dashboard(ctx, days=7)
    rows = list(export(ctx.db, None))
    per_day: Counter[str] = Counter()
    for r in rows:
        ts = datetime.strptime(r["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        per_day[ts.astimezone(tz).date().isoformat()] += 1
    assert d.total == n == len(rows)
    assert d.traffic == [per_day.get(day, 0) for day in d.days]
    blocked = sum(1 for r in rows if r["decision"] in ("refuse", "block"))
    assert d.refusals == blocked
    flagged_a1 = [sum(1 for r in rows if r["decision"] != "allow" and any(c.startswith("A1") for c in r["categories"])
                      and datetime.strptime(r["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).astimezone(tz)
                      .date().isoformat() == day) for day in d.days]
    assert d.flagged_by_cat.get("A1", [0] * 7) == flagged_a1


def test_top_terms_come_from_the_flagged_exchanges_findings(ctx: HeguiContext) -> None:
    uid = accounts.create_user(ctx.db, "u").user_id
    seed_history(ctx, [uid], days=3)
    terms = dict(data.top_terms(ctx, datetime.now(UTC) - timedelta(days=4)))
    assert terms and set(terms) <= {t for t, _ in SEED_TERMS}
    rows = [r for r in export(ctx.db, ctx.keys, decrypt=True) if r["decision"] != "allow"]
    expected = Counter(f["match"] for r in rows for f in r["content"]["input_decision"]["findings"])
    assert terms == dict(expected.most_common(10))


def test_highlight_escapes_text_and_marks_each_span() -> None:
    html = str(data.highlight("<b>a 炸药 b", [{"start": 5, "end": 7, "detector": "lexicon", "category": "A1.4"}]))
    assert html.startswith("&lt;b&gt;a ") and '<mark class="hit"' in html and ">炸药</mark> b" in html


def test_last_corpus_audit_and_assessment_are_the_newest_rows(ctx: HeguiContext) -> None:
    from hegui.store.models.assess import AssessmentRun
    from hegui.store.models.corpus import CorpusAudit

    now = datetime.now(UTC)
    with ctx.db.session() as s:
        for i, passed in enumerate((True, False)):
            s.add(CorpusAudit(id=f"audit-{i}", status="done", backend="local", out_dir="/x", items=1000, unsafe=3 + i,
                              finished_at=now + timedelta(minutes=i), report={"passed": passed},
                              created_at=now + timedelta(minutes=i)))
            s.add(AssessmentRun(run_id=f"run-{i}", out_dir="/x", endpoint="http://m", model=f"m{i}",
                                via_gateway=True, bank_version="1", pack="cn-genai", answered=100, metrics={},
                                thresholds={}, checks=[{"passed": True}, {"passed": passed}], passed=passed,
                                passed_automatic=passed, scored_at=now + timedelta(minutes=i)))
    corpus, run = data.last_corpus_audit(ctx), data.last_assessment(ctx)
    assert corpus is not None and corpus["id"] == "audit-1" and corpus["passed"] is False and corpus["unsafe"] == 4
    assert run is not None and run["model"] == "m1" and run["passed"] is False and run["failed_checks"] == 1
