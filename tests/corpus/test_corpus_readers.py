"""Readers: every format streams documents; every bad record or file is counted, none crashes."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from hegui.corpus import readers
from hegui.corpus.readers import FileStats, Shard, plan_shards, read_file


def _read(path: Path, text_field: str = "text") -> tuple[list[str], FileStats]:
    shard = Shard("s/0", "src", (str(path),), str(path.parent), text_field)
    st = FileStats(path.name, "x")
    return [d.text for d in read_file(shard, str(path), st)], st


def test_jsonl_counts_broken_lines_missing_and_empty_text(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_text('{"text": "one"}\n{broken\n\n{"title": "no text"}\n{"text": "  "}\n{"text": 5}\n{"text": "two"}\n',
                 encoding="utf-8")
    texts, st = _read(p)
    assert texts == ["one", "two"]
    assert (st.items, st.broken, st.missing_text, st.empty_text) == (2, 1, 2, 1)


def test_gb18030_lines_are_recoded_and_undecodable_lines_counted(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(json.dumps({"text": "中文语料"}, ensure_ascii=False).encode("gb18030") + b"\n"
                  + b'{"text": "ok"}\n' + b'{"text": "\xff\xff\xff"}\n')
    texts, st = _read(p)
    assert texts == ["中文语料", "ok"]
    assert st.recoded == 1 and st.bad_encoding == 1


def test_empty_file_is_reported(tmp_path: Path) -> None:
    p = tmp_path / "e.jsonl"
    p.write_bytes(b"")
    texts, st = _read(p)
    assert texts == [] and st.empty_file and st.problems == 1


def test_nested_text_field(tmp_path: Path) -> None:
    p = tmp_path / "n.jsonl"
    p.write_text('{"doc": {"body": "deep"}}\n', encoding="utf-8")
    assert _read(p, "doc.body")[0] == ["deep"]


def test_json_array_streams_past_the_chunk_size(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(readers, "_JSON_CHUNK", 64)
    rows = [{"text": f"文档{i} " + "x" * (i % 50)} for i in range(300)]
    p = tmp_path / "a.json"
    p.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    texts, st = _read(p)
    assert texts == [r["text"] for r in rows] and st.items == 300 and st.broken == 0


def test_broken_json_array_reports_and_keeps_what_was_read(tmp_path: Path) -> None:
    p = tmp_path / "b.json"
    p.write_text('[{"text": "a"}, {"text": "b"}, {"text": oops}]', encoding="utf-8")
    texts, st = _read(p)
    assert texts == ["a", "b"] and st.broken == 1 and st.error is not None


def test_parquet_in_batches_and_missing_column(tmp_path: Path) -> None:
    p = tmp_path / "a.parquet"
    pq.write_table(pa.table({"content": ["x", None, "y"] * 1000}), p, row_group_size=500)
    texts, st = _read(p, "content")
    assert len(texts) == 2000 and st.missing_text == 1000
    texts, st = _read(p, "text")
    assert texts == [] and st.missing_text == 3000 and st.error is not None and "content" in st.error


def test_csv_with_embedded_newlines_and_missing_column(tmp_path: Path) -> None:
    p = tmp_path / "a.csv"
    p.write_text('id,text\n1,"line one\nline two"\n2,\n3,plain\n', encoding="utf-8")
    texts, st = _read(p)
    assert texts == ["line one\nline two", "plain"] and st.empty_text == 1
    texts, st = _read(p, "body")
    assert texts == [] and st.missing_text == 3 and st.error is not None


def test_gzip_and_zstd_are_decompressed(tmp_path: Path) -> None:
    data = b'{"text": "compressed"}\n'
    g = tmp_path / "a.jsonl.gz"
    g.write_bytes(gzip.compress(data))
    z = tmp_path / "a.jsonl.zst"
    z.write_bytes(zstandard.ZstdCompressor().compress(data))
    assert _read(g)[0] == ["compressed"] and _read(z)[0] == ["compressed"]


def test_corrupt_archive_is_a_file_error_not_a_crash(tmp_path: Path) -> None:
    g = tmp_path / "bad.jsonl.gz"
    g.write_bytes(b"not gzip at all")
    texts, st = _read(g)
    assert texts == [] and st.error is not None


def test_unsupported_file_type_is_reported(tmp_path: Path) -> None:
    p = tmp_path / "a.docx"
    p.write_bytes(b"PK")
    texts, st = _read(p)
    assert texts == [] and st.error is not None and "unsupported" in st.error


def test_text_folder_groups_files_into_shards_in_a_stable_order(tmp_path: Path) -> None:
    d = tmp_path / "txt"
    (d / "sub").mkdir(parents=True)
    (d / "b.txt").write_text("bee", encoding="utf-8")
    (d / "a.md").write_text("# title", encoding="utf-8")
    (d / "sub" / "c.txt").write_bytes("老编码".encode("gb18030"))
    (d / "data.jsonl").write_text('{"text": "j"}\n', encoding="utf-8")
    shards = plan_shards([("src", str(d))], "text")
    assert [len(s.paths) for s in shards] == [1, 3]
    assert shards == plan_shards([("src", str(d))], "text")
    stats: list[FileStats] = []
    docs = [doc for s in shards for doc in readers.read_shard(s, stats)]
    assert sorted(doc.text for doc in docs) == ["# title", "bee", "j", "老编码"]
    assert {st.path: st.recoded for st in stats}[str(Path("sub") / "c.txt")] == 1
    assert all(doc.key.startswith("src:") for doc in docs)
