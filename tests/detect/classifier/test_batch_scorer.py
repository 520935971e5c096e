"""``BatchScorer`` scores a batch like ``LinearModel.predict`` scores each text; ``normalise_many`` and
``nfkc_many`` equal their one-text counterparts."""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hegui.detect.classifier import EmbeddedClassifier, batch
from hegui.detect.classifier.batch import BatchScorer, nfkc_many, normalise_many
from hegui.detect.classifier.dataset import build_examples
from hegui.detect.classifier.model import LinearModel, normalise


def _texts() -> list[str]:
    rng = random.Random(5)
    harmful = [e.text for e in build_examples() if e.labels][:60]
    out = ["", "x", "你好", "a" * 500, "Ａｂｃ  ＤＥＦ\t\n中文。" * 40, "ß" * 300, "nul\x00inside", "。" * 250]
    for _ in range(120):
        n = rng.choice([5, 100, 191, 192, 193, 288, 289, 700, 3000])
        chars = [chr(0x4E00 + rng.randrange(2000)) if rng.random() < 0.5 else rng.choice("abcde fgh。！？.;") for _ in
                 range(n)]
        text = "".join(chars)
        if harmful and rng.random() < 0.4:
            cut = rng.randrange(len(text) + 1)
            text = text[:cut] + rng.choice(harmful) + text[cut:]
        out.append(text)
    return out


def test_batch_scores_equal_single_text_scores() -> None:
    model = EmbeddedClassifier.load_default().model
    texts = _texts()
    batch = BatchScorer(model).predict(texts)
    single = np.stack([model.predict(t) for t in texts])
    assert np.abs(batch - single).max() < 1e-5
    assert (single > 0.5).any()  # some texts score high: the comparison covers real hits


def test_batch_scores_do_not_depend_on_batch_split() -> None:
    scorer = BatchScorer(EmbeddedClassifier.load_default().model)
    texts = _texts()
    whole = scorer.predict(texts)
    parts = np.concatenate([scorer.predict(texts[i:i + 7]) for i in range(0, len(texts), 7)])
    assert np.abs(whole - parts).max() < 1e-6


def test_normalise_many_equals_normalise_over_the_basic_plane() -> None:
    chars = [chr(c) for c in range(0x20, 0x10000) if not 0xD800 <= c < 0xE000]
    texts = ["".join(chars[i:i + 40]) for i in range(0, len(chars), 40)]
    texts += ["Ａ" + "".join(chars[i:i + 5]) for i in range(0, len(chars), 97)]  # mixed with table-mapped ones
    assert normalise_many(texts) == [normalise(t) for t in texts]


def test_normalise_many_from_folded_nfkc_equals_normalise() -> None:
    texts = ["ｆｕｌｌ，ｗｉｄｔｈ。", "  Two\u3000 SPACES\n\tand ß ", "e\u0301", "İstanbul", "", "中文 文本"]
    folded = [unicodedata.normalize("NFKC", t).casefold() for t in texts]
    assert normalise_many(texts, folded=folded) == [normalise(t) for t in texts]


def test_nfkc_many_equals_unicodedata() -> None:
    texts = ["ｆｕｌｌ，ｗｉｄｔｈ。", "e\u0301", "\u1100\u1161", "plain", "①②", "ﬁne", ""]
    assert nfkc_many(texts) == [unicodedata.normalize("NFKC", t) for t in texts]


def _random_model(bits: int, int8: bool, min_norm: float = 1.0, seed: int = 3) -> LinearModel:
    """Weights over very few buckets (n-grams of every length collide), some rows zero; int8-shaped
    (one step per label, as ``LinearModel.save`` stores them) or arbitrary floats."""
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, 1.0, size=(1 << bits, 3)).astype(np.float32)
    w[rng.random(1 << bits) < 0.3] = 0.0
    if int8:
        step = np.array([0.02, 0.05, 0.011], dtype=np.float32)
        w = (np.clip(np.round(w / step), -127, 127).astype(np.float32) * step).astype(np.float32)
    b = np.array([-1.0, 0.5, -0.2], dtype=np.float32)
    return LinearModel(("a", "b", "c"), w, b, bits, "random", {}, min_norm)


