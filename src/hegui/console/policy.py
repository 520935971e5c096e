"""Operator policy packs edited in the console: validate, diff, save (file under data_dir + DB revision).

The saved pack is written to ``<data_dir>/packs/operator.yaml`` (atomically) and every revision is
kept in ``console_policy_revisions``. The running service reads ``settings.policy_pack``; point it at
that file (``policy_pack: .hegui/packs/operator.yaml``) and restart for the edit to take effect.
"""

from __future__ import annotations

import difflib
import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import yaml
from sqlalchemy import select

from hegui.context import HeguiContext
from hegui.errors import InvalidInputError, PolicyError
from hegui.policy.pack import BUILTIN_PACKS, PolicyPack, parse_pack
from hegui.store.models.console import PolicyRevision

MAX_PACK_BYTES = 512 * 1024


def operator_path(ctx: HeguiContext) -> Path:
    return ctx.settings.data_dir / "packs" / "operator.yaml"


def active_source(ctx: HeguiContext) -> str:
    return str(ctx.settings.policy_pack)


def uses_operator_pack(ctx: HeguiContext) -> bool:
    ref = ctx.settings.policy_pack
    if ref in BUILTIN_PACKS:
        return False
    try:
        return Path(ref).resolve() == operator_path(ctx).resolve()
    except OSError:
        return False


def current_text(ctx: HeguiContext) -> str:
    """The YAML the editor starts from: the saved operator pack, else the active pack's file."""
    op = operator_path(ctx)
    if op.is_file():
        return op.read_text(encoding="utf-8")
    ref = ctx.settings.policy_pack
    if ref in BUILTIN_PACKS:
        return resources.files("hegui.policy").joinpath("packs", f"{ref}.yaml").read_text(encoding="utf-8")
    return Path(ref).read_text(encoding="utf-8")


def validate(text: str) -> PolicyPack:
    """Parse and validate YAML as a policy pack; ``PolicyError`` lists every bad field."""
    if len(text.encode("utf-8")) > MAX_PACK_BYTES:
        raise InvalidInputError(f"policy pack is larger than {MAX_PACK_BYTES // 1024} KiB")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise PolicyError(f"not valid YAML: {err}") from None
    return parse_pack(data, "pack")


def diff(old: str, new: str) -> list[tuple[str, str]]:
    """Unified diff lines tagged add/del/hunk/ctx for colouring."""
    out: list[tuple[str, str]] = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), "saved", "edited", lineterm="", n=3):
        if line.startswith(("---", "+++")):
            continue
        kind = "hunk" if line.startswith("@@") else "add" if line.startswith("+") else \
            "del" if line.startswith("-") else "ctx"
        out.append((kind, line))
    return out


@dataclass(frozen=True)
class Saved:
    revision: int
    path: Path
    sha256: str
    pack: PolicyPack


def save(ctx: HeguiContext, text: str, staff_id: str, comment: str) -> Saved:
    """Validate, write the file atomically, then record the revision (file first: a revision row
    never points at content that is not on disk)."""
    pack = validate(text)
    if not comment.strip():
        raise InvalidInputError("a comment saying why the pack changes is required")
    path = operator_path(ctx)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    with ctx.db.session() as s:
        rev = PolicyRevision(ts=datetime.now(UTC), staff_id=staff_id, name=pack.name, version=pack.version,
                             sha256=sha, yaml_text=text, comment=comment.strip()[:2000])
        s.add(rev)
        s.flush()
        rid = rev.id
    return Saved(rid, path, sha, pack)


def history(ctx: HeguiContext, limit: int = 50) -> list[PolicyRevision]:
    with ctx.db.session() as s:
        rows = list(s.scalars(select(PolicyRevision).order_by(PolicyRevision.id.desc()).limit(limit)))
        s.expunge_all()
        return rows
