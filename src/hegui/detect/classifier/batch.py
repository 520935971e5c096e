"""The embedded classifier over many texts at once (corpus audits): the numbers ``LinearModel.predict``
gives one text at a time, for a whole batch in one compiled pass (``kernel.score_units``).

``predict`` scores each window (192 characters, stride 96) and each sentence of a text on its own set
of distinct n-gram buckets. Array code finds those sets by sorting (bucket, position) keys, which cost
more than everything else together; the kernel keeps a stamp per bucket instead and sums each unit's
weight rows as it meets new buckets, so a text costs a few passes over its characters.

The result equals ``predict`` up to float rounding (sums taken in another order and exactly, from the
int8 weights ``LinearModel.save`` stores: ~1e-7). A caller that needs ``predict``'s exact digits near a
decision boundary calls ``predict`` for those texts (the corpus audit does). A text longer than
``LONG_CHARS`` after normalisation is scored by ``predict`` here (the kernel's scratch grows with the
longest text of a call).
"""

from __future__ import annotations

import contextlib
import os
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from hegui.detect.classifier.model import LinearModel, normalise

F32 = npt.NDArray[np.float32]

LONG_CHARS = 1 << 20  # longer normalised texts go to ``predict``: the kernel's scratch is ~20 bytes a character
GROUP_CHARS = 1 << 22  # normalised characters per kernel call (16 MB of code points)


_TABLE_DIR = os.path.join(os.path.dirname(__file__), "__pycache__")


@lru_cache(maxsize=1)
def _simple_nfkc() -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.uint32]]:
    """Characters of the Basic Multilingual Plane whose NFKC a table can give: the compatibility
    decomposition is one character, a starter that is never the second half of a composition. A text
    of only such characters has nothing to reorder or compose, so its NFKC is the character-wise map
    (full-width forms, CJK punctuation …); other texts go through ``unicodedata.normalize``.

    Building it asks ``unicodedata`` about every code point (~0.2 s, once per corpus worker), so the
    table is kept beside this module (``__pycache__``, per Unicode version) where that is writable."""
    path = os.path.join(_TABLE_DIR, f"simple_nfkc-{unicodedata.unidata_version}.npz")
    try:
        with np.load(path) as saved:
            ok, lut = saved["ok"], saved["lut"]
        if ok.shape == lut.shape == (0x10000,) and ok.dtype == np.bool_ and lut.dtype == np.uint32:
            return ok, lut
    except Exception:  # missing, unreadable or damaged: build it
        pass
    ok, lut = _build_simple_nfkc()
    tmp = f"{path}.{os.getpid()}.tmp.npz"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        np.savez(tmp, ok=ok, lut=lut)
        os.replace(tmp, path)
    except OSError:  # a read-only install: build it per process
        with contextlib.suppress(OSError):
            os.remove(tmp)
    return ok, lut


def _build_simple_nfkc() -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.uint32]]:
    second: set[int] = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))  # Hangul vowels and trailers
    for c in range(0x110000):
        d = unicodedata.decomposition(chr(c))
        if d and not d.startswith("<"):
            parts = d.split()
            if len(parts) == 2:
                second.add(int(parts[1], 16))
    ok = np.zeros(0x10000, dtype=bool)
    lut = np.arange(0x10000, dtype=np.uint32)
    for c in range(0x10000):
        if 0xD800 <= c < 0xE000:
            continue
        d = unicodedata.normalize("NFKD", chr(c))
        if len(d) == 1 and unicodedata.combining(d) == 0 and ord(d) not in second:
            ok[c] = True
            lut[c] = ord(d)
    return ok, lut


def nfkc_many(texts: Sequence[str]) -> list[str]:
    """``unicodedata.normalize("NFKC", t)`` for each text; by table where that is exact."""
    if any("\x00" in t for t in texts):  # the separator below
        return [unicodedata.normalize("NFKC", t) for t in texts]
    joined = "\x00".join(texts)
    cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    ok, lut = _simple_nfkc()
    simple = ok[np.minimum(cps, 0xFFFF)] & (cps <= 0xFFFF)
    if simple.all():
        mapped = lut[cps]
        if np.array_equal(mapped, cps):
            return list(texts)
        return mapped.tobytes().decode("utf-32-le", "surrogatepass").split("\x00")
    lens = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    doc_of = np.repeat(np.arange(len(texts)), lens + 1)[: cps.size]
    bad = np.flatnonzero(np.bincount(doc_of[~simple], minlength=len(texts)))
    out = list(texts)
    hard = set(bad.tolist())
    easy = [i for i in range(len(texts)) if i not in hard]
    if easy:
        for i, t in zip(easy, nfkc_many([texts[i] for i in easy]), strict=True):
            out[i] = t
    for i in hard:
        out[i] = unicodedata.normalize("NFKC", texts[i])
    return out


