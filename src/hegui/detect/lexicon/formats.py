"""Lexicon files: plain text (one term per line), CSV and JSONL; and the shipped default data.

Parsing reads the whole file first and reports every bad line as ``file:line: reason``, so an import
either loads everything or nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from hegui.detect.jsonl import jsonl_objects
from hegui.detect.lexicon.entry import DEFAULT_SEVERITY, AllowPhrase, LexiconEntry, check_scope
from hegui.errors import HeguiError, InvalidInputError
from hegui.policy.taxonomy import RISKS

Format = Literal["txt", "csv", "jsonl"]
FORMATS: tuple[str, ...] = ("txt", "csv", "jsonl")
CSV_FIELDS: tuple[str, ...] = ("term", "category", "severity", "lang", "source", "version", "allow", "note")
DEFAULT_SOURCE = "hegui-default"
MAX_ERRORS_SHOWN = 10


def guess_format(path: Path) -> Format:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("csv", "jsonl"):
        return suffix  # type: ignore[return-value]
    if suffix == "json":
        return "jsonl"
    return "txt"


@dataclass
class ParsedFile:
    entries: list[LexiconEntry] = field(default_factory=list)
    header: dict[str, str] = field(default_factory=dict)


def _raise(errors: list[str]) -> None:
    if errors:
        more = f" (and {len(errors) - MAX_ERRORS_SHOWN} more bad lines)" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise InvalidInputError("; ".join(errors[:MAX_ERRORS_SHOWN]) + more + "; nothing was imported")


def _entry(where: str, errors: list[str], **kw: Any) -> LexiconEntry | None:
    try:
        return LexiconEntry(**kw)
    except HeguiError as err:
        errors.append(f"{where}: {err}")
    return None


def parse_txt(text: str, name: str, category: str | None, source: str | None, version: str | None) -> ParsedFile:
    """``term`` or ``term<TAB>severity`` per line; ``# key: value`` header comments; blank lines ignored."""
    out = ParsedFile()
    errors: list[str] = []
    rows: list[tuple[int, str, str | None]] = []
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.strip("\r\n")
        if not line.strip():
            continue
        if line.lstrip().startswith("#"):
            body = line.lstrip()[1:].strip()
            if ":" in body:
                key, _, value = body.partition(":")
                if key.strip().lower() in ("risk", "lang", "source", "version") and value.strip():
                    out.header.setdefault(key.strip().lower(), value.strip())
            continue
        term, sep, sev_text = line.partition("\t")
        if sep and "\t" in sev_text:
            errors.append(f"{name}:{no}: expected 'term' or 'term<TAB>severity', found more than one tab")
            continue
        rows.append((no, term, sev_text if sep else None))
    cat = category or out.header.get("risk")
    if not cat:
        raise InvalidInputError(f"{name}: no risk code: pass --category or put '# risk: CODE' in the file")
    if category and out.header.get("risk") and out.header["risk"] != category:
        raise InvalidInputError(f"{name}: file says '# risk: {out.header['risk']}' but --category is {category}")
    for no, term, sev in rows:
        e = _entry(f"{name}:{no}", errors, term=term, category=cat,
                   severity=sev if sev is not None and sev.strip() else DEFAULT_SEVERITY,
                   lang=out.header.get("lang", "") if out.header.get("lang") in ("zh", "en") else "",
                   source=source or out.header.get("source", "operator"),
                   version=version or out.header.get("version", "1"))
        if e is not None:
            out.entries.append(e)
    _raise(errors)
    return out


