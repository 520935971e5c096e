"""Pipeline pieces: the global review sample, per-file stats of text folders, the shard files and the
cleaned corpus written from them."""

from __future__ import annotations

import hashlib
import json
import os
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hegui.corpus import pipeline as pl
from hegui.corpus.pipeline import SampleCollector, _compact_files, sample_priority
from hegui.corpus.readers import FileStats, plan_shards
from hegui.corpus.steps import Item
from hegui.corpus.textstats import NUM_PERM
from hegui.errors import InvalidInputError


def test_sample_is_the_k_smallest_priorities_over_all_shards_whatever_the_arrival_order() -> None:
    keys = {f"s{k}": [f"src:f{k}#{i}" for i in range(50)] for k in range(4)}
    results = []
    for shard, ks in keys.items():
        cands = sorted((sample_priority(x), x) for x in ks)[:10]  # each shard keeps its 10 smallest
        results.append({"shard": shard, "sample": [[str(p), x] for p, x in cands]})
    everything = sorted((sample_priority(x), x) for ks in keys.values() for x in ks)
    want = {x for _, x in everything[:10]}
    for seed in range(3):
        order = results[:]
        random.Random(seed).shuffle(order)
        col = SampleCollector(10)
        for r in order:
            col.add({**r, "sample": list(r["sample"])})
        assert {x for xs in col.chosen().values() for x in xs} == want


def test_clean_text_files_of_a_folder_collapse_into_one_row() -> None:
    files = [FileStats(f"docs/{i}.txt", "text", items=1, bytes=10) for i in range(5)]
    files.append(FileStats("docs/bad.txt", "text", bad_encoding=1))
    rows = _compact_files(files)
    assert [r["path"] for r in rows] == ["docs/ (5 files without problems)", "docs/bad.txt"]
    assert rows[0]["items"] == 5 and rows[0]["bytes"] == 50


# -- shard files and the cleaned corpus --------------------------------------------------------------

class _Marks:
    """A stand-in for the real steps: a phone number is PII, ``BAD`` is unsafe, the text's hash is its
    exact hash; every signature differs (duplicates are decided by hand in the tests)."""

    name = "marks"

    def run(self, items: list[Item]) -> None:
        for it in items:
            text = it.doc.text
            it.exact_hash = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
            it.signature = np.full(NUM_PERM, it.doc.index, dtype=np.uint32)
            it.chars = len(text)
            at = text.find("13812345678")
            if at >= 0:
                it.pii, it.pii_spans = {"cn_mobile": 1}, [("cn_mobile", at, at + 11)]
            if "BAD" in text:
                it.unsafe, it.findings = ("A1.4",), [{"category": "A1.4", "score": 1e-05, "span": [0, 3]}]


_TEXTS = ["请联系 13812345678 预约", "plain \"quoted\" \\ text\twith\u2028 and \x00 controls", "BAD thing",
          "中文 😀 文本", "plain \"quoted\" \\ text\twith\u2028 and \x00 controls", "last one"]


def _corpus(tmp_path: Path) -> list[pl.Shard]:
    for k in range(2):
        d = tmp_path / "d"
        d.mkdir(exist_ok=True)
        with open(d / f"{k}.jsonl", "w", encoding="utf-8") as fh:
            for t in _TEXTS:
                fh.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
    return plan_shards([("src", str(tmp_path / "d"))], "text")


