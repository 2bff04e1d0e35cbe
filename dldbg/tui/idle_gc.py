"""Provides IdleCollector: Python's cyclic garbage collection at moments nobody is typing.

A Textual screen keeps many cached strips and segments, and a session keeps its whole event
log; a full collection over them takes 30-50 ms, and the collector starts one whenever enough
objects survived, often in the middle of a keypress, whose repaint then misses the 50 ms
budget.  While the TUI runs, the young generations are still collected as usual (that is quick),
but automatic full collections are off; instead, `tick()` (called by a timer) runs a full one
once no key or mouse event came for `quiet` seconds.  The event log, which only grows and lives
as long as the session, is moved out of the collector's sight with `gc.freeze` as it grows
(`freeze_log`), so that those collections stay short too.
"""

from __future__ import annotations

import gc
import time


class IdleCollector:
    """:param quiet: seconds without input before a full collection.
    :param freeze_every: log entries between two `gc.freeze` calls."""

    def __init__(self, quiet: float = 1.0, freeze_every: int = 20_000):
        self.quiet = quiet
        self.freeze_every = freeze_every
        self.last_input = time.monotonic()
        self.dirty = True
        self.frozen_at = 0
        self._thresholds: tuple[int, int, int] | None = None

    def start(self) -> None:
        if self._thresholds is None:
            self._thresholds = gc.get_threshold()
            young, middle, _old = self._thresholds
            gc.set_threshold(young, middle, 1 << 30)  # the oldest generation: only in tick()

    def stop(self) -> None:
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
        self._thresholds = None

    def input(self) -> None:
        """A key or mouse event came."""
        self.last_input = time.monotonic()
        self.dirty = True

    def tick(self, busy: bool = False) -> None:
        """Run the full collection if it is due; not while `busy` (the app is still working on
        the last input, e.g. filtering the timeline)."""
        if self._thresholds is None or busy:
            return
        if self.dirty and time.monotonic() - self.last_input >= self.quiet:
            self.dirty = False
            gc.collect()

    def freeze_log(self, count: int) -> None:
        """The event log has `count` entries: freeze the survivors every `freeze_every`."""
        if count - self.frozen_at < self.freeze_every:
            return
        self.frozen_at = count
        gc.collect(1)
        gc.freeze()