def normalise_many(texts: Sequence[str], nfkc: Sequence[str] | None = None,
                   folded: Sequence[str] | None = None) -> list[str]:
    """``normalise`` of each text: NFKC by table where that is exact (``_simple_nfkc``), one casefold
    for the whole batch. ``nfkc``: the texts' NFKC when the caller has it already (``nfkc_many``);
    ``folded``: their case-folded NFKC (then only the whitespace is left to do).

    Texts are joined with U+0000, which NFKC and casefold leave alone and never merge with a
    neighbour, so the pieces are what normalising each text gives (a text holding U+0000 goes alone)."""
    if not texts:
        return []
    if folded is not None:
        return [" ".join(p.split()) for p in folded]
    if any("\x00" in t for t in texts):
        return [normalise(t) for t in texts]
    pieces = "\x00".join(nfkc_many(texts) if nfkc is None else nfkc).casefold().split("\x00")
    if len(pieces) != len(texts):  # cannot happen by the argument above; stay exact regardless
        return [normalise(t) for t in texts]
    return [" ".join(p.split()) for p in pieces]


class BatchScorer:
    """``predict`` for batches, bound to one model (builds the compact weight table once)."""

    def __init__(self, model: LinearModel) -> None:
        self.model = model
        rows = np.flatnonzero(np.any(model.w != 0, axis=1))
        self._row_of = np.full(model.w.shape[0], -1, dtype=np.int32)
        self._row_of[rows] = np.arange(rows.size, dtype=np.int32)
        self._table, self._scale = _compact(model.w[rows])
        self._b = model.b.astype(np.float64)

    def predict(self, texts: Sequence[str], nfkc: Sequence[str] | None = None,
                folded: Sequence[str] | None = None) -> F32:
        """Per-label probabilities (texts × labels) for raw texts, as ``LinearModel.predict`` each
        (``nfkc``: their NFKC forms, ``folded``: those case-folded, if the caller has them)."""
        if folded is not None:  # the kernel collapses the whitespace itself: no normalised copies
            return self._predict(folded, texts, collapse=True)
        return self.predict_normalised([*normalise_many(texts, nfkc)], texts)

    def predict_folded(self, cps: npt.NDArray[np.uint32], starts: npt.NDArray[np.int64],
                       lens: npt.NDArray[np.int64], raw: Sequence[str]) -> F32:
        """``predict`` of ``raw[i]`` given its case-folded NFKC form as code points,
        ``cps[starts[i]:starts[i] + lens[i]]`` (the corpus screen's ``FoldedBatch``): no strings made or
        encoded; the kernel collapses the whitespace. Forms over ``LONG_CHARS`` go to ``predict``."""
        from hegui.detect.classifier.kernel import score_units

        out = np.empty((len(raw), len(self.model.labels)), dtype=np.float32)
        long = lens > LONG_CHARS
        for i in np.flatnonzero(long).tolist():
            out[i] = self.model.predict(raw[i])
        keep = np.flatnonzero(~long)
        if keep.size:
            z = score_units(cps, starts[keep], lens[keep], self.model.bits, self._row_of, self._table, self._scale,
                            self._b, self.model.min_norm, True)
            out[keep] = 1.0 / (1.0 + np.exp(-z.astype(np.float32)))
        return out

    def predict_normalised(self, norms: Sequence[str], raw: Sequence[str]) -> F32:
        """``predict`` on already normalised texts (``raw`` is used only for the texts over ``LONG_CHARS``)."""
        return self._predict(norms, raw, collapse=False)

    def _predict(self, norms: Sequence[str], raw: Sequence[str], collapse: bool) -> F32:
        """``collapse``: ``norms`` are case-folded NFKC forms whose whitespace the kernel collapses (a text
        longer than ``LONG_CHARS`` before that goes to ``predict``, whose result differs by rounding only)."""
        from hegui.detect.classifier.kernel import score_units

        out = np.empty((len(norms), len(self.model.labels)), dtype=np.float32)
        group: list[int] = []
        size = 0

        def flush() -> None:
            lens = np.fromiter((len(norms[i]) for i in group), dtype=np.int64, count=len(group))
            starts = np.zeros(len(group), dtype=np.int64)
            np.cumsum(lens[:-1], out=starts[1:])
            cps = np.frombuffer("".join([norms[i] for i in group]).encode("utf-32-le"), dtype=np.uint32)
            z = score_units(cps, starts, lens, self.model.bits, self._row_of, self._table, self._scale, self._b,
                            self.model.min_norm, collapse)
            out[group] = 1.0 / (1.0 + np.exp(-z.astype(np.float32)))

        for i, t in enumerate(norms):
            if len(t) > LONG_CHARS:
                out[i] = self.model.predict(raw[i])
                continue
            if group and size + len(t) > GROUP_CHARS:
                flush()
                group, size = [], 0
            group.append(i)
            size += len(t)
        if group:
            flush()
        return out


def _compact(w: F32) -> tuple[npt.NDArray[np.int8] | F32, npt.NDArray[np.float64]]:
    """The weight rows as int8 and one step per label when they are of that form (as ``LinearModel.save``
    stores them: summed exactly in integers, and 4× less memory to walk), else as they are (step 1)."""
    from hegui.detect.classifier.kernel import pad_columns

    ones = np.ones(w.shape[1], dtype=np.float64)
    if w.size == 0:
        return pad_columns(w.astype(np.float32)), ones
    scale = (np.maximum(np.abs(w).max(axis=0), 1e-8) / 127.0).astype(np.float32)
    q = np.round(w / scale)
    if np.abs(q).max() > 127 or not np.array_equal((q.astype(np.float32) * scale).astype(np.float32), w):
        return pad_columns(w.astype(np.float32)), ones
    return pad_columns(q.astype(np.int8)), scale.astype(np.float64)
