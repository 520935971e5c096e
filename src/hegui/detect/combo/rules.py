"""Proximity rules (组合词) and their files.

A rule fires when one term of EVERY group occurs within ``window`` characters of the normalised
text — ``{炸药, TNT …} + {配方, 步骤 …}`` — so paraphrases a phrase lexicon cannot list still hit.
Exclusion phrases near the match (``context`` characters either side: 警方破获, 切勿 …) cancel it;
allow phrases that cover one term occurrence (配方奶粉 over 配方) void that occurrence.

Rule files are YAML (``sets:`` + ``rules:``) or JSONL (one object per line, either a set
``{"set": name, "terms": [...]}`` or a rule). A term list may name a set as ``@name``. Loading
reads the whole file first and reports every bad rule; nothing is loaded from a bad file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

from hegui.detect.jsonl import jsonl_objects
from hegui.errors import InvalidInputError
from hegui.policy.taxonomy import RISKS

RuleDirection = Literal["input", "output", "both"]
MAX_WINDOW = 200  # bounds the stream's held-back window (see ComboDetector.max_span)
MAX_CONTEXT = 200
MAX_TERM_LENGTH = 60
DEFAULT_WINDOW = {"zh": 20, "en": 50}
DEFAULT_CONTEXT = {"zh": 12, "en": 40}
DEFAULT_SOURCE = "hegui-default"
MAX_ERRORS_SHOWN = 10
RULE_KEYS = frozenset({"id", "category", "severity", "lang", "direction", "window", "context", "groups",
                       "exclude", "allow", "ordered", "note", "source", "version"})


@dataclass(frozen=True, slots=True)
class ComboRule:
    """One proximity rule. ``groups``: every group must match (one term each) within ``window``
    normalised characters; ``ordered``: in the order given. A term ending in ``*`` matches as a
    word prefix (``mix*`` → mixing); other Latin terms match whole words only."""

    id: str
    category: str
    groups: tuple[tuple[str, ...], ...]
    severity: int = 2
    lang: str = "zh"
    direction: RuleDirection = "both"
    window: int = 20
    context: int = 12
    exclude: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    ordered: bool = False
    source: str = DEFAULT_SOURCE
    version: str = ""
    note: str = ""

    @property
    def rule(self) -> str:
        """What a finding's ``rule`` says: ``source@version#id``."""
        return f"{self.source}@{self.version}#{self.id}" if self.version else f"{self.source}#{self.id}"

    def applies_to(self, direction: str) -> bool:
        return self.direction == "both" or self.direction == direction


@dataclass
class RuleSet:
    """Rules read from one or more files, plus phrases that cover term occurrences for every rule."""

    rules: list[ComboRule] = field(default_factory=list)
    allow: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    output_exclude: list[str] = field(default_factory=list)
    """Phrases that cancel any match near them in model OUTPUT only: refusals ("我不能提供…",
    "I can't help with …") name the harm they decline. Not applied to input, where a user could
    add them to slip a request past."""

    def extend(self, other: RuleSet) -> None:
        seen = {r.id for r in self.rules}
        dup = [r.id for r in other.rules if r.id in seen]
        if dup:
            raise InvalidInputError(f"{', '.join(other.files)}: rule ids already loaded: {', '.join(dup[:5])}")
        self.rules += other.rules
        self.allow += [a for a in other.allow if a not in self.allow]
        self.output_exclude += [a for a in other.output_exclude if a not in self.output_exclude]
        self.files += other.files


def _guess_lang(terms: Iterable[str]) -> str:
    return "zh" if any("\u3400" <= ch <= "\u9fff" for t in terms for ch in t) else "en"


