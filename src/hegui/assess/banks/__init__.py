"""Question banks (TC260-003 §8): generated-content test, should-refuse and should-not-refuse.

Banks are versioned JSONL files, one question per line::

    {"id", "bank", "risk", "aspect", "lang", "question", "framing", "version"}

The default banks ship under ``banks/data/`` (written by us; political risks A1.1, A1.2, A1.3,
A1.5 are an *operator slot*: the default covers them only with neutral should-not-refuse
questions). Operators import their own files, which are kept under ``<data_dir>/assess/banks/``
and loaded next to the defaults.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

from hegui.errors import InvalidInputError
from hegui.policy.pack import PolicyPack
from hegui.policy.taxonomy import APPENDIX_A_CODES, POLITICAL_CODES, RISKS

BankName = Literal["generated", "should_refuse", "should_not_refuse"]
BANKS: tuple[BankName, ...] = get_args(BankName)
BANK_TITLES: dict[str, str] = {
    "generated": "生成内容测试题库 (generated-content test bank)",
    "should_refuse": "应拒答测试题库 (should-refuse bank)",
    "should_not_refuse": "非拒答测试题库 (should-not-refuse bank)",
}
FRAMINGS: frozenset[str] = frozenset(
    {"direct", "indirect", "roleplay", "hypothetical", "research", "continuation", "obfuscated", "urgent",
     "insistent", "teaching", "operator"})
A1_A2_CODES: tuple[str, ...] = tuple(c for c in APPENDIX_A_CODES if RISKS[c].parent in ("A1", "A2"))
NEAR_DUPLICATE_JACCARD = 0.8
SHINGLE = 3
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,79}$")


@dataclass(frozen=True, slots=True)
class Question:
    """One bank question. ``risk`` is an Appendix A code; ``aspect`` a should-not-refuse aspect."""

    id: str
    bank: BankName
    risk: str | None
    aspect: str | None
    lang: str
    question: str
    framing: str
    version: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def aspect_key(aspect: str) -> str:
    """The pack lists aspects as ``历史 (history)``; the bank stores the Chinese head ``历史``."""
    return aspect.split(" (", 1)[0].strip()


def parse_question(obj: Any, where: str) -> Question:
    """Validate one JSONL record; raise ``InvalidInputError`` naming the line and the field."""
    if not isinstance(obj, dict):
        raise InvalidInputError(f"{where}: expected a JSON object")
    required = ("id", "bank", "lang", "question", "framing", "version")
    for key in required:
        if not isinstance(obj.get(key), str) or not obj[key].strip():
            raise InvalidInputError(f"{where}: field {key!r} must be a non-empty string")
    extra = set(obj) - {"id", "bank", "risk", "aspect", "lang", "question", "framing", "version"}
    if extra:
        raise InvalidInputError(f"{where}: unknown field(s) {', '.join(sorted(extra))}")
    if not _ID_RE.match(obj["id"]):
        raise InvalidInputError(f"{where}: id {obj['id']!r} must be 1–80 characters of A-Z a-z 0-9 . _ : -")
    if obj["bank"] not in BANKS:
        raise InvalidInputError(f"{where}: bank {obj['bank']!r} must be one of {', '.join(BANKS)}")
    risk = obj.get("risk")
    if risk is not None and (not isinstance(risk, str) or risk not in APPENDIX_A_CODES):
        raise InvalidInputError(f"{where}: risk {risk!r} must be an Appendix A code (A1.1 … A5.2) or null")
    aspect = obj.get("aspect")
    if aspect is not None and (not isinstance(aspect, str) or not aspect.strip()):
        raise InvalidInputError(f"{where}: aspect must be a non-empty string or null")
    if obj["bank"] in ("generated", "should_refuse") and risk is None:
        raise InvalidInputError(f"{where}: a {obj['bank']} question needs a risk code")
    if obj["bank"] == "should_refuse" and RISKS[risk].parent not in ("A1", "A2"):  # type: ignore[index]
        raise InvalidInputError(f"{where}: should_refuse covers the A1 and A2 risks only, got {risk}")
    if obj["bank"] == "should_not_refuse" and aspect is None:
        raise InvalidInputError(f"{where}: a should_not_refuse question needs an aspect")
    if obj["framing"] not in FRAMINGS:
        raise InvalidInputError(f"{where}: framing {obj['framing']!r} must be one of {', '.join(sorted(FRAMINGS))}")
    return Question(id=obj["id"], bank=obj["bank"], risk=risk, aspect=aspect, lang=obj["lang"],
                    question=obj["question"].strip(), framing=obj["framing"], version=obj["version"])


def read_jsonl(path: Path) -> list[Question]:
    """Read and validate a bank file; the whole file is checked before anything is returned."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidInputError(f"{path}: cannot read bank file: {err}") from None
    out: list[Question] = []
    seen: set[str] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise InvalidInputError(f"{path}:{n}: not valid JSON: {err.msg}") from None
        q = parse_question(obj, f"{path}:{n}")
        if q.id in seen:
            raise InvalidInputError(f"{path}:{n}: duplicate id {q.id!r}")
        seen.add(q.id)
        out.append(q)
    return out


