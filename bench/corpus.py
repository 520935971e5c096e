"""Corpus-audit throughput (MB/s per core) and memory, next to datatrove on the same files.

Generates a mixed zh/en JSONL corpus (personal data, exact and near duplicates, copyright notices),
then, in the same run and on the same files, one worker process each:

* hegui: ``run_audit`` — moderation engine (lexicon + PII + classifier when installed), licence
  markers, language/length, exact hashes, MinHash signatures, global exact + near dedup, review
  sample, cleaned corpus (``--clean mask``) and report; four variants: the full engine on every item
  (``--classifier-share 1``, the default), the classifier on a 10% share (``--classifier-share 0.1``,
  the standard's "sample ≥ 10%"), keywords only (the engine without its classifier), PII only;
* datatrove (if installed in ``/work/bench-venv-dt`` or ``--datatrove-python``): JsonlReader →
  PIIFormatter (email + IP) → exact dedup (signature, find, filter) → JsonlWriter.

Parallelism: the same corpus as ONE file, audited with ``--workers N`` (the file is split into byte
ranges, so N workers use N cores on it): wall time next to the one-worker run.

Memory: hegui's max RSS on 1× and 4× an eighth of the input (each run in its own process).

    .venv/bin/python bench/corpus.py            # ~300 MB
    .venv/bin/python bench/corpus.py --quick    # ~12 MB
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DT_PYTHON = "/work/bench-venv-dt/bin/python"

DT_SCRIPT = r"""
import json, sys, time, resource
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.formatters import PIIFormatter
from datatrove.pipeline.dedup.exact_dedup import (ExactDedupConfig, ExactDedupSignature, ExactFindDedups,
                                                  ExactDedupFilter)
from datatrove.pipeline.writers import JsonlWriter
data, work, tasks = sys.argv[1], sys.argv[2], int(sys.argv[3])

def text_of(doc) -> bytes:
    return doc.text.encode("utf-8")

cfg = ExactDedupConfig(content_getter=text_of)
t0 = time.perf_counter()
LocalPipelineExecutor([JsonlReader(data, glob_pattern="*.jsonl"), PIIFormatter(),
                       ExactDedupSignature(f"{work}/sigs", cfg)],
                      tasks=tasks, workers=1, logging_dir=f"{work}/logs1", skip_completed=False).run()
t1 = time.perf_counter()
LocalPipelineExecutor([ExactFindDedups(f"{work}/sigs", f"{work}/dups", cfg)], tasks=1, workers=1,
                      logging_dir=f"{work}/logs2", skip_completed=False).run()
t2 = time.perf_counter()
LocalPipelineExecutor([JsonlReader(data, glob_pattern="*.jsonl"), PIIFormatter(),
                       ExactDedupFilter(f"{work}/dups", cfg), JsonlWriter(f"{work}/out")],
                      tasks=tasks, workers=1, logging_dir=f"{work}/logs3", skip_completed=False).run()
t3 = time.perf_counter()
ru, rc = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": t3 - t0, "stages": [t1 - t0, t2 - t1, t3 - t2],
                  "cpu_seconds": ru.ru_utime + ru.ru_stime + rc.ru_utime + rc.ru_stime,
                  "maxrss_mb": max(ru.ru_maxrss, rc.ru_maxrss) / 1024}))