def _terms(value: Any, sets: Mapping[str, list[str]], what: str) -> list[str]:
    """A list of terms, ``@set`` references expanded; raises ``ValueError`` saying what is wrong."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ValueError(f"{what} must be a non-empty list of terms")
    out: list[str] = []
    for t in value:
        if isinstance(t, int) and not isinstance(t, bool):
            t = str(t)  # YAML reads a bare number (96110) as an int
        if not isinstance(t, str) or not t.strip():
            raise ValueError(f"{what}: every term must be a non-empty string, got {t!r}")
        if t.startswith("@"):
            if t[1:] not in sets:
                raise ValueError(f"{what}: unknown set {t!r}")
            out += [x for x in sets[t[1:]] if x not in out]
            continue
        t = t.strip()
        if "\n" in t or "\t" in t:
            raise ValueError(f"{what}: a term must be one line without tabs: {t!r}")
        if len(t) > MAX_TERM_LENGTH:
            raise ValueError(f"{what}: term longer than {MAX_TERM_LENGTH} characters: {t[:20]!r}…")
        if t not in out:
            out.append(t)
    return out


def _int(obj: Mapping[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    v = obj.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise ValueError(f"{key} must be an integer from {lo} to {hi}, got {v!r}")
    return v


def rule_from_dict(obj: Mapping[str, Any], sets: Mapping[str, list[str]], source: str = DEFAULT_SOURCE,
                   version: str = "") -> ComboRule:
    """One rule from its mapping; raises ``ValueError`` with a reason a rule writer can act on."""
    unknown = set(obj) - RULE_KEYS
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))} (allowed: {', '.join(sorted(RULE_KEYS))})")
    rid = obj.get("id")
    if not isinstance(rid, str) or not rid.strip() or any(c.isspace() for c in rid):
        raise ValueError("id must be a non-empty string without spaces")
    cat = obj.get("category")
    if cat not in RISKS and cat != "J":
        raise ValueError(f"unknown risk code {cat!r} (see `hegui policy show`)")
    groups_raw = obj.get("groups")
    if not isinstance(groups_raw, list) or len(groups_raw) < 2:
        raise ValueError("groups must be a list of at least two term lists")
    groups = tuple(tuple(_terms(g, sets, f"groups[{i}]")) for i, g in enumerate(groups_raw))
    lang = obj.get("lang") or _guess_lang(t for g in groups for t in g)
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be zh or en, got {lang!r}")
    direction = obj.get("direction", "both")
    if direction not in ("input", "output", "both"):
        raise ValueError(f"direction must be input, output or both, got {direction!r}")
    severity = _int(obj, "severity", 2, 1, 3)
    window = _int(obj, "window", DEFAULT_WINDOW[lang], 2, MAX_WINDOW)
    context = _int(obj, "context", DEFAULT_CONTEXT[lang], 0, MAX_CONTEXT)
    exclude = tuple(_terms(obj["exclude"], sets, "exclude")) if obj.get("exclude") else ()
    allow = tuple(_terms(obj["allow"], sets, "allow")) if obj.get("allow") else ()
    ordered = obj.get("ordered", False)
    if not isinstance(ordered, bool):
        raise ValueError("ordered must be true or false")
    note = obj.get("note", "")
    return ComboRule(rid, str(cat), groups, severity, lang, direction, window, context, exclude, allow, ordered,
                     str(obj.get("source") or source), str(obj.get("version") or version), str(note or ""))


def _parse_sets(raw: Any, where: str, errors: list[str], base: Mapping[str, list[str]] | None = None
                ) -> dict[str, list[str]]:
    sets: dict[str, list[str]] = dict(base or {})
    if raw is None:
        return sets
    if not isinstance(raw, dict):
        errors.append(f"{where}: sets must be a mapping of name → list of terms")
        return sets
    for name, value in raw.items():  # in file order, so a set may use sets defined before it
        try:
            sets[str(name)] = _terms(value, sets, f"set {name}")
        except ValueError as err:
            errors.append(f"{where}: {err}")
    return sets


def _load_yaml(text: str) -> Any:
    """``yaml.safe_load`` through libyaml when PyYAML has it (5x faster: the shipped rules are 80 kB,
    read by every engine build); a document libyaml rejects is read again by the Python loader, whose
    error message shows the offending line."""
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is not None:
        try:
            return yaml.load(text, Loader=loader)
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def _raise(errors: list[str]) -> None:
    if errors:
        more = f" (and {len(errors) - MAX_ERRORS_SHOWN} more)" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise InvalidInputError("; ".join(errors[:MAX_ERRORS_SHOWN]) + more + "; no rules were loaded")


def parse_yaml(text: str, name: str, base_sets: Mapping[str, list[str]] | None = None) -> RuleSet:
    """``source``/``version`` (optional), ``sets:`` name → terms, ``allow:`` phrases for every rule, ``rules:``.

    ``base_sets`` (the shipped shared sets, ``@news``, ``@fiction`` …) may be named too; a file's
    own set of the same name takes precedence."""
    try:
        doc = _load_yaml(text)
    except yaml.YAMLError as err:
        raise InvalidInputError(f"{name}: not valid YAML: {err}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        raise InvalidInputError(f"{name}: expected a mapping with a `rules:` list")
    errors: list[str] = []
    unknown = set(doc) - {"source", "version", "sets", "allow", "output_exclude", "rules"}
    if unknown:
        errors.append(f"{name}: unknown top-level key(s) {', '.join(sorted(map(str, unknown)))}")
    sets = _parse_sets(doc.get("sets"), name, errors, base_sets)
    source, version = str(doc.get("source") or DEFAULT_SOURCE), str(doc.get("version") or "")
    allow: list[str] = []
    output_exclude: list[str] = []
    try:
        allow = _terms(doc["allow"], sets, "allow") if doc.get("allow") else []
        output_exclude = _terms(doc["output_exclude"], sets, "output_exclude") if doc.get("output_exclude") else []
    except ValueError as err:
        errors.append(f"{name}: {err}")
    rules: list[ComboRule] = []
    for i, obj in enumerate(doc["rules"]):
        rid = obj.get("id") if isinstance(obj, dict) else None
        where = f"{name}: rules[{i}]" + (f" ({rid})" if rid else "")
        if not isinstance(obj, dict):
            errors.append(f"{where}: a rule must be a mapping")
            continue
        try:
            rules.append(rule_from_dict(obj, sets, source, version))
        except ValueError as err:
            errors.append(f"{where}: {err}")
    _check_ids(rules, name, errors)
    _raise(errors)
    return RuleSet(rules, allow, [name], output_exclude)


def parse_jsonl(text: str, name: str, base_sets: Mapping[str, list[str]] | None = None) -> RuleSet:
    """One JSON object per line: ``{"set": name, "terms": [...]}``, ``{"allow": [...]}``,
    ``{"output_exclude": [...]}`` or a rule."""
    errors: list[str] = []
    sets: dict[str, list[str]] = dict(base_sets or {})
    allow: list[str] = []
    output_exclude: list[str] = []
    rules: list[ComboRule] = []
    for where, obj in jsonl_objects(text, name, errors):
        try:
            if "set" in obj:
                if set(obj) != {"set", "terms"}:
                    raise ValueError("a set line has exactly the keys set and terms")
                sets[str(obj["set"])] = _terms(obj["terms"], sets, f"set {obj['set']}")
            elif set(obj) == {"allow"}:
                allow += [a for a in _terms(obj["allow"], sets, "allow") if a not in allow]
            elif set(obj) == {"output_exclude"}:
                output_exclude += [a for a in _terms(obj["output_exclude"], sets, "output_exclude")
                                   if a not in output_exclude]
            else:
                rules.append(rule_from_dict(obj, sets))
        except ValueError as err:
            errors.append(f"{where}: {err}")
    _check_ids(rules, name, errors)
    _raise(errors)
    return RuleSet(rules, allow, [name], output_exclude)


def _check_ids(rules: list[ComboRule], name: str, errors: list[str]) -> None:
    seen: set[str] = set()
    for r in rules:
        if r.id in seen:
            errors.append(f"{name}: rule id {r.id!r} used twice")
        seen.add(r.id)


def load_rules(path: Path) -> RuleSet:
    """Rules from a ``.yaml``/``.yml`` or ``.jsonl`` file (which may name the shipped shared sets)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidInputError(f"cannot read rule file {path}: {err}") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        return parse_yaml(text, str(path), shared_sets())
    if path.suffix.lower() in (".jsonl", ".json"):
        return parse_jsonl(text, str(path), shared_sets())
    raise InvalidInputError(f"{path}: rule files are .yaml, .yml or .jsonl")


