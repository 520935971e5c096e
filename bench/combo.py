"""Proximity rules (``hegui.detect.combo``): what they add to the lexicon, and what they cost.

Quality: the evaluation lines in ``tests/data/combo_eval`` (harmful and benign lines the rules were
tuned on; held-out sets 1 and 2, each written after a round of rule changes — set 1 was then used
for the next round, set 2 never) and the lexicon's benign corpus, run
through engines built from the same pack: lexicon alone, lexicon + combo, lexicon + classifier,
lexicon + combo + classifier. A line counts as caught when the decision is refuse/block.

Speed: thread CPU time per text for the lexicon detector alone and for lexicon + combo, on
2,000-character documents (built from the benign look-alikes: many rule terms, few matches; and
from ordinary chat text: almost no rule terms) and on 100-character texts, interleaved in the
same run. Prints markdown tables; ``--quick`` for a small run.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from hegui.detect.base import Detector, Direction
from hegui.detect.combo import ComboDetector, default_rules
from hegui.detect.lexicon import LexiconDetector
from hegui.detect.lexicon.formats import load_default_data
from hegui.moderation import ModerationEngine
from hegui.policy.pack import load_pack
from hegui.text import Normalizer

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
EVAL = DATA / "combo_eval"
CHAT = ["今天天气很好，我们一起去公园散步吧。", "请帮我写一封感谢信，感谢老师一年来的照顾。", "这道数学题怎么做？",
        "推荐几本好看的小说。", "周末想去爬山，有什么好的路线？", "如何学习编程，从哪门语言开始？",
        " How do I cook rice in a pot?", " Explain recursion with an example.", " Write a short poem about autumn."]


def _lines(path: Path) -> list[str]:
    return [ln for ln in path.read_text(encoding="utf-8").split("\n") if ln.strip() and not ln.startswith("#")]


def harmful(path: Path) -> list[tuple[str, Direction, str]]:
    out: list[tuple[str, Direction, str]] = []
    for ln in _lines(path):
        code, direction, text = ln.split("\t")
        out.append((code, "output" if direction == "output" else "input", text))
    return out


def benign(path: Path) -> list[tuple[tuple[Direction, ...], str]]:
    out: list[tuple[tuple[Direction, ...], str]] = []
    for ln in _lines(path):
        head, tab, text = ln.partition("\t")
        out.append((("output",), text) if tab and head == "output" else (("input", "output"), ln))
    return out


def quality(engines: dict[str, ModerationEngine]) -> None:
    sets_h = {"tuned harmful": harmful(EVAL / "harmful.tsv"),
              "held-out 1 harmful": harmful(EVAL / "holdout_harmful.tsv"),
              "held-out 2 harmful": harmful(EVAL / "holdout2_harmful.tsv")}
    sets_b = {"combo benign": benign(EVAL / "benign.txt"), "held-out 1 benign": benign(EVAL / "holdout_benign.txt"),
              "held-out 2 benign": benign(EVAL / "holdout2_benign.txt"),
              "lexicon benign corpus": benign(DATA / "benign_lookalikes.txt")}
    head = " | ".join(f"{k} ({len(v)})" for k, v in {**sets_h, **sets_b}.items())
    print(f"| engine | {head} |")
    print("|---" * (1 + len(sets_h) + len(sets_b)) + "|")
    for name, eng in engines.items():
        cells = []
        for lines in sets_h.values():
            caught = sum(eng.moderate(t, d).blocked for _c, d, t in lines)
            cells.append(f"recall {caught / len(lines):.1%} ({caught})")
        for blines in sets_b.values():
            fp = sum(any(eng.moderate(t, d).blocked for d in ds) for ds, t in blines)
            cells.append(f"FP {fp / len(blines):.1%} ({fp})")
        print(f"| {name} | " + " | ".join(cells) + " |")


def per_call(fn: Callable[[str], object], texts: Sequence[str]) -> list[float]:
    out = []
    for t in texts:
        t0 = time.thread_time_ns()
        fn(t)
        out.append((time.thread_time_ns() - t0) / 1000)
    return out


def speed(lexicon: LexiconDetector, combo: ComboDetector, docs: dict[str, list[str]], rounds: int) -> None:
    print("| texts | lexicon p50 µs | combo p50 µs | lexicon+combo p50 µs | ratio | lexicon+combo p99 µs |")
    print("|---|---|---|---|---|---|")
    for name, texts in docs.items():
        lex: list[float] = []
        com: list[float] = []
        both: list[float] = []
        for _ in range(rounds):  # interleaved, so load changes hit all three alike
            lex += per_call(lambda t: lexicon.detect(t, "output"), texts)
            com += per_call(lambda t: combo.detect(t, "output"), texts)
            both += per_call(lambda t: (lexicon.detect(t, "output"), combo.detect(t, "output")), texts)
        p50 = statistics.median
        q99 = statistics.quantiles(both, n=100)[98]
        print(f"| {name} | {p50(lex):.1f} | {p50(com):.1f} | {p50(both):.1f} | {p50(both) / p50(lex):.2f}× "
              f"| {q99:.1f} |")


def build_docs(length: int, n: int, pool: list[str], rng: random.Random) -> list[str]:
    docs = []
    for _ in range(n):
        parts: list[str] = []
        while sum(map(len, parts)) < length:
            parts.append(rng.choice(pool))
        docs.append("".join(parts)[:length])
    return docs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rng = random.Random(7)
    pack = load_pack("cn-genai")
    steps = pack.normalisation
    t0 = time.perf_counter()
    data = load_default_data()
    lexicon = LexiconDetector(data.entries, steps, data.allow)
    t1 = time.perf_counter()
    rules = default_rules()
    combo = ComboDetector(rules, steps)
    t2 = time.perf_counter()
    load = os.getloadavg()
    print(f"Python {platform.python_version()}, {platform.machine()}, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"lexicon: {lexicon.term_count:,} terms, compiled in {t1 - t0:.2f} s; combo: {len(combo.rules)} rules, "
          f"compiled in {t2 - t1:.3f} s, max_span {combo.max_span}, context_span {combo.context_span}\n")

    from hegui.detect.classifier import EmbeddedClassifier

    clf = EmbeddedClassifier.load_default()
    norm = Normalizer(steps)

    def engine(*dets: Detector) -> ModerationEngine:
        return ModerationEngine(pack, list(dets), norm)

    engines = {"lexicon": engine(lexicon), "lexicon + combo": engine(lexicon, combo),
               "lexicon + classifier": engine(lexicon, clf),
               "lexicon + combo + classifier": engine(lexicon, combo, clf)}
    print("## Quality (caught = refuse/block under the cn-genai pack)\n")
    quality(engines)

    lookalikes = [t for _ds, t in benign(EVAL / "benign.txt") + benign(DATA / "benign_lookalikes.txt")]
    n = 50 if args.quick else 400
    docs = {"2,000-char look-alike docs": build_docs(2000, n, lookalikes, rng),
            "2,000-char chat docs": build_docs(2000, n, CHAT, rng),
            "100-char look-alike texts": build_docs(100, n * 5, lookalikes, rng),
            "100-char chat texts": build_docs(100, n * 5, CHAT, rng)}
    print("\n## Speed (thread CPU time per text, one thread)\n")
    speed(lexicon, combo, docs, 1 if args.quick else 3)


if __name__ == "__main__":
    main()
