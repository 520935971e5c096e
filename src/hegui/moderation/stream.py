"""``StreamModerator``: moderate model output as it streams, never releasing unchecked text.

The guarantee: a character is released only after a check that saw it together with enough text
after it that no lexicon term or PII value containing it can still be incomplete. The held-back
tail is measured so that it holds at least ``W`` *significant* characters, where

    W = max(longest lexicon key in normalised characters, longest PII value) + stream_window_extra_chars

Why significant characters: normalisation deletes separators and invisible characters inserted
between the characters of a term (``炸 . 药``, ``炸\u200b药``) and squashes repeats (``炸炸炸药``), so a
term stretches over any number of original characters. Counting only the characters that survive
normalisation as letters/digits/ideographs (not spaces, punctuation, symbols, emoji, marks,
invisibles — which a later character may still cause to be deleted) bounds a term by its
normalised length, however it was stretched. Counting happens on the lexicon's own normalised
text, mapped back to original offsets, and the hold is widened over a trailing run of identical
characters (it may still be squashed). PII values (matched on the original) are bounded in
original characters by ``MAX_PII_LENGTH``.

Cost: each check looks at the unreleased tail plus a look-back of the same size (context for
allow phrases and boundaries), not at the whole text, so work grows linearly with the output.
Checks run once at least ``step`` new characters can be released.

Whole-text detectors never judge a piece the final text would not contain, so the verdict on a
stream is the verdict on its final text, however it was chunked (a window cut at an arbitrary
offset can score higher than any unit of the whole text). A detector offering
``stream_detector()`` (the embedded classifier: units that every continuation keeps, each scored
once) is asked as the text grows; the others (guard models) and, in output, the jailbreak rules
(an input concern: a prompt attack, not harmful content, and the costliest span detector) judge
the full text at ``finish()``. Text released before that point was checked by the span detectors
(lexicon, PII) only.

With ``signals: lexicon_and_classifier`` the two signals arrive in different checks (a lexicon hit
in a span check, the classifier's finding of the same risk when its unit settles or at the end), so
the moderator keeps every ruling it has seen and pairs them over all of them: the stream stops as
soon as both name the risk, and its verdict is the whole text's. A lexicon hit still unpaired when
its text is due is released (it does not count on its own in that mode).

A release never leaves the client holding a prefix that is blocked on its own: context after the
release point can cancel a hit (an allow phrase around a term, a proximity rule's exclusion), so the
prefix about to be released is judged alone as well and the release point moved back before
anything blocking in it (``_clean_prefix_end``).

On a violation the moderator stops: ``stopped`` is true, ``decision`` says why, ``feed`` and
``finish`` return nothing more, and the caller sends ``replacement`` (the pack's refusal text)
and ends the stream. Masking findings (PII in output by default) are masked in the released text;
a value straddling the release point is held until it can be masked whole.
"""

from __future__ import annotations

import logging
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import replace
from itertools import accumulate, islice
from typing import TYPE_CHECKING, Protocol

from hegui.detect.base import Detector, Direction, Finding
from hegui.moderation.decision import ACTION_RANK, BLOCKING, Decision, ModerationContext
from hegui.moderation.engine import ModerationEngine, Ruling, is_whole_text

if TYPE_CHECKING:
    from hegui.text import NormalizedText

log = logging.getLogger(__name__)

_INSIGNIFICANT = ("Z", "P", "S", "C", "M")
class _GrowingDetector(Protocol):
    """What a whole-text detector's ``stream_detector()`` returns (e.g. the embedded classifier's)."""

    def grow(self, text: str) -> list[Finding]: ...

    def final(self, text: str) -> list[Finding]: ...


FINISH_ONLY: dict[str, frozenset[str]] = {"output": frozenset({"jailbreak"})}
"""Span detectors that judge only the full text at ``finish()``, per direction (see module doc)."""


class _Significance(dict[str, int]):
    """1 for a significant character, 0 otherwise; filled as characters are seen (bounded by Unicode).
    A dict with ``__missing__``, so ``map(_SIGNIFICANT.__getitem__, text)`` stays in C for known ones."""

    def __missing__(self, ch: str) -> int:
        v = self[ch] = int(not ch.isspace() and unicodedata.category(ch)[0] not in _INSIGNIFICANT)
        return v


_SIGNIFICANT = _Significance()
_significant = _SIGNIFICANT.__getitem__


