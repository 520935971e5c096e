"""Vectorised text features for the audit: script-based language, exact-dedup hash, MinHash signature.

All three come from one pass over a batch's code points: compiled by numba (``features_kernel``,
loaded on first use) or, where numba cannot load, in numpy (``_features_group_numpy``, the reference
the kernel must equal bit for bit); either way the per-document Python overhead stays small. Tokens
are CJK-aware: each CJK character is a token (Chinese has no spaces), each run of
Latin/Greek/Cyrillic letters or digits is a word token. Shingles are n-grams of tokens, so Chinese
gets character n-grams and English word n-grams from the same code. Hashes are fixed functions of
the text (no per-process salt), so every worker and every backend agrees.

The exact-dedup hash is a 64-bit hash of the document's token-hash sequence (so case, width,
spacing and punctuation do not count): the sum mod 2^64 of ``mix(tok_i + i * _EXACT_MUL)`` over the
tokens, i the token's position, finished as ``mix(sum + mix(n + _EXACT_SEED))`` with n the token
count (``exact_hash``). A sum of position-keyed hashed blocks (Bellare & Micciancio's incremental
AdHash, here mod 2^64) needs no pass in order: the kernel adds the terms as it finalises the tokens,
numpy computes them all at once, and a long document's chunks add theirs with positions offset by
the tokens before them, giving what the whole stream would. The splitmix64 finaliser ``mix`` is a
bijection with full avalanche, so a stream with one token changed always hashes differently, and
two different streams (a permutation, a prefix: the count goes in last) collide with probability
about 2^-64. Not a cryptographic hash: anyone can construct collisions; it is compared only within
one audit run.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

U64 = np.uint64
NUM_PERM = 64
BANDS = 16
ROWS = NUM_PERM // BANDS
SHINGLE = 5
_MASK64 = (1 << 64) - 1

_rng = np.random.default_rng(0x6865677569)  # fixed: signatures must agree across processes and runs
_SHINGLE_MUL = (_rng.integers(1, 2**63, SHINGLE, dtype=np.uint64) | U64(1))
_POW = np.array([pow(0x100000001B3, i, 1 << 64) for i in range(64)][::-1], dtype=np.uint64)
_CJK_MUL = U64(0x9E3779B97F4A7C15)
_WORD_SALT = U64(0xD6E8FEB86659FD93)
_EXACT_MUL = U64(0xD1B54A32D192ED03)  # exact hash: a token's term is mix(tok + position * _EXACT_MUL)
_EXACT_SEED = U64(0x8BB84B93962EACC9)


@dataclass(frozen=True, slots=True)
class TextFeatures:
    lang: str
    chars: int
    exact_hash: bytes
    signature: npt.NDArray[np.uint32]


def _mix(x: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64 finaliser: spreads bits so that the MinHash permutations behave."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> U64(30))
        x = x * U64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> U64(27))
        x = x * U64(0x94D049BB133111EB)
        return x ^ (x >> U64(31))


def _exact_terms(tok: npt.NDArray[np.uint64], pos: npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
    """The exact hash's term of each token: ``mix(tok + pos * _EXACT_MUL)``, ``pos`` its position in
    its document."""
    with np.errstate(over="ignore"):
        return _mix(tok + pos.astype(np.uint64) * _EXACT_MUL)


def _exact_finish(acc: npt.NDArray[np.uint64], ntok: npt.NDArray[np.int64]) -> npt.NDArray[np.uint64]:
    """Exact hashes from each document's sum of terms (mod 2^64) and its token count."""
    with np.errstate(over="ignore"):
        return _mix(acc + _mix(ntok.astype(np.uint64) + _EXACT_SEED))


def _exact_bytes(h: npt.NDArray[np.uint64]) -> list[bytes]:
    """Each hash as the 8 bytes ``TextFeatures.exact_hash`` holds (little-endian)."""
    b = h.astype("<u8").tobytes()
    return [b[i:i + 8] for i in range(0, len(b), 8)]


def exact_hash(tok: npt.NDArray[np.uint64]) -> bytes:
    """The exact-dedup hash of one token-hash stream (``tokens``), as ``features`` gives it."""
    with np.errstate(over="ignore"):
        acc = _exact_terms(tok, np.arange(tok.size, dtype=np.int64)).sum(dtype=np.uint64)
    return _exact_bytes(_exact_finish(np.array([acc], dtype=np.uint64), np.array([tok.size], dtype=np.int64)))[0]


