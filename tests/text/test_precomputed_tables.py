"""The shipped ``unicode_tables.json`` (scripts/gen-precomputed) is current, in use, and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from importlib import resources

import pytest

from hegui.policy.pack import NormalisationSteps
from hegui.text import tables

STEPS = [
    NormalisationSteps(),
    NormalisationSteps(casefold=False),
    NormalisationSteps(homoglyphs=False, traditional_to_simplified=False),
    NormalisationSteps(fullwidth=False, compatibility_forms=False, digit_variants=False, strip_invisible=False),
]


def shipped_text() -> str:
    return resources.files("hegui.text").joinpath(tables.UNICODE_FILE).read_text("utf-8")


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    """Tests that change what ``_shipped`` sees start and end with empty caches."""
    tables._shipped.cache_clear()
    yield
    tables._shipped.cache_clear()


def test_shipped_file_equals_a_fresh_computation() -> None:
    assert tables.unicode_file() == shipped_text(), "stale: run scripts/gen-precomputed"


def test_both_parts_of_the_shipped_file_are_used_in_this_environment() -> None:
    assert set(tables._shipped()) == {"unicode", "opencc"}


@pytest.mark.parametrize("steps", STEPS, ids=range(len(STEPS)))
def test_table_from_shipped_data_equals_the_table_computed_live(steps: NormalisationSteps,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from_file = tables.translate_table.__wrapped__(steps)
    monkeypatch.setattr(tables, "_unicode_scan", _live_scan)
    monkeypatch.setattr(tables, "_t2s_table", _live_t2s)
    assert from_file == tables.translate_table.__wrapped__(steps)


def test_char_classes_from_shipped_data_equal_the_live_ones() -> None:
    assert tables.char_classes() == tables._char_classes_live()


def test_a_different_unicode_version_ignores_that_part(fresh_caches: None, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tables._metas()
    monkeypatch.setattr(tables, "_metas", lambda: {**real, "unicode": {**real["unicode"], "unidata": "1.0.0"}})
    assert set(tables._shipped()) == {"opencc"}


def test_a_different_opencc_version_ignores_that_part(fresh_caches: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "_opencc_version", lambda: "0.0.1")
    assert set(tables._shipped()) == {"unicode"}


def test_a_missing_file_means_everything_is_computed_live(fresh_caches: None,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "UNICODE_FILE", "no-such-file.json")
    assert tables._shipped() == {}


@cache
def _live_scan() -> tuple[dict[str, str], dict[str, str], frozenset[str], dict[str, str]]:
    return tables._unicode_scan_live()


@cache
def _live_t2s() -> dict[str, str]:
    return tables._t2s_table_live()
