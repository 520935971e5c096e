"""The obligation registry: what the rules ask (O1–O15), and which hegui controls answer each.

This module holds the static rows only. Whether a control is live is reported by evidence
functions in the domain packages, gathered by ``hegui.obligations``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Obligation:
    id: str
    title: str
    draft_article: str | None
    final_article: str | None
    controls: tuple[str, ...]
    note: str = ""


OBLIGATIONS: tuple[Obligation, ...] = (
    Obligation("O1", "Content lawful, true, non-discriminatory; respects IP and personality rights",
               "Art 4", "Art 4", ("moderation.input", "moderation.output", "moderation.disclaimers")),
    Obligation("O2", "Training data lawful, consented, accurate and diverse",
               "Art 7", "Art 7", ("corpus.audit",)),
    Obligation("O3", "Annotation rules, annotator training, sample checks of annotation accuracy",
               "Art 8", "Art 8", ("corpus.annotation",)),
    Obligation("O4", "Real identity of users (still required for deep-synthesis services)",
               "Art 9", None, ("identity.real_name",),
               "dropped from the final Measures; Deep Synthesis Provisions Art 9"),
    Obligation("O5", "Service agreement with registered users", None, "Art 9", ("identity.agreement",)),
    Obligation("O6", "Disclose users, occasions, uses; prevent over-reliance and addiction (minors)",
               "Art 10", "Art 10", ("usage.anti_addiction", "usage.minors_mode")),
    Obligation("O7", "Protect inputs; no unnecessary PI, no illegal retention, no third-party provision; "
               "handle PI-rights requests", "Art 11", "Art 11",
               ("privacy.encryption", "privacy.egress", "privacy.retention", "cases.pi_requests")),
    Obligation("O8", "Label generated content", "Art 16", "Art 12", ("labeling.explicit", "labeling.implicit")),
    Obligation("O9", "Safe, stable, continuous service", "Art 14", "Art 13", ("gateway.health",)),
    Obligation("O10", "Stop, delete and rectify illegal content; report", "Art 15", "Art 14",
               ("moderation.output", "cases.incidents", "cases.rectification")),
    Obligation("O11", "Warn, restrict, suspend or terminate illegal users; keep records; report",
               "Art 19", "Art 14", ("cases.sanctions",)),
    Obligation("O12", "Complaint channel with published process and time limits", "Art 13", "Art 15",
               ("cases.complaints",)),
    Obligation("O13", "Security assessment and algorithm filing before public launch", "Art 6", "Art 17",
               ("assess.run", "filing.documents")),
    Obligation("O14", "Explain data sources, scale, annotation rules and algorithm mechanism to regulators",
               "Art 17", "Art 19", ("filing.documents",)),
    Obligation("O15", "Network logs ≥ 6 months; recipient logs for unlabeled output ≥ 6 months", None, None,
               ("audit.log", "audit.retention"), "Cybersecurity Law Art 21; Labeling Measures Art 9"),
)

OBLIGATIONS_BY_ID: dict[str, Obligation] = {o.id: o for o in OBLIGATIONS}
ALL_CONTROLS: tuple[str, ...] = tuple(dict.fromkeys(c for o in OBLIGATIONS for c in o.controls))
