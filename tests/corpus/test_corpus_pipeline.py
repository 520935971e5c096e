"""Pipeline pieces: the global review sample, per-file stats of text folders."""

from __future__ import annotations

import random

from hegui.corpus.pipeline import SampleCollector, _compact_files, sample_priority
from hegui.corpus.readers import FileStats


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