def _codepoints(text: str) -> npt.NDArray[np.uint32]:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


# Character classes for the Basic Multilingual Plane, after folding (full-width → ASCII, upper → lower).
_NONE, _HAN, _KANA_HANGUL, _LATIN, _DIGIT, _LATIN_EXT, _OTHER_LETTER = range(7)
_NCLS = 8


def _tables() -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8]]:
    fold = np.arange(0x10000, dtype=np.uint32)
    fw = np.arange(0xFF01, 0xFF5F)
    fold[fw] = fw - 0xFEE0
    fold[0x41:0x5B] += 32
    fold[0xFF21:0xFF3B] += 32 - 0xFEE0 + 0xFEE0  # full-width capitals fold to lower-case ASCII
    cls = np.zeros(0x10000, dtype=np.uint8)
    cls[0x4E00:0xA000] = _HAN
    cls[0x3400:0x4DC0] = _HAN
    cls[0xF900:0xFB00] = _HAN
    cls[0x3040:0x3100] = _KANA_HANGUL
    cls[0xAC00:0xD7B0] = _KANA_HANGUL
    cls[0x61:0x7B] = _LATIN
    cls[0x30:0x3A] = _DIGIT
    cls[0xC0:0x250] = _LATIN_EXT
    cls[[0xD7, 0xF7]] = _NONE
    cls[0x370:0x530] = _OTHER_LETTER
    cls = cls[fold]  # classify the folded character
    return fold, cls


_FOLD, _CLASS = _tables()
_IS_WORD = np.zeros(_NCLS, dtype=bool)
_IS_WORD[[_LATIN, _DIGIT, _LATIN_EXT, _OTHER_LETTER]] = True
_IS_CJK = np.zeros(_NCLS, dtype=bool)
_IS_CJK[[_HAN, _KANA_HANGUL]] = True


def _lang(han: int, latin: int, other: int, kana_hangul: int) -> str:
    if kana_hangul and kana_hangul * 10 >= han:
        return "other"
    zh, en = han, latin / 4.0  # one Han character carries about one English word (~4 letters)
    best = max(zh, en, float(other))
    if best == 0:
        return "other"
    if best == zh:
        return "zh"
    return "en" if best == en else "other"


def _tokenise(c32: npt.NDArray[np.uint32]) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.intp],
                                                    npt.NDArray[np.uint8]]:
    """Token hashes, the character position of each token, and the class of every character."""
    idx = np.minimum(c32, 0xFFFF).astype(np.intp)
    cls = _CLASS.take(idx)
    c = _FOLD.take(idx)
    if c32.size and int(c32.max()) > 0xFFFF:
        astral = c32 > 0xFFFF
        cls[astral] = np.where((c32[astral] >= 0x20000) & (c32[astral] <= 0x2EBEF), _HAN, _NONE)
        c[astral] = c32[astral]
    word = _IS_WORD.take(cls)
    cjk = _IS_CJK.take(cls)
    starts = word.copy()
    starts[1:] &= ~word[:-1]
    th = np.zeros(c.size, dtype=np.uint64)
    with np.errstate(over="ignore"):
        th[cjk] = c[cjk].astype(np.uint64) * _CJK_MUL
        start_pos = np.flatnonzero(starts)
        if start_pos.size:
            wc = c[word]
            first = starts[word]
            ar = np.arange(wc.size, dtype=np.int32)
            pos = ar - np.maximum.accumulate(np.where(first, ar, 0))
            np.minimum(pos, 63, out=pos)
            seg = np.flatnonzero(first)
            th[start_pos] = np.add.reduceat(_POW.take(pos) * wc, seg) ^ _WORD_SALT
    tok_pos = np.flatnonzero(cjk | starts)
    return _mix(th[tok_pos]), tok_pos, cls


def tokens(text: str) -> tuple[npt.NDArray[np.uint64], str]:
    """Token hashes of ``text`` in order, and its script-based language (``zh``/``en``/``other``)."""
    c32 = _codepoints(text)
    if c32.size == 0:
        return np.zeros(0, dtype=np.uint64), "other"
    tok, _pos, cls = _tokenise(c32)
    n = np.bincount(cls, minlength=_NCLS)
    return tok, _lang(int(n[_HAN]), int(n[_LATIN] + n[_LATIN_EXT]), int(n[_OTHER_LETTER]), int(n[_KANA_HANGUL]))


