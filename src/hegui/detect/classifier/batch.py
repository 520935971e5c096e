"""The embedded classifier over many texts at once (corpus audits): the numbers ``LinearModel.predict``
gives one text at a time, for a whole batch in a few array passes.

``predict`` scores each window (192 characters, stride 96) and each sentence of a text on its own set
of unique n-gram buckets, so a long text is hashed, sorted and summed about three times over, one
unit at a time. Here the n-grams of the whole batch are hashed once and sorted once by bucket; each
occurrence then knows the previous occurrence of its bucket, and that alone says whether it is the
first of its bucket in a unit (the previous one lies before the unit's start). A window is two
96-character blocks, so its sums are the first block's own sum plus the second block's sum of
n-grams whose bucket did not occur since the first block began: each occurrence's weights are
gathered once per kind of unit instead of once per unit, from a table of only the buckets with
weights.

The result equals ``predict`` up to float rounding (sums taken in another order: ~1e-6). A caller
that needs ``predict``'s exact digits near a decision boundary calls ``predict`` for those texts
(the corpus audit does). Two rare cases are computed by ``predict`` here already: a text longer than
``GROUP_CHARS`` after normalisation, and a text where an n-gram of one length ends after a colliding
n-gram of another length that starts later (the previous occurrence could then be cut off by a
unit's end while the later one is not).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from hegui.detect.classifier.model import (
    _SENTENCE_END,
    MIN_SENTENCE,
    NGRAMS,
    STRIDE,
    WINDOW,
    LinearModel,
    normalise,
)

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]

GROUP_CHARS = 1 << 17  # normalised characters per array pass: ~250 bytes each in temporaries
_CHUNK_ROWS = 1 << 14  # rows gathered at a time (the gathered block stays in cache)
_MUL = np.uint64(0x9E3779B97F4A7C15)
_BASE = np.uint64(1_000_003)
_SEEDS = {n: np.uint64(0x51ED270B + 7919 * n) for n in range(1, 9)}
_POS_BITS = 34  # layout index (position * 4 + n - 1) below, bucket above
_FAR = -(1 << 30)  # before any position (a group has fewer than 2**17 + 2**16 characters)


_LANE_BITS = 21  # a unit sums at most 4 × 192 rows of values below 256: 196,608 < 2**21
_LANES = 3
_LANE_SHIFTS = np.array([_LANE_BITS * i for i in range(_LANES)], dtype=np.uint64)
_LANE_MASK = np.uint64((1 << _LANE_BITS) - 1)
_BIAS = 128


def _pack(w: F32) -> tuple[npt.NDArray[np.uint64] | None, npt.NDArray[np.float64]]:
    """Weights that are int8 × one scale per label (as ``LinearModel.save`` stores them) packed three
    labels to a 64-bit word, biased to be non-negative: ``(words × rows, scale)``. A running sum of
    packed rows sums all labels at once and exactly. ``None`` when the weights are not of that form."""
    scale = (np.maximum(np.abs(w).max(axis=0), 1e-8) / 127.0).astype(np.float32) if w.size else np.ones(
        w.shape[1], dtype=np.float32)
    q = np.round(w / scale).astype(np.int64)
    if w.size == 0 or np.abs(q).max() > 127 or not np.array_equal((q.astype(np.float32) * scale).astype(np.float32), w):
        return None, scale.astype(np.float64)
    words = -(-w.shape[1] // _LANES)
    padded = np.zeros((w.shape[0], words * _LANES), dtype=np.uint64)
    padded[:, : w.shape[1]] = (q + _BIAS).astype(np.uint64)
    lanes = padded.reshape(w.shape[0], words, _LANES) << _LANE_SHIFTS
    packed = np.bitwise_or.reduce(lanes, axis=2)
    return np.ascontiguousarray(packed.T), scale.astype(np.float64)


def _sentences(joined: str, starts: I32, lens: I32, nwin: I64) -> tuple[I64, I64]:
    """The sentence units ``spans`` gives each text after its windows, for all texts of ``joined`` at
    once: (global start, end) pairs in order, and each one's text."""
    ends = np.array([m.end() for m in _SENTENCE_END.finditer(joined)], dtype=np.int64)
    doc_ends = starts + lens
    cuts = np.concatenate([ends, doc_ends])
    cut_doc = np.concatenate([np.searchsorted(doc_ends, ends, side="left"), np.arange(len(lens))])
    order = np.lexsort((cuts, cut_doc))
    cuts, cut_doc = cuts[order], cut_doc[order]
    first = np.ones(cuts.size, dtype=bool)
    first[1:] = cut_doc[1:] != cut_doc[:-1]
    prev = np.empty_like(cuts)
    prev[1:] = cuts[:-1]
    prev[first] = starts[cut_doc[first]]
    # a normalised text has single spaces only: the one after a sentence end is skipped
    if cuts.size:
        buf = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        at = np.minimum(prev, max(buf.size - 1, 0))
        prev = prev + ((buf[at] == 0x20) & (prev < cuts)) if buf.size else prev
    length = cuts - prev
    rel = prev - starts[cut_doc]
    doc_len = lens[cut_doc]
    is_window = (rel % STRIDE == 0) & (rel // STRIDE < nwin[cut_doc]) & (cuts - starts[cut_doc] == np.minimum(
        rel + WINDOW, doc_len))
    keep = (doc_len > WINDOW) & (length >= MIN_SENTENCE) & (length <= WINDOW) & ~is_window
    return np.stack([prev[keep], cuts[keep]], axis=1).reshape(-1, 2), cut_doc[keep].astype(np.int64)


