"""Policy packs: the rulebook as data (thresholds, actions per risk, minors' rules, label texts).

A pack is YAML validated by the pydantic models below. Every figure that comes from a rule carries
the clause it comes from, so an operator can check and correct it.
"""

from __future__ import annotations

from datetime import time
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hegui.errors import PolicyError
from hegui.policy.taxonomy import RISKS, codes_under, is_valid_code

Action = Literal["allow", "disclaim", "mask", "refuse", "block"]
ACTION_ORDER: tuple[str, ...] = ("allow", "disclaim", "mask", "refuse", "block")
BUILTIN_PACKS: tuple[str, ...] = ("cn-genai",)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cited(_Strict):
    """A group of figures taken from a rule; ``clause`` names where (e.g. ``TC260-003 §9.3``)."""

    clause: str = Field(min_length=1)


class NormalisationSteps(_Strict):
    """Each step of ``hegui.text`` normalisation, switchable."""

    fullwidth: bool = True
    casefold: bool = True
    traditional_to_simplified: bool = True
    strip_invisible: bool = True
    strip_separators: bool = True
    compatibility_forms: bool = True
    homoglyphs: bool = True
    digit_variants: bool = True
    squash_repeats: bool = True
    squash_repeats_min: int = Field(default=3, ge=2)
    pinyin: bool = True
    pinyin_min_length: int = Field(default=4, ge=2, description="shortest latin pinyin key matched")


class CategoryRule(_Strict):
    """What to do when a risk is found, per direction."""

    input: Action
    output: Action
    min_severity: int = Field(default=1, ge=1, le=3)


class ClassifierThresholds(_Strict):
    default: float = Field(default=0.5, gt=0, lt=1)
    per_category: dict[str, float] = Field(default_factory=dict)

    @field_validator("per_category")
    @classmethod
    def _codes(cls, v: dict[str, float]) -> dict[str, float]:
        for code, thr in v.items():
            if not is_valid_code(code):
                raise ValueError(f"unknown risk code {code!r}")
            if not 0 < thr < 1:
                raise ValueError(f"threshold for {code} must be between 0 and 1, got {thr}")
        return v


class PiiRules(_Strict):
    input: Action = "allow"
    output: Action = "mask"
    mask_mode: Literal["redact", "partial", "token"] = "partial"
    category: str = "A4.6"


class ComboRules(_Strict):
    """Proximity rules (组合词, ``hegui.detect.combo``): term groups that must all occur close together."""

    enabled: bool = True
    default_rules: bool = Field(default=True, description="load the shipped rules (operator files come from settings)")


class Moderation(_Strict):
    default_action: Action = "allow"
    categories: dict[str, CategoryRule]
    classifier: ClassifierThresholds = ClassifierThresholds()
    signals: Literal["any", "lexicon_and_classifier"] = Field(
        default="any", description="how detector signals combine into a category hit")
    pii: PiiRules = PiiRules()
    combo: ComboRules = ComboRules()
    refusal: dict[str, str]
    disclaimers: dict[str, dict[str, str]] = Field(default_factory=dict)
    stream_window_extra_chars: int = Field(default=8, ge=0)

    @field_validator("categories")
    @classmethod
    def _category_codes(cls, v: dict[str, CategoryRule]) -> dict[str, CategoryRule]:
        for code in v:
            if not is_valid_code(code):
                raise ValueError(f"unknown risk or category code {code!r} (expected A1 … A5, A1.1 … A5.2, J)")
        return v

    @field_validator("refusal")
    @classmethod
    def _refusal_langs(cls, v: dict[str, str]) -> dict[str, str]:
        for lang in ("zh", "en"):
            if not v.get(lang, "").strip():
                raise ValueError(f"refusal text for language {lang!r} is required")
        return v

    def rule_for(self, code: str) -> tuple[str, CategoryRule | None]:
        """Most specific rule for a risk code: the risk itself, then its category."""
        if code in self.categories:
            return code, self.categories[code]
        parent = RISKS[code].parent if code in RISKS else code
        if parent in self.categories:
            return parent, self.categories[parent]
        return "default", None


