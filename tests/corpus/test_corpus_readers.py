"""Readers: every format streams documents; every bad record or file is counted, none crashes."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# -- JSONL: orjson first, the stdlib for what orjson refuses ------------------------------------------

_ODD_LINES = [
    b'{"text": "\\ud800 lone escape"}',  # orjson refuses; json gives a lone surrogate → U+FFFD, recoded
    b'{"text": "\\udc80"}',
    b'{"text": "nan next door", "score": NaN}',  # NaN: json only
    b'{"text": "big", "n": 123456789012345678901234567890}',  # orjson makes it a float: text unaffected
    b'{"text": 1e400}',  # json: inf, missing text; orjson: refuses
    b'\xef\xbb\xbf{"text": "bom"}',  # broken for both
    b'{"text": "a", "text": "last wins"}',
    '{"text": "旧编码"}'.encode("gb18030"),
    b'{"text": "\xed\xa0\x80 utf-8 surrogate"}',  # not UTF-8 either way
    b'{"text": "\xc0\xaf overlong"}',
    b'"a bare string record"',
    b'["not", "an", "object"]',
    b"42",
    b'{"text": null}',
    b'{"text": "\\u0000 nul and \\u2028"}',
    b'{"text": " \\t "}',
    b"\x0c",
    b"   ",
    b"{broken",
    b'{"text": "ok"} trailing',
]


def _read_both(tmp_path: Path, body: bytes, monkeypatch: pytest.MonkeyPatch,
               text_field: str = "text") -> tuple[tuple[list[tuple[int, str]], FileStats], ...]:
    p = tmp_path / "odd.jsonl"
    p.write_bytes(body)
    out = []
    for fast in (readers._FAST_LOADS, None):
        monkeypatch.setattr(readers, "_FAST_LOADS", fast)
        shard = Shard("s/0", "src", (str(p),), str(tmp_path), text_field)
        st = FileStats(p.name, "jsonl")
        out.append(([(d.index, d.text) for d in read_file(shard, str(p), st)], st))
    return tuple(out)


def test_lines_orjson_refuses_read_exactly_as_the_stdlib_reads_them(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = _read_both(tmp_path, b"\n".join(_ODD_LINES) + b"\n", monkeypatch)
    assert fast == slow
    docs, st = fast
    texts = dict(docs)
    assert texts[0] == "\ufffd lone escape" and texts[2] == "nan next door" and texts[3] == "big"
    assert texts[6] == "last wins" and texts[7] == "旧编码" and texts[10] == "a bare string record"
    assert (st.broken, st.bad_encoding, st.missing_text, st.empty_text) == (3, 2, 4, 1)
    assert st.recoded == 3  # the lone high surrogate, the GB 18030 line, the overlong bytes (GB 18030 too)


def test_nested_field_and_split_part_agree_on_both_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = b'{"doc": {"body": "deep"}}\n{"doc": "flat"}\n{"doc": {"body": NaN}}\n{"doc": {"body": "\\ud83d\\ude00"}}\n'
    fast, slow = _read_both(tmp_path, body, monkeypatch, "doc.body")
    assert fast == slow and fast[0] == [(0, "deep"), (3, "😀")]
    p = tmp_path / "odd.jsonl"
    start = body.index(b"\n") + 1  # a part: lines 1-3
    got = []
    for fast_loads in (readers._FAST_LOADS, None):
        monkeypatch.setattr(readers, "_FAST_LOADS", fast_loads)
        shard = Shard("s/1", "src", (str(p),), str(tmp_path), "doc.body", start, len(body), 1)
        st = FileStats(p.name, "jsonl")
        got.append(([(d.index, d.text) for d in read_file(shard, str(p), st)], st.to_dict()))
    assert got[0] == got[1] and got[0][0] == [(3, "😀")] and got[0][1]["missing_text"] == 2


_JSON_BITS = st.sampled_from([b"{", b"}", b"[", b"]", b'"text"', b'"t"', b":", b",", b'"', b"\\", b"\\u", b"d800",
                              b"dc00", b"00e9", b"NaN", b"Infinity", b"-", b"1e999", b"12345678901234567890123",
                              b"0.5", b"true", b"null", b" ", b"\t", b"\r", b"\x0b", b"\x00", b"\xff", b"\xc3\xa9",
                              "中文".encode(), "中文".encode("gb18030"), b"\xed\xa0\x80", b"\xef\xbb\xbf", b"x"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(st.lists(_JSON_BITS, max_size=12).map(b"".join),
                                st.builds(lambda v: json.dumps({"text": v}, ensure_ascii=False).encode(
                                    "utf-8", "surrogatepass"), st.text(max_size=20)),
                                st.binary(max_size=20).filter(lambda b: b"\n" not in b)), max_size=8))
def test_any_line_reads_the_same_with_or_without_orjson(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        lines: list[bytes]) -> None:
    fast, slow = _read_both(tmp_path, b"\n".join(lines) + b"\n", monkeypatch)
    assert fast[0] == slow[0]
    assert fast[1].to_dict() == slow[1].to_dict()