@pytest.mark.parametrize("clean", ["mask", "drop"])
def test_clean_corpus_and_rejects_have_the_layout_json_dumps_gave(tmp_path: Path, clean: pl.CleanMode) -> None:
    shards = _corpus(tmp_path)
    plan = pl.AuditPlan(str(tmp_path / "out"), clean=clean, sample_size=3)
    results = [pl.process_shard(s, [_Marks()], plan) for s in shards]
    total = sum(r["docs"] for r in results)
    exact, near = np.zeros(total, dtype=bool), np.zeros(total, dtype=bool)
    exact[[4, 6 + 4]] = True  # the repeated text, in both files
    near[[6 + 5]] = True
    offsets = [0, 6, 12]
    counts = pl.write_clean(shards, results, plan, exact, near, offsets)

    want_clean: list[list[str]] = [[], []]
    want_rej: list[str] = []
    for k in range(2):
        key = f"src:{k}.jsonl#"
        for i, t in enumerate(_TEXTS):
            if "BAD" in t:
                want_rej.append(json.dumps({"key": key + str(i), "source": "src", "file": f"{k}.jsonl", "index": i,
                                            "reasons": ["unsafe:A1.4"],
                                            "findings": [{"category": "A1.4", "score": 1e-05, "span": [0, 3]}]},
                                           ensure_ascii=False))
            elif "13812345678" in t and clean == "drop":
                want_rej.append(json.dumps({"key": key + str(i), "source": "src", "file": f"{k}.jsonl", "index": i,
                                            "reasons": ["pii:cn_mobile"], "findings": []}, ensure_ascii=False))
        for i, t in enumerate(_TEXTS):
            g = 6 * k + i
            if "BAD" in t or ("13812345678" in t and clean == "drop"):
                continue
            if exact[g] or near[g]:
                want_rej.append(json.dumps({"key": key + str(i), "source": "src",
                                            "reasons": ["exact_duplicate" if exact[g] else "near_duplicate"]},
                                           ensure_ascii=False))
                continue
            want_clean[k].append(json.dumps({"id": key + str(i), "source": "src",
                                             "text": t.replace("13812345678", "138****5678")}, ensure_ascii=False))
    out = tmp_path / "out"
    for k in range(2):  # bytes: U+2028 in a text must stay unescaped, as json.dumps left it
        assert (out / "clean" / f"src__{k:06d}.jsonl").read_bytes() == "".join(x + "\n" for x in want_clean[k]).encode()
    assert (out / "rejects.jsonl").read_bytes() == "".join(x + "\n" for x in want_rej).encode()
    assert counts == {"kept": sum(map(len, want_clean)), "rejected": len(want_rej)}
    assert sorted(os.listdir(out / "clean")) == ["src__000000.jsonl", "src__000001.jsonl"]


def test_sample_file_round_trips_and_keeps_the_priority_order(tmp_path: Path) -> None:
    shards = _corpus(tmp_path)
    plan = pl.AuditPlan(str(tmp_path / "out"), clean=None, sample_size=4)
    results = [pl.process_shard(s, [_Marks()], plan) for s in shards]
    col = SampleCollector(4)
    for r in results:
        col.add(r)
    entries = pl.read_sample(shards, plan, col.chosen())
    ranked = sorted((sample_priority(f"src:{k}.jsonl#{i}"), f"src:{k}.jsonl#{i}") for k in range(2) for i in range(6))
    assert [e["key"] for e in entries] == [key for _, key in ranked[:4]]
    for e in entries:
        i = e["index"]
        assert e["priority"] == str(sample_priority(e["key"]))
        assert e["text"] == _TEXTS[i].replace("13812345678", "138****5678")
        assert e["pii"] == (["cn_mobile"] if i == 0 else []) and e["auto_unsafe"] == (["A1.4"] if i == 2 else [])


def test_a_checkpoint_without_the_keep_index_runs_again(tmp_path: Path) -> None:
    shards = _corpus(tmp_path)
    plan = pl.AuditPlan(str(tmp_path / "out"), clean="mask")
    result = pl.process_shard(shards[0], [_Marks()], plan)
    assert pl.load_checkpoint(shards[0], plan) == result
    os.remove(os.path.join(plan.shard_dir(shards[0].id), pl.KEEP_INDEX))  # a shard dir from before keep.idx
    assert pl.load_checkpoint(shards[0], plan) is None
    assert pl.load_checkpoint(shards[1], plan) is None


@settings(max_examples=300, deadline=None)
@given(key=st.text(), source=st.text(max_size=8), text=st.text())
def test_kept_lines_are_byte_for_byte_what_json_dumps_wrote(key: str, source: str, text: str) -> None:
    """Keys and texts hold no lone surrogates (the reader repairs texts; see the next test for keys)."""
    key, text = (x.encode("utf-8", "replace").decode("utf-8") for x in (key, text))
    source = source.encode("utf-8", "replace").decode("utf-8")
    assert pl._json_str(text) == json.dumps(text, ensure_ascii=False).encode("utf-8")
    w = pl._KeepWriter.__new__(pl._KeepWriter)
    w._mid, w._buf, w._nums = {}, [], []
    w.add(7, key, source, text)
    assert w._buf == [(json.dumps({"id": key, "source": source, "text": text}, ensure_ascii=False) + "\n").encode()]
    assert w._nums == [7]


def test_values_orjson_refuses_are_written_as_json_wrote_them() -> None:
    big = {"key": "k", "index": 2**70, "text": "x"}
    line = pl._dumps_line(big)
    assert json.loads(line) == big and pl._loads_line(line) == big
    with pytest.raises(UnicodeEncodeError):  # as writing it to a UTF-8 text file failed before
        pl._json_str("bad \udcff name")
    with pytest.raises(UnicodeEncodeError):
        pl._dumps_line({"key": "bad \udcff name"})


