"""Training data for the embedded classifier: seed phrases × framings → labelled examples.

The data is ours (``data/seeds.yaml``, ``data/framings.yaml``). Expansion is deterministic, and the
split is fixed by position, not by a random draw: every 5th seed of every list (from the
3rd) and the last framing of every list are held out, so held-out numbers measure seeds and phrasings
the model never saw. Operators add their own examples as JSONL (``{"text": ..., "labels": [...]}``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from hegui.errors import InvalidInputError
from hegui.policy.taxonomy import RISKS

DATA_PACKAGE = "hegui.detect.classifier"
# Codes quoting whose statements in order to rebut, fact-check or report them is benign.
_NO_REBUT = frozenset({"A1.6", "J"})
SEED_FILES: tuple[str, ...] = ("seeds.yaml", "seeds_more.yaml", "seeds_extra.yaml", "seeds_everyday.yaml")
EVERYDAY_FILE = "everyday.yaml"
EVERYDAY_KIND = "everyday"  # kind of the everyday-chat examples: reported on their own by ``evaluate``


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled text. ``labels`` is empty for benign text."""

    text: str
    labels: tuple[str, ...]
    split: str = "train"  # train | heldout
    lang: str = "zh"
    kind: str = ""  # how | write | say | rebut | ask | extra
    source: str = ""  # the seed's risk code, or "benign"
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> str:
        return json.dumps({"text": self.text, "labels": list(self.labels), "split": self.split, "lang": self.lang,
                           "kind": self.kind, "source": self.source}, ensure_ascii=False)


def is_heldout_index(i: int, n: int) -> bool:
    """The fixed held-out rule for seed lists: every 5th item, counting from the 3rd."""
    return i % 5 == 2


def _data_text(name: str) -> str:
    return resources.files(DATA_PACKAGE).joinpath("data", name).read_text(encoding="utf-8")


def _expand(seeds: list[str], frames: list[dict[str, Any]], labels: tuple[str, ...], lang: str, kind: str,
            source: str) -> Iterator[Example]:
    for i, seed in enumerate(seeds):
        seed_held = is_heldout_index(i, len(seeds))
        for j, frame in enumerate(frames):
            frame_held = j == len(frames) - 1 and len(frames) > 1
            labs = set(labels)
            if frame.get("j"):
                labs.add("J")
            text = str(frame["t"]).replace("{x}", seed)
            split = "heldout" if (seed_held or frame_held) else "train"
            yield Example(text, tuple(sorted(labs)), split, lang, kind, source)


def build_examples() -> list[Example]:
    """Expand the shipped seeds; deterministic (same output on every machine)."""
    frames: dict[str, list[dict[str, Any]]] = yaml.safe_load(_data_text("framings.yaml"))
    out: list[Example] = []
    for name in SEED_FILES:
        out.extend(_expand_seeds(yaml.safe_load(_data_text(name)), frames, name))
    out.extend(build_everyday())
    # the same text can come from two seeds; keep the first so no text is in both splits
    seen: dict[str, Example] = {}
    for ex in out:
        prev = seen.get(ex.text)
        if prev is None or (prev.split == "train" and ex.split == "heldout"):
            seen[ex.text] = ex
    return list(seen.values())


def _everyday(items: list[str], frames: list[str], lang: str) -> Iterator[Example]:
    for i, item in enumerate(items):
        for j, frame in enumerate(frames):
            held = is_heldout_index(i, len(items)) or (j == len(frames) - 1 and len(frames) > 1)
            text = frame.replace("{X}", item.upper()).replace("{x}", item)
            yield Example(text, (), "heldout" if held else "train", lang, EVERYDAY_KIND, "benign")


_EMOJI = "😀😂🤣😊😍🥰😎🤔😅😭😴👍👌🙏👏🎉🎂🌸🌞🌙⭐🍎🍜☕🐱🐶❤️💯🔥✨🙂😉"
_SYMBOLS = "~!@#$%^&*()_+-=[]{}|;:,.<>/?·…—、【】《》￥"


