"""The current compiled lexicon of a process, rebuilt off the request path and swapped atomically.

``registry.detector`` is a plain attribute read of an immutable ``LexiconDetector``: a request that
took a snapshot keeps using it even while a newer one is being built, and no request ever sees a
half-built automaton (the new detector is complete before the one assignment that publishes it).
"""

from __future__ import annotations

import threading
import time

from hegui.context import HeguiContext
from hegui.detect.base import Direction, Finding
from hegui.detect.lexicon.detector import LexiconDetector
from hegui.detect.lexicon.service import LexiconService
from hegui.policy.pack import NormalisationSteps


class LexiconRegistry:
    """Holds the current ``LexiconDetector`` for ``ctx``; itself usable as a ``Detector``."""

    name = "lexicon"

    def __init__(self, ctx: HeguiContext, steps: NormalisationSteps | None = None,
                 check_interval: float = 1.0) -> None:
        self.ctx = ctx
        self.service = LexiconService(ctx)
        self.steps = steps or ctx.pack.normalisation
        self.check_interval = check_interval
        self._detector: LexiconDetector | None = None
        self._build_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._last_check = 0.0
        self.last_error: Exception | None = None

    @property
    def detector(self) -> LexiconDetector:
        """The current snapshot (built synchronously on first use)."""
        d = self._detector
        if d is None:
            return self.reload()
        return d

    @property
    def version(self) -> int | None:
        d = self._detector
        return d.version if d is not None else None

    def detect(self, text: str, direction: Direction = "input") -> list[Finding]:
        return self.detector.detect(text, direction)

    def reload(self) -> LexiconDetector:
        """Read the lexicon in one transaction, compile it, then publish it with one assignment."""
        with self._build_lock:
            version, entries, allow = self.service.snapshot()
            current = self._detector
            if current is not None and current.version == version:
                return current
            detector = LexiconDetector(entries, self.steps, allow, version=version)
            self._detector = detector
            return detector

    def refresh_if_changed(self, background: bool = False) -> bool:
        """Rebuild when the database version differs from the compiled one.

        Rate-limited: does anything at most once per ``check_interval`` seconds (0 = every call).
        ``background=False``: reads the version (one indexed row) and rebuilds in this thread;
        returns True if it rebuilt. ``background=True`` (the request path): returns at once — the
        version read and any rebuild run in a thread, so a slow or unreachable database never
        delays a request; returns True if such a check was started. Requests keep using the old
        snapshot until the new one is published.
        """
        now = time.monotonic()
        if self.check_interval and self._detector is not None and now - self._last_check < self.check_interval:
            return False
        self._last_check = now
        if not background:
            if self.service.version() == self.version:
                return False
            self.reload()
            return True
        if self._thread is not None and self._thread.is_alive():
            return False
        self._thread = threading.Thread(target=self._background_refresh, name="hegui-lexicon-reload", daemon=True)
        self._thread.start()
        return True

    def _background_refresh(self) -> None:
        try:
            if self.service.version() != self.version:
                self.reload()
            self.last_error = None
        except Exception as err:  # keep serving the old snapshot; the error is kept for health checks
            self.last_error = err

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a background rebuild to finish (tests, graceful shutdown)."""
        t = self._thread
        if t is not None:
            t.join(timeout)
