"""The jailbreak screen and the case-folded NFKC of a batch, in one compiled pass over its code points.

``JailbreakScreen.clears_many`` asks, per document, whether a jailbreak cue word is in its case-folded
NFKC form, a squashed key in that form without its non-word characters, or a payload run (16
characters of the base64 or the hex alphabet) in the text; the classifier wants the same case-folded
NFKC form. In Python that is NFKC by table, a casefold, a pass for the character facts and two
Aho-Corasick passes over joined copies of the batch (~11 ms per MB). For a document whose every
character has a one-character NFKC by table (``classifier.batch._simple_nfkc``) that folds to one
character — nearly every document — all of it is one walk here: a table gives each character's folded
NFKC and its facts, and two small automata (``Dfa``: every transition precomputed, characters mapped to
classes) follow the cue words and the squashed keys. Other documents are marked ``HARD`` and their
caller takes the Python path for them, so the answers are ``clears``'s, exactly
(``tests/corpus/test_corpus_screen_kernel.py``).

numba is imported only by ``load()``; when it cannot load, ``load`` returns None and callers keep the
Python path.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

B64, HEX, NOT_SIMPLE, EXPANDS = 1, 2, 4, 8  # the character facts of ``JailbreakScreen._codes``
# per document: not cleared; not character-wise (the Python path decides); and why not cleared: a
# payload run, a cue word, a squashed key (``JailbreakDetector.detect_screened`` skips the others' work)
BUSY, HARD, RUN, CUE, SQUASH = 1, 2, 4, 8, 16
PAYLOAD_RUN = 16  # characters in a row of one payload alphabet that ``decode_payloads`` needs


@dataclass(frozen=True)
class Dfa:
    """An Aho-Corasick automaton with every transition precomputed, laid out for a short dependency
    chain per character: ``classes[c]`` is the class of character ``c`` of the Basic Plane (0: in no
    word, which leads back to the start state 0 from every state); states are stored premultiplied by
    ``nclass``, so the state after ``s`` on class ``k`` (> 0) is ``step[s + k]``; and numbered so that
    those where a word ends come last: a word ends at ``s`` when ``s >= hits``."""

    classes: npt.NDArray[np.int32]
    step: npt.NDArray[np.int32]
    hits: int
    nclass: int

    @classmethod
    def of(cls, words: Iterable[str]) -> Dfa:
        words = sorted({w for w in words if w})
        chars = sorted({ch for w in words for ch in w})
        if any(ord(ch) > 0xFFFF for ch in chars):
            raise ValueError("the screen's automata hold Basic Plane characters only")
        classes = np.zeros(0x10000, dtype=np.int32)
        for k, ch in enumerate(chars, 1):
            classes[ord(ch)] = k
        nclass = len(chars) + 1
        goto: list[dict[int, int]] = [{}]
        ends = [False]
        for w in words:
            state = 0
            for ch in w:
                k = int(classes[ord(ch)])
                nxt = goto[state].get(k)
                if nxt is None:
                    nxt = goto[state][k] = len(goto)
                    goto.append({})
                    ends.append(False)
                state = nxt
            ends[state] = True
        step = np.zeros((len(goto), nclass), dtype=np.int64)
        for k, t in goto[0].items():
            step[0, k] = t
        order = list(goto[0].values())
        fail = [0] * len(goto)
        for state in order:  # breadth first: a state's failure is done before its children's
            step[state] = step[fail[state]]
            for k, t in goto[state].items():
                step[state, k] = t
                fail[t] = int(step[fail[state], k]) if state else 0
                order.append(t)
            ends[state] = ends[state] or ends[fail[state]]
        # renumber: the start first, the states where a word ends last; then premultiply
        number = np.empty(len(goto), dtype=np.int64)
        rank = sorted(range(len(goto)), key=lambda st: (ends[st], st))
        number[rank] = np.arange(len(goto))
        flat = np.zeros((len(goto), nclass), dtype=np.int64)
        flat[number] = number[step] * nclass
        if flat.size >= 1 << 31:
            raise ValueError("too many words for the screen's automata")
        return cls(classes, flat.ravel().astype(np.int32), int(len(goto) - sum(ends)) * nclass, nclass)

    def run(self, text: str) -> list[bool]:
        """Per character of ``text``: whether a word ends there (the kernels' loop, in Python: for tests)."""
        state, out = 0, []
        for ch in text:
            k = int(self.classes[ord(ch)]) if ord(ch) <= 0xFFFF else 0
            state = int(self.step[state + k]) if k else 0
            out.append(state >= self.hits)
        return out


def _advance(state: int, k: int, step: Any) -> int:
    """A ``Dfa``'s next state from ``state`` on class ``k`` (class 0: the start, without a table read)."""
    return 0 if k == 0 else int(step[state + k])


def _screen(cps: Any, starts: Any, lens: Any, codes: Any, fold: Any, word: Any, cue_cls: Any, cue_step: Any,
            cue_hits: int, sq_cls: Any, sq_step: Any, sq_hits: int, out: Any, flags: Any) -> None:
    """Per document ``d`` (``cps[starts[d]:starts[d] + lens[d]]``): its case-folded NFKC into ``out`` at
    the same positions, and ``flags[d]``: ``HARD`` at the first character that is astral or whose
    ``fold`` is 0 (then ``out`` is incomplete), else ``BUSY`` with ``RUN``, ``CUE``, ``SQUASH`` for each
    of these that occurs: a payload run (``codes`` bits ``B64``, ``HEX``), a cue word, a squashed key
    (the automaton fed the ``word`` characters only).

    Plain Python over numpy arrays, compiled by numba (``load``)."""
    for d in range(lens.shape[0]):
        f = 0
        b64 = 0
        hx = 0
        cue = 0
        sq = 0
        for p in range(starts[d], starts[d] + lens[d]):
            c = cps[p]
            if c > 0xFFFF:
                f = HARD
                break
            g = fold[c]
            if g == 0:
                f = HARD
                break
            out[p] = g
            if f == BUSY | RUN | CUE | SQUASH:
                continue
            k = codes[c]
            b64 = b64 + 1 if k & B64 else 0
            hx = hx + 1 if k & HEX else 0
            if b64 >= PAYLOAD_RUN or hx >= PAYLOAD_RUN:
                f |= BUSY | RUN
            cue = _advance(cue, cue_cls[g], cue_step)
            if cue >= cue_hits:
                f |= BUSY | CUE
            if word[g]:
                sq = _advance(sq, sq_cls[g], sq_step)
                if sq >= sq_hits:
                    f |= BUSY | SQUASH
        flags[d] = f


def _words_in(cps: Any, starts: Any, lens: Any, classes: Any, step: Any, hits: int, flags: Any) -> None:
    """``flags[d]``: ``BUSY`` if a word of the automaton (``Dfa``: ``step``, ``hits``) ends in document ``d``, fed
    ``classes[c]`` per character; ``HARD`` at the first character that is astral or of class -1 (the
    caller decides those documents in Python); else 0."""
    for d in range(lens.shape[0]):
        f = 0
        state = 0
        for p in range(starts[d], starts[d] + lens[d]):
            c = cps[p]
            if c > 0xFFFF:
                f = HARD
                break
            k = classes[c]
            if k < 0:
                f = HARD
                break
            state = _advance(state, k, step)
            if state >= hits:
                f = BUSY
                break
        flags[d] = f


_LOCK = threading.Lock()
_STATE: dict[str, Callable[..., None] | None] = {}
_KERNELS: dict[str, Callable[..., None]] = {"screen": _screen, "words": _words_in}


def load(name: str = "screen") -> Callable[..., None] | None:
    """The compiled kernel ``name`` (``screen``: ``_screen``, ``words``: ``_words_in``), or None when numba
    cannot load or compile it (callers take the Python path)."""
    if name in _STATE:
        return _STATE[name]
    with _LOCK:
        if name not in _STATE:
            try:
                from hegui.text.kernel import njit

                g = globals()
                if not hasattr(g["_advance"], "py_func"):  # the kernels call the compiled one
                    g["_advance"] = njit(_advance)
                _STATE[name] = njit(_KERNELS[name])
            except Exception as err:
                log.warning("corpus screen: compiled kernel %s unavailable (%s: %s)", name, type(err).__name__, err)
                _STATE[name] = None
        return _STATE[name]


def code_points(texts: Sequence[str]) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The texts' code points in one buffer, and each text's start and length in it (lone surrogates
    kept as such: ``surrogatepass``)."""
    n = len(texts)
    cps = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    lens = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    starts = np.zeros(n, dtype=np.int64)
    if n > 1:
        np.cumsum(lens[:-1], out=starts[1:])
    return cps, starts, lens


class WordScreen:
    """Whether any of ``words`` is in ``fold(text)``, for a batch of texts in one compiled pass, where
    ``fold`` maps each character to one (``str.lower``, say): per text ``BUSY`` (a word is there), 0
    (none is), or ``HARD`` (a character that is astral or folds to several came before any word ended:
    ask Python)."""

    def __init__(self, kernel: Callable[..., None], words: Iterable[str], fold: Callable[[str], str]) -> None:
        words = list(words)
        if any(ch in "σς" for w in words for ch in w):  # ``str.lower``'s one use of context: final sigma
            raise ValueError("the word screen folds character by character: no σ or ς in its words")
        self._kernel = kernel
        self._dfa = Dfa.of(words)
        classes = np.full(0x10000, -1, dtype=np.int16)
        for c in range(0x10000):
            f = fold(chr(c))
            if len(f) == 1:
                classes[c] = self._dfa.classes[ord(f)] if ord(f) <= 0xFFFF else 0
        self._classes = classes

    def run(self, texts: Sequence[str]) -> npt.NDArray[np.uint8]:
        cps, starts, lens = code_points(texts)
        flags = np.empty(len(texts), dtype=np.uint8)
        self._kernel(cps, starts, lens, self._classes, self._dfa.step, self._dfa.hits, flags)
        return flags


@dataclass
class FoldedBatch:
    """A batch's case-folded NFKC forms as code points (document ``d``: ``cps[starts[d]:starts[d] +
    lens[d]]``), the kernel's ``flags`` per document, and the NFKC of the ``HARD`` ones (whose folded
    forms Python computed and ``cps`` holds after the others')."""

    cps: npt.NDArray[np.uint32]
    starts: npt.NDArray[np.int64]
    lens: npt.NDArray[np.int64]
    flags: npt.NDArray[np.uint8]
    nfkc: dict[int, str]