def random_strings(n: int = 600, seed: int = 20261129) -> list[str]:
    """Random-ish everyday strings: order numbers, codes, versions, hashes, emoji, symbols. Deterministic.

    Lengths avoid 11 and 18 digits so that none looks like a phone or ID number (PII is another detector's job).
    """
    import random

    rng = random.Random(seed)
    upper = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    alnum = upper + "0123456789"

    def digits(k: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(k))

    makers = [
        lambda: digits(rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12])),
        lambda: "".join(rng.choice(alnum) for _ in range(rng.randint(4, 10))),
        lambda: rng.choice(["SF", "YT", "JD", "ZT", "EMS", "DD", "NO.", "#"]) + digits(rng.choice([6, 8, 10, 12])),
        lambda: f"{rng.choice(upper)}{rng.choice(upper)}-{digits(rng.randint(2, 6))}",
        lambda: f"v{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}",
        lambda: "".join(rng.choice("0123456789abcdef") for _ in range(rng.choice([7, 8, 12, 16, 32]))),
        lambda: "".join(rng.choice(_EMOJI) for _ in range(rng.randint(1, 5))),
        lambda: "".join(rng.choice(_SYMBOLS) for _ in range(rng.randint(1, 6))),
        lambda: f"{rng.randint(2000, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        lambda: f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
        lambda: f"{rng.randint(1, 999)}{rng.choice(['+', '-', '*', '/', 'x', '×', '÷'])}{rng.randint(1, 999)}"
                + rng.choice(["", "=?", "=", " ?"]),
        lambda: rng.choice(["CUE:", "REF:", "ID:", "code ", "工单", "订单号", "ticket ", "Q", "room "])
                + "".join(rng.choice(alnum) for _ in range(rng.randint(3, 8))),
        lambda: "".join(rng.choice(alnum + _SYMBOLS + " ") for _ in range(rng.randint(3, 14))),
    ]
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        t = rng.choice(makers)()
        if t.strip() and t not in seen:
            seen.add(t)
            out.append(t)
    return out


def build_everyday() -> list[Example]:
    """The everyday-chat set (``data/everyday.yaml`` plus generated strings): benign, many of them very short."""
    d: dict[str, list[str]] = yaml.safe_load(_data_text(EVERYDAY_FILE))
    out: list[Example] = []
    for lang in ("zh", "en"):
        out.extend(_everyday(d[f"short_{lang}"], d[f"deco_{lang}"], lang))
        out.extend(_everyday(d[f"questions_{lang}"], d[f"frame_q_{lang}"], lang))
        out.extend(_everyday(d[f"fillers_{lang}"], d[f"templates_{lang}"], lang))
    for i, text in enumerate(random_strings()):
        out.append(Example(text, (), "heldout" if is_heldout_index(i, 0) else "train", "x", EVERYDAY_KIND, "benign"))
    return out


def _expand_seeds(seeds: dict[str, Any], frames: dict[str, list[dict[str, Any]]], name: str) -> list[Example]:
    out: list[Example] = []
    for code, groups in seeds["codes"].items():
        if code not in RISKS:
            raise InvalidInputError(f"{name}: unknown risk code {code!r}")
        for key, items in groups.items():
            kind, lang = key.split("_")
            out.extend(_expand(items, frames[key], (code,), lang, kind, code))
            if kind == "say" and code not in _NO_REBUT:
                out.extend(_expand(items, frames[f"rebut_{lang}"], (), lang, "rebut", code))
    for key, items in seeds["benign"].items():
        kind, lang = key.split("_")
        out.extend(_expand(items, frames[key], (), lang, kind, "benign"))
    return out


def read_jsonl(path: Path) -> list[Example]:
    """Read operator examples: one JSON object per line with ``text`` and ``labels`` (risk codes)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidInputError(f"{path}: cannot read: {err}") from None
    out: list[Example] = []
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise InvalidInputError(f"{path}:{no}: not valid JSON: {err.msg}") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str) or not obj["text"].strip():
            raise InvalidInputError(f"{path}:{no}: expected an object with a non-empty \"text\" string")
        labels = obj.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise InvalidInputError(f"{path}:{no}: \"labels\" must be a list of risk codes")
        for code in labels:
            if code not in RISKS:
                raise InvalidInputError(f"{path}:{no}: unknown risk code {code!r}")
        split = obj.get("split", "train")
        if split not in ("train", "heldout"):
            raise InvalidInputError(f"{path}:{no}: \"split\" must be train or heldout")
        out.append(Example(obj["text"], tuple(sorted(set(labels))), split, str(obj.get("lang", "")), "extra",
                           str(obj.get("source", "extra"))))
    return out


def write_jsonl(examples: Iterable[Example], path: Path) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for ex in examples:
            fh.write(ex.to_json() + "\n")
            n += 1
    return n
