"""``ModerationEngine``: runs the detectors, applies the policy pack, returns a ``Decision``.

Detectors only report findings; every action comes from the pack:

* a risk finding → ``pack.moderation.categories`` (the most specific key wins: ``A4.6`` before
  ``A4``; below a rule's ``min_severity`` the ``default_action`` applies); for minors
  ``pack.minors.content_overrides`` are consulted first;
* a classifier (or ``guard:*``) finding counts only at or above ``pack.moderation.classifier``'s
  threshold for its risk (then its category, then the default);
* with ``signals: lexicon_and_classifier`` a lexicon hit and a classifier hit count only when the
  other signal names the same risk or category (when no classifier is loaded, lexicon hits count
  alone: nothing would be caught otherwise);
* PII findings → ``pack.moderation.pii`` per direction and its mask mode;
* the strongest action wins (allow < disclaim < mask < refuse < block).

Fail closed: a required detector that raises turns the decision into ``refuse`` (input) or
``block`` (output) with rule ``error:<detector>``; it is never a silent allow.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hegui.detect.base import Detector, Direction, Finding
from hegui.detect.pii.detector import MAX_PII_LENGTH, PiiDetector
from hegui.detect.pii.masking import mask_text
from hegui.moderation.decision import ACTION_RANK, Decision, Language, ModerationContext, detect_language
from hegui.policy.pack import Action, CategoryRule, PolicyPack
from hegui.policy.taxonomy import RISKS

if TYPE_CHECKING:
    from hegui.context import HeguiContext
    from hegui.text import Normalizer

log = logging.getLogger(__name__)

SCORED_DETECTORS = ("classifier",)  # plus any "guard:<name>": their findings need a threshold
WHOLE_TEXT_DETECTORS = ("classifier",)  # plus "guard:*": judge a whole text, not spans


def _is_scored(detector: str) -> bool:
    return detector in SCORED_DETECTORS or detector.startswith("guard:")


def is_whole_text(det: Detector) -> bool:
    """A detector that scores a whole text (classifier, guard model) rather than finding spans."""
    return bool(getattr(det, "whole_text", False)) or det.name in WHOLE_TEXT_DETECTORS or det.name.startswith("guard:")


def _parent(code: str) -> str:
    return RISKS[code].parent if code in RISKS else code


@dataclass(frozen=True, slots=True)
class Ruling:
    """One counted finding with the action the pack gives it and the rule that says so."""

    finding: Finding
    action: Action
    rule: str
    message: int | None = None


class ModerationEngine:
    """Detectors + a policy pack → decisions. Thread-safe when its detectors are."""

    def __init__(self, pack: PolicyPack, detectors: Sequence[Detector], normalizer: Normalizer | None = None, *,
                 optional: Iterable[str] = (), history_turns: int = 4, history_weight: float = 0.8,
                 auto_refresh: bool = False) -> None:
        self.pack = pack
        self.detectors: list[Detector] = list(detectors)
        self.normalizer = normalizer
        self.optional = frozenset(optional)
        self.history_turns = history_turns
        self.history_weight = history_weight
        self._rules: dict[tuple[str, str, int, bool], tuple[Action, str]] = {}
        self._default_action: Action = pack.moderation.default_action
        self._default_rule = f"moderation.default_action@{pack.name}"
        self._has_classifier = any(_is_scored(d.name) for d in self.detectors)
        # hot reload: detectors that can notice a newer lexicon version (LexiconRegistry) are asked
        # before each call; the check is rate-limited by the detector and the rebuild runs off-path
        self._refreshers = [d for d in self.detectors if auto_refresh and hasattr(d, "refresh_if_changed")]

    def refresh(self) -> None:
        """Let hot-reloadable detectors pick up a changed lexicon (cheap, rate-limited, non-blocking)."""
        for d in self._refreshers:
            try:
                d.refresh_if_changed(background=True)
            except Exception as err:  # keep serving the current snapshot
                log.warning("lexicon refresh failed: %s: %s", type(err).__name__, err)

    def compile_kernels(self) -> None:
        """Batch mode: load the compiled kernels (``hegui.text.kernel``) and give the lexicons and proximity
        rules in use their compiled automata, so a text is normalised and scanned in compiled calls. Costs
        importing numba and, the first time on a machine, compiling (seconds); the corpus audit and
        ``hegui moderate --jsonl`` on a large file call it, the gateway when ``gateway.compiled_kernels`` is
        on. Lexicons built later (a hot reload) get theirs when built. Results do not change."""
        from hegui.text import kernel

        kernel.load()
        for det in [*self.lexicons(), *self.detectors]:  # a lexicon registry's current detector, and the rest
            if hasattr(det, "compile_kernel"):
                det.compile_kernel()

    # ---- construction -------------------------------------------------------------------------

    @classmethod
    def from_context(cls, ctx: HeguiContext, *, models: bool = True) -> ModerationEngine:
        """The engine a running installation uses: its pack, its database lexicons (hot reload),
        PII, and (``models``) the jailbreak detector and embedded classifier when installed (weights from
        ``settings.classifier_weights`` when set) plus every guard model in ``settings.guards``."""
        from hegui.detect.combo import combo_detectors
        from hegui.detect.lexicon.registry import LexiconRegistry
        from hegui.text import Normalizer

        pack = ctx.pack
        normalizer = Normalizer(pack.normalisation)
        detectors: list[Detector] = [LexiconRegistry(ctx), *combo_detectors(pack, ctx.settings.combo_rules),
                                     PiiDetector.from_pack(pack)]
        if models:
            weights = ctx.settings.classifier_weights
            detectors.extend(_optional_model_detectors(weights) if weights else _optional_model_detectors())
            if ctx.settings.guards:
                from hegui.detect.guard import build_guard

                detectors.extend(build_guard(g) for g in ctx.settings.guards)
        return cls(pack, detectors, normalizer, auto_refresh=True)

    @classmethod
    def default(cls, pack: PolicyPack | None = None, *, models: bool = False) -> ModerationEngine:
        """Library use without a database: the default lexicon files, PII, and (``models=True``)
        the classifier and jailbreak detector when installed."""
        from hegui.detect.combo import combo_detectors
        from hegui.detect.lexicon import LexiconDetector
        from hegui.detect.lexicon.formats import load_default_data
        from hegui.policy.pack import load_pack
        from hegui.text import Normalizer

        pack = pack or load_pack("cn-genai")
        normalizer = Normalizer(pack.normalisation)
        data = load_default_data()
        lexicon = LexiconDetector(data.entries, pack.normalisation, data.allow)
        detectors: list[Detector] = [lexicon, *combo_detectors(pack), PiiDetector.from_pack(pack)]
        if models:
            detectors.extend(_optional_model_detectors())
        return cls(pack, detectors, normalizer)

    # ---- facts the stream moderator and evidence need ----------------------------------------

    def lexicons(self) -> list[Any]:
        """The compiled lexicon detectors in use (a registry's current snapshot)."""
        return [lx for lx in (lexicon_of(d) for d in self.detectors) if lx is not None]

    def term_window(self) -> int:
        """Longest stretch of normalised text a span detector must see whole: the longest lexicon key,
        or a proximity (combo) detector's ``max_span`` (its widest rule window)."""
        spans = [int(getattr(d, "max_span", 0)) for d in self.detectors]
        return max([*(int(lx.max_term_length) for lx in self.lexicons()), *spans], default=0)

    def pii_window(self, direction: Direction) -> int:
        """Longest PII value, when PII findings change anything in this direction."""
        if not any(isinstance(d, PiiDetector) for d in self.detectors):
            return 0
        pii = self.pack.moderation.pii
        return MAX_PII_LENGTH if (pii.input if direction == "input" else pii.output) != "allow" else 0

    # ---- policy --------------------------------------------------------------------------------

    def rule_for(self, code: str, direction: Direction, severity: int, minor: bool) -> tuple[Action, str]:
        """Action and rule name for one finding of ``code`` (cached; the pack is immutable)."""
        key = (code, direction, severity, minor)
        hit = self._rules.get(key)
        if hit is not None:
            return hit
        pack = self.pack
        result: tuple[Action, str] | None = None
        if minor and pack.minors.content_overrides:
            ov = pack.minors.content_overrides
            name = code if code in ov else _parent(code) if _parent(code) in ov else None
            if name is not None and severity >= ov[name].min_severity:
                result = (_pick(ov[name], direction), f"minors.content_overrides.{name}@{pack.name}")
        if result is None:
            name, rule = pack.moderation.rule_for(code)
            if rule is None or severity < rule.min_severity:
                result = (pack.moderation.default_action, f"moderation.default_action@{pack.name}")
            else:
                result = (_pick(rule, direction), f"moderation.categories.{name}@{pack.name}")
        self._rules[key] = result
        return result

    def threshold(self, code: str) -> float:
        cls_ = self.pack.moderation.classifier
        per = cls_.per_category
        return per.get(code, per.get(_parent(code), cls_.default))

    # ---- running detectors ---------------------------------------------------------------------

    def run_detectors(self, text: str, direction: Direction, detectors: Sequence[Detector] | None = None
                      ) -> tuple[list[Finding], list[str], str | None]:
        """All findings; names of optional detectors that failed; the first required one that failed.

        (``moderate`` runs the same loop inlined for speed: keep the two in step.)
        """
        findings: list[Finding] = []
        errors: list[str] = []
        for det in self.detectors if detectors is None else detectors:
            try:
                found = det.detect(text, direction)
            except Exception as err:
                log.error("detector %s failed: %s: %s", det.name, type(err).__name__, err)
                if det.name in self.optional:
                    errors.append(det.name)
                    continue
                return findings, errors, det.name
            if found:
                findings.extend(found)
        return findings, errors, None

    def rulings(self, findings: Sequence[Finding], direction: Direction, minor: bool,
                scores: dict[str, float] | None = None, messages: Sequence[int | None] | None = None,
                *, corroborate: bool = True) -> list[Ruling]:
        """Which findings count, and the action each one gets. ``corroborate=False`` leaves out the
        ``signals: lexicon_and_classifier`` pairing, for a caller that sees the two signals in different
        calls (the stream moderator) and pairs them with ``corroborated`` over all it has seen."""
        pack = self.pack
        counted: list[tuple[Finding, int | None]] = []
        for i, f in enumerate(findings):
            msg = messages[i] if messages is not None else None
            if f.category is None:
                continue
            if scores is not None and f.score > scores.get(f.category, -1.0):
                scores[f.category] = f.score
            if _is_scored(f.detector) and f.score < self.threshold(f.category):
                continue
            counted.append((f, msg))
        if corroborate and self.corroborates:
            counted = _corroborated(counted)
        out: list[Ruling] = []
        pii_rules = pack.moderation.pii
        for f, msg in counted:
            if f.detector == "pii":
                action: Action = pii_rules.input if direction == "input" else pii_rules.output
                rule = f"moderation.pii.{direction}@{pack.name}"
            else:
                assert f.category is not None
                action, rule = self.rule_for(f.category, direction, f.severity, minor)
            out.append(Ruling(f, action, rule, msg))
        return out

    @property
    def corroborates(self) -> bool:
        """Lexicon and classifier hits count only together (``signals: lexicon_and_classifier``)."""
        return self.pack.moderation.signals == "lexicon_and_classifier" and self._has_classifier

    def corroborated(self, rulings: Sequence[Ruling]) -> list[Ruling]:
        """The rulings that count once lexicon and classifier hits are paired (all of them unless
        ``corroborates``)."""
        if not self.corroborates:
            return list(rulings)
        keep = {id(f) for f, _ in _corroborated([(x.finding, None) for x in rulings])}
        return [x for x in rulings if id(x.finding) in keep]

    def decide(self, text: str, direction: Direction, rulings: Sequence[Ruling], context: ModerationContext | None,
               scores: dict[str, float], errors: list[str], *, conversation: bool = False) -> Decision:
        """Fold rulings into one decision (strongest action; its rule; texts the action needs)."""
        pack = self.pack
        best: Ruling | None = None
        for r in rulings:
            if best is None or (ACTION_RANK[r.action], r.finding.severity) > (ACTION_RANK[best.action],
                                                                                best.finding.severity):
                best = r  # strongest action; among equals the most severe finding names the rule
        action: Action = best.action if best is not None else pack.moderation.default_action
        rule = best.rule if best is not None else f"moderation.default_action@{pack.name}"
        decision = Decision(
            action=action,
            categories=sorted({r.finding.category for r in rulings if r.finding.category is not None}),
            findings=[r.finding for r in rulings],
            rule=rule,
            scores=scores,
            direction=direction,
            errors=errors,
            message_index=[r.message if r.message is not None else -1 for r in rulings] if conversation else None,
        )
        if action == "allow" and not rulings:
            return decision
        lang = self._language(text, context)
        decision.language = lang
        if decision.blocked:
            decision.refusal_text = pack.moderation.refusal[lang]
            return decision
        disclaimers = self._disclaimers([r for r in rulings if r.action == "disclaim"], lang)
        if disclaimers:
            decision.disclaimer = disclaimers
        if action == "mask":
            decision.masked_text = self.mask([r for r in rulings if r.action == "mask" and r.message in (None, -1)],
                                             text, context)
        return decision

    def mask(self, rulings: Sequence[Ruling], text: str, context: ModerationContext | None) -> str:
        """``text`` with the spans of masking rulings hidden: PII per the pack's mask mode, other
        spans (e.g. a privacy term) as asterisks."""
        mode = self.pack.moderation.pii.mask_mode
        tokenizer = context.tokenizer if context is not None else None
        if mode == "token" and tokenizer is None:
            mode = "redact"  # no tokenizer to keep the values: hide them for good rather than leak
        parts: list[str] = []
        pos = 0
        for f in sorted((r.finding for r in rulings), key=lambda f: (f.start, -f.end)):
            if f.end <= pos:
                continue
            start = max(f.start, pos)
            parts.append(text[pos:start])
            if f.detector == "pii" and start == f.start:
                parts.append(mask_text(text[f.start:f.end], [_replace(f, start=0, end=f.end - f.start)], mode,
                                       tokenizer))
            else:
                parts.append("".join(c if c.isspace() else "*" for c in text[start:f.end]))
            pos = f.end
        parts.append(text[pos:])
        return "".join(parts)

    def _disclaimers(self, rulings: Sequence[Ruling], lang: Language) -> str | None:
        texts: list[str] = []
        table = self.pack.moderation.disclaimers
        for r in rulings:
            code = r.finding.category or ""
            entry = table.get(code) or table.get(_parent(code))
            if entry:
                t = entry.get(lang) or next(iter(entry.values()))
                if t not in texts:
                    texts.append(t)
        return "\n".join(texts) if texts else None

    @staticmethod
    def _language(text: str, context: ModerationContext | None) -> Language:
        if context is not None and context.language is not None:
            return context.language
        return detect_language(text)

    def _failed(self, name: str, text: str, direction: Direction, context: ModerationContext | None,
                errors: list[str]) -> Decision:
        lang = self._language(text, context)
        action: Action = "refuse" if direction == "input" else "block"
        return Decision(action=action, rule=f"error:{name}", refusal_text=self.pack.moderation.refusal[lang],
                        direction=direction, language=lang, errors=[*errors, name])

    # ---- the public calls ------------------------------------------------------------------------

    def moderate(self, text: str, direction: Direction = "input", context: ModerationContext | None = None
                 ) -> Decision:
        """Moderate one text."""
        if direction not in ("input", "output"):
            raise ValueError(f"direction must be 'input' or 'output', got {direction!r}")
        if self._refreshers:
            self.refresh()
        findings: list[Finding] = []
        errors: list[str] = []
        for det in self.detectors:  # run_detectors inlined: most texts find nothing, so this loop is the call
            try:
                found = det.detect(text, direction)
            except Exception as err:
                log.error("detector %s failed: %s: %s", det.name, type(err).__name__, err)
                if det.name in self.optional:
                    errors.append(det.name)
                    continue
                return self._failed(det.name, text, direction, context, errors)
            if found:
                findings.extend(found)
        if not findings:
            # positional: skips the dataclass's default factories (~0.2 µs of a ~10 µs call)
            return Decision(self._default_action, [], [], self._default_rule, None, None, None, {}, direction, None,
                            errors)
        scores: dict[str, float] = {}
        minor = context.minor if context is not None else False
        rulings = self.rulings(findings, direction, minor, scores)
        return self.decide(text, direction, rulings, context, scores, errors)

    def moderate_conversation(self, messages: Sequence[Mapping[str, Any]], context: ModerationContext | None = None
                              ) -> Decision:
        """Moderate a chat request as a whole (input direction).

        * the latest user turn is checked in full, at full weight;
        * the last ``history_turns`` user turns joined are checked too, so a term or instruction
          split across turns is caught; from that joined text only findings that reach into the
          latest turn count (earlier turns were judged when they were sent), and whole-text scores
          (classifier) are weighted by ``history_weight``;
        * system/developer messages are checked by the jailbreak detector (category ``J``), and its
          ``detect_conversation`` (when it has one) looks for a payload split over the recent user
          turns.

        Findings point into the message named by ``Decision.message_index`` (for the joined check,
        clipped to the latest user turn). ``masked_text`` is the latest user turn masked.
        """
        turns = [(i, _content_text(m.get("content"))) for i, m in enumerate(messages) if m.get("role") == "user"]
        if not turns:
            return self.moderate("", "input", context)
        latest_i, latest = turns[-1]
        minor = context.minor if context is not None else False
        all_findings: list[Finding] = []
        where: list[int | None] = []
        errors: list[str] = []

        found, errs, failed = self.run_detectors(latest, "input")
        errors += errs
        if failed is not None:
            return self._failed(failed, latest, "input", context, errors)
        all_findings += found
        where += [latest_i] * len(found)

        history = [t for _, t in turns[-self.history_turns:-1]]
        if history:
            joined_prefix = "\n".join(history) + "\n"
            offset = len(joined_prefix)
            found, errs, failed = self.run_detectors(joined_prefix + latest, "input")
            errors += errs
            if failed is not None:
                return self._failed(failed, latest, "input", context, errors)
            seen = {(f.detector, f.type, f.category, f.start, f.end) for f in all_findings}
            for f in found:
                whole = f.start == 0 and f.end >= offset + len(latest)
                if whole:
                    f = _replace(f, start=0, end=len(latest), score=f.score * self.history_weight,
                                 rule=f"{f.rule or f.detector}|history")
                elif f.start < offset < f.end:
                    f = _replace(f, start=0, end=f.end - offset, rule=f"{f.rule or f.detector}|split-across-turns")
                else:
                    continue  # wholly in an earlier turn, or wholly in the latest (already checked)
                if (f.detector, f.type, f.category, f.start, f.end) not in seen:
                    all_findings.append(f)
                    where.append(latest_i)

        jailbreak = [d for d in self.detectors if d.name == "jailbreak"]
        recent = [{"role": "user", "content": t} for _, t in turns[-self.history_turns:]]
        for det in jailbreak:
            split_check = getattr(det, "detect_conversation", None)
            if len(recent) < 2 or not callable(split_check):
                continue
            try:
                split = [f for f in split_check(recent) if f.type == "split_payload"]
            except Exception as err:
                log.error("detector %s failed on the conversation: %s", det.name, err)
                if det.name in self.optional:
                    errors.append(det.name)
                    continue
                return self._failed(det.name, latest, "input", context, errors)
            for f in split:  # a payload spread over the recent turns: it lands with the latest one
                all_findings.append(_replace(f, start=0, end=len(latest)))
                where.append(latest_i)
        if jailbreak:
            for i, m in enumerate(messages):
                if m.get("role") in ("system", "developer"):
                    found, errs, failed = self.run_detectors(_content_text(m.get("content")), "input", jailbreak)
                    errors += errs
                    if failed is not None:
                        return self._failed(failed, latest, "input", context, errors)
                    for f in found:
                        if f.category == "J":
                            all_findings.append(f)
                            where.append(i)

        scores: dict[str, float] = {}
        rulings = self.rulings(all_findings, "input", minor, scores, where)
        # masking applies to the latest turn's own findings only
        rulings = [r if r.message != latest_i else Ruling(r.finding, r.action, r.rule, None) for r in rulings]
        decision = self.decide(latest, "input", rulings, context, scores, errors, conversation=True)
        decision.message_index = [r.message if r.message is not None else latest_i for r in rulings]
        return decision


def lexicon_of(det: Detector) -> Any | None:
    """The compiled lexicon behind a detector: itself, or a registry's current ``detector``."""
    if hasattr(det, "max_term_length") and hasattr(det, "normalize"):
        return det
    inner = getattr(det, "detector", None)
    if inner is not None and hasattr(inner, "max_term_length") and hasattr(inner, "normalize"):
        return inner
    return None


def _pick(rule: CategoryRule, direction: Direction) -> Action:
    return rule.input if direction == "input" else rule.output


def _replace(f: Finding, **changes: Any) -> Finding:
    return replace(f, **changes)


def _content_text(content: Any) -> str:
    """OpenAI message content: a string, or a list of parts of which the text parts count."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, Mapping) and p.get("type") == "text"]
        return "\n".join(p for p in parts if isinstance(p, str))
    return str(content)


def _corroborated(counted: list[tuple[Finding, int | None]]) -> list[tuple[Finding, int | None]]:
    """``signals: lexicon_and_classifier``: lexicon and classifier hits need each other."""
    lex = {f.category for f, _ in counted if f.detector == "lexicon"}
    cls_ = {f.category for f, _ in counted if _is_scored(f.detector)}
    lex_cat = {_parent(c) for c in lex if c}
    cls_cat = {_parent(c) for c in cls_ if c}
    out = []
    for f, msg in counted:
        c = f.category or ""
        if f.detector == "lexicon" and c not in cls_ and _parent(c) not in cls_cat:
            continue
        if _is_scored(f.detector) and c not in lex and _parent(c) not in lex_cat:
            continue
        out.append((f, msg))
    return out


def _optional_model_detectors(classifier_weights: Path | None = None) -> list[Detector]:
    """The jailbreak detector and embedded classifier, when their packages are present (the classifier
    from ``classifier_weights`` when given, else the shipped or ``$HEGUI_CLASSIFIER_WEIGHTS`` model)."""
    found: list[Detector] = []
    clf_factory = "load_default" if classifier_weights is None else "load"
    for module, attr, factory in (("hegui.detect.jailbreak", "JailbreakDetector", None),
                                  ("hegui.detect.classifier", "EmbeddedClassifier", clf_factory)):
        try:
            mod = importlib.import_module(module)
        except ImportError:
            log.info("%s not installed", module)
            continue
        cls_ = getattr(mod, attr, None)
        if cls_ is None:
            log.info("%s has no %s yet", module, attr)
            continue
        try:
            if factory == "load":
                found.append(cls_.load(classifier_weights))
            else:
                found.append(getattr(cls_, factory)() if factory else cls_())
        except Exception as err:  # installed but broken (e.g. weights missing): fail closed on use
            log.error("%s.%s cannot load: %s", module, attr, err)
            found.append(UnavailableDetector(module.rsplit(".", 1)[-1], f"{type(err).__name__}: {err}"))
    return found


class UnavailableDetector:
    """Stands in for a detector that is installed but could not load: every call raises, so the
    engine fails closed (``error:<name>``) instead of silently skipping a required check."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def detect(self, text: str, direction: Direction = "input") -> list[Finding]:
        raise RuntimeError(f"detector {self.name} unavailable: {self.reason}")