def _short_shingle(tok: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    with np.errstate(over="ignore"):
        return _mix(np.array([(tok * _SHINGLE_MUL[: tok.size]).sum(dtype=np.uint64)], dtype=np.uint64))


def shingles(tok: npt.NDArray[np.uint64], n: int = SHINGLE) -> npt.NDArray[np.uint64]:
    """Hashes of the token n-grams (one shingle of everything when the text is shorter than n)."""
    if tok.size == 0:
        return tok
    if tok.size < n:
        return _short_shingle(tok)
    m = tok.size - n + 1
    acc = np.zeros(m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i in range(n):
            acc += tok[i:i + m] * _SHINGLE_MUL[i]
    return _mix(acc)


_BIN_BITS = NUM_PERM.bit_length() - 1
_EMPTY = np.iinfo(np.uint32).max
_ROTATE = np.uint32(0x9E3779B1)


def one_permutation_minhash(sh: npt.NDArray[np.uint64], sh_doc: npt.NDArray[np.intp], ndoc: int,
                            has_shingles: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint32]:
    """MinHash signatures (``ndoc`` × ``NUM_PERM``) by one-permutation hashing with densification.

    Each shingle hash is hashed once: its top bits pick one of ``NUM_PERM`` bins, the next 32 bits
    are its value, and a bin keeps its minimum (Li, Owen & Zhang 2012). A bin no shingle fell into
    borrows the next non-empty bin to its right, shifted by the distance, so that two documents
    agree on it with the right probability (rotation densification, Shrivastava & Li 2014). One
    hash per shingle instead of one per permutation: about ``NUM_PERM`` times less work than
    classic MinHash, with the same estimator quality for near-duplicate thresholds.
    """
    return _densify(_oph_bins(sh, sh_doc, ndoc), has_shingles)


def _oph_bins(sh: npt.NDArray[np.uint64], sh_doc: npt.NDArray[np.intp], ndoc: int,
              into: npt.NDArray[np.uint32] | None = None) -> npt.NDArray[np.uint32]:
    """Per-bin minima (``ndoc`` × ``NUM_PERM``) before densification; ``into`` accumulates chunks."""
    sig = np.full((ndoc, NUM_PERM), _EMPTY, dtype=np.uint32) if into is None else into
    if sh.size:
        bins = (sh >> U64(64 - _BIN_BITS)).astype(np.intp)
        vals = ((sh >> U64(64 - _BIN_BITS - 32)) & U64(0xFFFFFFFF)).astype(np.uint32)
        np.minimum.at(sig.reshape(-1), sh_doc * NUM_PERM + bins, np.minimum(vals, np.uint32(_EMPTY - 1)))
    return sig


def _densify(sig2: npt.NDArray[np.uint32], has_shingles: npt.NDArray[np.bool_]) -> npt.NDArray[np.uint32]:
    empty = (sig2 == _EMPTY) & has_shingles[:, None]
    rows = np.flatnonzero(empty.any(axis=1))
    if rows.size:
        sub = sig2[rows]
        twice = np.concatenate([sub, sub], axis=1)
        pos = np.arange(2 * NUM_PERM)
        idx = np.where(twice != _EMPTY, pos, 4 * NUM_PERM)
        nxt = np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1][:, :NUM_PERM]
        dist = (nxt - pos[:NUM_PERM]).astype(np.uint32)
        with np.errstate(over="ignore"):
            filled = np.take_along_axis(twice, nxt, axis=1) + dist * _ROTATE
        sig2[rows] = np.where(sub == _EMPTY, np.minimum(filled, np.uint32(_EMPTY - 1)), sub)
    return sig2


def minhash(sh: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint32]:
    """MinHash signature (``NUM_PERM`` × uint32) of one shingle set."""
    sig: npt.NDArray[np.uint32] = one_permutation_minhash(sh, np.zeros(sh.size, dtype=np.intp), 1,
                                                          np.array([sh.size > 0]))[0]
    return sig


def features(text: str) -> TextFeatures:
    """Language, length, exact-dedup hash (of the normalised token stream) and MinHash signature."""
    return features_batch([text])[0]


BATCH_CHARS = 1 << 18
LONG_DOC_CHARS = 1 << 20


def features_batch(texts: list[str]) -> list[TextFeatures]:
    """``features`` for many documents at once: one pass over several of them (much less overhead per
    document than one call each), never more than ``BATCH_CHARS`` characters per pass so memory stays
    bounded; longer documents go in chunks. The pass is the compiled kernel (``features_kernel``,
    loaded on first use, ~4× less CPU) or, where numba cannot load, numpy: the results are identical."""
    kernel = _kernel()
    group_fn: Callable[[list[str]], list[TextFeatures]] = (
        _features_group_numpy if kernel is None else functools.partial(_features_group_kernel, kernel))
    out: list[TextFeatures] = []
    group: list[str] = []
    size = 0
    for t in texts:
        if len(t) > LONG_DOC_CHARS:
            out.extend(group_fn(group))
            group, size = [], 0
            out.append(_features_long(t, kernel))
            continue
        if group and size + len(t) > BATCH_CHARS:
            out.extend(group_fn(group))
            group, size = [], 0
        group.append(t)
        size += len(t)
    out.extend(group_fn(group))
    return out


def _kernel() -> Callable[..., int] | None:
    """The compiled features kernel, or None (numba unavailable): imported here so that importing this
    module does not import numba."""
    from hegui.corpus import features_kernel

    return features_kernel.load()


def _split_points(text: str, chunk: int) -> list[int]:
    """Chunk boundaries near multiples of ``chunk`` that do not cut an ASCII word in two."""
    points = [0]
    p = chunk
    while p < len(text):
        q = p
        while q < len(text) and q < p + 1000 and text[q - 1].isascii() and text[q - 1].isalnum() \
                and text[q].isascii() and text[q].isalnum():
            q += 1
        points.append(q)
        p = q + chunk
    points.append(len(text))
    return points


def _features_long(text: str, kernel: Callable[..., int] | None = None) -> TextFeatures:
    """A very long document in ``LONG_DOC_CHARS`` chunks: exact hash over all tokens (each chunk's terms
    at positions after the previous chunks' tokens, so as if the stream were hashed at once), MinHash
    bins combined (shingles spanning a chunk boundary are not counted — a handful per megabyte). Each
    chunk goes through ``kernel`` when given, else numpy."""
    acc = 0  # the exact hash's sum of terms, mod 2^64
    ntok = 0
    counts = np.zeros(_NCLS, dtype=np.int64)
    bins = np.full((1, NUM_PERM), _EMPTY, dtype=np.uint32)
    pts = _split_points(text, LONG_DOC_CHARS)
    for a, b in itertools.pairwise(pts):
        c32 = _codepoints(text[a:b])
        if not c32.size:
            continue
        if kernel is not None:
            from hegui.corpus import features_kernel as fk

            tok, _start, kc, chunk_bins, chunk_acc = fk.run(kernel, c32, np.array([0, c32.size], dtype=np.int64),
                                                             False, ntok)
            counts[[_HAN, _LATIN, _OTHER_LETTER, _KANA_HANGUL]] += kc[0]  # Latin and Latin-extended together
            np.minimum(bins, chunk_bins, out=bins)
            acc += int(chunk_acc[0])
        else:
            tok, _pos, cls = _tokenise(c32)
            counts += np.bincount(cls, minlength=_NCLS)
            if tok.size:
                sh = shingles(tok)
                _oph_bins(sh, np.zeros(sh.size, dtype=np.intp), 1, into=bins)
                acc += int(_exact_terms(tok, np.arange(ntok, ntok + tok.size, dtype=np.int64)).sum(dtype=np.uint64))
        acc &= _MASK64
        ntok += tok.size
    sig = _densify(bins, np.array([ntok > 0]))[0]
    n = counts
    exact = _exact_bytes(_exact_finish(np.array([acc], dtype=np.uint64), np.array([ntok], dtype=np.int64)))[0]
    return TextFeatures(_lang(int(n[_HAN]), int(n[_LATIN] + n[_LATIN_EXT]), int(n[_OTHER_LETTER]),
                              int(n[_KANA_HANGUL])), len(text), exact, sig)


def _features_group_kernel(kernel: Callable[..., int], texts: list[str]) -> list[TextFeatures]:
    """``_features_group_numpy`` by the compiled kernel (same results): one compiled pass, then per
    document only the language from its class counts (the kernel sums the exact hash's terms)."""
    if not texts:
        return []
    from hegui.corpus import features_kernel

    lens = [len(t) for t in texts]
    starts = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lens, out=starts[1:])
    _tok, tok_start, counts, sig32, acc = features_kernel.run(kernel, _codepoints("".join(texts)), starts, True)
    exact = _exact_bytes(_exact_finish(acc, np.diff(tok_start)))
    return [TextFeatures(_lang(han, latin, other, kana_hangul), lens[d], exact[d], sig32[d])
            for d, (han, latin, other, kana_hangul) in enumerate(counts.tolist())]  # features_kernel.COUNT_*


