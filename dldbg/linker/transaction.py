"""An undo log, so that a failed load leaves no trace in the engine's state.

Each step of a load that changes shared state (scopes, GOT, handles, table, heap) records how to
undo itself.  `rollback()` undoes in reverse order and reports what it did; what cannot be undone
is recorded with `leak()` and reported beside it (LoadFailed.rolled_back / .leaked).
"""

from __future__ import annotations

from typing import Callable


class Transaction:
    def __init__(self) -> None:
        #: (description or its template, the template's values or None, undo, undo's arguments)
        self._undo: list[tuple] = []
        self.leaked: list[str] = []

    def add(self, description: str, undo: Callable[[], None]) -> None:
        self._undo.append((description, None, undo, ()))

    def add_call(self, template: str, values: tuple, undo: Callable, *args) -> None:
        """A step undone by `undo(*args)`, described by `template.format(*values)`.  For steps
        recorded once per symbol: the description is formatted only if the load is rolled
        back, and no closure is made (a GOT import records three steps)."""
        self._undo.append((template, values, undo, args))

    def leak(self, description: str) -> None:
        self.leaked.append(description)

    def rollback(self) -> list[str]:
        done = []
        while self._undo:
            description, values, undo, args = self._undo.pop()
            if values is not None:
                description = description.format(*values)
            try:
                undo(*args)
                done.append(description)
            except Exception as exc:  # an undo step must not hide the original failure
                self.leaked.append(f"{description} (undo failed: {exc})")
        return done
