"""Live evidence for the obligation registry (O1–O15).

Each domain package registers evidence functions for the controls it implements, in its own
``evidence.py``, with ``@evidence_for("control.id")``. ``report()`` imports them all and asks each
control how it stands on this installation. A control nobody registered says so honestly.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

from hegui.policy.obligations import OBLIGATIONS

if TYPE_CHECKING:
    from hegui.context import HeguiContext

Status = Literal["working", "configured", "not_configured", "failing", "not_implemented"]
STATUS_ORDER: tuple[Status, ...] = ("failing", "not_implemented", "not_configured", "configured", "working")

# Modules that register evidence functions; a missing one simply registers nothing yet.
EVIDENCE_MODULES: tuple[str, ...] = (
    "hegui.moderation.evidence",
    "hegui.corpus.evidence",
    "hegui.identity.evidence",
    "hegui.usage.evidence",
    "hegui.privacy.evidence",
    "hegui.cases.evidence",
    "hegui.labeling.evidence",
    "hegui.gateway.evidence",
    "hegui.assess.evidence",
    "hegui.filing.evidence",
    "hegui.audit.evidence",
)


@dataclass(frozen=True, slots=True)
class Evidence:
    control: str
    status: Status
    detail: str


EvidenceFn = Callable[["HeguiContext"], Evidence]
_REGISTRY: dict[str, EvidenceFn] = {}


def evidence_for(control: str) -> Callable[[EvidenceFn], EvidenceFn]:
    """Register the function that reports on ``control``."""

    def deco(fn: EvidenceFn) -> EvidenceFn:
        _REGISTRY[control] = fn
        return fn

    return deco


def _load_modules() -> None:
    for name in EVIDENCE_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as err:
            # Only "this module (or its package) is not there yet" is fine; a broken import is not.
            if err.name is None or not (name == err.name or name.startswith(err.name + ".")):
                raise


def control_evidence(ctx: HeguiContext, control: str) -> Evidence:
    fn = _REGISTRY.get(control)
    if fn is None:
        return Evidence(control, "not_implemented", "no hegui component implements this control yet")
    try:
        return fn(ctx)
    except Exception as err:  # evidence must report, never crash the report
        return Evidence(control, "failing", f"evidence check raised {type(err).__name__}: {err}")


@dataclass(frozen=True, slots=True)
class ObligationStatus:
    id: str
    title: str
    draft_article: str | None
    final_article: str | None
    status: Status
    controls: list[Evidence]
    note: str

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["controls"] = [asdict(e) for e in self.controls]
        return d


def report(ctx: HeguiContext) -> list[ObligationStatus]:
    """Every obligation with the evidence of each of its controls; status = the weakest control's."""
    _load_modules()
    out = []
    for ob in OBLIGATIONS:
        ev = [control_evidence(ctx, c) for c in ob.controls]
        status = min((e.status for e in ev), key=STATUS_ORDER.index)
        out.append(ObligationStatus(ob.id, ob.title, ob.draft_article, ob.final_article, status, ev, ob.note))
    return out