def _features_group_numpy(texts: list[str]) -> list[TextFeatures]:
    """The reference pass (and the fallback): ``features`` of each text, in numpy over the whole group."""
    if not texts:
        return []
    lens = np.fromiter((len(t) for t in texts), dtype=np.intp, count=len(texts))
    c32 = _codepoints("\n".join(texts))
    ndoc = len(texts)
    doc_of_char = np.repeat(np.arange(ndoc), lens + 1)[: c32.size]
    tok, tok_pos, cls = _tokenise(c32)
    counts = np.bincount(doc_of_char * _NCLS + cls, minlength=ndoc * _NCLS).reshape(ndoc, _NCLS)
    tok_doc = doc_of_char[tok_pos]
    ntok = np.bincount(tok_doc, minlength=ndoc)
    tok_start = np.concatenate(([0], np.cumsum(ntok)))
    m = tok.size - SHINGLE + 1
    parts_sh: list[npt.NDArray[np.uint64]] = []
    parts_doc: list[npt.NDArray[np.intp]] = []
    if m > 0:
        acc = np.zeros(m, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for i in range(SHINGLE):
                acc += tok[i:i + m] * _SHINGLE_MUL[i]
        valid = tok_doc[:m] == tok_doc[SHINGLE - 1:]
        parts_sh.append(_mix(acc[valid]))
        parts_doc.append(tok_doc[:m][valid])
    short = np.flatnonzero((ntok > 0) & (ntok < SHINGLE))
    if short.size:
        parts_sh.append(np.concatenate([_short_shingle(tok[tok_start[d]:tok_start[d + 1]]) for d in short]))
        parts_doc.append(short.astype(np.intp))
    sh = np.concatenate(parts_sh) if parts_sh else np.zeros(0, dtype=np.uint64)
    sh_doc = np.concatenate(parts_doc) if parts_doc else np.zeros(0, dtype=np.intp)
    sig32 = one_permutation_minhash(sh, sh_doc, ndoc, ntok > 0)
    terms = _exact_terms(tok, np.arange(tok.size, dtype=np.int64) - tok_start[tok_doc])
    with np.errstate(over="ignore"):
        prefix = np.concatenate((np.zeros(1, dtype=np.uint64), np.cumsum(terms, dtype=np.uint64)))
        acc = prefix[tok_start[1:]] - prefix[tok_start[:-1]]  # each document's sum of terms, mod 2^64
    exact = _exact_bytes(_exact_finish(acc, ntok))
    out = []
    for d in range(ndoc):
        n = counts[d]
        out.append(TextFeatures(_lang(int(n[_HAN]), int(n[_LATIN] + n[_LATIN_EXT]), int(n[_OTHER_LETTER]),
                                      int(n[_KANA_HANGUL])), int(lens[d]), exact[d], sig32[d]))
    return out


def band_key(rows: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint64]:
    """One LSH band key (64-bit) per signature from that band's ``ROWS`` columns (n × ROWS)."""
    acc = np.zeros(rows.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(rows.shape[1]):
            acc = _mix(acc * U64(0x100000001B3) + rows[:, r].astype(np.uint64) + U64(r + 1))
    return acc


def similarity(a: npt.NDArray[np.uint32], b: npt.NDArray[np.uint32]) -> float:
    """Estimated Jaccard similarity of two shingle sets from their signatures."""
    return float(np.count_nonzero(a == b)) / a.size
