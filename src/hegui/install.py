"""First-run set-up shared by ``hegui init`` and ``hegui serve``: config file, data dir, key, schema."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from hegui import __version__
from hegui.config import DEFAULT_CONFIG_FILE, STARTER_CONFIG
from hegui.context import HeguiContext
from hegui.detect.lexicon.service import LexiconService
from hegui.store.models.core import Installation


@dataclass(frozen=True)
class InitResult:
    config_file: Path
    config_written: bool
    data_dir: Path
    database_url: str
    installation_id: str
    created: bool


def write_starter_config(path: Path) -> bool:
    """Write the commented starter config unless a file is already there."""
    if path.exists():
        return False
    path.write_text(STARTER_CONFIG, encoding="utf-8")
    return True


def ensure_database(ctx: HeguiContext) -> tuple[str, bool]:
    """Migrate to the newest schema and make sure the installation row exists. Idempotent."""
    ctx.settings.data_dir.mkdir(parents=True, exist_ok=True)
    ctx.keys  # noqa: B018 - creates the embedded key file on first run
    ctx.db.upgrade()
    LexiconService(ctx).seed_defaults()  # shipped default lexicons, idempotent by data version
    with ctx.db.session() as s:
        row = s.scalar(select(Installation).limit(1))
        if row is not None:
            return row.installation_id, False
        row = Installation(installation_id=str(uuid.uuid4()), hegui_version=__version__)
        s.add(row)
        return row.installation_id, True


def initialise(ctx: HeguiContext, config_file: Path | None = None) -> InitResult:
    path = config_file or Path(DEFAULT_CONFIG_FILE)
    written = write_starter_config(path)
    inst, created = ensure_database(ctx)
    return InitResult(path, written, ctx.settings.data_dir, ctx.settings.effective_database_url, inst, created)
