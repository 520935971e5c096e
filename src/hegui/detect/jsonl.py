"""Reading operator-supplied JSONL files (lexicons, proximity rules) line by line.

Why one place: an import must report every bad line at once, with the file and line it came from,
rather than stop at the first, and every JSONL format hegui reads should word that the same way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def jsonl_objects(text: str, name: str, errors: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each non-blank line of ``text`` that is a JSON object, with its location ``name:line``; every
    other non-blank line appends one message to ``errors`` and is skipped."""
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{name}:{no}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            errors.append(f"{where}: not valid JSON ({err.msg})")
            continue
        if not isinstance(obj, dict):
            errors.append(f"{where}: expected a JSON object")
            continue
        yield where, obj
