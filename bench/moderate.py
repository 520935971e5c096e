"""``hegui.moderate()``-style checks per second (lexicon + PII + rules, no classifier), one core.

Input is generated here: the shipped default lexicon topped up with synthetic terms to 10,000,
and short (≈100-char) and long (≈2,000-char) mixed zh/en texts — most clean, some with personal
data, some with a lexicon term. Baseline in the same run: raw ``ahocorasick_rs`` matching of the
same terms on the same texts (no normalisation, no PII, no policy). Prints a markdown table;
``--quick`` for a small run, ``--json FILE`` for raw figures.
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
from hegui.detect.lexicon.formats import load_default_data
from hegui.detect.pii import PiiDetector
from hegui.detect.pii.validators import resident_id_check_char
from hegui.moderation import ModerationEngine
from hegui.policy.pack import load_pack

HAN = [chr(c) for c in range(0x4E00, 0x4E00 + 2500)]
CLEAN_ZH = ["今天天气很好", "我们一起去公园散步", "请帮我写一封感谢信", "这道数学题怎么做", "推荐几本好看的小说",
            "周末想去爬山", "如何学习编程", "帮我翻译这段话", "晚饭吃什么比较健康", "解释一下光合作用",
            "，", "。", "？", "！", "、"]
CLEAN_EN = [" how do I cook rice", " explain recursion", " write a short poem", " thanks a lot", " in Python"]
CODES = ["A1.4", "A1.6", "A1.7", "A1.8", "A2.1", "A2.5", "A3.1", "A4.1", "J"]


def entries(n: int, rng: random.Random) -> list[LexiconEntry]:
    data = load_default_data()
    out = list(data.entries)
    seen = {e.term for e in out}
    while len(out) < n:
        term = "".join(rng.choice(HAN) for _ in range(rng.randint(3, 5)))
        if term not in seen:
            seen.add(term)
            out.append(LexiconEntry(term, rng.choice(CODES), 2, source="bench"))
    return out


def make_text(length: int, rng: random.Random, terms: list[str], p_pii: float, p_term: float) -> str:
    parts: list[str] = []
    size = 0
    while size < length:
        s = rng.choice(CLEAN_ZH) if rng.random() < 0.8 else rng.choice(CLEAN_EN)
        parts.append(s)
        size += len(s)
    if rng.random() < p_pii:
        body = "11010119900307" + f"{rng.randint(0, 999):03d}"
        parts.insert(rng.randrange(len(parts)), rng.choice([f"电话1{rng.choice('3589')}{rng.randint(10**8, 10**9 - 1)}",
                                                             body + resident_id_check_char(body)]))
    if rng.random() < p_term:
        parts.insert(rng.randrange(len(parts)), rng.choice(terms))
    return "".join(parts)[:length]


def rate(fn: Callable[[str], Any], texts: list[str], rounds: int) -> float:
    """Checks per second of this thread's CPU time (the figure for one core, also on a shared machine)."""
    t0 = time.thread_time()
    for _ in range(rounds):
        for t in texts:
            fn(t)
    return rounds * len(texts) / (time.thread_time() - t0)


