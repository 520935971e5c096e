"""Held-out evaluation: per-category precision/recall and the false-refusal rate on benign text."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hegui.detect.classifier.dataset import EVERYDAY_KIND, Example

# Benign texts with a word that a naive filter would trip on: the look-alikes.
LOOKALIKE = re.compile(
    r"炸|杀|毒|枪|爆|攻|击|诈骗|自杀|抑郁|病毒|恐怖|歧视|烈士|英雄|药|癌|黑客|举报|侵权|谣言|传销|霸凌|"
    r"kill|bomb|attack|shoot|virus|suicid|depress|terror|scam|phish|drug|crush|execute|headshot|racis|"
    r"discriminat|chemo|cancer|fire|murder|hack|penetration|plagiar|pyramid|bull", re.I)


@dataclass(frozen=True, slots=True)
class CategoryRow:
    code: str
    support: int
    predicted: int
    true_positive: int

    @property
    def precision(self) -> float:
        return self.true_positive / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.true_positive / self.support if self.support else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class Report:
    rows: list[CategoryRow]
    harmful: int
    harmful_flagged: int
    benign: int
    benign_flagged: int
    lookalike: int
    lookalike_flagged: int
    everyday: int = 0
    everyday_flagged: int = 0

    @property
    def everyday_false_refusal_rate(self) -> float:
        return self.everyday_flagged / self.everyday if self.everyday else 0.0

    @property
    def macro_f1(self) -> float:
        rows = [r for r in self.rows if r.support]
        return sum(r.f1 for r in rows) / len(rows) if rows else 0.0

    @property
    def false_refusal_rate(self) -> float:
        return self.benign_flagged / self.benign if self.benign else 0.0

    @property
    def lookalike_false_refusal_rate(self) -> float:
        return self.lookalike_flagged / self.lookalike if self.lookalike else 0.0

    @property
    def harmful_recall(self) -> float:
        """Share of harmful examples flagged under ANY label (what refusal depends on)."""
        return self.harmful_flagged / self.harmful if self.harmful else 0.0

    def markdown(self) -> str:
        lines = ["| category | support | precision | recall | F1 |", "|---|---:|---:|---:|---:|"]
        for r in self.rows:
            lines.append(f"| {r.code} | {r.support} | {r.precision:.3f} | {r.recall:.3f} | {r.f1:.3f} |")
        lines.append("")
        lines.append(f"- macro F1 over categories: {self.macro_f1:.3f}")
        lines.append(f"- harmful texts flagged under any category: {self.harmful_flagged}/{self.harmful} "
                     f"({self.harmful_recall:.1%})")
        lines.append(f"- false-refusal rate, all benign: {self.benign_flagged}/{self.benign} "
                     f"({self.false_refusal_rate:.1%})")
        lines.append(f"- false-refusal rate, look-alike benign: {self.lookalike_flagged}/{self.lookalike} "
                     f"({self.lookalike_false_refusal_rate:.1%})")
        if self.everyday:
            lines.append(f"- false-refusal rate, everyday chat (greetings, short messages, codes): "
                         f"{self.everyday_flagged}/{self.everyday} ({self.everyday_false_refusal_rate:.2%})")
        return "\n".join(lines)


Predict = Callable[[Sequence[str]], npt.NDArray[np.float32]]


def evaluate(examples: Sequence[Example], labels: Sequence[str], predict: Predict,
             thresholds: dict[str, float] | float = 0.5) -> Report:
    """Score ``examples`` with ``predict`` (texts → probabilities in ``labels`` order) and tabulate.

    A benign example counts as falsely refused when any label other than ``J`` passes its threshold
    (benign examples wrapped in a jailbreak framing carry ``J`` on purpose). The everyday-chat examples
    are reported on their own line and kept out of the per-category rows and the other rates, so those
    stay comparable with models evaluated before the everyday set existed; there every label, ``J`` included,
    counts as a false refusal.
    """
    daily = [e for e in examples if e.kind == EVERYDAY_KIND]
    examples = [e for e in examples if e.kind != EVERYDAY_KIND]
    n_daily_flagged = 0
    if daily:
        dprobs = predict([e.text for e in daily])
        dthr = np.array([thresholds if isinstance(thresholds, float) else thresholds.get(c, 0.5) for c in labels])
        # no everyday example sits in a jailbreak framing, so a J score counts here too (the engine refuses J)
        n_daily_flagged = int((dprobs >= dthr).any(axis=1).sum())
    if not examples:
        return Report([], 0, 0, 0, 0, 0, 0, len(daily), n_daily_flagged)
    probs = predict([e.text for e in examples])
    thr = np.array([thresholds if isinstance(thresholds, float) else thresholds.get(c, 0.5) for c in labels])
    hit: npt.NDArray[np.bool_] = np.asarray(probs >= thr, dtype=bool)
    rows = []
    for j, code in enumerate(labels):
        truth = np.array([code in e.labels for e in examples])
        rows.append(CategoryRow(code, int(truth.sum()), int(hit[:, j].sum()), int((truth & hit[:, j]).sum())))
    non_j = np.array([c != "J" for c in labels])
    harmful = [i for i, e in enumerate(examples) if any(x != "J" for x in e.labels)]
    benign = [i for i, e in enumerate(examples) if not any(x != "J" for x in e.labels)]
    look = [i for i in benign if LOOKALIKE.search(examples[i].text)]
    flagged: npt.NDArray[np.bool_] = np.asarray(hit[:, non_j].any(axis=1), dtype=bool)
    return Report(rows, len(harmful), int(flagged[harmful].sum()), len(benign), int(flagged[benign].sum()),
                  len(look), int(flagged[look].sum()), len(daily), n_daily_flagged)
