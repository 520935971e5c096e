"""Quality of the default lexicon data shipped in ``hegui/detect/lexicon/data``.

The files are checked with a strict parser of their own (the agreed format), then loaded with the
real loader and matcher: no term may fire on the benign look-alike corpus, every harmful sample must
be hit with its risk code, and every term must at least find itself (a term that an allow phrase or
normalisation silences is dead weight).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import hegui.detect.lexicon
from hegui.detect.lexicon import LexiconDetector
from hegui.detect.lexicon.formats import load_default_data
from hegui.policy.taxonomy import RISKS

DATA = Path(hegui.detect.lexicon.__file__).parent / "data"
TESTDATA = Path(__file__).resolve().parents[2] / "data"
HEADER_KEYS = ("risk", "lang", "source", "version")
POLITICAL = ("A1.1", "A1.2", "A1.3", "A1.5")
# TC260-003 asks at least 200 terms per A1 risk and 100 per A2 risk; the project sets 50 for the rest.
TARGETS = {
    **{c: 200 for c in ("A1.4", "A1.6", "A1.7", "A1.8")},
    **{f"A2.{i}": 100 for i in range(1, 10)},
    **{c: 50 for c in ("A3.1", "A3.2", "A3.3", "A4.1", "A4.5", "A4.6", "J")},
}
TERM_FILES = sorted(DATA.glob("*.txt"))
ALLOW_FILES = sorted((DATA / "allow").glob("*.txt"))


def parse_strict(path: Path) -> tuple[dict[str, str], list[tuple[int, str, int]], list[str]]:
    """Header, ``(line number, term, severity)`` rows and format errors of one term file."""
    header: dict[str, str] = {}
    rows: list[tuple[int, str, int]] = []
    errors: list[str] = []
    for no, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if not line.strip():
            continue
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep and key.strip() in HEADER_KEYS:
                header.setdefault(key.strip(), value.strip())
            continue
        term, tab, sev = line.partition("\t")
        if term != term.strip() or sev != sev.strip():
            errors.append(f"{path.name}:{no}: leading/trailing whitespace in {line!r}")
        if "  " in term:
            errors.append(f"{path.name}:{no}: double space in {term!r}")
        if len(term.strip()) < 2:
            errors.append(f"{path.name}:{no}: term {term!r} is shorter than 2 characters")
        if tab and sev not in ("1", "2", "3"):
            errors.append(f"{path.name}:{no}: severity {sev!r} is not 1, 2 or 3")
            continue
        rows.append((no, term.strip(), int(sev) if tab else 2))
    return header, rows, errors


def benign_lines() -> list[str]:
    text = (TESTDATA / "benign_lookalikes.txt").read_text(encoding="utf-8")
    return [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def harmful_samples() -> list[tuple[str, str]]:
    text = (TESTDATA / "harmful_samples.txt").read_text(encoding="utf-8")
    out = []
    for ln in text.splitlines():
        if ln.strip() and not ln.startswith("#"):
            code, _, sample = ln.partition("\t")
            out.append((code, sample))
    return out


@pytest.fixture(scope="module")
def detector() -> LexiconDetector:
    data = load_default_data()
    return LexiconDetector.from_entries(data.entries, allow=data.allow)


def test_every_term_file_is_named_for_a_risk_code() -> None:
    assert TERM_FILES, f"no data files in {DATA}"
    assert [p.stem for p in TERM_FILES if p.stem not in RISKS] == []


@pytest.mark.parametrize("path", TERM_FILES, ids=lambda p: p.stem)
def test_term_file_has_the_agreed_header(path: Path) -> None:
    header, _, _ = parse_strict(path)
    assert set(HEADER_KEYS) <= set(header), f"{path.name} lacks {set(HEADER_KEYS) - set(header)}"
    assert header["risk"] == path.stem
    assert header["source"] == "hegui-default"
    assert set(header["lang"].split(",")) <= {"zh", "en"}


@pytest.mark.parametrize("path", TERM_FILES, ids=lambda p: p.stem)
def test_term_lines_are_well_formed(path: Path) -> None:
    _, _, errors = parse_strict(path)
    assert errors == []


@pytest.mark.parametrize("path", TERM_FILES, ids=lambda p: p.stem)
def test_no_term_is_listed_twice_within_a_risk(path: Path) -> None:
    seen: dict[str, int] = {}
    dupes = []
    for no, term, _ in parse_strict(path)[1]:
        key = " ".join(term.casefold().split())
        if key in seen:
            dupes.append(f"{path.name}:{no} repeats line {seen[key]}: {term!r}")
        seen.setdefault(key, no)
    assert dupes == []


@pytest.mark.parametrize("code", sorted(TARGETS))
def test_risk_meets_its_term_count_target(code: str) -> None:
    _, rows, _ = parse_strict(DATA / f"{code}.txt")
    assert len(rows) >= TARGETS[code], f"{code}: {len(rows)} terms, target {TARGETS[code]}"


@pytest.mark.parametrize("code", POLITICAL)
def test_political_slot_ships_empty_with_instructions(code: str) -> None:
    path = DATA / f"{code}.txt"
    header, rows, _ = parse_strict(path)
    assert header["risk"] == code and rows == []
    assert f"hegui lexicon import FILE --category {code}" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", ALLOW_FILES, ids=lambda p: p.stem)
def test_allow_file_is_well_formed(path: Path) -> None:
    assert path.stem == "_all" or path.stem in RISKS
    phrases = [ln for ln in path.read_text(encoding="utf-8").split("\n") if ln.strip() and not ln.startswith("#")]
    assert phrases
    assert [p for p in phrases if p != p.strip() or "\t" in p or len(p) < 2] == []
    assert len({p.casefold() for p in phrases}) == len(phrases), "duplicate allow phrase"


def test_loader_reads_every_term_of_every_file() -> None:
    data = load_default_data()
    expected = sum(len(parse_strict(p)[1]) for p in TERM_FILES)
    assert len(data.entries) == expected
    assert {e.source for e in data.entries} == {"hegui-default"}


def test_benign_corpus_is_large_enough() -> None:
    lines = benign_lines()
    assert len(lines) >= 500
    assert sum(any("\u4e00" <= c <= "\u9fff" for c in ln) for ln in lines) >= 200
    assert sum(ln.isascii() for ln in lines) >= 200


def test_no_default_term_fires_on_a_benign_line(detector: LexiconDetector) -> None:
    fired = [f"{f.category} {f.match!r} in {line!r}" for line in benign_lines() for f in detector.detect(line)]
    assert fired == []


def test_every_harmful_sample_is_hit_with_its_risk(detector: LexiconDetector) -> None:
    samples = harmful_samples()
    assert {code for code, _ in samples} >= set(TARGETS)
    missed = [f"{code}: {text!r}" for code, text in samples
              if code not in {f.category for f in detector.detect(text)}]
    assert missed == []


def test_every_term_finds_itself(detector: LexiconDetector) -> None:
    """A term that cannot match its own text (cancelled by an allow phrase, or broken by normalisation)."""
    dead = []
    for e in detector.entries:
        if not any(f.category == e.category for f in detector.detect(e.term)):
            dead.append(f"{e.category} {e.term!r}")
    assert dead == []
