"""Evidence for the self-assessment clauses, pulled live from this installation.

Each source answers with an ``Item``: ``ok`` (present and good), ``missing`` (nothing to show) or
``failing`` (present and bad), and a one-line detail. Nothing is assumed: a source that cannot be
read is ``missing`` and says why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from hegui.assess.banks import bank_stats
from hegui.assess.service import banks_in_force, last_run
from hegui.context import HeguiContext
from hegui.errors import HeguiError, InvalidInputError
from hegui.obligations import ObligationStatus, report
from hegui.policy.taxonomy import APPENDIX_A_CODES

ItemStatus = Literal["ok", "missing", "failing", "declared"]
RATINGS = ("符合", "不符合", "不适用")


@dataclass(frozen=True, slots=True)
class Item:
    key: str
    status: ItemStatus
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"key": self.key, "status": self.status, "detail": self.detail}


@dataclass
class Declarations:
    """The operator's own statements (``--declarations FILE``): facts and per-clause statements."""

    facts: dict[str, str] = field(default_factory=dict)
    clauses: dict[str, dict[str, str]] = field(default_factory=dict)
    source: str | None = None

    @classmethod
    def load(cls, path: Path | None) -> Declarations:
        if path is None:
            return cls()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
            raise InvalidInputError(f"{path}: cannot read declarations: {err}".replace("\n", " ")) from None
        if not isinstance(data, dict) or set(data) - {"facts", "clauses"}:
            raise InvalidInputError(f"{path}: expected a mapping with 'facts' and/or 'clauses'")
        facts = data.get("facts") or {}
        clauses = data.get("clauses") or {}
        if not isinstance(facts, dict) or not isinstance(clauses, dict):
            raise InvalidInputError(f"{path}: 'facts' and 'clauses' must be mappings")
        out: dict[str, dict[str, str]] = {}
        for cid, spec in clauses.items():
            if not isinstance(spec, dict) or spec.get("status") not in RATINGS:
                raise InvalidInputError(f"{path}: clauses.{cid}: needs status 符合, 不符合 or 不适用")
            text = str(spec.get("statement") or spec.get("reason") or "").strip()
            if not text:
                raise InvalidInputError(f"{path}: clauses.{cid}: needs a statement (or reason for 不适用)")
            out[str(cid)] = {"status": str(spec["status"]), "statement": text}
        return cls({str(k): str(v) for k, v in facts.items() if v not in (None, "")}, out, str(path))


def _pct(x: Any) -> str:
    return f"{x * 100:.1f}%" if isinstance(x, (int, float)) else "—"


