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

    def add_each(self, expand: Callable[[object], list[tuple]], item) -> None:
        """One of many alike changes, kept as `item` (a GOT import: up to three steps per
        symbol, thousands per module): `expand(item)` gives its steps, in the order they were
        done, as `add_call` would have recorded them (template, values, undo, undo's
        arguments), only if the load is rolled back.  Consecutive items of one `expand` share
        one record, so a module's GOT imports cost a list append each; a rollback undoes and
        describes exactly what the separate steps would have, in the same order."""
        undo = self._undo
        if undo and undo[-1][0] is expand:
            undo[-1][1].append(item)
        else:
            undo.append((expand, [item], None, ()))

    def leak(self, description: str) -> None:
        self.leaked.append(description)

    def rollback(self) -> list[str]:
        done = []
        while self._undo:
            description, values, undo, args = self._undo.pop()
            if undo is None:  # items of `add_each`: their steps go back on the stack, in order
                for item in values:
                    self._undo.extend(description(item))
                continue
            if values is not None:
                description = description.format(*values)
            try:
                undo(*args)
                done.append(description)
            except Exception as exc:  # an undo step must not hide the original failure
                self.leaked.append(f"{description} (undo failed: {exc})")
        return done
