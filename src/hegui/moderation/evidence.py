"""Live evidence for the moderation controls of O1/O10: input and output checks, disclaimers.

Each function builds the engine this installation would use and runs a probe through it, so the
report says what actually works here (lexicon size, detectors loaded, the pack's actions), not
what the code could do.
"""

from __future__ import annotations

from weakref import WeakKeyDictionary

from hegui.context import HeguiContext
from hegui.detect.pii.validators import luhn_check_digit
from hegui.moderation.decision import BLOCKING
from hegui.moderation.engine import ModerationEngine
from hegui.obligations import Evidence, evidence_for
from hegui.policy.taxonomy import RISKS

_ENGINES: WeakKeyDictionary[HeguiContext, ModerationEngine] = WeakKeyDictionary()


def _engine(ctx: HeguiContext) -> ModerationEngine:
    """One engine per context for the whole report (compiling the lexicon takes seconds)."""
    engine = _ENGINES.get(ctx)
    if engine is None:
        engine = _ENGINES[ctx] = ModerationEngine.from_context(ctx)
    return engine


def _lexicon_terms(engine: ModerationEngine) -> int:
    return sum(int(getattr(lx, "term_count", 0)) for lx in engine.lexicons())


def _actions(engine: ModerationEngine, direction: str) -> str:
    cats = engine.pack.moderation.categories
    return ", ".join(f"{k}→{getattr(rule, direction)}" for k, rule in sorted(cats.items()))


def _detectors(engine: ModerationEngine) -> str:
    return ", ".join(d.name for d in engine.detectors)


def _probe_ok(engine: ModerationEngine, direction: str) -> tuple[bool, str]:
    """Run a synthetic bank card through the engine: the PII path must see it (no personal data)."""
    body = "622202000000001234"
    card = body + luhn_check_digit(body)
    d = engine.moderate(f"probe {card}", "input" if direction == "input" else "output")
    if d.rule and d.rule.startswith("error:"):
        return False, f"probe failed closed ({d.rule}: {', '.join(d.errors)})"
    if not any(f.type == "bank_card" for f in d.findings):
        return False, "probe: PII detector did not see a valid synthetic card number"
    return True, f"probe ok (action {d.action})"


def _moderation(ctx: HeguiContext, control: str, direction: str) -> Evidence:
    engine = _engine(ctx)
    terms = _lexicon_terms(engine)
    ok, probe = _probe_ok(engine, direction)
    facts = (f"{terms} lexicon terms; detectors: {_detectors(engine)}; pack {engine.pack.name}@{engine.pack.version} "
             f"{direction} actions: {_actions(engine, direction)}; {probe}")
    if not ok:
        return Evidence(control, "failing", facts)
    if terms == 0:
        return Evidence(control, "not_configured", "lexicon is empty (run `hegui init` or `hegui lexicon import`); "
                        + facts)
    blocking = [k for k, r in engine.pack.moderation.categories.items() if getattr(r, direction) in BLOCKING]
    if not blocking:
        return Evidence(control, "configured", f"no category is refused/blocked on {direction}; " + facts)
    return Evidence(control, "working", facts)


@evidence_for("moderation.input")
def moderation_input(ctx: HeguiContext) -> Evidence:
    return _moderation(ctx, "moderation.input", "input")


@evidence_for("moderation.output")
def moderation_output(ctx: HeguiContext) -> Evidence:
    return _moderation(ctx, "moderation.output", "output")


@evidence_for("moderation.disclaimers")
def moderation_disclaimers(ctx: HeguiContext) -> Evidence:
    """Every category the pack answers with ``disclaim`` has a disclaimer text in zh and en."""
    mod = ctx.pack.moderation
    disclaimed = sorted(k for k, r in mod.categories.items() if "disclaim" in (r.input, r.output))
    if not disclaimed:
        return Evidence("moderation.disclaimers", "not_configured", "no category has the action 'disclaim'")
    missing = []
    for code in disclaimed:
        entry = mod.disclaimers.get(code) or mod.disclaimers.get(RISKS[code].parent if code in RISKS else code)
        if not entry or not entry.get("zh") or not entry.get("en"):
            missing.append(code)
    if missing:
        return Evidence("moderation.disclaimers", "failing",
                        f"categories with 'disclaim' but no zh/en disclaimer text: {', '.join(missing)}")
    return Evidence("moderation.disclaimers", "working",
                    f"disclaimers in zh and en for {', '.join(disclaimed)} (pack {ctx.pack.name}@{ctx.pack.version})")