@lru_cache(maxsize=1)
def _simple_nfkc() -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.uint32]]:
    """Characters of the Basic Multilingual Plane whose NFKC a table can give: the compatibility
    decomposition is one character, a starter that is never the second half of a composition. A text
    of only such characters has nothing to reorder or compose, so its NFKC is the character-wise map
    (full-width forms, CJK punctuation …); other texts go through ``unicodedata.normalize``."""
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


def normalise_many(texts: Sequence[str]) -> list[str]:
    """``normalise`` of each text: NFKC by table where that is exact (``_simple_nfkc``), one casefold
    for the whole batch.

    Texts are joined with U+0000, which NFKC and casefold leave alone and never merge with a
    neighbour, so the pieces are what normalising each text gives (a text holding U+0000 goes alone)."""
    if not texts:
        return []
    if any("\x00" in t for t in texts):
        return [normalise(t) for t in texts]
    pieces = "\x00".join(nfkc_many(texts)).casefold().split("\x00")
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
        self._w = np.ascontiguousarray(model.w[rows])
        self._b = model.b.astype(np.float64)
        self._packed, self._scale = _pack(self._w)

    def predict(self, texts: Sequence[str]) -> F32:
        """Per-label probabilities (texts × labels) for raw texts, as ``LinearModel.predict`` each."""
        return self.predict_normalised([*normalise_many(texts)], texts)

    def predict_normalised(self, norms: Sequence[str], raw: Sequence[str]) -> F32:
        """``predict`` on already normalised texts (``raw`` is used only for the exact fallback)."""
        out = np.empty((len(norms), len(self.model.labels)), dtype=np.float32)
        group: list[int] = []
        size = 0
        for i, t in enumerate(norms):
            if len(t) > GROUP_CHARS:
                out[i] = self.model.predict(raw[i])
                continue
            if group and size + len(t) + 1 > GROUP_CHARS:
                self._group(norms, raw, group, out)
                group, size = [], 0
            group.append(i)
            size += len(t) + 1
        if group:
            self._group(norms, raw, group, out)
        return out

    def _group(self, norms: Sequence[str], raw: Sequence[str], ids: list[int], out: F32) -> None:
        model = self.model
        texts = [norms[i] for i in ids]
        lens = np.array([len(t) for t in texts], dtype=np.int32)
        starts = np.concatenate(([0], np.cumsum(lens + 1)[:-1])).astype(np.int32)
        joined = "\x00".join(texts)
        cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        total = cps.size
        ndoc = len(texts)
        # per position: its document, that document's end, its block (global index) and block bounds
        doc_of = np.repeat(np.arange(ndoc), lens + 1)[:total]
        pos = np.arange(total, dtype=np.int32)
        rel = pos - starts[doc_of]
        doc_end = (starts + lens)[doc_of]
        nwin = np.where(lens <= WINDOW, 1, -(-(lens - STRIDE) // STRIDE))
        block_base = np.concatenate(([0], np.cumsum(nwin + 1)[:-1]))
        block = block_base[doc_of] + rel // STRIDE
        block_start = pos - rel % STRIDE
        block_end = np.minimum(block_start + STRIDE, doc_end)
        # sentences (the units ``spans`` adds after the windows): disjoint, so one id per position
        sa, sent_doc = _sentences(joined, starts, lens, nwin)
        sent_id = np.full(total, -1, dtype=np.int32)
        sent_start = np.zeros(total, dtype=np.int32)
        sent_end = np.zeros(total, dtype=np.int32)
        if sa.size:
            slen = sa[:, 1] - sa[:, 0]
            covered = np.repeat(sa[:, 0] - np.concatenate(([0], np.cumsum(slen)[:-1])), slen) + np.arange(slen.sum())
            sid = np.repeat(np.arange(len(sa)), slen)
            sent_id[covered] = sid
            sent_start[covered] = sa[sid, 0]
            sent_end[covered] = sa[sid, 1]

        # n-gram buckets, laid out position-major: index = position * 4 + (n - 1)
        nmax = max(NGRAMS)
        layout = np.full(total * nmax, -1, dtype=np.int32)
        shift = np.uint64(64 - model.bits)
        with np.errstate(over="ignore"):
            h = np.zeros(total, dtype=np.uint64)
            for n in range(1, nmax + 1):
                if n > total:
                    break
                h = h[: total - n + 1] * _BASE + cps[n - 1:]
                if n in NGRAMS:
                    layout[n - 1::nmax][: total - n + 1] = (((h + _SEEDS[n]) * _MUL) >> shift).astype(np.int32)
        grid = layout.reshape(total, nmax)  # [position, n - 1]
        ends = pos[:, None] + np.arange(1, nmax + 1, dtype=np.int32)
        valid = (grid >= 0) & (ends <= doc_end[:, None])
        li = np.flatnonzero(valid)
        keys = np.sort((layout[li].astype(np.int64) << _POS_BITS) | li)
        li_s = keys & ((1 << _POS_BITS) - 1)
        same = np.zeros(li_s.size, dtype=bool)
        same[1:] = (keys[1:] >> _POS_BITS) == (keys[:-1] >> _POS_BITS)
        prev_li = np.empty_like(li_s)
        prev_li[0] = -1
        prev_li[1:] = li_s[:-1]
        prev_pos = np.full(layout.size, _FAR, dtype=np.int32)
        prev_pos[li_s[same]] = prev_li[same] >> 2
        # an earlier occurrence of the bucket in the same unit that ends later, after the unit's end (a
        # collision across n-gram lengths at a window's or sentence's end): that text is done by predict
        late = same & ((prev_li >> 2) + (prev_li & 3) > (li_s >> 2) + (li_s & 3))
        exact_docs: set[int] = set()
        if late.any():
            cp, lp = li_s[late] >> 2, prev_li[late] >> 2
            pe = lp + (prev_li[late] & 3) + 1
            cut = ((lp >= block_start[cp]) & (pe > block_end[cp])) | (
                (sent_id[cp] >= 0) & (lp >= sent_start[cp]) & (pe > sent_end[cp]))
            exact_docs = set(np.unique(doc_of[cp[cut]]).tolist())

        prev = prev_pos.reshape(total, nmax)
        f0 = valid & (prev < block_start[:, None])
        f1 = f0 & (prev < (block_start - STRIDE)[:, None]) & (ends <= block_end[:, None])
        g = valid & (prev < sent_start[:, None]) & (ends <= sent_end[:, None]) & (sent_id >= 0)[:, None]
        nblocks = int(block_base[-1] + nwin[-1] + 1)
        # each occurrence's row in the compact table, looked up once for the three kinds of unit
        rows = np.full(layout.size, -1, dtype=np.int32)
        rows[li] = self._row_of[layout[li]]
        s1, m1 = self._sums(f1, rows, block, nblocks)
        s0, m0 = self._sums(f0 & ~f1, rows, block, nblocks)  # f1 is part of f0: gather its rows once
        s0 += s1
        m0 += m1
        ss, ms = self._sums(g, rows, sent_id, len(sa))

        # windows: block k + the new n-grams of block k + 1; then sentences; max per document
        wdoc = np.repeat(np.arange(ndoc), nwin)
        wblock = np.repeat(block_base, nwin) + (np.arange(int(nwin.sum())) - np.repeat(np.cumsum(nwin) - nwin, nwin))
        sums = np.concatenate([s0[wblock] + s1[wblock + 1], ss])
        counts = np.concatenate([m0[wblock] + m1[wblock + 1], ms])
        unit_doc = np.concatenate([wdoc, sent_doc])
        z = sums / np.sqrt(np.maximum(counts, max(model.min_norm, 1.0)))[:, None] + self._b
        order = np.argsort(unit_doc, kind="stable")
        first = np.concatenate(([0], np.cumsum(np.bincount(unit_doc, minlength=ndoc))[:-1]))
        zmax = np.maximum.reduceat(z[order], first, axis=0)
        probs = (1.0 / (1.0 + np.exp(-zmax.astype(np.float32)))).astype(np.float32)
        for d, i in enumerate(ids):
            out[i] = model.predict(raw[i]) if d in exact_docs else probs[d]

    def _sums(self, mask: npt.NDArray[np.bool_], rows: I32, seg: npt.NDArray[np.signedinteger[Any]], nseg: int
              ) -> tuple[npt.NDArray[np.float64], I64]:
        """Per segment: the sum of the weight rows of the masked occurrences, and their number.

        ``mask`` is over (position, n), ``rows`` the compact-table row of each (-1: no weights); ``seg``
        gives each position's segment and is non-decreasing where the mask is set, so a segment's
        occurrences are contiguous: one running sum over them, read at each segment's end, gives every
        segment's sum. With int8 weights the rows are packed as integers (``_packed``) and summed
        exactly. Occurrences of buckets without weights count but are not gathered."""
        sel = np.flatnonzero(mask)
        counts = np.bincount(seg[sel >> 2], minlength=nseg).astype(np.int64)
        sums = np.zeros((nseg, self._w.shape[1]), dtype=np.float64)
        sel = np.flatnonzero(mask.reshape(-1) & (rows >= 0))
        r = rows[sel]
        if not sel.size:
            return sums, counts
        ids = seg[sel >> 2]
        last = np.flatnonzero(np.concatenate((ids[1:] != ids[:-1], [True])))
        if self._packed is None:
            run = np.cumsum(np.take(self._w, r, axis=0), axis=0, dtype=np.float64)
            at = run[last]
            at[1:] -= at[:-1].copy()
            sums[ids[last]] = at
            return sums, counts
        run_p = np.take(self._packed, r, axis=1)  # words × rows: each word's running sum is contiguous
        np.cumsum(run_p, axis=1, out=run_p)
        at_p = run_p[:, last]
        at_p[:, 1:] -= at_p[:, :-1].copy()  # wraps modulo 2**64; each true segment sum fits
        n_rows = np.diff(np.concatenate(([-1], last)))
        lanes = (at_p[:, :, None] >> _LANE_SHIFTS) & _LANE_MASK  # words × segments × lanes
        q = lanes.transpose(1, 0, 2).reshape(last.size, -1)[:, : self._w.shape[1]].astype(np.int64)
        q -= _BIAS * n_rows[:, None]
        sums[ids[last]] = q * self._scale
        return sums, counts