class FoldScreen:
    """The tables of ``_screen`` for one set of cue words and squashed keys."""

    def __init__(self, kernel: Callable[..., None], codes: npt.NDArray[np.uint8], simple: npt.NDArray[np.bool_],
                 lut: npt.NDArray[np.uint32], word: npt.NDArray[np.bool_], cues: Iterable[str],
                 squashed: Iterable[str]) -> None:
        self._kernel = kernel
        self._codes = codes
        self._word = word
        # the case fold of a character's NFKC where that is one character of the Basic Plane by table and
        # the character's own fold is one character too (``clears`` does not clear a text where one folds
        # to several), else 0; U+0000 too (it folds to itself but ends up with the others)
        fold = np.zeros(0x10000, dtype=np.uint16)
        for c in np.flatnonzero(simple).tolist():
            g = chr(int(lut[c])).casefold()
            if len(g) == 1 and ord(g) <= 0xFFFF and len(chr(c).casefold()) == 1:
                fold[c] = ord(g)
        fold[0] = 0
        self._fold = fold
        self._cue = Dfa.of(cues)
        self._squashed = Dfa.of(squashed)

    def run(self, texts: Sequence[str]) -> FoldedBatch | None:
        """The batch's forms and flags; None when a text holds a lone surrogate (the classifier's own
        path fails on those and the engine's answer must be kept: the caller takes the Python path)."""
        n = len(texts)
        try:
            raw = "".join(texts).encode("utf-32-le")
        except UnicodeEncodeError:
            return None
        cps = np.frombuffer(raw, dtype=np.uint32)
        lens = np.fromiter(map(len, texts), dtype=np.int64, count=n)
        starts = np.zeros(n, dtype=np.int64)
        if n > 1:
            np.cumsum(lens[:-1], out=starts[1:])
        out = np.empty_like(cps)
        flags = np.empty(n, dtype=np.uint8)
        self._kernel(cps, starts, lens, self._codes, self._fold, self._word, self._cue.classes, self._cue.step,
                     self._cue.hits, self._squashed.classes, self._squashed.step, self._squashed.hits, out, flags)
        nfkc: dict[int, str] = {}
        hard = np.flatnonzero(flags & HARD).tolist()
        if hard:  # their folded forms go after the others'
            forms = []
            at = out.size
            for d in hard:
                nfkc[d] = unicodedata.normalize("NFKC", texts[d])
                form = nfkc[d].casefold()
                forms.append(form)
                starts[d], lens[d] = at, len(form)
                at += len(form)
            out = np.concatenate([out, np.frombuffer("".join(forms).encode("utf-32-le"), dtype=np.uint32)])
        return FoldedBatch(out, starts, lens, flags, nfkc)

    def folded(self, batch: FoldedBatch, d: int) -> str:
        """Document ``d``'s case-folded NFKC as a string."""
        s = int(batch.starts[d])
        return batch.cps[s:s + int(batch.lens[d])].tobytes().decode("utf-32-le")
