"""What a lexicon holds: terms tagged with a risk, and allow phrases that cancel hits."""

from __future__ import annotations

from dataclasses import dataclass, field

from hegui.errors import InvalidInputError
from hegui.policy.taxonomy import RISKS, is_valid_code

MAX_TERM_CHARS = 200
DEFAULT_SEVERITY = 2
ALL_SCOPE = "*"


def guess_lang(term: str) -> str:
    """``zh`` when the term has a Han character, else ``en`` (good enough for zh/en lexicons)."""
    return "zh" if any("\u3400" <= c <= "\u9fff" or "\U00020000" <= c <= "\U0003134f" for c in term) else "en"


def check_term(term: str, what: str = "term") -> str:
    """A term or allow phrase: stripped, non-empty, one line, not too long."""
    t = term.strip()
    if not t:
        raise InvalidInputError(f"{what} is empty")
    if "\t" in t or "\r" in t or "\n" in t:  # (three searches: cheaper than a generator per term)
        raise InvalidInputError(f"{what} {t!r} contains a tab or line break")
    if len(t) > MAX_TERM_CHARS:
        raise InvalidInputError(f"{what} is longer than {MAX_TERM_CHARS} characters")
    return t


def check_category(code: str) -> str:
    if code not in RISKS:
        raise InvalidInputError(f"unknown risk code {code!r}; a term needs a risk code A1.1 … A5.2 or J")
    return code


def check_scope(scope: str) -> str:
    if scope != ALL_SCOPE and not is_valid_code(scope):
        raise InvalidInputError(f"allow-list scope {scope!r} must be '*' (all risks) or a risk/category code")
    return scope


def check_severity(value: object) -> int:
    if type(value) is int and 1 <= value <= 3:  # (as stored: the database's rows skip the string round trip)
        return value
    try:
        sev = int(str(value).strip())
    except ValueError:
        raise InvalidInputError(f"severity must be 1, 2 or 3, got {value!r}") from None
    if sev not in (1, 2, 3):
        raise InvalidInputError(f"severity must be 1, 2 or 3, got {sev}")
    return sev


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    """One term. ``category`` is a risk code (``A1.4``, ``J``); ``severity`` 1 low … 3 high.

    ``allow`` holds phrases that cancel a hit of THIS term when an occurrence of the phrase covers
    the hit (``炸鸡`` for ``炸``). ``source``/``version`` name where the term came from and appear in
    ``Finding.rule`` as ``source@version``.
    """

    term: str
    category: str
    severity: int = DEFAULT_SEVERITY
    lang: str = ""
    source: str = "operator"
    version: str = "1"
    allow: tuple[str, ...] = field(default_factory=tuple)
    note: str = ""

    def __post_init__(self) -> None:
        # every process builds ~22k of these from the database per lexicon build: a field is set again only
        # when checking changed it
        term = check_term(self.term)
        if term is not self.term:
            object.__setattr__(self, "term", term)
        check_category(self.category)
        severity = check_severity(self.severity)
        if severity is not self.severity:
            object.__setattr__(self, "severity", severity)
        if not self.lang:
            object.__setattr__(self, "lang", guess_lang(self.term))
        if type(self.allow) is not tuple or self.allow:  # (the empty tuple stays as it is)
            object.__setattr__(self, "allow", tuple(check_term(a, "allow phrase") for a in self.allow))

    @property
    def rule(self) -> str:
        return f"{self.source}@{self.version}"


@dataclass(frozen=True, slots=True)
class AllowPhrase:
    """A phrase that cancels hits it covers: for every risk (``scope='*'``) or one risk/category."""

    phrase: str
    scope: str = ALL_SCOPE
    source: str = "operator"

    def __post_init__(self) -> None:
        phrase = check_term(self.phrase, "allow phrase")
        if phrase is not self.phrase:
            object.__setattr__(self, "phrase", phrase)
        check_scope(self.scope)

    def applies_to(self, category: str) -> bool:
        return self.scope == ALL_SCOPE or category == self.scope or category.startswith(self.scope + ".")