class EvidenceBook:
    """Everything the filing documents cite, gathered once per build."""

    def __init__(self, ctx: HeguiContext, declarations: Declarations, assessment_dir: Path | None = None) -> None:
        self.ctx = ctx
        self.decl = declarations
        self.obligations: list[ObligationStatus] = report(ctx)
        self.controls = {e.control: e for o in self.obligations for e in o.controls}
        self.assessment = self._load_assessment(assessment_dir)
        self.banks = bank_stats(banks_in_force(ctx), ctx.pack)
        self.lexicon = self._lexicon_stats()
        self.classifier_labels, self.classifier_problem = self._classifier_labels()

    # --- gathering ------------------------------------------------------------------------------
    def _load_assessment(self, folder: Path | None) -> dict[str, Any] | None:
        if folder is not None:
            path = folder / "assessment.json"
            if not path.is_file():
                raise InvalidInputError(f"--assessment {folder}: no assessment.json (run `hegui assess run` first)")
            try:
                doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as err:
                raise InvalidInputError(f"{path}: not valid JSON: {err.msg}") from None
            if not isinstance(doc, dict) or "metrics" not in doc or "checks" not in doc:
                raise InvalidInputError(f"{path}: not a hegui assessment.json")
            doc["_dir"] = str(folder)
            return doc
        run = last_run(self.ctx)
        if run is None:
            return None
        path = Path(run.out_dir) / "assessment.json"
        if path.is_file():
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("run_id") == run.run_id:
                doc["_dir"] = run.out_dir
                return doc
        # the folder moved: the database row still carries the figures
        return {"run_id": run.run_id, "model": run.model, "endpoint": run.endpoint, "metrics": run.metrics,
                "thresholds": run.thresholds, "checks": run.checks, "passed": run.passed,
                "passed_automatic": run.passed_automatic, "scored_at": run.scored_at.isoformat(),
                "answered": run.answered, "bank_version": run.bank_version, "_dir": None}

    def _lexicon_stats(self) -> dict[str, Any] | None:
        try:
            from hegui.detect.lexicon.service import LexiconService
        except ImportError:
            return None
        stats: dict[str, Any] = LexiconService(self.ctx).stats().to_dict()
        return stats

    @staticmethod
    def _classifier_labels() -> tuple[tuple[str, ...] | None, str]:
        try:
            from hegui.detect.classifier import EmbeddedClassifier

            return tuple(EmbeddedClassifier.load_default().labels), ""
        except (ImportError, OSError, ValueError, KeyError, HeguiError) as err:
            return None, f"no embedded classifier available: {err}"

    # --- facts ----------------------------------------------------------------------------------
    def fact(self, name: str) -> str | None:
        p = self.ctx.settings.provider.model_dump()
        value = p.get(name) if name in p else None
        if value in (None, ""):
            value = self.decl.facts.get(name)
        return None if value in (None, "") else str(value)

    # --- items ----------------------------------------------------------------------------------
    def item(self, key: str, clause_id: str) -> Item:
        kind, _, arg = key.partition(":")
        if kind == "control":
            ev = self.controls.get(arg)
            if ev is None:
                return Item(key, "missing", "control not in the obligation registry")
            status: ItemStatus = ("ok" if ev.status == "working" else "failing" if ev.status == "failing"
                                  else "missing")
            return Item(key, status, f"{ev.status}: {ev.detail}")
        if kind == "fact":
            v = self.fact(arg)
            return Item(key, "ok" if v else "missing", v or f"provider fact '{arg}' not given")
        if kind == "declaration":
            d = self.decl.clauses.get(clause_id)
            if d is None:
                return Item(key, "missing", "operator declaration needed (declarations file, clauses."
                            f"{clause_id})")
            st: ItemStatus = "declared" if d["status"] != "不符合" else "failing"
            return Item(key, st, f"operator declares {d['status']}: {d['statement']}")
        if key == "check:lexicon":
            return self._lexicon_item()
        if key == "check:classifier":
            if self.classifier_labels is None:
                return Item(key, "missing", self.classifier_problem)
            missing = [c for c in APPENDIX_A_CODES if c not in self.classifier_labels]
            if missing:
                return Item(key, "failing", f"classifier lacks {len(missing)} risk(s): {', '.join(missing)}")
            return Item(key, "ok", f"classifier covers all {len(APPENDIX_A_CODES)} Appendix A risks")
        if kind == "check" and arg.startswith("bank:"):
            return self._bank_item(key, arg.split(":", 1)[1])
        if kind == "check" and arg.startswith("assess:"):
            return self._assess_item(key, arg.split(":", 1)[1])
        return Item(key, "missing", "unknown evidence source")

    def _lexicon_item(self) -> Item:
        key = "check:lexicon"
        s = self.lexicon
        if s is None:
            return Item(key, "missing", "lexicon service not available")
        below = [r["code"] for r in s["risks"] if r["status"] == "below minimum"]
        slots = [r["code"] for r in s["risks"] if r["status"].startswith("operator slot")]
        detail = f"{s['total']} terms (minimum {s['min_total']}), version {s['version']}"
        if below:
            detail += f"; below minimum: {', '.join(below)}"
        if slots:
            detail += f"; operator slot empty: {', '.join(slots)}"
        ok = s["total_ok"] and not below and not slots
        return Item(key, "ok" if ok else ("missing" if s["total"] == 0 else "failing"), detail)

    def _bank_item(self, key: str, bank: str) -> Item:
        st = next((b for b in self.banks if b.bank == bank), None)
        if st is None:
            return Item(key, "missing", f"no {bank} bank")
        short = [c.key for c in st.coverage if c.status == "short"]
        slots = [c.key for c in st.coverage if c.status == "operator slot"]
        detail = f"{st.total} questions (minimum {st.minimum})"
        if short:
            detail += f"; below minimum: {', '.join(short)}"
        if slots:
            detail += f"; operator slot (operator supplies questions): {', '.join(slots)}"
        return Item(key, "ok" if st.meets_minimums else "failing", detail)

    def _assess_item(self, key: str, name: str) -> Item:
        a = self.assessment
        if a is None:
            return Item(key, "missing", "no assessment recorded (`hegui assess run`)")
        c = next((c for c in a["checks"] if c["name"] == name), None)
        if c is None or not c["n"]:
            return Item(key, "missing", f"assessment {a['run_id'][:8]}: no {name} data"
                        + (" (manual review pending)" if name == "manual" else ""))
        detail = (f"assessment {a['run_id'][:8]} ({a['model']}, {str(a['scored_at'])[:10]}): {_pct(c['rate'])} "
                  f"of {c['n']} ({c['op']} {_pct(c['threshold'])}, sample ≥ {c['sample_min']})")
        if c["passed"]:
            return Item(key, "ok", detail)
        why = "sample too small" if c["meets_threshold"] else "threshold not met"
        return Item(key, "failing", f"{detail} — {why}")


@dataclass
class ClauseRating:
    id: str
    section: str
    title: str
    requirement: str
    rating: str
    items: list[Item]
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "section": self.section, "title": self.title, "requirement": self.requirement,
                "rating": self.rating, "note": self.note, "evidence": [i.to_dict() for i in self.items]}


def load_clauses() -> list[dict[str, Any]]:
    from importlib import resources

    text = resources.files("hegui.filing").joinpath("clauses.yaml").read_text(encoding="utf-8")
    data: list[dict[str, Any]] = yaml.safe_load(text)
    return data


def rate_clauses(book: EvidenceBook) -> list[ClauseRating]:
    """Rate every clause: 不适用 only when declared with a reason; 符合 only when every item is good."""
    out = []
    for c in load_clauses():
        items = [book.item(k, c["id"]) for k in c["evidence"]]
        decl = book.decl.clauses.get(c["id"])
        if decl is not None and decl["status"] == "不适用":
            rating, note = "不适用", f"operator declares not applicable: {decl['statement']}"
        elif all(i.status in ("ok", "declared") for i in items):
            rating, note = "符合", ""
        else:
            rating = "不符合"
            missing = [i.key for i in items if i.status == "missing"]
            failing = [i.key for i in items if i.status == "failing"]
            parts = []
            if missing:
                parts.append("evidence missing: " + ", ".join(missing))
            if failing:
                parts.append("failing: " + ", ".join(failing))
            note = "; ".join(parts)
        out.append(ClauseRating(c["id"], c["section"], c["title"], c["requirement"], rating, items, note))
    return out