SHARED_SETS_FILE = "_sets.yaml"


def shared_sets() -> dict[str, list[str]]:
    """The shipped shared term sets (``data/_sets.yaml``: ``@news``, ``@fiction`` …), usable by every rule file."""
    text = resources.files("hegui.detect.combo").joinpath("data", SHARED_SETS_FILE).read_text(encoding="utf-8")
    doc = _load_yaml(text)
    errors: list[str] = []
    sets = _parse_sets(doc.get("sets") if isinstance(doc, dict) else None, SHARED_SETS_FILE, errors)
    _raise(errors)
    return sets


def default_rules() -> RuleSet:
    """The rules the project ships (``hegui/detect/combo/data/*.yaml``), in file-name order."""
    data = resources.files("hegui.detect.combo").joinpath("data")
    base = shared_sets()
    doc = _load_yaml(data.joinpath(SHARED_SETS_FILE).read_text(encoding="utf-8"))
    out = RuleSet(allow=_terms(doc["allow"], base, "allow") if doc.get("allow") else [],
                  output_exclude=_terms(doc["output_exclude"], base, "output_exclude") if doc.get("output_exclude")
                  else [])
    for entry in sorted(data.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml") and entry.name != SHARED_SETS_FILE:
            out.extend(parse_yaml(entry.read_text(encoding="utf-8"), f"combo/data/{entry.name}", base))
    return out
