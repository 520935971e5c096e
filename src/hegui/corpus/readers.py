"""Streaming readers for training corpora: JSONL, JSON arrays, Parquet, CSV/TSV, folders of .txt/.md.

Every reader yields documents one at a time with bounded memory, and counts what it could not use
in a :class:`FileStats` (broken records, wrong encodings, missing or empty text, empty files), so a
bad file is reported, never a crash and never a silent skip. Text that is not UTF-8 but decodes as
GB 18030 (the usual legacy Chinese encoding) is kept and counted as ``recoded``.

JSONL lines go through orjson first (several times faster than ``json`` on the decoded line); what
orjson refuses (blank or broken lines, invalid UTF-8, lone surrogate escapes, ``NaN``, numbers out of
double range, a BOM …) is read again exactly as before, by ``json`` on the decoded line, so the
documents and the counts do not depend on which parser took a line.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import orjson

COMPRESSION_SUFFIXES = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet", ".csv": "csv",
           ".tsv": "tsv", ".txt": "text", ".md": "text"}
TEXT_FILES_PER_SHARD = 2000
SHARD_BYTES = 64 * 1024 * 1024  # a larger JSONL/CSV/TSV/Parquet file is split into parts of about this size
_SCAN_CHUNK = 8 * 1024 * 1024
MAX_TEXT_FILE_BYTES = 64 * 1024 * 1024
_JSON_CHUNK = 1 << 20
_MAX_JSON_ELEMENT = 64 * 1024 * 1024
_MAX_CSV_ERRORS_IN_A_ROW = 100
# the fast JSONL line parser (None: every line through ``json``; the tests compare the two paths)
_FAST_LOADS: Callable[[bytes], Any] | None = orjson.loads


@dataclass(slots=True)
class Document:
    """One training item. ``key`` identifies it across the audit (``source:file#index``); ``index`` is
    the record's place in its file (JSONL line, CSV/TSV data row, Parquet row, from 0), whether or
    not the file was split into parts (JSON arrays: documents before it; text files: 0)."""

    source: str
    file: str
    index: int
    text: str

    @property
    def key(self) -> str:
        return f"{self.source}:{self.file}#{self.index}"


@dataclass(slots=True)
class FileStats:
    """What reading one file produced and what it could not use (all counted, none dropped silently)."""

    path: str
    format: str
    items: int = 0
    bytes: int = 0
    broken: int = 0
    bad_encoding: int = 0
    recoded: int = 0
    missing_text: int = 0
    empty_text: int = 0
    empty_file: bool = False
    error: str | None = None

    @property
    def problems(self) -> int:
        return (self.broken + self.bad_encoding + self.missing_text + self.empty_text
                + int(self.empty_file) + int(self.error is not None))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Shard:
    """The unit of work and of checkpointing: one structured file, a part of a large one, or a group
    of .txt/.md files.

    A part (``end >= 0``) is bytes ``[start, end)`` of a JSONL/CSV/TSV file, cut where a record
    begins, or row groups ``[start, end)`` of a Parquet file; ``first_record`` is the number of its
    first record in the file (line for JSONL, data row for CSV/TSV, row for Parquet), so the items of
    a split file are numbered by their place in the file whichever part reads them."""

    id: str
    source: str
    paths: tuple[str, ...]
    root: str = ""
    text_field: str = "text"
    start: int = 0
    end: int = -1
    first_record: int = 0

    @property
    def is_part(self) -> bool:
        return self.end >= 0

    def rel(self, path: str) -> str:
        if self.root and path.startswith(self.root):
            return os.path.relpath(path, self.root)
        return os.path.basename(path)


@dataclass(slots=True)
class _Decoded:
    text: str | None = None
    recoded: bool = False


def split_format(path: str | Path) -> tuple[str | None, str | None]:
    """``(format, compression)`` from a file name, e.g. ``data.jsonl.zst`` → ``("jsonl", "zstd")``."""
    name = Path(path).name.lower()
    compression = None
    for suf, comp in COMPRESSION_SUFFIXES.items():
        if name.endswith(suf):
            compression = comp
            name = name[: -len(suf)]
            break
    return FORMATS.get(Path(name).suffix), compression


def open_binary(path: str, compression: str | None) -> IO[bytes]:
    """Open a possibly compressed file as a decompressed binary stream."""
    if compression == "gzip":
        return cast(IO[bytes], gzip.open(path, "rb"))
    if compression == "zstd":
        import zstandard

        raw = open(path, "rb")  # noqa: SIM115 - closed through the wrapper
        return io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw, closefd=True))
    return open(path, "rb")


def _decode(raw: bytes) -> _Decoded:
    try:
        return _Decoded(raw.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    try:
        return _Decoded(raw.decode("gb18030"), recoded=True)
    except UnicodeDecodeError:
        return _Decoded(None)


def _fix_surrogates(text: str) -> _Decoded:
    """Undo ``surrogateescape`` decoding of a value: retry the original bytes as GB 18030.

    A lone surrogate that came from a JSON escape (``"\\ud800"``) is not text: it becomes U+FFFD."""
    try:
        text.encode("utf-8")  # C speed; fails only when the value holds lone surrogates
        return _Decoded(text)
    except UnicodeEncodeError:
        pass
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        try:
            return _Decoded(text.encode("utf-8", "surrogateescape").decode("gb18030"), recoded=True)
        except (UnicodeDecodeError, UnicodeEncodeError):
            return _Decoded(None)
    return _Decoded(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"), recoded=True)


def _get_field(record: Any, text_field: str) -> Any:
    if isinstance(record, str):
        return record
    cur = record
    for part in text_field.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


class _Sink:
    """Turns one decoded record into a document or a counted problem."""

    def __init__(self, shard: Shard, stats: FileStats, rel: str) -> None:
        self.shard, self.stats, self.rel = shard, stats, rel

    def take(self, value: Any, recoded: bool = False, index: int | None = None) -> Document | None:
        st = self.stats
        if not isinstance(value, str):
            st.missing_text += 1
            return None
        fixed = _fix_surrogates(value)
        if fixed.text is None:
            st.bad_encoding += 1
            return None
        if not fixed.text.strip():
            st.empty_text += 1
            return None
        if recoded or fixed.recoded:
            st.recoded += 1
        doc = Document(self.shard.source, self.rel, st.items if index is None else index, fixed.text)
        st.items += 1
        return doc

    def take_valid(self, value: Any, index: int) -> Document | None:
        """``take`` for a value orjson parsed from the line's bytes: its strings are valid UTF-8 (no
        lone surrogates, nothing recoded), so the surrogate check is skipped."""
        st = self.stats
        if not isinstance(value, str):
            st.missing_text += 1
            return None
        if not value.strip():
            st.empty_text += 1
            return None
        st.items += 1
        return Document(self.shard.source, self.rel, index, value)


def _lines(fh: IO[bytes], shard: Shard) -> Iterator[bytes]:
    """The lines of the file, or of the shard's byte range (its bounds are line starts)."""
    if not shard.is_part:
        yield from fh
        return
    fh.seek(shard.start)
    left = shard.end - shard.start
    while left > 0:
        raw = fh.readline(left)
        if not raw:
            return
        left -= len(raw)
        yield raw