class StreamModerator:
    """Feed output chunks, get back the text that is safe to send."""

    def __init__(self, engine: ModerationEngine, context: ModerationContext | None = None,
                 direction: Direction = "output", *, step: int = 8, whole_text_every: int = 128) -> None:
        self.engine = engine
        self.context = context
        self.direction: Direction = direction
        self.step = max(step, 1)
        self.whole_text_every = whole_text_every
        self._buf = ""
        self._released = 0  # characters of _buf already released (or masked and released)
        self._sig = [0]  # _sig[i]: significant characters in _buf[:i]
        self._last_whole = 0
        self._rulings: list[Ruling] = []
        self._keys: set[tuple[str, str, str | None, int, int]] = set()  # ``_key`` of every kept ruling
        self._scores: dict[str, float] = {}
        self._errors: list[str] = []
        self.stopped = False
        self.finished = False
        self.decision: Decision | None = None
        end_only = FINISH_ONLY.get(direction, frozenset())
        self._span_dets: list[Detector] = [d for d in engine.detectors
                                           if not is_whole_text(d) and d.name not in end_only]
        self._whole_dets: list[Detector] = [d for d in engine.detectors if d not in self._span_dets]
        #: detectors whose verdict on a match depends on text after it (``context_span``: proximity rules)
        self._reach: dict[str, int] = {d.name: int(getattr(d, "context_span", 0)) for d in self._span_dets
                                       if int(getattr(d, "context_span", 0) or 0) > 0}
        self._growing: dict[str, _GrowingDetector] = {
            d.name: getattr(d, "stream_detector")() for d in self._whole_dets  # noqa: B009 - optional protocol
            if callable(getattr(d, "stream_detector", None))}
        self._normalize: Callable[[str], NormalizedText] | None = None
        lexicons = engine.lexicons()
        # the shared form: the lexicon (and proximity rules) of the check that follows a release point
        # normalise the very same piece, and reuse this result (``Normalizer.normalize_shared``)
        nz = getattr(lexicons[0], "normalizer", None) if lexicons else engine.normalizer
        if nz is not None:
            self._normalize = nz.normalize_shared
        elif lexicons:
            self._normalize = lexicons[0].normalize
        self._piece: tuple[int, str] | None = None  # (start, text) the last release point normalised
        self._term_window = 0
        self._w = self.window()  # the last known held-back size; asked again before every release

    @property
    def text(self) -> str:
        """Everything received so far."""
        return self._buf

    @property
    def released_chars(self) -> int:
        """How many characters of the received text have been released (masked or not)."""
        return self._released

    @property
    def replacement(self) -> str:
        """What to send instead of the rest once stopped (the pack's refusal text)."""
        if self.decision is not None and self.decision.refusal_text:
            return self.decision.refusal_text
        return ""

    def window(self) -> int:
        """Held-back size W in significant characters (see module doc)."""
        self._term_window = self.engine.term_window()
        return (max(self._term_window, self.engine.pii_window(self.direction))
                + self.engine.pack.moderation.stream_window_extra_chars)

    # ---- the calls -----------------------------------------------------------------------------------

    def feed(self, chunk: str) -> str:
        """Add a chunk; return the text that is now checked and safe to release (maybe empty)."""
        if self.stopped or self.finished:
            return ""
        self._buf += chunk
        self._sig += islice(accumulate(map(_significant, chunk), initial=self._sig[-1]), 1, None)
        lo = self._released
        if self._back(len(self._buf), self._w, lo) - lo < self.step:
            return ""  # not due by the last known window: skip asking the engine for it on every chunk
        w = self._w = self.window()  # fresh before any release (a lexicon reload may have widened it)
        r = self._release_point(w)
        if r - self._released < self.step:
            return ""
        if self._growing and len(self._buf) - self._last_whole >= self.whole_text_every:
            self._last_whole = len(self._buf)
            if self._check_growing():
                return ""
        return self._check_and_release(r, w, final=False)

    def finish(self) -> str:
        """End of stream: check and release the rest (including a full-text whole-text check)."""
        if self.stopped or self.finished:
            return ""
        w = self.window()
        if self._whole_dets and self._check_final():
            return ""
        out = self._check_and_release(len(self._buf), w, final=True)
        if not self.stopped:
            self.finished = True
            self.decision = self._summary()
        return out

    # ---- internals ---------------------------------------------------------------------------------------

    def _back(self, end: int, n: int, floor: int = 0) -> int:
        """Largest ``k >= floor`` such that ``_buf[k:end]`` holds ``n`` significant characters (``floor``
        if none): a binary search on the running count instead of a walk back over the text."""
        sig = self._sig
        k = bisect_right(sig, sig[end] - n, floor, end + 1) - 1
        return max(k, floor)

    def _release_point(self, w: int) -> int:
        """Original offset up to which text may be released once it is checked."""
        buf = self._buf
        lo = self._released
        # PII and generic: W significant original characters
        r = self._back(len(buf), w, lo)
        if r - lo < self.step:  # the normalised point is never later: skip normalising
            return lo
        if self._normalize is not None and self._term_window > 0:  # as of the window() asked just before
            r = min(r, self._normalised_release_point(w))
        # a trailing run of identical characters may still be squashed: hold it whole
        while lo < r < len(buf) and buf[r - 1] == buf[r]:
            r -= 1
        return max(r, lo)

    def _normalised_release_point(self, w: int) -> int:
        """Original offset before the last ``w`` significant NORMALISED characters (see module doc)."""
        assert self._normalize is not None
        buf = self._buf
        n = 2 * w + 2
        check_start = self._back(self._released, w)  # where the following check's look-back starts
        while True:
            base = min(self._back(len(buf), n), check_start)  # a longer look-back only adds context
            piece = buf[base:]
            self._piece = (base, piece)
            nt = self._normalize(piece)
            t = nt.text
            # k: where the last w significant characters of t begin (0 if t has fewer)
            counts = list(accumulate(map(_significant, reversed(t))))  # counts[i]: significant in t[-1 - i:]
            i = bisect_left(counts, w) if w > 0 else -1
            if i < len(counts):
                k, enough = len(t) - 1 - i, True
            else:
                k, enough = 0, False
            if enough or base == 0:
                break
            n *= 2  # squashed runs made the look-back too short: widen it
        while 0 < k < len(t) and t[k - 1] == t[k]:
            k -= 1
        if k >= len(t):
            return len(buf)
        return base + nt.span_to_original(k, k + 1)[0]

    def _check_and_release(self, r: int, w: int, *, final: bool) -> str:
        buf = self._buf
        start = self._back(self._released, w)  # look-back for context
        last, self._piece = self._piece, None
        seg = last[1] if last is not None and last[0] == start and len(last[1]) == len(buf) - start \
            else buf[start:]  # the same object as the release point's: its normalisation is reused
        findings, errors, failed = self.engine.run_detectors(seg, self.direction, self._span_dets)
        self._errors += [e for e in errors if e not in self._errors]
        if failed is not None:
            self._stop(self.engine._failed(failed, buf, self.direction, self.context, self._errors))
            return ""
        shifted = [_shift(f, start) for f in findings]
        minor = self.context.minor if self.context is not None else False
        rulings = [x for x in self.engine.rulings(shifted, self.direction, minor, self._scores, corroborate=False)
                   if x.finding.end > self._released]
        fresh = [x for x in rulings if _key(x) not in self._keys]
        if self.engine.corroborates:
            counting = self.engine.corroborated(self._rulings + fresh)
            blocking = [x for x in counting if x.action in BLOCKING]
        else:  # every ruling kept so far was judged when it came (and did not block): only new ones can
            blocking = [x for x in fresh if x.action in BLOCKING]
        if blocking and not final and self._reach:
            # text still to come can cancel a proximity rule's match near the end (its exclusion context,
            # phrases around it): such a match stops the stream only once that much has arrived, or at
            # the end, as the whole text would judge it. Nothing is released past it meanwhile
            # (``_clean_prefix_end``).
            settled = self._settled_before()
            blocking = [x for x in blocking if x.finding.detector not in self._reach or x.finding.end <= settled]
        if blocking:
            self._rulings = pool = self._rulings + fresh
            counting = self.engine.corroborated(pool)
            self._stop(self.engine.decide(buf, self.direction, counting, self.context, self._scores, self._errors))
            return ""
        masks = [x for x in rulings if x.action == "mask"]
        if self.engine.corroborates:  # an unpaired lexicon hit does not count (yet): nothing to mask
            counted = {_key(y) for y in counting}
            masks = [x for x in masks if _key(x) in counted]
        if not final:
            while r > self._released:
                held = r
                for x in masks:  # never cut a value to be masked: hold it whole
                    if x.finding.start < r < x.finding.end:
                        r = max(x.finding.start, self._released)
                r = self._clean_prefix_end(start, r, minor)
                if r == held:
                    break
        new = [x for x in rulings if x.finding.start < r]
        self._keep(new)
        if r <= self._released:
            return ""
        piece = buf[self._released:r]
        piece_masks = [Ruling(_clip(x.finding, -self._released, r - self._released), x.action, x.rule)
                       for x in masks if x.finding.start < r]
        if piece_masks:
            piece = self.engine.mask(piece_masks, piece, self.context)
        self._released = r
        return piece

    def _settled_before(self) -> int:
        """Original offset before which a match of a detector in ``_reach`` can no longer be cancelled by
        text still to come: the last ``context_span`` significant normalised characters (the longest
        reach of such a verdict past its match: exclusion context and phrases) are still open."""
        reach = max(self._reach.values())
        if self._normalize is None:
            return self._back(len(self._buf), reach)
        point = self._normalised_release_point(reach)
        self._piece = None  # (that look-back is not the next check's)
        return point

    def _clean_prefix_end(self, start: int, r: int, minor: bool) -> int:
        """``r`` moved back until what the client would then hold, judged on its own, shows nothing
        blocking. Context after ``r`` can cancel a hit that a prefix ending at ``r`` shows bare: the allow
        phrase 洗钱通道诈骗 around the term 洗钱通道, a proximity rule's exclusion, a longer number around
        a mobile-like one. A client whose stream is cut right there would keep the bare text."""
        while r > self._released:
            findings, _errors, failed = self.engine.run_detectors(self._buf[start:r], self.direction,
                                                                  self._span_dets)
            if failed is not None:
                return self._released  # hold everything: the next full check fails closed
            rulings = self.engine.rulings([_shift(f, start) for f in findings], self.direction, minor,
                                          corroborate=False)
            if self.engine.corroborates:
                paired = {id(x) for x in self.engine.corroborated(self._rulings + rulings)}
                rulings = [x for x in rulings if id(x) in paired]
            bad = [x.finding.start for x in rulings if x.action in BLOCKING and x.finding.end > self._released]
            if not bad:
                return r
            r = max(min(bad), self._released)
        return r

    def _check_growing(self) -> bool:
        """Whole-text detectors' early findings (only what the final text will have too); True if stopped."""
        findings: list[Finding] = []
        for name, det in self._growing.items():
            try:
                findings += det.grow(self._buf)
            except Exception:  # judged again on the full text at finish(), which fails closed if it fails again
                log.exception("stream detector %s failed; the full text is checked at the end", name)
        return self._judge_whole(findings)

    def _check_final(self) -> bool:
        """Whole-text (and finish-only) detectors on the full text, as ``engine.moderate`` runs them; a
        detector that followed the stream only scores what it has not yet. True if stopped."""
        buf = self._buf
        plain = [d for d in self._whole_dets if d.name not in self._growing]
        findings, errors, failed = self.engine.run_detectors(buf, self.direction, plain)
        for name, det in self._growing.items():
            if failed is not None:
                break
            try:
                findings += det.final(buf)
            except Exception as err:  # the same fail-closed rule as ``engine.run_detectors``
                log.error("detector %s failed: %s: %s", name, type(err).__name__, err)
                if name in self.engine.optional:
                    errors.append(name)
                else:
                    failed = name
        self._errors += [e for e in errors if e not in self._errors]
        if failed is not None:
            self._stop(self.engine._failed(failed, buf, self.direction, self.context, self._errors))
            return True
        return self._judge_whole(findings)

    def _judge_whole(self, findings: list[Finding]) -> bool:
        minor = self.context.minor if self.context is not None else False
        rulings = self.engine.rulings(findings, self.direction, minor, self._scores, corroborate=False)
        self._keep(rulings)
        counting = self.engine.corroborated(self._rulings)
        if any(x.action in BLOCKING for x in counting):
            self._stop(self.engine.decide(self._buf, self.direction, counting, self.context, self._scores,
                                          self._errors))
            return True
        return False

    def _keep(self, rulings: list[Ruling]) -> None:
        """Add the rulings not kept yet (by ``_key``; a set, so a long stream with many findings does
        not compare each new ruling with every kept one)."""
        add = [x for x in rulings if _key(x) not in self._keys]
        self._keys.update(map(_key, add))
        self._rulings += add

    def _stop(self, decision: Decision) -> None:
        self.stopped = True
        self.decision = decision

    def _summary(self) -> Decision:
        """The decision over the whole stream once it finished clean (mask/disclaim/allow)."""
        d = self.engine.decide(self._buf, self.direction, self.engine.corroborated(self._rulings), self.context,
                               self._scores, self._errors)
        if d.action == "mask":
            d.masked_text = None  # already masked in the released text; no second copy of the output
        assert ACTION_RANK[d.action] < ACTION_RANK["refuse"]
        return d


def _shift(f: Finding, delta: int) -> Finding:
    return replace(f, start=f.start + delta, end=f.end + delta)


def _clip(f: Finding, delta: int, limit: int) -> Finding:
    """Shift into a released piece; a value cut by the piece's edges is starred whole, never
    partially masked (a partial mask of a fragment could show all of it)."""
    start, end = f.start + delta, f.end + delta
    if start >= 0 and end <= limit:
        return replace(f, start=start, end=end)
    return replace(f, detector="mask", start=max(0, start), end=min(end, limit))


def _key(x: Ruling) -> tuple[str, str, str | None, int, int]:
    """What makes two rulings the same finding (seen by two checks of overlapping look-backs)."""
    f = x.finding
    return f.detector, f.type, f.category, f.start, f.end