"""

_EN_SYLL = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "ve", "do", "pa", "an", "er", "is", "on", "th", "st", "re"]
_ZH_PUNCT = "，。、；：？！"


def _vocab(rng: random.Random) -> list[str]:
    return ["".join(rng.choice(_EN_SYLL) for _ in range(rng.randint(1, 4))) for _ in range(6000)]


def _zh_pool(rng: random.Random) -> list[str]:
    return [chr(0x4E00 + rng.randrange(3500)) for _ in range(3500)]


def _doc(rng: random.Random, vocab: list[str], pool: list[str]) -> str:
    n = int(min(20000, max(40, rng.lognormvariate(6.2, 0.9))))
    if rng.random() < 0.5:
        parts, size = [], 0
        while size < n:
            w = "".join(rng.choices(pool, k=rng.randint(6, 20))) + rng.choice(_ZH_PUNCT)
            parts.append(w)
            size += len(w)
        text = "".join(parts)
    else:
        words = rng.choices(vocab, k=max(8, n // 6), cum_weights=None)
        text = " ".join(words) + "."
    r = rng.random()
    if r < 0.02:
        ip = f"{rng.randrange(1, 223)}.{rng.randrange(256)}.7.9"
        text += f" 联系邮箱 user{rng.randrange(10**6)}@example.com，服务器 {ip}"
    elif r < 0.03:
        text += f" 电话 13{rng.randrange(3, 9)}{rng.randrange(10**8):08d}"
    elif r < 0.04:
        text = "版权所有，未经许可不得转载。" + text
    return text


def generate(out: Path, total_mb: float, files: int, seed: int = 7) -> int:
    """Write ``files`` JSONL files, ``total_mb`` MB in all; 5% exact and 3% near duplicates."""
    rng = random.Random(seed)
    vocab, pool = _vocab(rng), _zh_pool(rng)
    out.mkdir(parents=True, exist_ok=True)
    per_file = total_mb * 1e6 / files
    recent: list[str] = []
    written = 0
    for k in range(files):
        size = 0
        with open(out / f"part-{k:04d}.jsonl", "w", encoding="utf-8") as fh:
            while size < per_file:
                r = rng.random()
                if r < 0.05 and recent:
                    text = rng.choice(recent)
                elif r < 0.08 and recent:
                    base = rng.choice(recent)
                    cut = rng.randrange(len(base))
                    text = base[:cut] + "改动" + base[cut + 1:]
                else:
                    text = _doc(rng, vocab, pool)
                    if len(recent) < 2000:
                        recent.append(text)
                    else:
                        recent[rng.randrange(2000)] = text
                line = json.dumps({"id": f"{k}-{size}", "text": text}, ensure_ascii=False) + "\n"
                fh.write(line)
                size += len(line.encode("utf-8"))
        written += size
    return written


class KeywordsOnlyEngine:
    """The installation engine without its embedded classifier (lexicon, combo, PII, jailbreak)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self) -> Any:
        engine = self.inner()
        engine.detectors = [d for d in engine.detectors if d.name != "classifier"]
        return engine


class PiiOnlyEngine:
    """The moderation engine with only the PII detector: hegui's counterpart of datatrove's PII formatter."""

    def __call__(self) -> Any:
        from hegui.detect.pii import PiiDetector
        from hegui.moderation import ModerationEngine
        from hegui.policy.pack import load_pack

        pack = load_pack("cn-genai")
        return ModerationEngine(pack, [PiiDetector.from_pack(pack)])


def _run_hegui(data: str, out: str, workers: int, engine: str = "full", shard_bytes: int = 0) -> dict[str, Any]:
    """One audit in this process (called in a child so its max RSS is its own)."""
    from hegui.config import Settings
    from hegui.context import HeguiContext
    from hegui.corpus.audit import AuditOptions, run_audit
    from hegui.corpus.sources import add_source
    from hegui.corpus.steps import EngineFactory
    from hegui.install import ensure_database

    root = Path(out)
    settings = Settings(data_dir=root / ".hegui", database_url=f"sqlite:///{root / 'hegui.db'}")
    ctx = HeguiContext(settings)
    ensure_database(ctx)
    add_source(ctx, "bench", "open", "CC0-1.0", [])
    factory: Any = EngineFactory.from_settings(settings)
    engine_note = "installation engine (from_context)"
    share = 1.0
    if engine.startswith("share:"):
        share = float(engine.split(":", 1)[1])
    if engine == "pii":
        factory, engine_note = PiiOnlyEngine(), "PII detector only"
    else:
        try:
            factory()
        except Exception as err:  # the installation engine cannot be built here: say so, use the library default
            factory = EngineFactory(None)
            engine_note = f"default engine (from_context failed: {type(err).__name__})"
        if engine == "keywords":
            factory = KeywordsOnlyEngine(factory)
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = ru0.ru_utime + ru0.ru_stime
    t0 = time.perf_counter()
    opts = AuditOptions(workers=workers, clean="mask", classifier_share=share,
                        **({"shard_bytes": shard_bytes} if shard_bytes else {}))
    report = run_audit(ctx, [("bench", data)], root / "audit", opts, factory=factory)
    secs = time.perf_counter() - t0
    ru, rc = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    usage = max(ru.ru_maxrss, rc.ru_maxrss)
    cpu = ru.ru_utime + ru.ru_stime + rc.ru_utime + rc.ru_stime - cpu0
    return {"seconds": secs, "cpu_seconds": cpu, "items": report["totals"]["items"], "bytes": report["totals"]["bytes"],
            "maxrss_mb": usage / 1024, "detectors": report["detectors"], "engine": engine_note,
            "exact": report["totals"]["exact_duplicates"], "near": report["totals"]["near_duplicates"],
            "pii_docs": report["totals"]["pii_docs"], "unsafe": report["totals"]["unsafe"],
            "unsafe_ratio": report["totals"]["unsafe_ratio"], "classified": report["totals"]["classified"],
            "auto_sample": report["gates"]["auto_sample"]["status"], "shards": report["shards"]["total"]}