def latencies(fn: Callable[[str], Any], texts: list[str], rounds: int,
              clock: Callable[[], float] = time.perf_counter) -> list[float]:
    out: list[float] = []
    for _ in range(rounds):
        for t in texts:
            a = clock()
            fn(t)
            out.append(clock() - a)
    return out


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="small run (seconds)")
    ap.add_argument("--json", metavar="FILE", help="write raw figures here")
    args = ap.parse_args()
    rng = random.Random(20250101)
    n_short, rounds, n_long, long_rounds = (2_000, 2, 100, 3) if args.quick else (10_000, 5, 500, 6)

    pack = load_pack("cn-genai")
    t0 = time.perf_counter()
    ents = entries(10_000, rng)
    lexicon = LexiconDetector(ents, pack.normalisation, load_default_data().allow)
    build_s = time.perf_counter() - t0
    engine = ModerationEngine(pack, [lexicon, PiiDetector.from_pack(pack)])
    no_lexicon = ModerationEngine(pack, [PiiDetector.from_pack(pack)])  # the engine's own share of the cost
    raw = ahocorasick_rs.AhoCorasick([e.term for e in ents])

    terms = [e.term for e in ents]
    mixes = {
        "clean": (0.0, 0.0),
        "mixed (10% PII, 10% term)": (0.1, 0.1),
    }
    rows: list[dict[str, Any]] = []
    short_sets = {label: [make_text(100, rng, terms, p_pii, p_term) for _ in range(n_short)]
                  for label, (p_pii, p_term) in mixes.items()}
    for label, texts in short_sets.items():
        for t in texts[:200]:
            engine.moderate(t)  # warm caches
        hegui_rate = rate(engine.moderate, texts, rounds)
        raw_rate = rate(lambda t: raw.find_matches_as_indexes(t, overlapping=True), texts, rounds)
        lexicon_rate = rate(lexicon.detect, texts, rounds)
        rest_rate = rate(no_lexicon.moderate, texts, rounds)
        decisions = [engine.moderate(t).action for t in texts]
        rows.append({"texts": f"100-char, {label}", "hegui_checks_per_s": hegui_rate, "raw_ac_per_s": raw_rate,
                     "lexicon_detect_per_s": lexicon_rate, "pii_rules_per_s": rest_rate,
                     "non_allow": sum(a != "allow" for a in decisions) / len(decisions), "_actions": decisions})

    long_texts = [make_text(2_000, rng, terms, 0.3, 0.3) for _ in range(n_long)]
    lat = latencies(engine.moderate, long_texts, long_rounds)
    # CPU time of this thread: what the check costs without the machine's other load preempting it
    cpu = latencies(engine.moderate, long_texts, long_rounds, time.thread_time)
    raw_lat = latencies(lambda t: raw.find_matches_as_indexes(t, overlapping=True), long_texts, long_rounds)

    # the same engine with the compiled kernels loaded (``engine.compile_kernels()``: the corpus audit and
    # ``hegui moderate --jsonl`` do this, and the gateway at start when ``gateway.compiled_kernels`` is on)
    t0 = time.perf_counter()
    engine.compile_kernels()
    kernels_s = time.perf_counter() - t0
    for label, texts in short_sets.items():
        for t in texts[:200]:
            engine.moderate(t)
        row = next(r for r in rows if r["texts"] == f"100-char, {label}")
        row["hegui_kernels_checks_per_s"] = rate(engine.moderate, texts, rounds)
        assert [engine.moderate(t).action for t in texts] == row.pop("_actions")
    cpu_k = latencies(engine.moderate, long_texts, long_rounds, time.thread_time)

    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, one core; "
          "rates are per second of thread CPU time")
    print(f"lexicon: {len(ents):,} terms ({lexicon.max_term_length} longest normalised key), compiled in "
          f"{build_s:.1f} s\n")
    print("| texts | hegui.moderate checks/s | with compiled kernels | of which: lexicon.detect alone /s "
          "| PII + rules alone /s | raw ahocorasick_rs /s | hegui / raw | non-allow |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['texts']} | {r['hegui_checks_per_s']:,.0f} | {r['hegui_kernels_checks_per_s']:,.0f} | "
              f"{r['lexicon_detect_per_s']:,.0f} | {r['pii_rules_per_s']:,.0f} | {r['raw_ac_per_s']:,.0f} | "
              f"{r['hegui_checks_per_s'] / r['raw_ac_per_s']:.2f} | {r['non_allow']:.0%} |")
    print(f"\n(compiled kernels loaded and the lexicon's compiled automaton built in {kernels_s:.2f} s; "
          "decisions identical on every text)")
    print()
    print("| 2,000-char text | p50 | p99 | mean |")
    print("|---|---:|---:|---:|")
    print(f"| hegui.moderate (wall clock) | {pct(lat, .5) * 1e3:.3f} ms | {pct(lat, .99) * 1e3:.3f} ms | "
          f"{statistics.fmean(lat) * 1e3:.3f} ms |")
    print(f"| hegui.moderate (thread CPU time) | {pct(cpu, .5) * 1e3:.3f} ms | {pct(cpu, .99) * 1e3:.3f} ms | "
          f"{statistics.fmean(cpu) * 1e3:.3f} ms |")
    print(f"| hegui.moderate with compiled kernels (thread CPU time) | {pct(cpu_k, .5) * 1e3:.3f} ms | "
          f"{pct(cpu_k, .99) * 1e3:.3f} ms | {statistics.fmean(cpu_k) * 1e3:.3f} ms |")
    print(f"| raw ahocorasick_rs | {pct(raw_lat, .5) * 1e3:.3f} ms | {pct(raw_lat, .99) * 1e3:.3f} ms | "
          f"{statistics.fmean(raw_lat) * 1e3:.3f} ms |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"short": rows, "long_p50_ms": pct(lat, .5) * 1e3, "long_p99_ms": pct(lat, .99) * 1e3,
                       "long_cpu_p50_ms": pct(cpu, .5) * 1e3, "long_cpu_p99_ms": pct(cpu, .99) * 1e3,
                       "long_kernels_cpu_p50_ms": pct(cpu_k, .5) * 1e3,
                       "long_kernels_cpu_p99_ms": pct(cpu_k, .99) * 1e3,
                       "raw_long_p50_ms": pct(raw_lat, .5) * 1e3, "raw_long_p99_ms": pct(raw_lat, .99) * 1e3,
                       "terms": len(ents), "build_s": build_s}, fh, indent=2)


if __name__ == "__main__":
    main()
