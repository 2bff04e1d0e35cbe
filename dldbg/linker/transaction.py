"""An undo log, so that a failed load leaves no trace in the engine's state.

Each step of a load that changes shared state (scopes, GOT, handles, table, heap) records how to
undo itself.  `rollback()` undoes in reverse order and reports what it did; what cannot be undone
is recorded with `leak()` and reported beside it (LoadFailed.rolled_back / .leaked).
"""

from __future__ import annotations

from typing import Callable


class Transaction:
    def __init__(self) -> None:
        self._undo: list[tuple[str, Callable[[], None]]] = []
        self.leaked: list[str] = []

    def add(self, description: str, undo: Callable[[], None]) -> None:
        self._undo.append((description, undo))

    def leak(self, description: str) -> None:
        self.leaked.append(description)

    def rollback(self) -> list[str]:
        done = []
        while self._undo:
            description, undo = self._undo.pop()
            try:
                undo()
                done.append(description)
            except Exception as exc:  # an undo step must not hide the original failure
                self.leaked.append(f"{description} (undo failed: {exc})")
        return done
