"""A multi-label linear model over hashed character n-grams, in pure numpy.

Why this design: it scores a 500-character text in well under a millisecond on one core, needs no
download, trains in about a minute on 2 CPU cores, and its weights are a few MB. The e5 embedding
alone costs tens of milliseconds per text here (see ``bench/classifier.py``).

Features: NFKC + casefold, then every character n-gram (n = 1 … 4) hashed into ``2**bits``
buckets with a fixed polynomial hash (the same on every machine, unlike Python's ``hash``); a text
is the L2-normalised set of its buckets. One logistic output per label. Long texts are scored in
overlapping windows and each label takes its highest window, so one harmful sentence inside a long
harmless text is not diluted away.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hegui.errors import InvalidInputError

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

NGRAMS: tuple[int, ...] = (1, 2, 3, 4)
POS_EXP = 1.0
WINDOW = 192
STRIDE = 96
_MUL = np.uint64(0x9E3779B97F4A7C15)
_BASE = np.uint64(1_000_003)
_SEEDS = {n: np.uint64(0x51ED270B + 7919 * n) for n in range(1, 9)}


def normalise(text: str) -> str:
    """Width, compatibility forms, case and whitespace: what the n-grams see."""
    t = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(t.split())


def _gram_buckets(text: str, bits: int, ngrams: Sequence[int]) -> list[tuple[int, npt.NDArray[np.uint64]]]:
    """For each n: the bucket of the n-gram starting at every position (vectorised, no loop per char)."""
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    shift = np.uint64(64 - bits)
    parts: list[tuple[int, npt.NDArray[np.uint64]]] = []
    with np.errstate(over="ignore"):
        h = np.zeros(len(cps), dtype=np.uint64)
        for n in range(1, max(ngrams) + 1):
            if n > len(cps):
                break
            # h[i] = hash of cps[i : i + n], built from the (n-1)-gram hash
            h = h[: len(cps) - n + 1] * _BASE + cps[n - 1:]
            if n in ngrams:
                parts.append((n, ((h + _SEEDS[n]) * _MUL) >> shift))
    return parts


def _unique(a: npt.NDArray[np.uint64]) -> I64:
    """Sorted unique values; faster than ``np.unique`` on the small arrays seen here."""
    if a.size == 0:
        return np.zeros(0, dtype=np.int64)
    a = np.sort(a)
    keep = np.empty(a.size, dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    out: I64 = a[keep].astype(np.int64)
    return out


def buckets(text: str, bits: int, ngrams: Sequence[int] = NGRAMS) -> I64:
    """Unique hashed n-gram buckets of an already normalised text."""
    if not text:
        return np.zeros(0, dtype=np.int64)
    return _unique(np.concatenate([arr for _, arr in _gram_buckets(text, bits, ngrams)]))


_SENTENCE_END = re.compile(r"[。！？!?；;]|\.(?=\s)")
MIN_SENTENCE = 6


def spans(text: str) -> list[tuple[int, int]]:
    """The units a normalised text is scored in: the text itself when short; otherwise overlapping
    windows of ``WINDOW`` characters plus every sentence on its own (so one harmful sentence in a long
    harmless text is not diluted by its neighbours)."""
    if len(text) <= WINDOW:
        return [(0, len(text))]
    out = [(i, min(i + WINDOW, len(text))) for i in range(0, len(text) - WINDOW + STRIDE, STRIDE)]
    seen = set(out)
    start = 0
    for cut in [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]:
        s, e = start, cut
        while s < e and text[s].isspace():
            s += 1
        start = cut
        if MIN_SENTENCE <= e - s <= WINDOW and (s, e) not in seen:
            seen.add((s, e))
            out.append((s, e))
    return out


def windows(text: str) -> list[str]:
    """The texts of ``spans``."""
    return [text[s:e] for s, e in spans(text)]


@dataclass
class LinearModel:
    """Weights ``w`` (buckets × labels), bias ``b`` (labels)."""

    labels: tuple[str, ...]
    w: F32
    b: F32
    bits: int
    version: str
    meta: dict[str, Any]
    min_norm: float = 1.0  # evidence floor: a text with fewer buckets is scaled as if it had this many

    def _logits_one(self, idx: I64) -> F32:
        if idx.size == 0:
            return self.b.copy()
        norm = np.float32(np.sqrt(max(idx.size, self.min_norm)))
        z: F32 = (self.w[idx].sum(axis=0) / norm + self.b).astype(np.float32)
        return z

    def predict(self, text: str) -> F32:
        """Per-label probabilities for one raw text (each label: its highest-scoring unit)."""
        norm = normalise(text)
        units = spans(norm)
        if len(units) == 1:
            z = self._logits_one(buckets(norm, self.bits))
        else:
            z = self.unit_logits(_gram_buckets(norm, self.bits, NGRAMS), units).max(axis=0).astype(np.float32)
        out: F32 = (1.0 / (1.0 + np.exp(-z))).astype(np.float32)
        return out

    def unit_logits(self, grams: list[tuple[int, npt.NDArray[np.uint64]]], units: Sequence[tuple[int, int]]
                    ) -> npt.NDArray[np.float64]:
        """Logits of each unit (rows) of a text whose n-gram buckets are ``grams`` (``_gram_buckets``).

        A unit's logits depend on its own n-grams only, so the same unit scores the same whichever
        other units it is computed with (``SettledScorer`` relies on it).
        """
        # every unit's sorted distinct buckets, from ONE sort of (unit, bucket) keys instead of one per unit
        parts = [arr[s:max(s, e - n + 1)] for s, e in units for n, arr in grams]
        sizes = np.array([p.size for p in parts], dtype=np.int64).reshape(len(units), len(grams)).sum(axis=1)
        owner = np.repeat(np.arange(len(units), dtype=np.uint64), sizes)
        keys = np.sort((owner << np.uint64(self.bits)) | np.concatenate(parts)) if parts else owner
        keep = np.ones(keys.size, dtype=bool)
        np.not_equal(keys[1:], keys[:-1], out=keep[1:])
        keys = keys[keep]
        flat = (keys & np.uint64((1 << self.bits) - 1)).astype(np.int64)
        counts = np.bincount((keys >> np.uint64(self.bits)).astype(np.int64), minlength=len(units))
        lens = np.maximum(counts, max(self.min_norm, 1))
        offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
        sums = np.add.reduceat(self.w[flat], offsets, axis=0) if flat.size else np.zeros((len(units), len(self.b)))
        sums[counts == 0] = 0.0
        z: npt.NDArray[np.float64] = sums / np.sqrt(lens)[:, None] + self.b
        return z

    def predict_many(self, texts: Sequence[str]) -> F32:
        if not texts:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return np.stack([self.predict(t) for t in texts])

    def save(self, path: Path) -> None:
        """Weights as int8 with one scale per label (4× smaller than float32, same decisions)."""
        scale = np.maximum(np.abs(self.w).max(axis=0), 1e-8) / 127.0
        q = np.round(self.w / scale).astype(np.int8)
        nz = np.flatnonzero(np.any(q != 0, axis=1))
        np.savez_compressed(
            path, rows=nz.astype(np.int32), q=q[nz], scale=scale.astype(np.float32), b=self.b.astype(np.float32),
            labels=np.array(self.labels), bits=np.int64(self.bits), version=np.array(self.version),
            min_norm=np.float32(self.min_norm),
            meta=np.array(repr(sorted(self.meta.items()))))

    @classmethod
    def load(cls, path: Path | Any) -> LinearModel:
        try:
            with np.load(path, allow_pickle=False) as z:
                bits = int(z["bits"])
                labels = tuple(str(x) for x in z["labels"])
                w = np.zeros((1 << bits, len(labels)), dtype=np.float32)
                w[z["rows"]] = z["q"].astype(np.float32) * z["scale"]
                min_norm = float(z["min_norm"]) if "min_norm" in z.files else 1.0  # weights from before the floor
                return cls(labels, w, z["b"].astype(np.float32), bits, str(z["version"]), {"saved": str(z["meta"])},
                           min_norm)
        except (OSError, KeyError, ValueError) as err:
            raise InvalidInputError(f"classifier weights {path}: cannot load: {err}") from None


_BOUNDARY_PUNCT = frozenset("，。！？；：、,.!?;:")


def _boundary(ch: str) -> bool:
    """Whitespace or one of a few punctuation marks: nothing after such a character can change how the
    text before it normalises (none of them composes with a neighbour under NFKC)."""
    return ch.isspace() or ch in _BOUNDARY_PUNCT


class SettledScorer:
    """Scores a text that grows at its end (a streamed answer) unit by unit, each unit once, and only
    units that ``spans`` of every continuation of the text also has.

    So a label this scorer reaches, ``predict`` on the final text reaches too (its score is the max
    over a superset of units, each computed the same way): a stream can act on it early and still agree
    with the verdict on the whole text, however the text was chunked. Settled is the text up to its
    last boundary character (``_boundary``), normalised incrementally; windows that fit in it and
    sentences whose end was seen are settled, once it is longer than one window (a shorter final text
    is a single unit, known only at its end).
    """

    def __init__(self, model: LinearModel) -> None:
        self.model = model
        self._raw = 0  # text[:_raw] is normalised into _norm; text[_raw] is a boundary (or _raw == 0)
        self._clean_to = 0  # text[_raw + 1:_clean_to] holds no boundary (looked at by an earlier update)
        self._norm = ""
        self._ends_with_space = False  # the NFKC+casefold text[:_raw] ends with whitespace
        self._next_window = 0  # start of the next window not yet scored
        self._sentence_start = 0  # normalised offset after the last sentence end seen
        self._scored: set[tuple[int, int]] = set()
        self._best: npt.NDArray[np.float64] | None = None  # max logits over the scored units

    def update(self, text: str) -> F32 | None:
        """Per-label probabilities, the max over the units newly settled in ``text`` (the whole text so
        far, which only ever grows at its end); None when no new unit settled."""
        k = len(text) - 1
        stop = max(self._raw, self._clean_to - 1)  # text[_raw + 1:_clean_to] was looked at: no boundary
        while k > stop and not _boundary(text[k]):
            k -= 1
        if k <= stop:
            self._clean_to = len(text)  # a text without boundaries is looked at once, not on every update
            return None
        self._clean_to = k + 1
        piece = unicodedata.normalize("NFKC", text[self._raw:k]).casefold()
        collapsed = " ".join(piece.split())
        if collapsed:
            sep = " " if self._norm and (self._ends_with_space or piece[0].isspace()) else ""
            self._norm += sep + collapsed
        self._ends_with_space = piece[-1].isspace() if piece else self._ends_with_space
        self._raw = k
        norm = self._norm
        if len(norm) <= WINDOW:
            return None
        units: list[tuple[int, int]] = []
        while self._next_window + WINDOW <= len(norm):
            units.append((self._next_window, self._next_window + WINDOW))
            self._next_window += STRIDE
        for m in _SENTENCE_END.finditer(norm, self._sentence_start):
            s, e = self._sentence_start, m.end()
            while s < e and norm[s].isspace():
                s += 1
            self._sentence_start = e
            if MIN_SENTENCE <= e - s <= WINDOW:
                units.append((s, e))
        return self._score(norm, units)

    def finish(self, text: str) -> F32:
        """``predict(text)`` for the final text, scoring only the units not scored yet."""
        norm = normalise(text)
        units = spans(norm)
        if len(units) == 1 or not norm.startswith(self._norm):
            return self.model.predict(text)
        self._score(norm, units)
        assert self._best is not None
        z = self._best.astype(np.float32)
        out: F32 = (1.0 / (1.0 + np.exp(-z))).astype(np.float32)
        return out

    def _score(self, norm: str, units: list[tuple[int, int]]) -> F32 | None:
        """Probabilities, the max over those of ``units`` not scored before (None if all were)."""
        units = [u for u in units if u not in self._scored]
        if not units:
            return None
        self._scored.update(units)
        base = min(s for s, _ in units)
        grams = _gram_buckets(norm[base:], self.model.bits, NGRAMS)
        zs = self.model.unit_logits(grams, [(s - base, e - base) for s, e in units]).max(axis=0)
        self._best = zs if self._best is None else np.maximum(self._best, zs)
        z = zs.astype(np.float32)
        out: F32 = (1.0 / (1.0 + np.exp(-z))).astype(np.float32)
        return out


def featurise(texts: Sequence[str], bits: int, min_norm: float = 1.0) -> tuple[I64, I64, F32]:
    """Sparse design matrix as (row, column, value) triples for training."""
    rows: list[I64] = []
    cols: list[I64] = []
    vals: list[F32] = []
    for i, t in enumerate(texts):
        idx = buckets(normalise(t), bits)
        rows.append(np.full(idx.size, i, dtype=np.int64))
        cols.append(idx)
        vals.append(np.full(idx.size, 1.0 / np.sqrt(max(idx.size, min_norm, 1)), dtype=np.float32))
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


def train(texts: Sequence[str], targets: F32, labels: tuple[str, ...], *, bits: int = 18, epochs: int = 10,
          lr: float = 0.05, l2: float = 1e-6, batch: int = 256, seed: int = 7, version: str = "dev",
          min_norm: float = 1.0, pos_cap: float = 20.0) -> LinearModel:
    """Mini-batch Adam on the logistic loss, positives up-weighted per label (at most ``pos_cap``) so rare
    labels are learnt.

    ``min_norm`` is the evidence floor: a text is L2-normalised by ``sqrt(max(buckets, min_norm))``, so a
    very short text (few n-grams) cannot push a score far from the bias, which stays strongly negative.
    Without it "hi" (3 buckets) weighs each n-gram 3× more than a 30-bucket sentence does, and greetings
    scored near 0.5 on every category.

    Deterministic for a given seed. Weights of buckets no example touches stay exactly zero, which
    keeps the saved file small.
    """
    n, k = targets.shape
    if n != len(texts) or k != len(labels):
        raise ValueError("targets must be (len(texts), len(labels))")
    rng = np.random.default_rng(seed)
    r, c, v = featurise(texts, bits, min_norm)
    order = np.argsort(r, kind="stable")
    r, c, v = r[order], c[order], v[order]
    starts = np.searchsorted(r, np.arange(n + 1))
    pos = targets.sum(axis=0)
    pos_weight = np.clip((n - pos) / np.maximum(pos, 1.0), 1.0, pos_cap).astype(np.float32) ** POS_EXP
    d = 1 << bits
    w = np.zeros((d, k), dtype=np.float32)
    b = np.full(k, -2.0, dtype=np.float32)
    mw = np.zeros_like(w)
    vw = np.zeros_like(w)
    mb = np.zeros_like(b)
    vb = np.zeros_like(b)
    b1, b2, eps = 0.9, 0.999, 1e-8
    step = 0
    for _ in range(epochs):
        perm = rng.permutation(n)
        for s in range(0, n, batch):
            ids = perm[s:s + batch]
            seg = [np.arange(starts[i], starts[i + 1]) for i in ids]
            lens = np.array([x.size for x in seg])
            flat = np.concatenate(seg)
            brow = np.repeat(np.arange(ids.size), lens)
            bc = c[flat]
            bv = v[flat]
            z = np.zeros((ids.size, k), dtype=np.float32)
            np.add.at(z, brow, w[bc] * bv[:, None])
            z += b
            p = 1.0 / (1.0 + np.exp(-z))
            y = targets[ids]
            wt = np.where(y > 0, pos_weight, 1.0).astype(np.float32)
            err = (p - y) * wt / ids.size
            uc, inv = np.unique(bc, return_inverse=True)
            g = np.zeros((uc.size, k), dtype=np.float32)
            np.add.at(g, inv, err[brow] * bv[:, None])
            g += l2 * w[uc]
            gb = err.sum(axis=0)
            step += 1
            mw[uc] = b1 * mw[uc] + (1 - b1) * g
            vw[uc] = b2 * vw[uc] + (1 - b2) * g * g
            corr = np.sqrt(1 - b2 ** step) / (1 - b1 ** step)
            w[uc] -= lr * corr * mw[uc] / (np.sqrt(vw[uc]) + eps)
            mb = b1 * mb + (1 - b1) * gb
            vb = b2 * vb + (1 - b2) * gb * gb
            b -= lr * corr * mb / (np.sqrt(vb) + eps)
    meta = {"epochs": epochs, "lr": lr, "l2": l2, "n": n, "seed": seed, "min_norm": min_norm, "pos_cap": pos_cap}
    return LinearModel(labels, w, b, bits, version, meta, min_norm)