def write_jsonl(path: Path, questions: Iterable[Question]) -> int:
    """Write questions as JSONL (UTF-8, one object per line); return how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for q in questions:
            fh.write(json.dumps(q.to_dict(), ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(path)
    return n


def default_bank_files() -> list[Path]:
    base = resources.files("hegui.assess.banks").joinpath("data")
    return [Path(str(base.joinpath(f"{b}.jsonl"))) for b in BANKS]


def operator_bank_dir(data_dir: Path) -> Path:
    return data_dir / "assess" / "banks"


@dataclass
class BankSet:
    """All questions in force: the defaults plus every operator-imported file."""

    questions: list[Question]
    sources: list[str] = field(default_factory=list)

    def by_bank(self, bank: str) -> list[Question]:
        return [q for q in self.questions if q.bank == bank]

    def by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    @property
    def version(self) -> str:
        versions = sorted({q.version for q in self.questions})
        return "+".join(versions) if versions else "empty"


def load_banks(data_dir: Path | None = None, *, include_default: bool = True,
               extra: Sequence[Path] = (), exclude: Path | None = None) -> BankSet:
    """Load the default banks, the operator's imported banks under ``data_dir`` and ``extra`` files."""
    files: list[Path] = list(default_bank_files()) if include_default else []
    if data_dir is not None and operator_bank_dir(data_dir).is_dir():
        files.extend(sorted(operator_bank_dir(data_dir).glob("*.jsonl")))
    files.extend(extra)
    if exclude is not None:
        files = [f for f in files if f.resolve() != exclude.resolve()]
    questions: list[Question] = []
    origin: dict[str, Path] = {}
    for f in files:
        for q in read_jsonl(f):
            if q.id in origin:
                raise InvalidInputError(f"{f}: question id {q.id!r} is already defined in {origin[q.id]}")
            origin[q.id] = f
            questions.append(q)
    return BankSet(questions, [str(f) for f in files])


def import_bank(data_dir: Path, source: Path, name: str | None = None) -> tuple[Path, int]:
    """Validate ``source`` against the banks in force and copy it into the operator bank folder."""
    questions = read_jsonl(source)
    if not questions:
        raise InvalidInputError(f"{source}: no questions in file")
    target_name = name or source.stem
    if not re.match(r"^[A-Za-z0-9_.-]+$", target_name):
        raise InvalidInputError(f"bank name {target_name!r}: use letters, digits, '.', '_' or '-'")
    target = operator_bank_dir(data_dir) / f"{target_name}.jsonl"
    # re-importing under the same name replaces that file, so its own ids don't clash
    known = {q.id for q in load_banks(data_dir, exclude=target).questions}
    clash = [q.id for q in questions if q.id in known]
    if clash:
        raise InvalidInputError(f"{source}: {len(clash)} id(s) already in the banks in force, e.g. {clash[0]!r}")
    write_jsonl(target, questions)
    return target, len(questions)


# --- statistics --------------------------------------------------------------------------------


def _norm(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in t if ch.isalnum())


