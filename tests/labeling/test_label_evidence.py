"""Evidence for O8: the labelling controls report from a real self-test."""

from __future__ import annotations

from pathlib import Path

from hegui.config import Settings
from hegui.context import HeguiContext
from hegui.labeling.evidence import labeling_explicit, labeling_implicit
from hegui.privacy.crypto import generate_key


def _ctx(tmp_path: Path, **provider: str) -> HeguiContext:
    return HeguiContext(Settings(data_dir=tmp_path / ".hegui", secret_key=generate_key(), provider=provider))


def test_implicit_is_not_configured_without_a_producer_code(tmp_path: Path) -> None:
    ev = labeling_implicit(_ctx(tmp_path))
    assert ev.status == "not_configured" and "producer_code" in ev.detail


def test_implicit_works_with_a_producer_code(tmp_path: Path) -> None:
    ev = labeling_implicit(_ctx(tmp_path, producer_code="P-001"))
    assert ev.status == "working" and "P-001" in ev.detail


def test_explicit_works_with_the_default_pack(tmp_path: Path) -> None:
    assert labeling_explicit(_ctx(tmp_path)).status == "working"
