"""Change counters for per-user caches on the request path (identity state, agreements, guardians).

The gateway caches a user's identity and usage facts for a couple of seconds so that an admitted
request does no query for them. A cache entry remembers the counter of its tables; any ORM flush in
this process that adds, changes or deletes a row of a watched table bumps the counter, so a change
made through this process (a verification, an accepted agreement, a guardian's setting) takes effect
at once. Changes made by another process are seen when the entry expires (its TTL).
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session


class Generation:
    """A counter bumped whenever a row of one of ``classes`` is flushed by any ORM session here."""

    def __init__(self, *classes: type[Any]) -> None:
        self.classes = classes
        self.value = 0
        self._lock = threading.Lock()
        self._key = f"hegui.changes.{id(self)}"
        event.listen(Session, "after_flush", self._after_flush)
        event.listen(Session, "after_commit", self._after_commit)

    def _after_flush(self, session: Session, _ctx: Any) -> None:
        for obj in (*session.new, *session.dirty, *session.deleted):
            if isinstance(obj, self.classes):
                session.info[self._key] = True
                self.bump()
                return

    def _after_commit(self, session: Session) -> None:
        # bumped again once committed: a reader between flush and commit may have cached the old row
        if session.info.pop(self._key, False):
            self.bump()

    def bump(self) -> None:
        with self._lock:
            self.value += 1


_generations: dict[tuple[type[Any], ...], Generation] = {}
_glock = threading.Lock()


def generation(*classes: type[Any]) -> Generation:
    """The process-wide counter for these tables (one listener per set, however many gates use it)."""
    with _glock:
        gen = _generations.get(classes)
        if gen is None:
            gen = _generations[classes] = Generation(*classes)
        return gen