# sentences of 0-14 characters (around MIN_SENTENCE) and their ends: marks, "." with or without a
# space, spaces of several kinds, full-width and compatibility forms, CJK, a character outside the Basic
# Plane, one that folds to two ("ß"); short texts and texts of several windows
_PIECE = st.tuples(st.text(alphabet="ab c中文字Ａ①ßé😀\u3000", max_size=14),
                   st.sampled_from(["。", "！", "?", ";", ". ", ".", " ", "\t", "\n\x1c", ""]))
_TEXT = st.one_of(st.lists(_PIECE, max_size=20), st.lists(_PIECE, min_size=30, max_size=120)).map(
    lambda pieces: "".join(a + b for a, b in pieces))
_TEXTS = st.lists(_TEXT, min_size=1, max_size=5)


@settings(max_examples=60, deadline=None)
@given(texts=_TEXTS, bits=st.sampled_from([3, 6, 12]), int8=st.booleans(), min_norm=st.sampled_from([1.0, 40.0]))
def test_batch_equals_predict_on_random_texts_with_colliding_buckets(texts: list[str], bits: int, int8: bool,
                                                                       min_norm: float) -> None:
    model = _random_model(bits, int8, min_norm)
    got = BatchScorer(model).predict(texts)
    want = np.stack([model.predict(t) for t in texts])
    assert np.abs(got - want).max() < 1e-5


def test_long_texts_and_small_groups_take_their_own_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """Texts over ``LONG_CHARS`` go to ``predict``; a batch over ``GROUP_CHARS`` is scored in several
    kernel calls: both give the same numbers as one call."""
    model = EmbeddedClassifier.load_default().model
    texts = _texts()
    whole = BatchScorer(model).predict(texts)
    monkeypatch.setattr(batch, "LONG_CHARS", 400)
    monkeypatch.setattr(batch, "GROUP_CHARS", 1000)
    split = BatchScorer(model).predict(texts)
    assert np.abs(whole - split).max() < 1e-6


def test_kernel_compiles_without_a_cache_when_no_cache_directory_is_writable(monkeypatch: pytest.MonkeyPatch) -> None:
    """numba refuses ``cache=True`` when neither the package nor the user cache directory is writable:
    the kernel is then compiled for the process alone and scores the same."""
    import numba

    from hegui.detect.classifier import kernel

    njit = numba.njit

    def no_cache_dir(*args: object, **kwargs: object) -> object:
        if kwargs.get("cache"):
            raise RuntimeError("cannot cache function: no locator available")
        return njit(*args, **kwargs)

    model = EmbeddedClassifier.load_default().model
    texts = _texts()[:20]
    cached = BatchScorer(model).predict(texts)
    monkeypatch.setattr(numba, "njit", no_cache_dir)
    kernel._compiled.cache_clear()
    try:
        assert np.array_equal(BatchScorer(model).predict(texts), cached)
    finally:
        kernel._compiled.cache_clear()


@pytest.mark.parametrize("int8", [True, False])
def test_windows_built_from_halves_score_like_predict_at_every_boundary(int8: bool) -> None:
    """Texts whose length puts the last half at 1–4 characters (n-grams crossing into it or past the
    end) and texts just over one window, on a model whose buckets collide heavily (big overlaps)."""
    model = _random_model(6, int8)
    rng = np.random.default_rng(5)
    alphabet = list("ab c中文字Ａé")
    lengths = [192, 193, 194, 195, 196, 287, 288, 289, 290, 291, 383, 384, 385, 500]
    texts = ["".join(rng.choice(alphabet, size=n)) for n in lengths]
    got = BatchScorer(model).predict(texts)
    want = np.stack([model.predict(t) for t in texts])
    assert np.abs(got - want).max() < 1e-5


def _cache_at(monkeypatch: pytest.MonkeyPatch, folder: str) -> None:
    monkeypatch.setattr(batch, "_TABLE_DIR", folder)
    batch._simple_nfkc.cache_clear()