def _row_entry(row: dict[str, Any], where: str, errors: list[str], category: str | None, source: str | None,
               version: str | None) -> LexiconEntry | None:
    unknown = set(row) - set(CSV_FIELDS)
    if unknown:
        errors.append(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        return None
    term = row.get("term")
    if not isinstance(term, str):
        errors.append(f"{where}: 'term' is missing or not a string")
        return None
    allow = row.get("allow") or []
    if isinstance(allow, str):
        allow = [a for a in allow.split("|") if a.strip()]
    if not isinstance(allow, list) or not all(isinstance(a, str) for a in allow):
        errors.append(f"{where}: 'allow' must be a list of strings (CSV: phrases separated by '|')")
        return None
    sev = row.get("severity")
    return _entry(where, errors, term=term, category=str(row.get("category") or category or ""),
                  severity=DEFAULT_SEVERITY if sev in (None, "") else sev, lang=str(row.get("lang") or ""),
                  source=str(row.get("source") or source or "operator"),
                  version=str(row.get("version") or version or "1"), allow=tuple(allow),
                  note=str(row.get("note") or ""))


def parse_csv(text: str, name: str, category: str | None, source: str | None, version: str | None) -> ParsedFile:
    """CSV with a header row naming some of ``CSV_FIELDS`` (``term`` required; ``allow`` split on ``|``)."""
    out = ParsedFile()
    errors: list[str] = []
    reader = csv.DictReader(io.StringIO(text))
    try:  # the csv module raises csv.Error on malformed rows (a bare CR in a field …): a clean error instead
        if not reader.fieldnames or "term" not in reader.fieldnames:
            raise InvalidInputError(f"{name}:1: CSV needs a header row with at least a 'term' column")
        for row in reader:
            where = f"{name}:{reader.line_num}"
            if None in row:
                errors.append(f"{where}: more fields than the header has")
                continue
            e = _row_entry({k: v for k, v in row.items() if v is not None}, where, errors, category, source, version)
            if e is not None:
                out.entries.append(e)
    except csv.Error as err:
        raise InvalidInputError(f"{name}:{reader.line_num}: malformed CSV ({err})") from None
    _raise(errors)
    return out


def parse_jsonl(text: str, name: str, category: str | None, source: str | None, version: str | None) -> ParsedFile:
    """One JSON object per line with the ``CSV_FIELDS`` keys (``allow`` a list)."""
    out = ParsedFile()
    errors: list[str] = []
    for where, obj in jsonl_objects(text, name, errors):
        e = _row_entry(obj, where, errors, category, source, version)
        if e is not None:
            out.entries.append(e)
    _raise(errors)
    return out


def parse_text(text: str, name: str, fmt: Format, category: str | None = None, source: str | None = None,
               version: str | None = None) -> ParsedFile:
    parser = {"txt": parse_txt, "csv": parse_csv, "jsonl": parse_jsonl}.get(fmt)
    if parser is None:
        raise InvalidInputError(f"unknown lexicon format {fmt!r}; expected one of {', '.join(FORMATS)}")
    parsed = parser(text, name, category, source, version)
    if category:
        wrong = [e for e in parsed.entries if e.category != category]
        if wrong:
            raise InvalidInputError(f"{name}: term {wrong[0].term!r} has category {wrong[0].category}, "
                                    f"but --category is {category}; nothing was imported")
    return parsed


def read_file(path: Path, fmt: Format | None = None, category: str | None = None, source: str | None = None,
              version: str | None = None) -> ParsedFile:
    """Parse a lexicon file; ``InvalidInputError`` names ``file:line`` of every bad line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidInputError(f"{path}: no such file") from None
    except UnicodeDecodeError as err:
        raise InvalidInputError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except OSError as err:
        raise InvalidInputError(f"{path}: cannot read: {err.strerror}") from None
    return parse_text(text, str(path), fmt or guess_format(path), category, source, version)


def dump(entries: Iterable[LexiconEntry], fmt: Format) -> str:
    """Serialise entries; ``txt`` holds one risk only (its header says which)."""
    items = list(entries)
    if fmt == "txt":
        cats = {e.category for e in items}
        if len(cats) > 1:
            raise InvalidInputError("a txt lexicon holds one risk; pass --category or export as csv/jsonl")
        lines = []
        if cats:
            lines.append(f"# risk: {cats.pop()}")
        lines += [f"{e.term}\t{e.severity}" for e in items]
        return "\n".join(lines) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(CSV_FIELDS), lineterminator="\n")
        w.writeheader()
        for e in items:
            w.writerow({"term": e.term, "category": e.category, "severity": e.severity, "lang": e.lang,
                        "source": e.source, "version": e.version, "allow": "|".join(e.allow), "note": e.note})
        return buf.getvalue()
    if fmt == "jsonl":
        return "".join(json.dumps({"term": e.term, "category": e.category, "severity": e.severity, "lang": e.lang,
                                   "source": e.source, "version": e.version, "allow": list(e.allow),
                                   "note": e.note}, ensure_ascii=False) + "\n" for e in items)
    raise InvalidInputError(f"unknown lexicon format {fmt!r}; expected one of {', '.join(FORMATS)}")


# shipped default data -------------------------------------------------------------------------------

@dataclass
class DefaultData:
    """The default lexicons shipped in ``hegui/detect/lexicon/data`` and a fingerprint of them."""

    entries: list[LexiconEntry]
    allow: list[AllowPhrase]
    fingerprint: str
    files: dict[str, str]  # risk code → header version


def parse_allow(text: str, name: str, scope: str) -> list[AllowPhrase]:
    """One allow phrase per line; ``#`` comments and blank lines ignored."""
    check_scope(scope)
    out: list[AllowPhrase] = []
    errors: list[str] = []
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            out.append(AllowPhrase(line.strip(), scope, DEFAULT_SOURCE))
        except HeguiError as err:
            errors.append(f"{name}:{no}: {err}")
    _raise(errors)
    return out


def load_default_data(root: Path | None = None) -> DefaultData:
    """Read ``<CODE>.txt`` and ``allow/<CODE>.txt``/``allow/_all.txt`` from the data directory."""
    base = root if root is not None else Path(str(resources.files("hegui.detect.lexicon").joinpath("data")))
    digest = hashlib.sha256()
    entries: list[LexiconEntry] = []
    allow: list[AllowPhrase] = []
    files: dict[str, str] = {}
    if not base.is_dir():
        return DefaultData([], [], "empty", {})
    for path in sorted(base.glob("*.txt")):
        code = path.stem
        if code not in RISKS:
            continue  # only <risk code>.txt files are lexicons
        raw = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + raw)
        parsed = parse_text(raw.decode("utf-8-sig"), f"{path.name}", "txt", category=code, source=DEFAULT_SOURCE)
        files[code] = parsed.header.get("version", "1")
        entries.extend(parsed.entries)
    allow_dir = base / "allow"
    if allow_dir.is_dir():
        for path in sorted(allow_dir.glob("*.txt")):
            raw = path.read_bytes()
            digest.update(b"allow/" + path.name.encode() + b"\0" + raw)
            scope = "*" if path.stem == "_all" else path.stem
            allow.extend(parse_allow(raw.decode("utf-8-sig"), f"allow/{path.name}", scope))
    return DefaultData(entries, allow, digest.hexdigest()[:16], files)
