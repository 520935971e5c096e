"""Hypothesis property tests over the fuzz targets in ``fuzz/targets.py`` (the atheris harnesses' code).

CI runs a bounded number of examples per target (fixed seed, no example database); ``fuzz/run``
runs the same targets under atheris (coverage-guided) for a bounded time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from crashkit import LONG
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fuzz"))
import targets

BOUNDED = settings(max_examples=2000 if LONG else 120, deadline=None, derandomize=True, database=None,
                   suppress_health_check=list(HealthCheck))
# Text with the characters the normaliser rewrites: full-width forms, traditional characters,
# zero-width and combining marks, separators inside words, repeated runs, emoji, surrogate-ish bytes.
SPECIAL = ["\u200b", "\u200d", "\ufeff", "\u0301", "\u00a0", "𝐀", "😀", "ﬁ", "Ⅻ", "㈠", "⑴"]
TRICKY = st.text(alphabet=st.sampled_from([*"测试违禁词甲乙丙丁繁體ＡＢＣａｂｃ１２０ \u3000\t\n.-_*·•", *SPECIAL]),
                 max_size=80)


@BOUNDED
@given(st.one_of(TRICKY.map(lambda s: s.encode()), st.binary(max_size=200)))
def test_normaliser_offset_map_stays_consistent(data: bytes) -> None:
    targets.fuzz_normaliser(data)


@BOUNDED
@given(st.one_of(st.binary(max_size=64), st.text(alphabet="0123456789Xx -+@.:abcdef京A", max_size=40)
                 .map(lambda s: s.encode())))
def test_pii_validators_never_raise(data: bytes) -> None:
    targets.fuzz_pii(data)


@BOUNDED
@given(st.one_of(st.binary(max_size=300), st.text(alphabet='词条,"\n\t#:{}[]A1.4severity=3', max_size=200)
                 .map(lambda s: s.encode())))
def test_lexicon_parsers_return_entries_or_a_clean_error(data: bytes) -> None:
    targets.fuzz_lexicon(data)


@BOUNDED
@given(st.binary(max_size=200))
def test_label_readers_on_random_bytes_answer_or_refuse_cleanly(data: bytes) -> None:
    targets.fuzz_labels(data)


@BOUNDED
@given(st.binary(min_size=1, max_size=40))
def test_label_readers_on_corrupted_real_files_answer_or_refuse_cleanly(data: bytes) -> None:
    targets.fuzz_label_mutants(data)


@settings(max_examples=400 if LONG else 40, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.one_of(st.binary(max_size=200), st.text(alphabet='{"text":[]},\n\t\\u0x', max_size=120)
                 .map(lambda s: s.encode())))
def test_corpus_readers_count_problems_and_never_raise(data: bytes) -> None:
    targets.fuzz_corpus(data)


@settings(max_examples=400 if LONG else 40, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.binary(min_size=1, max_size=40))
def test_corrupted_parquet_files_are_counted_not_raised(data: bytes) -> None:
    targets.fuzz_parquet_mutants(data)


def test_targets_accept_their_valid_seeds() -> None:
    """The seeds are real files the label readers understand (so mutants start from valid input)."""
    seeds = targets.label_seeds()
    assert any(k.startswith("labelled.") for k in seeds)
    lab = targets._labeler()
    assert lab.read(seeds["labelled.png"], "x.png") is not None


@pytest.mark.parametrize("name", sorted(targets.TARGETS))
def test_every_target_runs_on_empty_input(name: str) -> None:
    targets.TARGETS[name](b"")


def test_csv_lexicon_with_a_bare_carriage_return_is_a_clean_error() -> None:
    """Regression (found by this fuzzing): a bare CR in a CSV lexicon raised ``_csv.Error`` (a traceback)."""
    from hegui.detect.lexicon.formats import parse_text
    from hegui.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="malformed CSV"):
        parse_text("term,category\n测试\r词,A1.4\n", "bad.csv", "csv")
