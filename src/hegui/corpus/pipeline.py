"""Running the steps over shards (local processes or Ray Data) and the whole-corpus phase after it.

Phase 1, per shard, in parallel: read → steps → per-shard tallies, a bounded review-sample
candidate list, and on disk the exact-dedup hashes, MinHash signatures, kept documents and rejects.
A shard's ``result.json`` is written last and atomically: it is the checkpoint ``--resume`` trusts.

Review-sample candidates: the driver estimates the corpus's document count before phase 1 and gives
every shard a priority cutoff (``AuditPlan.sample_cutoff``, see :func:`sample_cutoff`) above which a
document is very unlikely to be among the ``sample_size`` smallest overall. A shard writes the full
entry (masked text …) only of candidates at or under it; of the others it keeps the smallest
priority and, for those with findings, a small record (categories, PII types and spans, no text).
Should the whole corpus hold fewer documents under the cutoffs than the sample needs, phase 2 reads
the shards concerned again (reading only, no steps) and builds the missing entries from those
records — the sample is the same whatever the cutoffs.

Phase 2, once, on the driver: exact duplicates across all shards (one hash per document), near
duplicates by LSH banding over every shard's signatures one band at a time (candidates verified by
signature similarity), the global review sample (smallest hash priorities, so it does not depend on
how the corpus was sharded or which backend ran), and the cleaned corpus without duplicates.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import multiprocessing as mp
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import IO, Any, Literal

import numpy as np
import numpy.typing as npt
import orjson

from hegui.corpus.readers import Document, FileStats, Shard, read_shard, split_format
from hegui.corpus.steps import Item, Step, length_bucket
from hegui.corpus.textstats import BANDS, NUM_PERM, ROWS, band_key

CleanMode = Literal["drop", "mask"]
SAMPLE_TEXT_MAX = 4000
_SAMPLE_KEY = b"hegui-corpus-review"
_SAMPLE_HASH = hashlib.blake2b(digest_size=8, key=_SAMPLE_KEY)  # copied per key: the keyed set-up done once
PRIORITY_END = 1 << 64  # every priority is below it
SAMPLE_FINDINGS = "sample_findings.jsonl"  # a shard's documents above its cutoff that have findings
# the cutoff estimate: document count from a look at each shard's first bytes, divided by this margin
_PEEK_BYTES = 64 * 1024
_ESTIMATE_MARGIN = 1.5
_DOC_BYTES_MAX = 64 * 1024  # assumed per document where no look is possible (JSON arrays, compressed files)
_COPY_BLOCK = 1 << 20
KEEP_LINES, KEEP_INDEX = "keep.jsonl", "keep.idx"  # a shard's kept documents, final lines + their numbers


@dataclass(frozen=True)
class AuditPlan:
    """Everything a worker needs besides the steps; plain data so it pickles to any backend."""

    out_dir: str
    clean: CleanMode | None = None
    sample_size: int = 4000
    mask_mode: Literal["redact", "partial", "token"] = "partial"
    batch_size: int = 256
    near_threshold: float = 0.8
    sample_cutoff: int | None = None  # full sample entries only at or under this priority (None: all)

    @property
    def work_dir(self) -> str:
        return os.path.join(self.out_dir, ".work")

    def shard_dir(self, shard_id: str) -> str:
        return os.path.join(self.work_dir, shard_id.replace("/", "__"))


@dataclass
class Tally:
    """Counts for one source (or one shard of it); merged by addition."""

    items: int = 0
    bytes: int = 0
    unsafe: int = 0
    pii_docs: int = 0
    restricted: int = 0
    scan_incomplete: int = 0
    classified: int = 0  # fully scanned items the classifier looked at (all of them at share 1.0)
    keyword_unsafe: int = 0  # items the other detectors alone find unsafe (every item gets them)
    classifier_only_unsafe: int = 0  # of ``classified``: unsafe, but not by the other detectors alone
    scan_errors: dict[str, int] = field(default_factory=dict)
    unsafe_by_risk: dict[str, int] = field(default_factory=dict)
    pii_by_type: dict[str, int] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)
    lengths: dict[str, int] = field(default_factory=dict)
    markers: dict[str, int] = field(default_factory=dict)

    def add(self, it: Item) -> None:
        self.items += 1
        if it.unsafe:
            self.unsafe += 1
            _inc_all(self.unsafe_by_risk, it.unsafe)
        if it.pii:
            self.pii_docs += 1
            for k, v in it.pii.items():
                self.pii_by_type[k] = self.pii_by_type.get(k, 0) + v
        if it.restricted:
            self.restricted += 1
        if it.keyword_unsafe:
            self.keyword_unsafe += 1
        if it.classified and not it.scan_errors:
            self.classified += 1
            if it.unsafe and not it.keyword_unsafe:
                self.classifier_only_unsafe += 1
        if it.scan_errors:
            self.scan_incomplete += 1
            _inc_all(self.scan_errors, it.scan_errors)
        if it.markers:
            _inc_all(self.markers, it.markers)
        langs, lengths, bucket = self.languages, self.lengths, length_bucket(it.chars)
        langs[it.lang] = langs.get(it.lang, 0) + 1
        lengths[bucket] = lengths.get(bucket, 0) + 1

    def merge(self, other: Tally) -> None:
        for name in ("items", "bytes", "unsafe", "pii_docs", "restricted", "scan_incomplete", "classified",
                     "keyword_unsafe", "classifier_only_unsafe"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("unsafe_by_risk", "pii_by_type", "languages", "lengths", "markers", "scan_errors"):
            mine: dict[str, int] = getattr(self, name)
            for k, v in getattr(other, name).items():
                mine[k] = mine.get(k, 0) + v

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Tally:
        return cls(**d)


def _inc_all(counter: dict[str, int], keys: Iterable[str]) -> None:
    for k in keys:
        counter[k] = counter.get(k, 0) + 1


@dataclass(frozen=True, slots=True)
class _Span:
    type: str
    start: int
    end: int


def _batched(docs: Iterator[Document], size: int) -> Iterator[list[Document]]:
    batch: list[Document] = []
    for d in docs:
        batch.append(d)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def sample_priority(key: str) -> int:
    """A fixed pseudo-random rank per item: the review sample is the smallest ``k`` ranks overall
    (keyed BLAKE2b of the key, 64 bits; a copy of the keyed state is the same hash, set up once)."""
    h = _SAMPLE_HASH.copy()
    h.update(key.encode("utf-8", "surrogatepass"))
    return int.from_bytes(h.digest(), "big")


def _sample_entry(doc: Document, key: str, unsafe: Iterable[str], pii: Iterable[str],
                  spans: list[tuple[str, int, int]] | list[list[Any]]) -> dict[str, Any]:
    """A review-sample entry (without its priority): PII in the text masked (partial), text cut."""
    if spans:
        from hegui.detect.pii.masking import mask_text

        text = mask_text(doc.text, [_Span(t, a, b) for t, a, b in spans], "partial")
    else:
        text = doc.text
    return {"key": key, "source": doc.source, "file": doc.file, "index": doc.index,
            "auto_unsafe": list(unsafe), "pii": sorted(pii), "text": text[:SAMPLE_TEXT_MAX]}


def _masked(text: str, it: Item, mode: str) -> str:
    if not it.pii_spans:
        return text
    from hegui.detect.pii.masking import mask_text

    return mask_text(text, [_Span(t, s, e) for t, s, e in it.pii_spans], mode)  # type: ignore[arg-type]


def _write_json_atomic(path: str, obj: Any) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(obj, ensure_ascii=False))  # dumps uses the C encoder, dump does not
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _dumps_line(obj: Any) -> bytes:
    """One JSONL line of a shard's own files (``sample.jsonl``), by orjson; what orjson refuses (a lone
    surrogate, an integer beyond 64 bits) goes through ``json`` as before — which fails on a lone
    surrogate as writing it to a UTF-8 text file did."""
    try:
        return orjson.dumps(obj) + b"\n"
    except TypeError:
        return json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n"


def _json_str(value: str) -> bytes:
    """``value`` as a JSON string, byte for byte what ``json.dumps(value, ensure_ascii=False)`` gives
    (both escape only ``"``, ``\\`` and the C0 controls, the same way; orjson several times faster)."""
    try:
        return orjson.dumps(value)
    except TypeError:  # lone surrogates: json.dumps keeps them and the UTF-8 encoding fails, as before
        return json.dumps(value, ensure_ascii=False).encode("utf-8")


class _KeepWriter:
    """Kept documents of a shard in their final ``clean/*.jsonl`` form (``{"id": …, "source": …,
    "text": …}``, the layout ``json.dumps`` gave) plus, in ``keep.idx``, each line's document number in
    the shard (uint64), so ``write_clean`` copies lines without parsing them again."""

    def __init__(self, sd: str) -> None:
        self.lines = open(os.path.join(sd, KEEP_LINES), "wb")  # noqa: SIM115 - closed in close()
        self.idx = open(os.path.join(sd, KEEP_INDEX), "wb")  # noqa: SIM115 - closed in close()
        self._mid: dict[str, bytes] = {}
        self._buf: list[bytes] = []
        self._nums: list[int] = []

    def add(self, n: int, key: str, source: str, text: str) -> None:
        mid = self._mid.get(source)
        if mid is None:
            mid = self._mid[source] = b', "source": ' + _json_str(source) + b', "text": '
        self._buf.append(b'{"id": ' + _json_str(key) + mid + _json_str(text) + b"}\n")
        self._nums.append(n)

    def flush(self) -> None:
        if self._buf:
            self.lines.write(b"".join(self._buf))
            self.idx.write(np.asarray(self._nums, dtype=np.uint64).tobytes())
            self._buf, self._nums = [], []

    def close(self) -> None:
        self.flush()
        self.lines.close()
        self.idx.close()


def process_shard(shard: Shard, steps: list[Step], plan: AuditPlan) -> dict[str, Any]:
    """Phase 1 for one shard. Safe to re-run: it starts the shard's directory afresh."""
    sd = plan.shard_dir(shard.id)
    if os.path.isdir(sd):
        shutil.rmtree(sd)
    os.makedirs(sd)
    files: list[FileStats] = []
    tally = Tally()
    sample: list[tuple[int, str, dict[str, Any]]] = []  # max-heap via negated priority
    k = plan.sample_size
    cut = PRIORITY_END - 1 if plan.sample_cutoff is None else plan.sample_cutoff
    above = PRIORITY_END  # the smallest priority over the cutoff (PRIORITY_END: none)
    find_f: IO[bytes] | None = None  # sample_findings.jsonl, created with its first record
    findings = 0
    n = 0
    keep = _KeepWriter(sd)
    try:
        with open(os.path.join(sd, "sig.bin"), "wb") as sig_f, open(os.path.join(sd, "hash.bin"), "wb") as hash_f, \
                open(os.path.join(sd, "rejects.jsonl"), "wb") as rej_f:
            for batch in _batched(read_shard(shard, files), plan.batch_size):
                items = [Item(d) for d in batch]
                for step in steps:
                    step.run(items)
                sigs: list[bytes] = []
                rejects: list[bytes] = []
                found: list[bytes] = []
                for it in items:
                    tally.add(it)
                    assert it.signature is not None and len(it.signature) == NUM_PERM
                    sigs.append(it.signature.tobytes())
                    doc = it.doc
                    key = doc.key
                    prio = sample_priority(key)
                    if prio > cut:  # most documents: only what a fallback in phase 2 would need
                        if prio < above:
                            above = prio
                        if it.unsafe or it.pii or it.pii_spans:
                            found.append(_dumps_line([n, it.unsafe, sorted(it.pii), it.pii_spans]))
                    elif len(sample) < k or -sample[0][0] > prio:
                        entry = _sample_entry(doc, key, it.unsafe, it.pii, it.pii_spans)
                        if len(sample) < k:
                            heapq.heappush(sample, (-prio, key, entry))
                        else:
                            heapq.heapreplace(sample, (-prio, key, entry))
                    if plan.clean is not None:
                        reasons = [f"unsafe:{c}" for c in it.unsafe]
                        if it.restricted:
                            reasons.append("ip_restricted")
                        if plan.clean == "drop" and it.pii:
                            reasons.append("pii:" + ",".join(sorted(it.pii)))
                        if reasons:  # few, and findings are free-form: json, the exact layout as before
                            rejects.append(json.dumps({"key": key, "source": doc.source, "file": doc.file,
                                                       "index": doc.index, "reasons": reasons,
                                                       "findings": it.findings}, ensure_ascii=False)
                                           .encode("utf-8") + b"\n")
                        else:
                            text = _masked(doc.text, it, plan.mask_mode) if plan.clean == "mask" else doc.text
                            keep.add(n, key, doc.source, text)
                    n += 1
                sig_f.write(b"".join(sigs))
                hash_f.write(b"".join(it.exact_hash for it in items))
                if rejects:
                    rej_f.write(b"".join(rejects))
                if found:
                    if find_f is None:
                        find_f = open(os.path.join(sd, SAMPLE_FINDINGS), "wb")  # noqa: SIM115 - closed below
                    find_f.write(b"".join(found))
                    findings += len(found)
                keep.flush()
    finally:
        keep.close()
        if find_f is not None:
            find_f.close()
    tally.bytes = sum(f.bytes for f in files)
    ranked = sorted(sample, key=lambda x: -x[0])
    entries = [e for _, _, e in ranked]
    for neg, _, e in ranked:
        e["priority"] = str(-neg)
    with open(os.path.join(sd, "sample.jsonl"), "wb") as fh:
        fh.write(b"".join(_dumps_line(e) for e in entries))
    result = {"shard": shard.id, "source": shard.source, "docs": n, "files": _compact_files(files),
              "tally": tally.to_dict(), "sample": [[e["priority"], e["key"]] for e in entries],
              "sample_cutoff": str(cut), "sample_above": None if above == PRIORITY_END else str(above),
              "sample_findings": findings}
    _write_json_atomic(os.path.join(sd, "result.json"), result)
    return result


def _compact_files(files: list[FileStats]) -> list[dict[str, Any]]:
    """Per-file stats; a group of text files without problems becomes one summary line (a folder of a
    million .txt files must not become a million report rows)."""
    if len(files) <= 1:
        return [f.to_dict() for f in files]
    bad = [f.to_dict() for f in files if f.problems]
    good = [f for f in files if not f.problems]
    if good:
        folder = os.path.dirname(good[0].path) or "."
        summary = FileStats(path=f"{folder}/ ({len(good)} files without problems)", format=good[0].format,
                            items=sum(f.items for f in good), bytes=sum(f.bytes for f in good),
                            recoded=sum(f.recoded for f in good))
        bad.insert(0, summary.to_dict())
    return bad


class SampleCollector:
    """Keeps the ``k`` smallest sample priorities over all shards as results arrive, and drops each
    shard's candidate list, so the driver's memory does not grow with the number of shards.

    A shard's list holds only its documents at or under its cutoff; its smallest priority above the
    cutoff (``sample_above``) says whether one of the others could belong to the sample after all:
    :meth:`fill` then reads those shards again and takes them into account."""

    def __init__(self, k: int) -> None:
        self.k = k
        self._heap: list[tuple[int, str, str]] = []  # (-priority, shard, key): a max-heap of the k smallest
        self._over: dict[str, tuple[int, int, int]] = {}  # shard → (cutoff, smallest priority over it, docs)

    def add(self, result: dict[str, Any]) -> dict[str, Any]:
        for prio_s, key in result["sample"]:
            item = (-int(prio_s), result["shard"], key)
            if len(self._heap) < self.k:
                heapq.heappush(self._heap, item)
            elif item > self._heap[0]:
                heapq.heapreplace(self._heap, item)
            else:
                break  # a shard's candidates come sorted by priority: the rest are larger still
        above = result.get("sample_above")  # absent (results from before the cutoff): every candidate listed
        if above is not None:
            self._over[result["shard"]] = (int(result["sample_cutoff"]), int(above), int(result["docs"]))
        result["sample"] = len(result["sample"])
        return result

    def _may_take(self, prio: int) -> bool:
        """Could a document of this priority still be among the ``k`` smallest? (Equal: the tie goes by
        shard and key, so yes.)"""
        return len(self._heap) < self.k or prio <= -self._heap[0][0]

    def _offer(self, item: tuple[int, str, str]) -> bool:
        if len(self._heap) < self.k:
            heapq.heappush(self._heap, item)
            return True
        if item > self._heap[0]:
            heapq.heapreplace(self._heap, item)
            return True
        return False

    def incomplete(self) -> list[str]:
        """Shards with a document over their cutoff that could be in the sample (normally none)."""
        return [sid for sid, (_, above, _) in self._over.items() if self._may_take(above)]

    def fill(self, shards: list[Shard], plan: AuditPlan) -> dict[tuple[str, str], dict[str, Any]]:
        """The exact fallback: every shard whose documents over its cutoff could be in the sample is
        read again (no steps: the categories, PII types and spans come from its ``sample_findings.jsonl``)
        and those documents compete like the listed ones. The entries of the chosen ones, by
        ``(shard, key)``, built the way phase 1 builds them."""
        entries: dict[tuple[str, str], dict[str, Any]] = {}
        for s in shards:
            over = self._over.get(s.id)
            if over is None or not self._may_take(over[1]):
                continue
            cut, above, docs = over
            seen, least = 0, PRIORITY_END
            with _FindingsCursor(os.path.join(plan.shard_dir(s.id), SAMPLE_FINDINGS)) as findings:
                for n, doc in enumerate(read_shard(s, [])):
                    seen += 1
                    key = doc.key
                    prio = sample_priority(key)
                    if prio <= cut:
                        continue  # listed already
                    least = min(least, prio)
                    if not self._offer((-prio, s.id, key)):
                        continue  # not among the k smallest
                    entry = _sample_entry(doc, key, *findings.get(n))
                    entry["priority"] = str(prio)
                    entries[(s.id, key)] = entry
                    if len(entries) > 2 * self.k + 64:  # drop entries pushed out since
                        entries = self._live(entries)
            if (seen, least) != (docs, above):
                from hegui.errors import InvalidInputError

                raise InvalidInputError(f"shard {s.id}: its input changed since the shard ran ({seen} documents "
                                        f"now, {docs} then); run the audit again without --resume")
            self._over.pop(s.id)
        return self._live(entries)

    def _live(self, entries: dict[tuple[str, str], dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
        live = {(shard, key) for _, shard, key in self._heap}
        return {sk: e for sk, e in entries.items() if sk in live}

    def chosen(self) -> dict[str, set[str]]:
        by_shard: dict[str, set[str]] = {}
        for _, shard, key in self._heap:
            by_shard.setdefault(shard, set()).add(key)
        return by_shard


class _FindingsCursor:
    """A shard's ``sample_findings.jsonl`` (records ``[n, unsafe, pii, spans]`` in document order),
    read forward as the shard is read again."""

    def __init__(self, path: str) -> None:
        # no file: the shard had no such record (load_checkpoint made sure of it)
        self._fh = open(path, "rb") if os.path.exists(path) else None  # noqa: SIM115 - closed in __exit__
        self._rec: list[Any] | None = None

    def __enter__(self) -> _FindingsCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            self._fh.close()

    def get(self, n: int) -> tuple[list[str], list[str], list[list[Any]]]:
        """Document ``n``'s findings (nothing recorded: none); ``n`` never decreases between calls."""
        while self._rec is None or self._rec[0] < n:
            line = self._fh.readline() if self._fh is not None else b""
            if not line:
                return [], [], []
            self._rec = _loads_line(line)
        rec = self._rec
        if rec[0] != n:
            return [], [], []
        return rec[1], rec[2], rec[3]


def estimate_docs(shards: list[Shard]) -> float:
    """About how many documents the shards hold, from what the driver sees cheaply: a text shard's
    files (one document each at most), the lines in the first ``_PEEK_BYTES`` of a JSONL/CSV/TSV file
    or part scaled to its size, a Parquet file's row count; else ``_DOC_BYTES_MAX`` per document."""
    total = 0.0
    for s in shards:
        try:
            total += _estimate_shard(s)
        except Exception:  # an unreadable file is the reader's to report; it holds no documents here
            continue
    return total


def _estimate_shard(s: Shard) -> float:
    fmt, compression = split_format(s.paths[0])
    if fmt is None:
        return 0.0  # unsupported: no documents
    if fmt == "text":
        return float(len(s.paths))
    path = s.paths[0]
    if fmt == "parquet" and not compression:
        import pyarrow.parquet as pq

        meta = pq.ParquetFile(path).metadata
        groups = range(s.start, s.end) if s.is_part else range(meta.num_row_groups)
        return float(sum(meta.row_group(g).num_rows for g in groups))
    size = (s.end - s.start) if s.is_part else os.path.getsize(path)
    if fmt in ("jsonl", "csv", "tsv") and not compression and size > 0:
        with open(path, "rb") as fh:
            fh.seek(s.start)
            head = fh.read(min(size, _PEEK_BYTES))
        if not head:
            return 0.0
        if len(head) < size:  # a look at the start: whole lines only (none: one longer than the look)
            return size * max(1, head.count(b"\n")) / len(head)
        return float(head.count(b"\n") + (0 if head.endswith(b"\n") else 1))
    return size / _DOC_BYTES_MAX


def sample_cutoff(shards: list[Shard], k: int) -> int | None:
    """The priority cutoff for the shards' sample entries: with the document count estimated (divided
    by a safety margin), at least ``k`` documents fall under it but for a vanishing chance (``k`` plus
    six standard deviations expected). None when the sample may need every document. Only the work
    depends on it: a count estimated too high costs phase 2 a second read of some shards."""
    if k <= 0:
        return None
    docs = estimate_docs(shards) / _ESTIMATE_MARGIN
    share = (k + 6 * k ** 0.5 + 16) / docs if docs > 0 else 1.0
    if share >= 1:
        return None
    return int(share * PRIORITY_END)


def load_checkpoint(shard: Shard, plan: AuditPlan) -> dict[str, Any] | None:
    """A finished shard's result, or None when the shard must run (again)."""
    path = os.path.join(plan.shard_dir(shard.id), "result.json")
    try:
        with open(path, encoding="utf-8") as fh:
            data: dict[str, Any] = json.load(fh)
    except (OSError, ValueError):
        return None
    sd = plan.shard_dir(shard.id)
    if data.get("shard") != shard.id or not os.path.exists(os.path.join(sd, KEEP_INDEX)):
        return None  # not this shard's, or written before keep.idx existed: the shard runs again
    if data.get("sample_findings") and not os.path.exists(os.path.join(sd, SAMPLE_FINDINGS)):
        return None  # what a fallback over the sample cutoff would need is gone: the shard runs again
    return data


# -- local backend ---------------------------------------------------------------------------------

_WORKER: tuple[list[Step], AuditPlan] | None = None


def _init_worker(steps: list[Step], plan: AuditPlan) -> None:
    global _WORKER
    _WORKER = (steps, plan)


def _work(shard: Shard) -> dict[str, Any]:
    assert _WORKER is not None
    return process_shard(shard, *_WORKER)


def run_local(shards: list[Shard], steps: list[Step], plan: AuditPlan, workers: int,
              on_result: Callable[[dict[str, Any]], dict[str, Any]] = lambda r: r) -> list[dict[str, Any]]:
    """One worker process per core (``spawn``: nothing of the parent's state leaks into workers);
    ``workers == 1`` runs in this process. ``on_result`` sees each shard's result as it arrives."""
    if workers <= 1 or len(shards) <= 1:
        return [on_result(process_shard(s, steps, plan)) for s in shards]
    ctx = mp.get_context("spawn")
    with ctx.Pool(min(workers, len(shards)), initializer=_init_worker, initargs=(steps, plan)) as pool:
        return [on_result(r) for r in pool.imap_unordered(_work, shards)]


# -- Ray backend -----------------------------------------------------------------------------------

class _RayShardRunner:
    """A Ray Data actor holding the same step objects as the local workers."""

    def __init__(self, steps: list[Step], plan: AuditPlan) -> None:
        self.steps, self.plan = steps, plan

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        shard = Shard(**{**json.loads(row["shard"]), "paths": tuple(json.loads(row["shard"])["paths"])})
        return {"result": json.dumps(process_shard(shard, self.steps, self.plan), ensure_ascii=False)}


def run_ray(shards: list[Shard], steps: list[Step], plan: AuditPlan, workers: int,
            address: str | None = None,
            on_result: Callable[[dict[str, Any]], dict[str, Any]] = lambda r: r) -> list[dict[str, Any]]:
    """Ray Data over the shards; every worker must see ``plan.out_dir`` (shared file system)."""
    if not shards:
        return []
    try:
        import ray
    except ImportError:
        from hegui.errors import ConfigError

        raise ConfigError("the Ray backend needs Ray Data: pip install 'hegui[ray]'") from None
    started = False
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if address:
            kwargs["address"] = address
        else:
            kwargs["num_cpus"] = max(1, workers)
        ray.init(**kwargs)
        started = True
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ds = ray.data.from_items([{"shard": json.dumps(asdict(s))} for s in shards],
                                 override_num_blocks=len(shards))
        runner: Any = _RayShardRunner  # a callable class: Ray Data keeps one instance per actor
        out = ds.map(runner, fn_constructor_kwargs={"steps": steps, "plan": plan},
                     concurrency=max(1, min(workers, len(shards))), num_cpus=1)
        return [on_result(json.loads(r["result"])) for r in out.iter_rows()]
    finally:
        if started:
            ray.shutdown()


# -- phase 2: whole corpus -------------------------------------------------------------------------

@dataclass
class GlobalResult:
    exact_dup: npt.NDArray[np.bool_]
    near_dup: npt.NDArray[np.bool_]
    offsets: list[int]
    sample: list[dict[str, Any]]
    dup_by_source: dict[str, tuple[int, int]]


def _signatures(shards: list[Shard], results: list[dict[str, Any]], plan: AuditPlan) -> list[npt.NDArray[np.uint32]]:
    out: list[npt.NDArray[np.uint32]] = []
    for s, r in zip(shards, results, strict=True):
        path = os.path.join(plan.shard_dir(s.id), "sig.bin")
        if r["docs"]:
            out.append(np.memmap(path, dtype=np.uint32, mode="r", shape=(r["docs"], NUM_PERM)))
        else:
            out.append(np.zeros((0, NUM_PERM), dtype=np.uint32))
    return out


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = np.arange(n, dtype=np.int64)

    def find(self, x: int) -> int:
        p = self.parent
        root = x
        while p[root] != root:
            root = int(p[root])
        while p[x] != root:
            p[x], x = root, int(p[x])
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            lo, hi = min(ra, rb), max(ra, rb)
            self.parent[hi] = lo  # the earliest document of a cluster is the one kept


def deduplicate(shards: list[Shard], results: list[dict[str, Any]], plan: AuditPlan
                ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], list[int]]:
    """Exact and near duplicates over the whole corpus, in shard order (the first copy is kept)."""
    counts = [int(r["docs"]) for r in results]
    offsets = [0, *np.cumsum(counts).tolist()]
    total = offsets[-1]
    hashes = np.concatenate([np.fromfile(os.path.join(plan.shard_dir(s.id), "hash.bin"), dtype=np.uint64)
                             for s in shards]) if shards else np.zeros(0, dtype=np.uint64)
    exact = np.ones(total, dtype=bool)
    if total:
        _, first = np.unique(hashes, return_index=True)
        exact[first] = False
    sigs = _signatures(shards, results, plan)
    cand = np.flatnonzero(~exact)
    uf = _UnionFind(total)
    starts = np.array(offsets[:-1], dtype=np.int64)

    def row(g: int) -> npt.NDArray[np.uint32]:
        k = int(np.searchsorted(starts, g, side="right")) - 1
        while counts[k] == 0:
            k -= 1
        return np.asarray(sigs[k][g - offsets[k]])

    for b in range(BANDS):
        if cand.size < 2:
            break
        keys = np.concatenate([band_key(np.asarray(s[:, b * ROWS:(b + 1) * ROWS])) for s in sigs])[cand]
        order = np.argsort(keys, kind="stable")
        sk = keys[order]
        same = np.flatnonzero(sk[1:] == sk[:-1])
        if same.size == 0:
            continue
        # group consecutive equal keys; link each member to the group's first document
        run_start = np.concatenate(([True], sk[1:] != sk[:-1]))
        group_first = np.maximum.accumulate(np.where(run_start, np.arange(sk.size), 0))
        for j in same + 1:
            a, m = int(cand[order[group_first[j]]]), int(cand[order[j]])
            if uf.find(a) == uf.find(m):
                continue
            if float(np.count_nonzero(row(a) == row(m))) / NUM_PERM >= plan.near_threshold:
                uf.union(a, m)
    near = np.zeros(total, dtype=bool)
    for g in cand:
        if uf.find(int(g)) != g:
            near[g] = True
    return exact, near, offsets


def read_sample(shards: list[Shard], plan: AuditPlan, chosen: dict[str, set[str]],
                extra: dict[tuple[str, str], dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The chosen sample items with their (masked) text, read back from each shard's ``sample.jsonl``;
    ``extra``: entries built by :meth:`SampleCollector.fill` (documents over their shard's cutoff)."""
    entries: list[dict[str, Any]] = []
    for s in shards:
        want = chosen.get(s.id)
        if not want:
            continue
        if extra:
            got = [k for k in want if (s.id, k) in extra]
            if got:
                entries.extend(extra[(s.id, k)] for k in got)
                want = want - set(got)
                if not want:
                    continue
        found = 0
        with open(os.path.join(plan.shard_dir(s.id), "sample.jsonl"), "rb") as fh:
            for line in fh:  # sorted by priority: the chosen ones come first
                e = _loads_line(line)
                if e["key"] in want:
                    entries.append(e)
                    found += 1
                    if found == len(want):
                        break
    entries.sort(key=lambda e: (int(e["priority"]), e["key"]))
    return entries


def _loads_line(line: bytes) -> Any:
    """A line this module wrote: orjson, or ``json`` for what orjson refuses (an integer beyond 64 bits)."""
    try:
        return orjson.loads(line)
    except ValueError:
        return json.loads(line.decode("utf-8"))


def _copy_counting_lines(src: str, dst: IO[bytes]) -> int:
    """Append ``src`` to ``dst`` in large blocks; the number of lines copied."""
    lines = 0
    with open(src, "rb") as fh:
        while block := fh.read(_COPY_BLOCK):
            dst.write(block)
            lines += block.count(b"\n")
    return lines


def write_clean(shards: list[Shard], results: list[dict[str, Any]], plan: AuditPlan,
                exact: npt.NDArray[np.bool_], near: npt.NDArray[np.bool_], offsets: list[int]) -> dict[str, int]:
    """The cleaned corpus (``DIR/clean/*.jsonl``, duplicates removed) and ``DIR/rejects.jsonl``.

    A shard's ``keep.jsonl`` lines are already in their final form and ``keep.idx`` says which
    document each is: lines of non-duplicates are copied as bytes; only a duplicate's line is parsed,
    for its reject record."""
    clean_dir = os.path.join(plan.out_dir, "clean")
    if os.path.isdir(clean_dir):
        shutil.rmtree(clean_dir)
    os.makedirs(clean_dir)
    kept = rejected = 0
    with open(os.path.join(plan.out_dir, "rejects.jsonl"), "wb") as rej:
        for k, s in enumerate(shards):
            sd = plan.shard_dir(s.id)
            rejected += _copy_counting_lines(os.path.join(sd, "rejects.jsonl"), rej)
            out_path = os.path.join(clean_dir, os.path.basename(sd) + ".jsonl")
            g = offsets[k] + np.fromfile(os.path.join(sd, KEEP_INDEX), dtype=np.uint64).astype(np.int64)
            dup = exact[g] | near[g]
            with open(out_path, "wb") as out:
                if not dup.any():
                    kept += _copy_counting_lines(os.path.join(sd, KEEP_LINES), out)
                    continue
                with open(os.path.join(sd, KEEP_LINES), "rb") as fh:
                    for j, (line, is_dup) in enumerate(zip(fh, dup.tolist(), strict=True)):
                        if not is_dup:
                            out.write(line)
                            kept += 1
                            continue
                        rec = _loads_line(line)
                        reason = "exact_duplicate" if exact[g[j]] else "near_duplicate"
                        rej.write(json.dumps({"key": rec["id"], "source": rec["source"], "reasons": [reason]},
                                             ensure_ascii=False).encode("utf-8") + b"\n")
                        rejected += 1
    return {"kept": kept, "rejected": rejected}


def collect_sample(shards: list[Shard], plan: AuditPlan, collector: SampleCollector) -> list[dict[str, Any]]:
    """The global review sample, in priority order, once every shard's result went through ``collector``."""
    extra = collector.fill(shards, plan) if collector.incomplete() else None
    return read_sample(shards, plan, collector.chosen(), extra)


def run_phase2(shards: list[Shard], results: list[dict[str, Any]], plan: AuditPlan,
               sample: SampleCollector) -> GlobalResult:
    by_id = {r["shard"]: r for r in results}
    ordered = [by_id[s.id] for s in shards]
    exact, near, offsets = deduplicate(shards, ordered, plan)
    dup_by_source: dict[str, tuple[int, int]] = {}
    for k, s in enumerate(shards):
        e = int(exact[offsets[k]:offsets[k + 1]].sum())
        n = int(near[offsets[k]:offsets[k + 1]].sum())
        pe, pn = dup_by_source.get(s.source, (0, 0))
        dup_by_source[s.source] = (pe + e, pn + n)
    return GlobalResult(exact, near, offsets, collect_sample(shards, plan, sample), dup_by_source)


def ordered_results(shards: list[Shard], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {r["shard"]: r for r in results}
    return [by_id[s.id] for s in shards]