def _read_jsonl(fh: IO[bytes], sink: _Sink) -> Iterator[Document]:
    st = sink.stats
    line = sink.shard.first_record - 1
    fast = _FAST_LOADS
    field = sink.shard.text_field
    nested = "." in field
    for raw in _lines(fh, sink.shard) if sink.shard.is_part else fh:  # a whole file: no generator in between
        line += 1
        st.bytes += len(raw)
        if fast is not None:
            try:
                record = fast(raw)
            except ValueError:  # orjson.JSONDecodeError: the stdlib path below decides
                pass
            else:
                flat = not nested and isinstance(record, dict)
                doc = sink.take_valid(record.get(field) if flat else _get_field(record, field), line)
                if doc is not None:
                    yield doc
                continue
        if not raw.strip():
            continue
        dec = _decode(raw)
        if dec.text is None:
            st.bad_encoding += 1
            continue
        try:
            record = json.loads(dec.text)
        except ValueError:
            st.broken += 1
            continue
        doc = sink.take(_get_field(record, sink.shard.text_field), dec.recoded, line)
        if doc is not None:
            yield doc


def _read_json(fh: IO[bytes], sink: _Sink) -> Iterator[Document]:
    """A JSON array (or a stream of JSON values) parsed incrementally, one element in memory at a time."""
    st = sink.stats
    first = fh.read(_JSON_CHUNK)
    st.bytes += len(first)
    encoding, recoded = "utf-8", False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(first, final=False)
    except UnicodeDecodeError:
        encoding, recoded = "gb18030", True
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    parser = json.JSONDecoder()
    buf = decoder.decode(first, final=len(first) < _JSON_CHUNK)
    pos, eof, in_array, started = 0, len(first) < _JSON_CHUNK, False, False

    def more() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        chunk = fh.read(_JSON_CHUNK)
        st.bytes += len(chunk)
        eof = len(chunk) < _JSON_CHUNK
        buf = buf[pos:] + decoder.decode(chunk, final=eof)
        pos = 0
        return True

    while True:
        while pos < len(buf) and buf[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(buf):
            if more():
                continue
            break
        ch = buf[pos]
        if not started:
            started = True
            if ch == "[":
                in_array = True
                pos += 1
                continue
        if in_array and ch == "]":
            break
        try:
            value, end = parser.raw_decode(buf, pos)
        except ValueError:
            if len(buf) - pos < _MAX_JSON_ELEMENT and more():
                continue
            st.broken += 1
            st.error = f"broken JSON at character {pos} of the decoded text; rest of the file not read"
            return
        pos = end
        doc = sink.take(_get_field(value, sink.shard.text_field), recoded)
        if doc is not None:
            yield doc
        if pos > _JSON_CHUNK:
            buf, pos = buf[pos:], 0


def _read_csv(fh: IO[bytes], sink: _Sink, delimiter: str) -> Iterator[Document]:
    st = sink.stats
    csv.field_size_limit(1 << 30)
    part = sink.shard.is_part
    if part and sink.shard.start > 0:  # the header from the file's start, then the part's own lines
        lines: Iterator[str] = (raw.decode("utf-8", "surrogateescape") for raw in _lines(fh, sink.shard))
        reader = csv.reader(lines, delimiter=delimiter)
        try:
            with open(sink.shard.paths[0], "rb") as hf:
                header = next(csv.reader(io.TextIOWrapper(hf, encoding="utf-8", errors="surrogateescape",
                                                          newline=""), delimiter=delimiter))
        except (StopIteration, csv.Error) as err:
            st.error = f"unreadable CSV header: {err}"
            return
    else:
        if part:
            reader = csv.reader((raw.decode("utf-8", "surrogateescape") for raw in _lines(fh, sink.shard)),
                                delimiter=delimiter)
        else:
            reader = csv.reader(io.TextIOWrapper(fh, encoding="utf-8", errors="surrogateescape", newline=""),
                                delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            st.broken += 1
            st.error = f"unreadable CSV header: {err}"
            return
    header = [h.lstrip("\ufeff") for h in header]
    if sink.shard.text_field not in header:
        st.error = f"no column {sink.shard.text_field!r} (columns: {', '.join(header[:20])})"
        for _row in reader:
            st.missing_text += 1
        return
    col = header.index(sink.shard.text_field)
    errors_in_a_row = 0
    record = sink.shard.first_record - 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error:
            st.broken += 1
            record += 1
            errors_in_a_row += 1
            if errors_in_a_row > _MAX_CSV_ERRORS_IN_A_ROW:
                st.error = "too many unreadable CSV rows in a row; rest of the file not read"
                return
            continue
        errors_in_a_row = 0
        record += 1
        st.bytes += sum(len(c) for c in row) + len(row)
        if not row:
            continue
        doc = sink.take(row[col] if col < len(row) else None, index=record)
        if doc is not None:
            yield doc


def _read_parquet(path: str, sink: _Sink) -> Iterator[Document]:
    import pyarrow.parquet as pq

    st = sink.stats
    shard = sink.shard
    pf = pq.ParquetFile(path)
    groups = list(range(shard.start, shard.end)) if shard.is_part else list(range(pf.num_row_groups))
    st.bytes = _parquet_part_bytes(pf, path, groups) if shard.is_part else os.path.getsize(path)
    top = shard.text_field.split(".")[0]
    if top not in pf.schema_arrow.names:
        st.missing_text += sum(pf.metadata.row_group(g).num_rows for g in groups)
        st.error = f"no column {top!r} (columns: {', '.join(pf.schema_arrow.names[:20])})"
        return
    row = shard.first_record - 1
    for batch in pf.iter_batches(batch_size=4096, columns=[top], row_groups=groups):
        for value in batch.column(0).to_pylist():
            row += 1
            if "." in shard.text_field:
                value = _get_field({top: value}, shard.text_field)
            doc = sink.take(value, index=row)
            if doc is not None:
                yield doc


def _row_group_bytes(pf: Any, g: int) -> int:
    rg = pf.metadata.row_group(g)
    return int(sum(rg.column(c).total_compressed_size for c in range(rg.num_columns)))


def _parquet_part_bytes(pf: Any, path: str, groups: list[int]) -> int:
    """The compressed size of the part's row groups; the first part also counts the file's footer
    and header, so the parts of a file add up to its size."""
    own = sum(_row_group_bytes(pf, g) for g in groups)
    if groups and groups[0] == 0:
        own += os.path.getsize(path) - sum(_row_group_bytes(pf, g) for g in range(pf.num_row_groups))
    return own


def _read_text_file(fh: IO[bytes], sink: _Sink) -> Iterator[Document]:
    st = sink.stats
    raw = fh.read(MAX_TEXT_FILE_BYTES + 1)
    st.bytes = len(raw)
    if len(raw) > MAX_TEXT_FILE_BYTES:
        st.error = f"text file larger than {MAX_TEXT_FILE_BYTES} bytes; not read"
        return
    if not raw:
        return
    dec = _decode(raw)
    if dec.text is None:
        st.bad_encoding += 1
        return
    doc = sink.take(dec.text, dec.recoded)
    if doc is not None:
        yield doc


def read_file(shard: Shard, path: str, stats: FileStats) -> Iterator[Document]:
    """Yield the documents of one file; every problem lands in ``stats``, nothing raises."""
    fmt, compression = split_format(path)
    sink = _Sink(shard, stats, shard.rel(path))
    if fmt is None:
        stats.error = "unsupported file type (expected .jsonl .json .parquet .csv .tsv .txt .md, optionally .gz/.zst)"
        return
    try:
        if os.path.getsize(path) == 0:
            stats.empty_file = True
            return
        if fmt == "parquet":
            if compression:
                stats.error = "compressed Parquet files are not supported (Parquet compresses internally)"
                return
            yield from _read_parquet(path, sink)
        else:
            with open_binary(path, compression) as fh:
                if fmt == "jsonl":
                    yield from _read_jsonl(fh, sink)
                elif fmt == "json":
                    yield from _read_json(fh, sink)
                elif fmt in ("csv", "tsv"):
                    yield from _read_csv(fh, sink, "," if fmt == "csv" else "\t")
                else:
                    yield from _read_text_file(fh, sink)
    except Exception as err:  # a corrupt archive or unreadable file is reported, the audit goes on
        stats.error = f"{type(err).__name__}: {err}"[:500]
    if stats.items == 0 and stats.problems == 0 and not shard.is_part:
        stats.empty_file = True  # only blank lines, ``[]``, a header without rows … (parts: see merge_file_stats)


def read_shard(shard: Shard, stats_out: list[FileStats]) -> Iterator[Document]:
    """Yield every document of a shard; one ``FileStats`` per file is appended to ``stats_out``."""
    for path in shard.paths:
        fmt, _ = split_format(path)
        st = FileStats(path=shard.rel(path), format=fmt or "unknown")
        stats_out.append(st)
        yield from read_file(shard, path, st)


def _record_starts(path: str, targets: list[int], quoted: bool) -> list[tuple[int, int]] | None:
    """For each target offset: the first record start at or after it and that record's number.

    A record starts after a newline; in CSV (``quoted``) only after a newline outside quotes (an even
    number of ``"`` before it, which is how RFC 4180 quoting nests). Record numbers count from the
    file's first line (JSONL) or first data row (CSV, after its header). None when the CSV quoting
    does not balance (the file is then read whole)."""
    out: list[tuple[int, int]] = []
    ti = 0
    offset = records = 0
    parity = 0
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(_SCAN_CHUNK)
            if not chunk:
                break
            arr = np.frombuffer(chunk, dtype=np.uint8)
            nl = np.flatnonzero(arr == 0x0A)
            if quoted:
                q = np.cumsum(arr == 0x22, dtype=np.int64)
                nl = nl[(q[nl] + parity) % 2 == 0]
                parity = int((q[-1] + parity) % 2)
            starts = nl + 1 + offset  # record starts in this chunk (file offsets)
            while ti < len(targets) and starts.size:
                k = int(np.searchsorted(starts, targets[ti], side="left"))
                if k >= starts.size:
                    break
                out.append((int(starts[k]), records + k + 1))
                ti += 1
            records += int(starts.size)
            offset += len(chunk)
    if quoted and parity:
        return None
    if quoted:
        out = [(a, r - 1) for a, r in out]  # the header is line 0
    return out


def split_file(path: str, shard_bytes: int = SHARD_BYTES) -> list[tuple[int, int, int]] | None:
    """``(start, end, first_record)`` parts of a large uncompressed JSONL/CSV/TSV (byte ranges cut
    at record starts) or Parquet file (row groups); None when the file stays whole."""
    fmt, compression = split_format(path)
    try:
        size = os.path.getsize(path)
    except OSError:
        return None
    if compression or fmt not in ("jsonl", "csv", "tsv", "parquet") or size <= shard_bytes:
        return None
    parts: list[tuple[int, int, int]] = []
    if fmt == "parquet":
        try:
            import pyarrow.parquet as pq

            pf = pq.ParquetFile(path)
            first = acc = rows = 0
            for g in range(pf.num_row_groups):
                acc += _row_group_bytes(pf, g)
                if acc >= shard_bytes or g == pf.num_row_groups - 1:
                    parts.append((first, g + 1, rows))
                    rows += sum(pf.metadata.row_group(k).num_rows for k in range(first, g + 1))
                    first, acc = g + 1, 0
        except Exception:  # a corrupt file is reported by the reader, whole
            return None
        return parts if len(parts) > 1 else None
    starts = _record_starts(path, list(range(shard_bytes, size, shard_bytes)), quoted=fmt != "jsonl")
    if starts is None:
        return None
    bounds = [(0, 0)] + [(a, r) for a, r in starts if a < size]
    bounds = [b for i, b in enumerate(bounds) if i == 0 or b[0] > bounds[i - 1][0]]
    for i, (a, r) in enumerate(bounds):
        end = bounds[i + 1][0] if i + 1 < len(bounds) else size
        parts.append((a, end, r))
    return parts if len(parts) > 1 else None


def plan_shards(paths: list[tuple[str, str]], text_field: str, shard_bytes: int = SHARD_BYTES) -> list[Shard]:
    """Expand ``(source, path)`` pairs into shards: one per structured file (a large one split into
    parts of about ``shard_bytes``, see ``split_file``), groups of text files.

    Folders are walked in sorted order so shard ids are stable across runs (needed for ``--resume``).
    Files with an unknown suffix inside a folder become their own shard, reported as unsupported.
    """
    shards: list[Shard] = []
    for source, raw in paths:
        root = os.path.abspath(raw)
        if os.path.isdir(root):
            files: list[str] = []
            for d, dirs, names in os.walk(root):
                dirs.sort()
                files.extend(os.path.join(d, n) for n in sorted(names) if not n.startswith("."))
            base = root
        elif os.path.exists(root):
            files, base = [root], os.path.dirname(root)
        else:
            files, base = [root], os.path.dirname(root)
        text_group: list[str] = []

        def flush(group: list[str], src: str = source, b: str = base) -> None:
            if group:
                shards.append(Shard(f"{src}/{len(shards):06d}", src, tuple(group), b, text_field))
                group.clear()

        for f in files:
            fmt, _ = split_format(f)
            if fmt == "text":
                text_group.append(f)
                if len(text_group) >= TEXT_FILES_PER_SHARD:
                    flush(text_group)
            else:
                for start, end, first in split_file(f, shard_bytes) or [(0, -1, 0)]:
                    shards.append(Shard(f"{source}/{len(shards):06d}", source, (f,), base, text_field, start, end,
                                        first))
        flush(text_group)
    return shards


def merge_file_stats(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per file: the parts of a split file (same path, in order) added up."""
    out: dict[str, dict[str, Any]] = {}
    for f in files:
        cur = out.get(f["path"])
        if cur is None:
            out[f["path"]] = dict(f)
            continue
        for k in ("items", "bytes", "broken", "bad_encoding", "recoded", "missing_text", "empty_text"):
            cur[k] += f[k]
        cur["error"] = cur["error"] or f["error"]
        cur["empty_file"] = cur["empty_file"] and f["empty_file"]
    for f in out.values():
        if f["items"] == 0 and not any(f[k] for k in ("broken", "bad_encoding", "missing_text", "empty_text",
                                                       "error")):
            f["empty_file"] = True
    return list(out.values())


def missing_paths(paths: list[tuple[str, str]]) -> list[str]:
    return [p for _, p in paths if not os.path.exists(p)]


__all__ = ["Document", "FileStats", "Shard", "merge_file_stats", "missing_paths", "plan_shards", "read_file",
           "read_shard", "split_file", "split_format"]