# -- the sample cutoff: full entries only under it, the rest fetched again when needed -----------------

def _varied_corpus(tmp_path: Path, seed: int) -> list[tuple[str, str]]:
    """Two sources, several files of varied sizes; the same file name under both folders of source
    ``a`` (so the same key, hence the same priority, in two shards); PII, unsafe and plain texts."""
    rng = random.Random(seed)
    inputs: list[tuple[str, str]] = []
    for src, folder in (("a", "a1"), ("a", "a2"), ("b", "b1")):
        d = tmp_path / folder
        d.mkdir()
        for f in range(rng.randint(1, 3)):
            with open(d / f"f{f}.jsonl", "w", encoding="utf-8") as fh:
                for i in range(rng.randint(0, 40)):
                    t = rng.choice(_TEXTS) + f" {folder} {f} {i} " + "字" * rng.randint(0, 5000)
                    fh.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
                if rng.random() < 0.3:
                    fh.write("not json\n")
        inputs.append((src, str(d)))
    return inputs


def _sample_with(shards: list[pl.Shard], plan: pl.AuditPlan, cutoffs: list[int | None]) -> tuple[
        list[dict[str, Any]], list[str]]:
    """Phase 1 with one cutoff per shard (as from an earlier run with another estimate), then the sample."""
    col = SampleCollector(plan.sample_size)
    for s, c in zip(shards, cutoffs, strict=True):
        col.add(pl.process_shard(s, [_Marks()], replace(plan, sample_cutoff=c)))
    incomplete = col.incomplete()
    return pl.collect_sample(shards, plan, col), incomplete


