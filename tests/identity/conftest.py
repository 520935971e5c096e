"""Identity fixtures: the usage test kit (the real gateway app with an injected clock) is importable."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "usage"))

from usage_kit import sqlite_ctx  # noqa: F401  (fixture; needs the path above)
