"""``BatchScorer`` scores a batch like ``LinearModel.predict`` scores each text; ``normalise_many`` and
``nfkc_many`` equal their one-text counterparts."""

from __future__ import annotations

import random
import unicodedata

import numpy as np

from hegui.detect.classifier import EmbeddedClassifier
from hegui.detect.classifier.batch import BatchScorer, nfkc_many, normalise_many
from hegui.detect.classifier.dataset import build_examples
from hegui.detect.classifier.model import normalise


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


def test_nfkc_many_equals_unicodedata() -> None:
    texts = ["ｆｕｌｌ，ｗｉｄｔｈ。", "e\u0301", "\u1100\u1161", "plain", "①②", "ﬁne", ""]
    assert nfkc_many(texts) == [unicodedata.normalize("NFKC", t) for t in texts]
