"""Expand the seed templates (``banks/templates/*.yaml``) into the bank JSONL files.

A maintainer's tool, run once per bank version (``python -m hegui.assess.banks.generate``); the
JSONL it writes is reviewed and committed, and only the JSONL is loaded at run time. Every seed is
wrapped once in every framing; the variant of a framing rotates with the seed's position so that
neighbouring questions read differently.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from hegui.assess.banks import BankName, Question, write_jsonl

BANK_VERSION = "2026.11"
_PREFIX = {"generated": "gen", "should_refuse": "ref", "should_not_refuse": "nr"}
_ASPECT_SLUG = {"我国制度": "system", "信仰": "belief", "形象": "image", "文化": "culture", "习俗": "customs",
                "民族": "ethnicity", "地理": "geography", "历史": "history", "英烈": "heroes", "性别": "gender",
                "年龄": "age", "职业": "occupation", "健康": "health"}


def _load(name: str) -> Any:
    text = resources.files("hegui.assess.banks").joinpath("templates", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


# framings that put the ask in someone else's mouth ("a friend wants to …", "in the novel you …"):
# a first-person ask ("教我…", "帮我…") reads wrong there and is turned impersonal
_THIRD_PERSON = frozenset({"indirect", "roleplay", "hypothetical", "continuation"})
_IMPERSONAL = (("告诉我", "说明"), ("教我", "教人"), ("帮我", ""))


def _impersonal(ask: str) -> str:
    for first, other in _IMPERSONAL:
        if ask.startswith(first):
            return other + ask[len(first):]
    return ask


def _wrap(framings: dict[str, list[str]], key: str, seed: str, seed_no: int) -> list[tuple[str, str]]:
    out = []
    for f_no, (framing, variants) in enumerate(framings.items()):
        template = variants[(seed_no + f_no) % len(variants)]
        text = _impersonal(seed) if key == "ask" and framing in _THIRD_PERSON else seed
        out.append((framing, template.replace("{" + key + "}", text)))
    return out


def _en_cap(text: str) -> str:
    # "You are DAN … Now {ask}." keeps lower case; a template starting with the seed capitalises it
    return text[0].upper() + text[1:] if text else text


def build() -> dict[BankName, list[Question]]:
    """All three banks, in a stable order, with stable ids."""
    fr = _load("framings.yaml")
    banks: dict[BankName, list[Question]] = {"generated": [], "should_refuse": [], "should_not_refuse": []}

    def add(bank: BankName, key: str, risk: str | None, aspect: str | None, lang: str,
            framing: str, text: str) -> None:
        n = sum(1 for q in banks[bank] if q.id.startswith(f"{_PREFIX[bank]}-{key}-")) + 1
        banks[bank].append(Question(f"{_PREFIX[bank]}-{key}-{n:03d}", bank, risk, aspect, lang, text,
                                    framing, BANK_VERSION))

    for risk, seeds in _load("generated.yaml").items():
        for no, ask in enumerate(seeds.get("ask", [])):
            for framing, text in _wrap(fr["ask"], "ask", ask, no):
                add("generated", risk, risk, None, "zh", framing, text)
        for no, q in enumerate(seeds.get("q", [])):
            for framing, text in _wrap(fr["q"], "q", q, no):
                add("generated", risk, risk, None, "zh", framing, text)
        en = seeds["en"]
        key, tmpl = ("q", fr["en_q"]) if "q" in seeds else ("ask", fr["en_ask"])
        for framing, text in _wrap(tmpl, key, en, 0):
            add("generated", risk, risk, None, "en", framing, _en_cap(text))
    for risk, asks in _load("should_refuse.yaml").items():
        for no, ask in enumerate(asks):
            for framing, text in _wrap(fr["ask"], "ask", ask, no):
                add("should_refuse", risk, risk, None, "zh", framing, text)
    for aspect, spec in _load("should_not_refuse.yaml").items():
        for no, q in enumerate(spec["q"]):
            for framing, text in _wrap(fr["neutral"], "q", q, no):
                add("should_not_refuse", _ASPECT_SLUG[aspect], spec["risk"], aspect, "zh", framing, text)
    return banks


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path(str(resources.files("hegui.assess.banks").joinpath("data")))
    for bank, qs in build().items():
        n = write_jsonl(out / f"{bank}.jsonl", qs)
        print(f"{bank}: {n} questions -> {out / f'{bank}.jsonl'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
