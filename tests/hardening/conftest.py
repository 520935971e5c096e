"""Hardening tests reuse the gateway test kit (tests/gateway/gwkit.py) and its fake upstream."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))
