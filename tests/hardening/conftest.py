"""Hardening tests reuse the gateway test kit (tests/gateway/gwkit.py) and its fake upstream."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gateway"))

LONG = os.environ.get("HEGUI_HARDENING_LONG") == "1"


def long_only() -> pytest.MarkDecorator:
    """Long versions run with ``HEGUI_HARDENING_LONG=1`` (one command each, see docs/reliability.md)."""
    return pytest.mark.skipif(not LONG, reason="long version: set HEGUI_HARDENING_LONG=1")