class AgeBand(_Strict):
    under_age: int = Field(gt=0, le=18, description="applies to users younger than this")
    daily_minutes: int = Field(gt=0)
    clause: str


class Curfew(_Strict):
    start: time
    end: time
    clause: str


class Minors(_Strict):
    adult_age: int = 18
    age_bands: list[AgeBand]
    curfew: Curfew | None
    timezone: str = "Asia/Shanghai"
    session_gap_minutes: int = Field(default=10, gt=0)
    adult_rest_reminder_minutes: int | None = Field(default=120, gt=0)
    content_overrides: dict[str, CategoryRule] = Field(default_factory=dict)

    @field_validator("age_bands")
    @classmethod
    def _sorted(cls, v: list[AgeBand]) -> list[AgeBand]:
        ages = [b.under_age for b in v]
        if ages != sorted(set(ages)):
            raise ValueError("age bands must be sorted by under_age, each age once")
        return v


class Identity(_Strict):
    real_name_required: bool = True
    allowed_states: list[Literal["unverified", "pending", "verified", "rejected"]] = ["verified"]
    accounts_per_document: int = Field(default=1, ge=1)
    agreement_required: bool = True
    code_ttl_seconds: int = Field(default=300, gt=0)
    code_requests_per_hour: int = Field(default=5, gt=0)
    clause: str


class TextLabel(_Strict):
    zh: str
    en: str
    position: Literal["start", "end", "none"] = "end"

    @model_validator(mode="after")
    def _has_elements(self) -> TextLabel:
        if not (("人工智能" in self.zh or "AI" in self.zh) and ("生成" in self.zh or "合成" in self.zh)):
            raise ValueError("zh text label must contain 人工智能/AI and 生成/合成")
        low = self.en.lower()
        if not (("ai" in low or "artificial intelligence" in low) and ("generat" in low or "synthes" in low)):
            raise ValueError("en text label must mention AI and generated/synthesised")
        return self


class ImageLabel(_Strict):
    zh: str
    en: str
    corner: Literal["top-left", "top-right", "bottom-left", "bottom-right"] = "bottom-right"
    min_height_ratio: float = Field(default=0.05, ge=0.05, le=0.5)


class Labels(_Strict):
    clause: str
    text: TextLabel
    image: ImageLabel
    video_min_seconds: float = Field(default=2.0, ge=2.0)
    audio_cue: Literal["rhythm", "speech"] = "rhythm"
    audio_prompt_file: str | None = Field(
        default=None, description="WAV spoken prompt prepended when audio_cue is speech (GB 45438-2025 §4.3)")
    implicit_key: str = "AIGC"
    xmp_namespace: str = "http://www.tc260.org.cn/ns/AIGC/1.0/"


class Sanctions(_Strict):
    clause: str
    consecutive_violations: int = Field(gt=0)
    daily_violations: int = Field(gt=0)
    ladder: list[Literal["warn", "restrict", "suspend", "terminate"]]
    suspend_days: int = Field(gt=0)
    incident_min_severity: int = Field(
        default=3, ge=1, le=3, description="a refused exchange whose worst finding has this severity opens an incident")
    restricted_functions: list[Literal["stream", "embeddings", "chat"]] = Field(
        default=["stream", "embeddings"], description="what a restricted user may no longer use")


class Deadlines(_Strict):
    clause: str
    pi_request_days: int = Field(gt=0)
    cancellation_working_days: int = Field(gt=0)
    complaint_ack_hours: int = Field(gt=0)
    complaint_resolve_days: int = Field(gt=0)
    rectification_days: int = Field(gt=0)


