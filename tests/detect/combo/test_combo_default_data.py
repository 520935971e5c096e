"""Quality of the shipped proximity rules (``hegui/detect/combo/data``).

The rules must add no hit to the lexicon's benign look-alike corpus, none to the combo evaluation
set's benign lines, and must keep finding the paraphrased harmful lines they were written for
(the evaluation set in ``tests/data/combo_eval``; bench/combo.py reports the figures).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from hegui.detect.combo import ComboDetector, default_rules
from hegui.detect.combo.rules import RuleSet
from hegui.policy.taxonomy import RISKS

TESTDATA = Path(__file__).resolve().parents[2] / "data"
EVAL = TESTDATA / "combo_eval"
POLITICAL = {code for code, risk in RISKS.items() if risk.political}


def _lines(path: Path) -> list[str]:
    return [ln for ln in path.read_text(encoding="utf-8").split("\n") if ln.strip() and not ln.startswith("#")]


def benign(path: Path) -> list[tuple[tuple[str, ...], str]]:
    """``(directions, text)``: ``output<TAB>text`` is a model answer, other lines are checked both ways."""
    out = []
    for ln in _lines(path):
        head, tab, text = ln.partition("\t")
        out.append((("output",), text) if tab and head == "output" else (("input", "output"), ln))
    return out


def harmful(path: Path) -> list[tuple[str, str, str]]:
    return [tuple(ln.split("\t")) for ln in _lines(path)]  # type: ignore[misc]


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return default_rules()


@pytest.fixture(scope="module")
def det(rules: RuleSet) -> ComboDetector:
    return ComboDetector(rules)


def test_shipped_rules_load_and_cover_the_universal_harms(rules: RuleSet) -> None:
    cats = Counter(r.category for r in rules.rules)
    assert len(rules.rules) >= 150
    assert {"A1.4", "A1.6", "A1.8", "A4.1", "A4.5", "J"} <= set(cats)
    assert {r.lang for r in rules.rules} == {"zh", "en"}


def test_no_shipped_rule_targets_a_political_slot(rules: RuleSet) -> None:
    assert not [r.id for r in rules.rules if r.category in POLITICAL]


def test_rule_ids_are_namespaced_by_language(rules: RuleSet) -> None:
    assert not [r.id for r in rules.rules if not r.id.startswith(f"{r.lang}.")]


def test_no_hit_on_the_lexicon_benign_lookalike_corpus(det: ComboDetector) -> None:
    hits = [(d, t, [f.rule for f in det.detect(t, d)]) for ds, t in benign(TESTDATA / "benign_lookalikes.txt")
            for d in ds if det.detect(t, d)]
    assert hits == []


def test_no_hit_on_the_combo_benign_set(det: ComboDetector) -> None:
    lines = benign(EVAL / "benign.txt")
    assert len(lines) >= 1000
    hits = [(d, t, [f.rule for f in det.detect(t, d)]) for ds, t in lines for d in ds if det.detect(t, d)]
    assert hits == []


def test_paraphrased_harmful_lines_are_found_with_their_risk(det: ComboDetector) -> None:
    lines = harmful(EVAL / "harmful.tsv")
    assert len(lines) >= 300
    missed = [(code, text) for code, direction, text in lines
              if code not in {f.category for f in det.detect(text, direction)}]  # type: ignore[arg-type]
    assert len(missed) <= len(lines) // 50, missed  # at least 98 % of the set the rules were written for
