"""Normalisation + 10k-term lexicon scan vs raw ahocorasick_rs on the same terms and text.

Generates its own input: 10,000 synthetic terms (Chinese and English) and a few MB of mixed
zh/en text with full-width letters, traditional characters, punctuation, emoji and some disguised
terms. Prints a markdown table; ``--quick`` for a small run, ``--json FILE`` for raw figures.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import ahocorasick_rs

from hegui.detect.lexicon import LexiconDetector, LexiconEntry
from hegui.policy.pack import NormalisationSteps
from hegui.text import Normalizer, kernel

HAN = [chr(c) for c in range(0x4E00, 0x4E00 + 2500)]  # a common-ish block of Han characters
TRAD = list("後會來們個說時國對學麼發動頭髮機關開為東車長門問間")
LATIN = "abcdefghijklmnopqrstuvwxyz"
PUNCT = [*"，。！？、；：“”（）", ",", ".", "!", " ", "😀", "\u200b"]
CODES = ["A1.4", "A1.6", "A1.7", "A1.8", "A2.1", "A2.5", "A3.1", "A4.1", "A4.5", "J"]


def make_terms(n: int, rng: random.Random) -> list[str]:
    terms: set[str] = set()
    while len(terms) < n:
        if rng.random() < 0.75:
            terms.add("".join(rng.choice(HAN) for _ in range(rng.randint(2, 5))))
        else:
            terms.add("".join(rng.choice(LATIN) for _ in range(rng.randint(5, 10))))
    return sorted(terms)


def make_text(n_chars: int, terms: list[str], rng: random.Random) -> str:
    parts: list[str] = []
    size = 0
    while size < n_chars:
        r = rng.random()
        if r < 0.70:
            piece = "".join(rng.choice(HAN) for _ in range(rng.randint(4, 20)))
        elif r < 0.82:
            words = ["".join(rng.choice(LATIN) for _ in range(rng.randint(2, 8))) for _ in range(rng.randint(1, 6))]
            piece = " " + " ".join(words).capitalize() + " "
        elif r < 0.90:
            piece = rng.choice(PUNCT)
        elif r < 0.94:
            piece = "".join(rng.choice(TRAD) for _ in range(rng.randint(1, 4)))
        elif r < 0.97:
            piece = "ＡＢ１２" if rng.random() < 0.5 else str(rng.randint(0, 99999))
        elif r < 0.99:
            piece = rng.choice(terms)
        else:  # a disguised term: separators between its characters
            piece = " ".join(rng.choice(terms))
        parts.append(piece)
        size += len(piece)
    return "".join(parts)


# CPU time of this thread, not wall time: the machine is usually shared (CI, other jobs), and waiting
# for a core is not the code's cost. Both hegui and the baseline are measured the same way.
clock = time.thread_time


def best_of(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = clock()
        fn()
        best = min(best, clock() - t)
    return best


def latencies(fn: Callable[[str], object], texts: list[str]) -> list[float]:
    out = []
    for t in texts:
        s = clock()
        fn(t)
        out.append(clock() - s)
    return out


def p99(xs: list[float]) -> float:
    return sorted(xs)[int(len(xs) * 0.99) - 1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small run (seconds)")
    ap.add_argument("--json", metavar="FILE", help="write the raw figures here")
    args = ap.parse_args()
    rng = random.Random(20261129)
    n_terms = 2_000 if args.quick else 10_000
    n_chars = 300_000 if args.quick else 3_000_000
    repeat = 2 if args.quick else 3
    n_calls = 2_000 if args.quick else 20_000

    terms = make_terms(n_terms, rng)
    text = make_text(n_chars, terms, rng)
    docs = [text[i:i + 2000] for i in range(0, len(text), 2000)]

    t0 = time.perf_counter()
    entries = [LexiconEntry(t, CODES[i % len(CODES)], 2) for i, t in enumerate(terms)]
    det = LexiconDetector.from_entries(entries)
    compile_s = time.perf_counter() - t0
    det_nopy = LexiconDetector.from_entries(entries, NormalisationSteps(pinyin=False))
    raw_ll = ahocorasick_rs.AhoCorasick(terms, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)
    raw_ov = ahocorasick_rs.AhoCorasick(terms)
    norm = Normalizer()

    rows: list[tuple[str, float]] = []
    n = len(text)

    def fresh(s: str) -> str:
        """A new str object: CPython caches a string's UTF-8 form, which ahocorasick_rs needs, after first use.
        A real request is always a new string, so the raw baseline must not reuse the cache either."""
        return (s + " ")[:-1]

    def raw_run(ac: Any, overlapping: bool) -> Callable[[], object]:
        copies = [fresh(text) for _ in range(repeat)]
        return lambda: ac.find_matches_as_indexes(copies.pop(), overlapping=overlapping)

    t_raw_ll = best_of(raw_run(raw_ll, False), repeat)
    t_raw_ov = best_of(raw_run(raw_ov, True), repeat)
    t_raw_cached = best_of(lambda: raw_ll.find_matches_as_indexes(text), repeat)
    raw_bytes = ahocorasick_rs.BytesAhoCorasick([t.encode() for t in terms])
    t_raw_bytes = best_of(lambda: raw_bytes.find_matches_as_indexes(fresh(text).encode(), overlapping=True), repeat)
    t_norm = best_of(lambda: norm.normalize(text), repeat)
    t_det = best_of(lambda: det.detect(text), repeat)
    rows += [("raw ahocorasick_rs, leftmost-longest, one string", n / t_raw_ll),
             ("raw ahocorasick_rs, overlapping, one string", n / t_raw_ov),
             ("(raw leftmost-longest on a string whose UTF-8 form is already cached)", n / t_raw_cached),
             ("(raw overlapping, bytes API on UTF-8: byte offsets only, no character offsets)", n / t_raw_bytes),
             ("hegui normalisation only, one string", n / t_norm),
             ("hegui normalise + lexicon detect, one string", n / t_det),
             ("hegui normalise + lexicon detect, one string, pinyin off", n / best_of(lambda: det_nopy.detect(text),
                                                                                    repeat))]
    doc_copies = [[fresh(d) for d in docs] for _ in range(repeat)]
    t_raw_docs = best_of(lambda: [raw_ov.find_matches_as_indexes(d, overlapping=True) for d in doc_copies.pop()],
                         repeat)
    t_det_docs = best_of(lambda: [det.detect(d) for d in docs], repeat)
    # where a document's time goes: normalisation alone, and hegui's automaton alone on the normalised bytes
    # (its pinyin and mixed spellings make it several times larger than the raw one; no Python around it)
    t_norm_docs = best_of(lambda: [norm.normalize(d) for d in docs], repeat)
    scanned = [det.normalize(d).text.encode("utf-8", "surrogatepass") for d in docs]
    automaton: Any = det._ac
    t_scan_docs = best_of(lambda: [automaton.find_matches_as_indexes(b, overlapping=True) for b in scanned], repeat)
    # the compiled kernels, loaded once per process (the corpus audit, ``moderate --jsonl``, the gateway with
    # ``gateway.compiled_kernels``)
    t0 = time.perf_counter()
    kernel.load()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    det_k = LexiconDetector.from_entries(entries)
    compile_k_s = time.perf_counter() - t0
    t_k_docs = best_of(lambda: [det_k.detect(d) for d in docs], repeat)
    t_k_one = best_of(lambda: det_k.detect(text), repeat)
    assert sum(len(det_k.detect(d)) for d in docs) == sum(len(det.detect(d)) for d in docs)
    rows += [("hegui normalise + lexicon detect, one string, compiled kernels", n / t_k_one),
             ("raw ahocorasick_rs, overlapping, 2,000-char documents", n / t_raw_docs),
             ("hegui normalise + lexicon detect, 2,000-char documents, compiled kernels",
              n / t_k_docs),
             ("hegui normalise + lexicon detect, 2,000-char documents", n / t_det_docs),
             ("(of which: normalisation alone, 2,000-char documents)", n / t_norm_docs),
             ("(of which: hegui's automaton alone on the normalised UTF-8, 2,000-char documents)", n / t_scan_docs)]

    short = [text[i:i + 100] for i in range(0, min(len(text), n_calls * 100), 100)][:n_calls]
    long_ = docs[: max(200, n_calls // 20)]
    for t in short[:200]:
        det.detect(t)  # warm up
    lat_short = latencies(det.detect, short)
    lat_long = latencies(det.detect, long_)
    lat_raw_short = latencies(lambda t: raw_ov.find_matches_as_indexes(t, overlapping=True), [fresh(t) for t in short])
    findings = sum(len(det.detect(d)) for d in docs)

    ratio = (n / t_det) / (n / t_raw_ll)
    ratio_docs = t_raw_docs / t_det_docs
    ratio_k_docs = t_raw_docs / t_k_docs
    ratio_ov = t_raw_ov / t_det
    print(f"# normalise + lexicon scan ({'quick' if args.quick else 'full'} run)\n")
    print(f"{n_terms:,} terms ({len(det._patterns):,} patterns with pinyin and normalised forms, compiled in "
          f"{compile_s:.2f} s), {n:,} characters of mixed zh/en text, {findings:,} findings; "
          f"python {platform.python_version()}, {platform.machine()}\n")
    print("| what | chars/s |\n|---|---:|")
    for name, v in rows:
        print(f"| {name} | {v / 1e6:,.1f} M |")
    print(f"\nhegui / raw, one string: **{ratio:.2f}×** vs leftmost-longest, **{ratio_ov:.2f}×** vs overlapping; "
          f"2,000-char documents vs overlapping: **{ratio_k_docs:.2f}×** with the compiled kernels, "
          f"{ratio_docs:.2f}× on the plain path (no kernels: a one-off CLI check, the gateway by default)\n")
    print(f"compiled kernels: loaded in {load_s:.2f} s (numba import + machine-code cache, or a first compile); "
          f"lexicon with its compiled automaton built in {compile_k_s:.2f} s\n")
    print("| per call | mean | p50 | p99 |\n|---|---:|---:|---:|")
    for name, xs in (("detect(), 100 chars", lat_short), ("raw ahocorasick_rs, 100 chars", lat_raw_short),
                     ("detect(), 2,000 chars", lat_long)):
        print(f"| {name} | {statistics.mean(xs) * 1e6:.1f} µs | {statistics.median(xs) * 1e6:.1f} µs | "
              f"{p99(xs) * 1e6:.1f} µs |")
    print(f"\ndetect() on 100-char texts: {1 / statistics.mean(lat_short):,.0f} calls/s on one core "
          "(times are CPU time of the benchmark thread)")
    if args.json:
        data: dict[str, Any] = {"terms": n_terms, "chars": n, "compile_s": compile_s,
                                "chars_per_s": dict(rows), "ratio_one_string": ratio, "ratio_docs": ratio_docs,
                                "ratio_docs_compiled": ratio_k_docs, "kernel_load_s": load_s,
                                "latency_100_mean_us": statistics.mean(lat_short) * 1e6,
                                "latency_100_p99_us": p99(lat_short) * 1e6,
                                "latency_2000_mean_us": statistics.mean(lat_long) * 1e6,
                                "latency_2000_p99_us": p99(lat_long) * 1e6}
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)


if __name__ == "__main__":
    main()