def shingles(text: str, k: int = SHINGLE) -> frozenset[str]:
    t = _norm(text)
    if len(t) <= k:
        return frozenset({t}) if t else frozenset()
    return frozenset(t[i:i + k] for i in range(len(t) - k + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def near_duplicates(questions: Sequence[Question], threshold: float = NEAR_DUPLICATE_JACCARD
                    ) -> list[tuple[str, str, float]]:
    """Pairs with character-shingle Jaccard ≥ ``threshold`` (exact duplicates excluded).

    Prefix filtering keeps this exact but fast: two sets can only reach the threshold if they
    share one of the rarest ``|A| - ceil(t·|A|) + 1`` shingles of each.
    """
    sets = [shingles(q.question) for q in questions]
    freq: Counter[str] = Counter(s for ss in sets for s in ss)
    index: dict[str, list[int]] = defaultdict(list)
    pairs: list[tuple[str, str, float]] = []
    for i, ss in enumerate(sets):
        ordered = sorted(ss, key=lambda s: (freq[s], s))
        prefix = len(ordered) - math.ceil(threshold * len(ordered)) + 1
        candidates: set[int] = set()
        for s in ordered[:max(prefix, 1)]:
            candidates.update(index[s])
            index[s].append(i)
        for j in candidates:
            if _norm(questions[i].question) == _norm(questions[j].question):
                continue
            sim = jaccard(ss, sets[j])
            if sim >= threshold:
                pairs.append((questions[j].id, questions[i].id, round(sim, 3)))
    return pairs


def exact_duplicates(questions: Sequence[Question]) -> list[list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for q in questions:
        groups[_norm(q.question)].append(q.id)
    return [ids for ids in groups.values() if len(ids) > 1]


@dataclass
class Coverage:
    key: str
    name: str
    count: int
    minimum: int
    status: Literal["ok", "short", "operator slot"]


@dataclass
class BankStats:
    bank: str
    title: str
    total: int
    minimum: int
    coverage: list[Coverage]
    framings: dict[str, int]
    langs: dict[str, int]
    duplicates: list[list[str]]
    near_duplicates: list[tuple[str, str, float]]

    @property
    def meets_minimums(self) -> bool:
        return self.total >= self.minimum and all(c.status == "ok" for c in self.coverage)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["meets_minimums"] = self.meets_minimums
        d["near_duplicates"] = [list(p) for p in self.near_duplicates]
        return d


def _risk_coverage(qs: Sequence[Question], codes: Sequence[str], minimum_for: dict[str, int]) -> list[Coverage]:
    counts = Counter(q.risk for q in qs)
    out = []
    for code in codes:
        n = counts.get(code, 0)
        status: Literal["ok", "short", "operator slot"] = "ok" if n >= minimum_for[code] else "short"
        if code in POLITICAL_CODES and n == 0:
            status = "operator slot"
        out.append(Coverage(code, RISKS[code].name_zh, n, minimum_for[code], status))
    return out


def bank_stats(bankset: BankSet, pack: PolicyPack, near_threshold: float = NEAR_DUPLICATE_JACCARD
               ) -> list[BankStats]:
    """Coverage of each bank against the pack's minimums, framings, duplicates and near-duplicates."""
    fig = pack.figures.question_banks
    out: list[BankStats] = []
    for bank in BANKS:
        qs = bankset.by_bank(bank)
        if bank == "generated":
            mins = {c: (fig.generated_min_per_a1_a2_risk if RISKS[c].parent in ("A1", "A2")
                        else fig.generated_min_per_other_risk) for c in APPENDIX_A_CODES}
            cov = _risk_coverage(qs, APPENDIX_A_CODES, mins)
            total_min = fig.generated_min
        elif bank == "should_refuse":
            cov = _risk_coverage(qs, A1_A2_CODES, dict.fromkeys(A1_A2_CODES, fig.should_refuse_min_per_risk))
            total_min = fig.should_refuse_min
        else:
            counts = Counter(aspect_key(q.aspect or "") for q in qs)
            cov = []
            for aspect in fig.should_not_refuse_aspects:
                n = counts.get(aspect_key(aspect), 0)
                cov.append(Coverage(aspect_key(aspect), aspect, n, fig.should_not_refuse_min_per_aspect,
                                    "ok" if n >= fig.should_not_refuse_min_per_aspect else "short"))
            total_min = fig.should_not_refuse_min
        out.append(BankStats(
            bank=bank, title=BANK_TITLES[bank], total=len(qs), minimum=total_min, coverage=cov,
            framings=dict(sorted(Counter(q.framing for q in qs).items())),
            langs=dict(sorted(Counter(q.lang for q in qs).items())),
            duplicates=exact_duplicates(qs), near_duplicates=near_duplicates(qs, near_threshold)))
    return out
