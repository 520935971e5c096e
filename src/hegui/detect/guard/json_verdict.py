"""A generic guard that answers with a JSON verdict in the chat reply.

The reply's content must be one JSON object (optionally inside a ```json fence)::

    {"safe": false,
     "level": "unsafe",                      # optional: safe | controversial | unsafe
     "categories": [{"code": "A1.4", "score": 0.93}, "J"],   # hegui risk codes, or names in category_map
     "refusal": false}                       # optional

A category is either a risk code / mapped name string (score 1.0) or an object with ``code`` and an
optional ``score`` in [0, 1]. Use it for an in-house guard or a prompted general model.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hegui.detect.guard.base import GuardAdapter, GuardVerdict, Level
from hegui.policy.taxonomy import RISKS

_FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)


class JsonVerdictAdapter(GuardAdapter):
    def parse(self, content: str) -> GuardVerdict:
        m = _FENCE.search(content)
        raw = m.group(1) if m else content.strip()
        try:
            obj: Any = json.loads(raw)
        except json.JSONDecodeError as err:
            raise ValueError(f"not JSON: {err.msg}") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("safe"), bool):
            raise ValueError("expected an object with a boolean 'safe'")
        word = obj.get("level") or ("safe" if obj["safe"] else "unsafe")
        if word not in ("safe", "controversial", "unsafe"):
            raise ValueError(f"unknown level {word!r}")
        level: Level = "safe" if word == "safe" else "unsafe" if word == "unsafe" else "controversial"
        if obj["safe"] or level == "safe":
            return GuardVerdict("safe", [], [], obj.get("refusal"), content)
        default = 1.0 if level == "unsafe" else self.config.controversial_score
        table = {code: code for code in RISKS}
        names: list[str] = []
        cats: dict[str, float] = {}
        items = obj.get("categories") or []
        if not isinstance(items, list):
            raise ValueError("'categories' must be a list")
        for item in items:
            if isinstance(item, str):
                name, score = item, default
            elif isinstance(item, dict) and isinstance(item.get("code"), str):
                name = item["code"]
                score = item.get("score", default)
                if not isinstance(score, int | float) or not 0 <= score <= 1:
                    raise ValueError(f"score of {name!r} must be a number in [0, 1]")
            else:
                raise ValueError("a category is a code string or an object with 'code'")
            names.append(name)
            for code, _ in self._map([name], table, float(score)):
                cats[code] = max(cats.get(code, 0.0), float(score))
        refusal = obj.get("refusal")
        return GuardVerdict(level, list(cats.items()), names, refusal if isinstance(refusal, bool) else None, content)