@pytest.mark.parametrize("seed", range(6))
def test_the_sample_does_not_depend_on_the_cutoffs(tmp_path: Path, seed: int) -> None:
    inputs = _varied_corpus(tmp_path, seed)
    shards = plan_shards(inputs, "text", shard_bytes=20_000)  # larger files split into parts
    rng = random.Random(seed)
    ranked = sorted((sample_priority(d.key), d.key) for s in shards for d in pl.read_shard(s, []))
    total = len(ranked)
    for k in (1, 5, total // 2 + 1, total + 3):
        plan = pl.AuditPlan(str(tmp_path / f"out{k}"), sample_size=k)
        want, none_incomplete = _sample_with(shards, plan, [None] * len(shards))
        assert none_incomplete == []
        assert [(int(e["priority"]), e["key"]) for e in want] == ranked[:k]
        for cutoffs in ([0] * len(shards),  # every document over the cutoff: all fetched again
                        [rng.choice([None, 0, 1 << 60, 1 << 62, 1 << 63]) for _ in shards],
                        [pl.PRIORITY_END - 1] * len(shards)):
            got, incomplete = _sample_with(shards, plan, cutoffs)
            assert got == want
            if all(c == 0 for c in cutoffs) and total:
                assert incomplete  # the fallback ran


def test_fallback_entries_equal_phase_one_entries(tmp_path: Path) -> None:
    """PII masked the same way, categories and types from the findings records, the text cut the same."""
    shards = _corpus(tmp_path)
    with open(tmp_path / "d" / "0.jsonl", "a", encoding="utf-8") as fh:  # long, PII past the cut and before
        fh.write(json.dumps({"text": "13812345678 BAD " + "x" * 5000 + " 13812345678"}) + "\n")
    plan = pl.AuditPlan(str(tmp_path / "out"), sample_size=100)
    want, _ = _sample_with(shards, plan, [None, None])
    got, incomplete = _sample_with(shards, plan, [0, 0])
    assert incomplete == [s.id for s in shards]
    assert got == want and len(got) == 13
    long = next(e for e in got if e["index"] == 6)
    assert long["text"].startswith("138****5678 BAD") and len(long["text"]) == pl.SAMPLE_TEXT_MAX
    assert long["pii"] == ["cn_mobile"] and long["auto_unsafe"] == ["A1.4"]
    # under the cutoff nothing goes to the findings file; over it, only documents with findings do
    lines = (Path(plan.shard_dir(shards[0].id)) / pl.SAMPLE_FINDINGS).read_bytes().splitlines()
    assert [json.loads(x)[0] for x in lines] == [0, 2, 6]


def test_shards_over_the_cutoff_list_only_what_is_under_it(tmp_path: Path) -> None:
    shards = _corpus(tmp_path)
    cut = 1 << 63
    plan = pl.AuditPlan(str(tmp_path / "out"), sample_size=100, sample_cutoff=cut)
    r = pl.process_shard(shards[0], [_Marks()], plan)
    prios = sorted(sample_priority(f"src:0.jsonl#{i}") for i in range(6))
    assert [int(p) for p, _ in r["sample"]] == [p for p in prios if p <= cut]
    assert r["sample_cutoff"] == str(cut) and r["sample_above"] == str(min(p for p in prios if p > cut))
    lines = (Path(plan.shard_dir(shards[0].id)) / "sample.jsonl").read_bytes().splitlines()
    assert [json.loads(x)["key"] for x in lines] == [k for _, k in r["sample"]]


def test_checkpoints_and_the_cutoff(tmp_path: Path) -> None:
    shards = _corpus(tmp_path)
    plan = pl.AuditPlan(str(tmp_path / "out"), sample_size=4)
    sd = Path(plan.shard_dir(shards[0].id))
    # a result from before the cutoff (no sample_cutoff / sample_above) lists every candidate: still good
    r = pl.process_shard(shards[0], [_Marks()], plan)
    old = {k: v for k, v in r.items() if not k.startswith("sample_")}
    (sd / "result.json").write_text(json.dumps(old), encoding="utf-8")
    assert not (sd / pl.SAMPLE_FINDINGS).exists()  # created only for a record
    assert pl.load_checkpoint(shards[0], plan) == old
    col = SampleCollector(4)
    col.add(dict(old))
    assert col.incomplete() == []
    # documents over the cutoff but their findings file gone: the shard runs again
    r = pl.process_shard(shards[0], [_Marks()], replace(plan, sample_cutoff=0))
    assert r["sample_findings"] == 2 and pl.load_checkpoint(shards[0], plan) == r
    (sd / pl.SAMPLE_FINDINGS).unlink()
    assert pl.load_checkpoint(shards[0], plan) is None
    # no document with findings over the cutoff: no file, and the fallback needs none
    with open(tmp_path / "d" / "0.jsonl", "w", encoding="utf-8") as fh:
        fh.write('{"text": "plain"}\n{"text": "also plain"}\n')
    r = pl.process_shard(shards[0], [_Marks()], replace(plan, sample_cutoff=0))
    assert r["sample_findings"] == 0 and not (sd / pl.SAMPLE_FINDINGS).exists()
    assert pl.load_checkpoint(shards[0], plan) == r
    col = SampleCollector(4)
    col.add(r)
    assert col.incomplete() == [shards[0].id]
    assert [e["text"] for e in pl.collect_sample(shards[:1], plan, col)] == \
        [t for _, t in sorted((sample_priority(f"src:0.jsonl#{i}"), t) for i, t in enumerate(["plain", "also plain"]))]


def test_the_cutoff_estimate(tmp_path: Path) -> None:
    d = tmp_path / "d"
    d.mkdir()
    with open(d / "big.jsonl", "w", encoding="utf-8") as fh:
        for i in range(60_000):
            fh.write(json.dumps({"text": f"document {i}"}) + "\n")
    (d / "skip.bin").write_bytes(b"\x00" * 500_000)  # unsupported: no documents
    shards = plan_shards([("s", str(d))], "text", shard_bytes=400_000)
    assert len(shards) > 3
    assert pl.estimate_docs(shards) == pytest.approx(60_000, rel=0.05)
    cut = pl.sample_cutoff(shards, 4000)
    assert cut is not None
    under = sum(sample_priority(f"s:big.jsonl#{i}") <= cut for i in range(60_000))
    assert 4000 < under < 12_000
    assert pl.sample_cutoff(shards, 40_000) is None  # the sample needs about every document
    assert pl.sample_cutoff(shards, 0) is None
    assert pl.sample_cutoff([], 10) is None


def test_sample_priority_is_the_keyed_blake2b() -> None:
    for key in ("", "src:a.jsonl#0", "中文:文件.jsonl#12", "x\udcff"):
        digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8,
                                 key=b"hegui-corpus-review").digest()
        assert sample_priority(key) == int.from_bytes(digest, "big")


def test_the_fallback_refuses_an_input_changed_since_phase_one(tmp_path: Path) -> None:
    shards = _corpus(tmp_path)
    plan = pl.AuditPlan(str(tmp_path / "out"), sample_size=4, sample_cutoff=0)
    col = SampleCollector(4)
    for s in shards:
        col.add(pl.process_shard(s, [_Marks()], plan))
    with open(tmp_path / "d" / "1.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"text": "added later"}\n')
    with pytest.raises(InvalidInputError, match="changed since"):
        pl.collect_sample(shards, plan, col)