def test_simple_nfkc_table_is_kept_on_disk_and_read_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _cache_at(monkeypatch, str(tmp_path))
    built = batch._simple_nfkc()
    assert len(list(tmp_path.glob("simple_nfkc-*.npz"))) == 1
    batch._simple_nfkc.cache_clear()
    monkeypatch.setattr(batch, "_build_simple_nfkc", lambda: pytest.fail("built again"))
    read = batch._simple_nfkc()
    assert np.array_equal(read[0], built[0]) and np.array_equal(read[1], built[1])
    batch._simple_nfkc.cache_clear()


def test_simple_nfkc_table_is_rebuilt_when_the_kept_one_is_damaged(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    _cache_at(monkeypatch, str(tmp_path))
    want = batch._build_simple_nfkc()
    (tmp_path / f"simple_nfkc-{unicodedata.unidata_version}.npz").write_bytes(b"not a zip")
    got = batch._simple_nfkc()
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    batch._simple_nfkc.cache_clear()


def test_simple_nfkc_table_is_built_when_nothing_is_writable(monkeypatch: pytest.MonkeyPatch) -> None:
    _cache_at(monkeypatch, "/proc/hegui-no-such-dir")  # cannot be created
    ok, lut = batch._simple_nfkc()
    assert ok[ord("Ａ")] and lut[ord("Ａ")] == ord("A")
    batch._simple_nfkc.cache_clear()


@settings(max_examples=60, deadline=None)
@given(texts=_TEXTS)
def test_scoring_folded_forms_with_whitespace_collapsed_in_the_kernel_equals_scoring_normalised_texts(
        texts: list[str]) -> None:
    scorer = BatchScorer(_random_model(6, True))
    spaced = [f"  \u3000{t}\t\n " for t in texts]  # leading, trailing and inner runs of several kinds
    folded = [unicodedata.normalize("NFKC", t).casefold() for t in spaced]
    assert np.array_equal(scorer.predict(spaced, folded=folded), scorer.predict(spaced))


@settings(max_examples=60, deadline=None)
@given(texts=_TEXTS, order=st.randoms(use_true_random=False))
def test_scoring_folded_code_points_equals_scoring_folded_strings(texts: list[str], order: random.Random) -> None:
    """The forms as code points of one buffer, in any order and with other text between them (as the
    corpus screen's batch holds them), score as the same forms given as strings."""
    scorer = BatchScorer(_random_model(6, True))
    spaced = [f"  \u3000{t}\t\n " for t in texts]
    folded = [unicodedata.normalize("NFKC", t).casefold() for t in spaced]
    places = list(range(len(folded)))
    order.shuffle(places)
    buffer, starts = "", [0] * len(folded)
    for i in places:
        buffer += "filler\x00中"
        starts[i] = len(buffer)
        buffer += folded[i]
    cps = np.frombuffer(buffer.encode("utf-32-le"), dtype=np.uint32)
    got = scorer.predict_folded(cps, np.array(starts, dtype=np.int64),
                                np.array([len(f) for f in folded], dtype=np.int64), spaced)
    assert np.array_equal(got, scorer.predict(spaced, folded=folded))


def test_scoring_folded_code_points_sends_forms_over_long_chars_to_predict(monkeypatch: pytest.MonkeyPatch) -> None:
    model = EmbeddedClassifier.load_default().model
    texts = _texts()
    folded = [unicodedata.normalize("NFKC", t).casefold() for t in texts]
    cps = np.frombuffer("".join(folded).encode("utf-32-le"), dtype=np.uint32)
    lens = np.array([len(f) for f in folded], dtype=np.int64)
    starts = np.cumsum(lens) - lens
    monkeypatch.setattr(batch, "LONG_CHARS", 400)
    calls: list[str] = []
    real = model.predict

    def counting(text: str) -> np.ndarray:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(model, "predict", counting)
    got = BatchScorer(model).predict_folded(cps, starts, lens, texts)
    assert calls == [t for t, f in zip(texts, folded, strict=True) if len(f) > 400] and calls
    want = np.stack([real(t) for t in texts])
    assert np.abs(got - want).max() < 1e-5
