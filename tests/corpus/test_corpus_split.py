"""Large files are split into parts (byte ranges cut at record starts; Parquet row groups) that read
back exactly the records of the whole file, numbered by their place in it."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from corpus_helpers import SyntheticEngine, new_ctx, zh_doc

from hegui.corpus.audit import AuditOptions, run_audit
from hegui.corpus.readers import FileStats, Shard, plan_shards, read_shard, split_file
from hegui.corpus.sources import add_source


def _read_all(shards: list[Shard]) -> tuple[list[tuple[str, int, str]], list[FileStats]]:
    stats: list[FileStats] = []
    docs = [(d.file, d.index, d.text) for s in shards for d in read_shard(s, stats)]
    return docs, stats


def _jsonl(path: Path, n: int) -> list[str]:
    texts = [zh_doc(i) + ("\n内嵌换行" if i % 5 == 0 else "") for i in range(n)]
    with open(path, "w", encoding="utf-8") as fh:
        for t in texts:
            fh.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    return texts


def test_jsonl_parts_start_at_line_starts_and_cover_the_file(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    _jsonl(path, 300)
    parts = split_file(str(path), 4096)
    assert parts is not None and len(parts) > 5
    raw = path.read_bytes()
    assert parts[0][0] == 0 and parts[-1][1] == len(raw)
    for (a, b, first), nxt in itertools.pairwise(parts):
        assert b == nxt[0] and raw[b - 1:b] == b"\n"
        assert raw[:a].count(b"\n") == first


def test_split_jsonl_reads_the_same_documents_as_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    texts = _jsonl(path, 300)
    whole, _ = _read_all(plan_shards([("s", str(path))], "text"))
    split = plan_shards([("s", str(path))], "text", shard_bytes=4096)
    assert len(split) > 5
    docs, stats = _read_all(split)
    assert docs == whole == [("big.jsonl", i, t) for i, t in enumerate(texts)]
    assert sum(s.bytes for s in stats) == path.stat().st_size


def test_split_csv_never_cuts_inside_a_quoted_field(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    texts = [f"行{i}，含\n换行与\"引号\"" if i % 3 == 0 else zh_doc(i) for i in range(400)]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text"])
        for i, t in enumerate(texts):
            w.writerow([i, t])
    split = plan_shards([("s", str(path))], "text", shard_bytes=2048)
    assert len(split) > 5
    docs, stats = _read_all(split)
    assert [(i, t) for _, i, t in docs] == list(enumerate(texts))
    assert not any(s.broken for s in stats)


def test_split_parquet_by_row_group(tmp_path: Path) -> None:
    path = tmp_path / "big.parquet"
    texts = [zh_doc(i) for i in range(1000)]
    pq.write_table(pa.table({"text": texts}), path, row_group_size=100)
    split = plan_shards([("s", str(path))], "text", shard_bytes=1024)
    assert len(split) == 10
    docs, stats = _read_all(split)
    assert [(i, t) for _, i, t in docs] == list(enumerate(texts))
    assert sum(s.bytes for s in stats) == path.stat().st_size


def test_compressed_and_small_files_stay_whole(tmp_path: Path) -> None:
    import gzip

    small = tmp_path / "small.jsonl"
    _jsonl(small, 3)
    gz = tmp_path / "big.jsonl.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"text": "x" * 10000}) + "\n")
    assert split_file(str(small), 1 << 20) is None
    assert split_file(str(gz), 16) is None


def test_audit_of_a_split_file_equals_the_whole_file_audit(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    _jsonl(path, 400)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("not json\n" + json.dumps({"text": "测试暴力词甲 联系 13812345678"}, ensure_ascii=False) + "\n")
    ctx = new_ctx(tmp_path)
    add_source(ctx, "s", "open", "CC0-1.0", [])
    reports = []
    for name, shard_bytes, workers in (("whole", 1 << 30, 1), ("split", 8192, 2)):
        opts = AuditOptions(workers=workers, clean="mask", shard_bytes=shard_bytes)
        reports.append(run_audit(ctx, [("s", str(path))], tmp_path / name, opts, factory=SyntheticEngine()))
    whole, split = reports
    assert split["shards"]["total"] > 5 and whole["shards"]["total"] == 1
    for key in ("items", "bytes", "unsafe", "pii_docs", "exact_duplicates", "near_duplicates"):
        assert split["totals"][key] == whole["totals"][key]
    assert split["sources"][0]["files"] == whole["sources"][0]["files"]
    assert split["sources"][0]["files"][0]["broken"] == 1
    keys = [[json.loads(line)["item_key"] for line in (tmp_path / name / "review_sample.jsonl").open(encoding="utf-8")]
            for name in ("whole", "split")]
    assert keys[0] == keys[1]  # items are numbered by their line, so the sample does not depend on the split
