"""The implicit label itself: the ``AIGC`` JSON object of GB 45438-2025 §5 (field names and rules).

Every value is printable ASCII; ``Label`` says how sure we are that the content is AI-made
("1" generated, "2" possibly, "3" suspected). Producers fill the first four fields, distribution
platforms (propagators) the last three.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from hegui.errors import InvalidInputError

LabelValue = Literal["1", "2", "3"]
LABEL_MEANING: dict[str, str] = {"1": "AI-generated", "2": "possibly AI-generated", "3": "suspected AI-generated"}
FIELDS: tuple[str, ...] = (
    "Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator", "PropagateID", "ReservedCode2",
)
MAX_FIELD_CHARS = 512
_PRINTABLE = re.compile(r"[\x20-\x7e]*")


class LabelFormatError(InvalidInputError):
    """A label value breaks the standard's rules (unknown field, non-ASCII value, bad Label)."""


@dataclass(frozen=True, slots=True)
class AigcLabel:
    """One implicit label. Empty strings mean "not set" (the standard keeps every key present)."""

    Label: str = "1"
    ContentProducer: str = ""
    ProduceID: str = ""
    ReservedCode1: str = ""
    ContentPropagator: str = ""
    PropagateID: str = ""
    ReservedCode2: str = ""

    def problems(self) -> list[str]:
        """Rule violations, one sentence each (empty when the label is well-formed)."""
        out = []
        if self.Label not in LABEL_MEANING:
            out.append(f'Label must be "1", "2" or "3", got {self.Label!r}')
        for name in FIELDS:
            value = getattr(self, name)
            if not _PRINTABLE.fullmatch(value):
                out.append(f"{name} contains characters outside printable ASCII")
            if len(value) > MAX_FIELD_CHARS:
                out.append(f"{name} is longer than {MAX_FIELD_CHARS} characters")
        if self.Label == "1" and not self.ContentProducer:
            out.append("Label 1 (AI-generated) without a ContentProducer")
        if self.ContentProducer and not self.ProduceID:
            out.append("ContentProducer is set but ProduceID is empty")
        if self.ContentPropagator and not self.PropagateID:
            out.append("ContentPropagator is set but PropagateID is empty")
        return out

    def validate(self) -> AigcLabel:
        probs = self.problems()
        if probs:
            raise LabelFormatError("invalid AIGC label: " + "; ".join(probs))
        return self

    def to_json(self) -> str:
        """Compact JSON, keys in the standard's order, ASCII only."""
        return json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=True)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def with_(self, **changes: str) -> AigcLabel:
        return replace(self, **changes)

    @classmethod
    def from_obj(cls, obj: Any) -> AigcLabel:
        """Build from a decoded JSON object; accepts ``{"AIGC": {...}}`` wrapping too."""
        if isinstance(obj, dict) and set(obj) == {"AIGC"}:
            obj = obj["AIGC"]
        if not isinstance(obj, dict):
            raise LabelFormatError("AIGC label is not a JSON object")
        unknown = sorted(set(obj) - set(FIELDS))
        if unknown:
            raise LabelFormatError(f"AIGC label has unknown fields: {', '.join(unknown)}")
        values: dict[str, str] = {}
        for name in FIELDS:
            v = obj.get(name, "")
            if v is None:
                v = ""
            if isinstance(v, int) and not isinstance(v, bool):
                v = str(v)
            if not isinstance(v, str):
                raise LabelFormatError(f"AIGC field {name} must be a string")
            values[name] = v
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> AigcLabel:
        try:
            obj = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as err:
            raise LabelFormatError(f"AIGC label is not valid JSON: {err}") from None
        return cls.from_obj(obj)


def new_id() -> str:
    """A ProduceID / PropagateID: unique per file (random UUID, 32 hex characters)."""
    return uuid.uuid4().hex


def wrapped_json(label: AigcLabel) -> str:
    """``{"AIGC":{...}}``: the form used where the carrier has no key of its own (EXIF, GIF comment)."""
    return '{"AIGC":' + label.to_json() + "}"