def _child(args: list[str]) -> dict[str, Any]:
    r = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"bench child failed: {r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _memory(a: argparse.Namespace, tmp: Path, mb: float, files: int, raw: dict[str, Any]) -> None:
    """hegui's max RSS (full engine, one worker) on 1× and 4× an eighth of the corpus size."""
    print("\n| input | MB | documents | hegui max RSS MB (full engine) | CPU s |")
    print("|---|---|---|---|---|")
    mem = []
    for mult in (1, 4):
        mdir = tmp / f"mem{mult}"
        msize = generate(mdir / "data", mb / 8 * mult, max(2, files // 8 * mult), seed=11)
        m = _child(["--_hegui", str(mdir / "data"), str(mdir / "out"), "1", "full", "0"])
        mem.append({"mult": mult, "bytes": msize, **m})
        print(f"| {mult}× | {msize / 1e6:.0f} | {m['items']:,} | {m['maxrss_mb']:.0f} | {m['cpu_seconds']:.1f} |",
              flush=True)
        shutil.rmtree(mdir)
    raw["memory"] = mem
    if a.json:
        a.json.write_text(json.dumps(raw, indent=2), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a small run (~12 MB)")
    ap.add_argument("--mb", type=float, default=None, help="corpus size in MB (default 300, quick 12)")
    ap.add_argument("--datatrove-python", default=DT_PYTHON)
    ap.add_argument("--no-memory", action="store_true", help="skip the 1×/2×/4× memory runs")
    ap.add_argument("--memory-only", action="store_true", help="only the 1×/2×/4× memory runs")
    ap.add_argument("--json", type=Path, default=None, help="write the raw figures here")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="workers for the one-file run")
    ap.add_argument("--_hegui", nargs=5, metavar=("DATA", "OUT", "WORKERS", "ENGINE", "SHARD_BYTES"),
                    help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a._hegui:
        print(json.dumps(_run_hegui(a._hegui[0], a._hegui[1], int(a._hegui[2]), a._hegui[3], int(a._hegui[4]))))
        return
    mb = a.mb or (12.0 if a.quick else 300.0)
    files = 8 if a.quick else 32
    tmp = Path(tempfile.mkdtemp(prefix="hegui-bench-corpus-"))
    try:
        data = tmp / "data"
        t0 = time.perf_counter()
        size = generate(data, mb if not a.memory_only else 0.001, files)
        gen_s = time.perf_counter() - t0
        rows: list[tuple[str, ...]] = []
        raw: dict[str, Any] = {"bytes": size, "files": files, "nproc": os.cpu_count(), "generate_seconds": gen_s}

        def row(name: str, r: dict[str, Any]) -> tuple[str, ...]:
            return (name, f"{size / 1e6 / r['cpu_seconds']:.2f}", f"{size / 1e6 / r['seconds']:.2f}",
                    f"{r['cpu_seconds']:.1f}", f"{r['maxrss_mb']:.0f}")

        if a.memory_only:
            _memory(a, tmp, mb, files, raw)
            return
        load_before = os.getloadavg()
        dt_py = Path(a.datatrove_python)
        has_dt = dt_py.exists() and subprocess.run([str(dt_py), "-c", "import datatrove"], capture_output=True
                                                   ).returncode == 0

        def datatrove(k: int) -> dict[str, Any]:
            r = subprocess.run([str(dt_py), "-c", DT_SCRIPT, str(data), str(tmp / f"dt{k}"), str(files)],
                               capture_output=True, text=True, check=False)
            if r.returncode != 0:
                raise SystemExit(f"datatrove run failed: {r.stderr[-2000:]}")
            shutil.rmtree(tmp / f"dt{k}", ignore_errors=True)
            return json.loads(r.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

        dts = [datatrove(0)] if has_dt else []
        h = _child(["--_hegui", str(data), str(tmp / "h1"), "1", "full", "0"])
        raw["hegui"] = h
        rows.append(row("hegui corpus audit, full engine (" + ", ".join(h["detectors"]) + ") on every item + "
                        "licence + lang/length + exact + MinHash near dedup + sample + clean + report", h))
        s10 = _child(["--_hegui", str(data), str(tmp / "h4"), "1", "share:0.1", "0"])
        raw["hegui_share_0.1"] = s10
        rows.append(row("hegui, same, `--classifier-share 0.1` (keywords on every item, classifier on a 10% "
                        "share)", s10))
        kw = _child(["--_hegui", str(data), str(tmp / "h5"), "1", "keywords", "0"])
        raw["hegui_keywords"] = kw
        rows.append(row("hegui, same, keywords only (engine without the classifier)", kw))
        p = _child(["--_hegui", str(data), str(tmp / "h2"), "1", "pii", "0"])
        raw["hegui_pii"] = p
        rows.append(row("hegui corpus audit, engine with PII detector only (14 PI types) + licence + "
                        "lang/length + exact + MinHash near dedup + sample + clean + report", p))
        if has_dt:
            dts.append(datatrove(1))
        one = tmp / "one"
        one.mkdir()
        with open(one / "all.jsonl", "wb") as out_f:
            for part in sorted(data.glob("*.jsonl")):
                out_f.write(part.read_bytes())
        part_bytes = max(1 << 20, size // (4 * a.workers))
        w = _child(["--_hegui", str(one), str(tmp / "h3"), str(a.workers), "full", str(part_bytes)])
        raw["hegui_one_file"] = {**w, "workers": a.workers, "part_bytes": part_bytes}
        rows.append(row(f"hegui, full engine, the corpus as ONE file split into {w['shards']} parts, "
                        f"{a.workers} worker processes", w))
        shutil.rmtree(one)
        if dts:
            d = {"seconds": sum(x["seconds"] for x in dts) / len(dts),
                 "cpu_seconds": sum(x["cpu_seconds"] for x in dts) / len(dts),
                 "maxrss_mb": max(x["maxrss_mb"] for x in dts), "runs": dts}
            raw["datatrove"] = d
            rows.append(row("datatrove (JsonlReader → PIIFormatter email+IP → exact dedup 3 stages → JsonlWriter), "
                            "mean of a run before and one after the hegui runs", d))
        else:
            rows.append(("datatrove", "datatrove not installed", "—", "—", "—"))
        print(f"\ncorpus: {size / 1e6:.1f} MB, {h['items']:,} documents, {files} files; nproc {os.cpu_count()}; "
              f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}; "
              f"engine: {h['engine']}, detectors: {', '.join(h['detectors'])}")
        print(f"hegui found {h['exact']:,} exact + {h['near']:,} near duplicates, {h['pii_docs']:,} documents "
              f"with personal data; unsafe ratio {h['unsafe_ratio']:.3%} (every item), "
              f"{s10['unsafe_ratio']:.3%} estimated at share 0.1 (classifier on {s10['classified']:,} items, "
              f"auto_sample gate {s10['auto_sample']}), {kw['unsafe_ratio']:.3%} keywords only\n")
        print("| pipeline (1 worker process unless said) | MB/s per core (CPU time) | MB/s wall | CPU s | max RSS MB |")
        print("|---|---|---|---|---|")
        for rw in rows:
            print("| " + " | ".join(rw) + " |")
        if "datatrove" in raw:
            dcpu = raw["datatrove"]["cpu_seconds"]
            dt_runs = ", ".join(f"{x['cpu_seconds']:.1f}" for x in dts)
            print(f"\nper core vs datatrove (its CPU s / hegui's; datatrove runs {dt_runs} CPU s): "
                  f"full engine {dcpu / h['cpu_seconds']:.2f}×, classifier share 0.1 "
                  f"{dcpu / s10['cpu_seconds']:.2f}×, keywords only {dcpu / kw['cpu_seconds']:.2f}×, "
                  f"PII-only engine {dcpu / p['cpu_seconds']:.2f}×")
        if not a.no_memory:
            _memory(a, tmp, mb, files, raw)
        if a.json:
            a.json.write_text(json.dumps(raw, indent=2), encoding="utf-8")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