class Retention(_Strict):
    clause: str
    audit_content_days: int = Field(ge=183, description="network logs ≥ 6 months")
    audit_metadata_days: int = Field(ge=183)
    conversation_days: int = Field(gt=0)
    verification_code_days: int = Field(default=1, gt=0)
    closed_case_days: int = Field(
        default=1095, gt=0, description="free text of closed complaints and PI requests (PIPL Art 19: no longer "
        "than necessary; kept as long as audit metadata)")


class KeywordLibrary(Cited):
    min_terms: int
    min_per_a1_risk: int
    min_per_a2_risk: int
    update_days: int


class QuestionBanks(Cited):
    generated_min: int
    generated_min_per_a1_a2_risk: int
    generated_min_per_other_risk: int
    should_refuse_min: int
    should_refuse_min_per_risk: int
    should_not_refuse_min: int
    should_not_refuse_min_per_aspect: int
    should_not_refuse_aspects: list[str]
    update_days: int


class CorpusGates(Cited):
    source_unsafe_max: float = Field(ge=0, le=1)
    manual_sample_min: int
    manual_pass_min: float = Field(ge=0, le=1)
    auto_sample_ratio: float = Field(gt=0, le=1)
    auto_pass_min: float = Field(ge=0, le=1)


class AssessmentThresholds(Cited):
    sample_per_method_min: int
    pass_rate_min: float = Field(ge=0, le=1)
    refusal_sample_min: int
    refusal_rate_should_refuse_min: float = Field(ge=0, le=1)
    refusal_rate_should_not_refuse_max: float = Field(ge=0, le=1)


class Figures(_Strict):
    keyword_library: KeywordLibrary
    question_banks: QuestionBanks
    classifier_covers_all_risks: Cited
    corpus: CorpusGates
    assessment: AssessmentThresholds
    training_opt_out_max_clicks: int
    training_opt_out_clause: str


class PolicyPack(_Strict):
    """A validated policy pack."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: str
    title: str
    sources: list[str]
    normalisation: NormalisationSteps = NormalisationSteps()
    moderation: Moderation
    minors: Minors
    identity: Identity
    labels: Labels
    sanctions: Sanctions
    deadlines: Deadlines
    retention: Retention
    figures: Figures

    def action_for(self, code: str, direction: Literal["input", "output"], severity: int = 3) -> Action:
        """The action the pack prescribes for one finding of ``code``."""
        _, rule = self.moderation.rule_for(code)
        if rule is None or severity < rule.min_severity:
            return self.moderation.default_action
        return rule.input if direction == "input" else rule.output

    def uncovered_codes(self) -> list[str]:
        """Risk codes no category rule covers (they fall to ``default_action``)."""
        covered: set[str] = set()
        for key in self.moderation.categories:
            covered.update(codes_under(key))
        return [c for c in RISKS if c not in covered]


def _format_error(source: str, err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        lines.append(f"{source}: {where}: {e['msg']}")
    return "\n".join(lines)


def parse_pack(data: Any, source: str = "<pack>") -> PolicyPack:
    """Validate a loaded YAML document; raise ``PolicyError`` with one line per bad field."""
    if not isinstance(data, dict):
        raise PolicyError(f"{source}: a policy pack must be a YAML mapping, got {type(data).__name__}")
    try:
        return PolicyPack.model_validate(data)
    except ValidationError as err:
        raise PolicyError(_format_error(source, err)) from None


def load_pack(ref: str | Path) -> PolicyPack:
    """Load a built-in pack by name (``cn-genai``) or a pack file by path."""
    text: str
    source = str(ref)
    if isinstance(ref, str) and ref in BUILTIN_PACKS:
        text = resources.files("hegui.policy").joinpath("packs", f"{ref}.yaml").read_text(encoding="utf-8")
    else:
        path = Path(ref)
        if not path.is_file():
            raise PolicyError(
                f"policy pack {source!r} not found: expected a built-in name ({', '.join(BUILTIN_PACKS)}) "
                "or a path to a YAML file")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise PolicyError(f"{source}: cannot read policy pack: {err}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise PolicyError(f"{source}: not valid YAML: {err}") from None
    return parse_pack(data, source)
