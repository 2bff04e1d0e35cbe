"""Provides BreakpointsPage: the session's breakpoints and catchpoints."""

from __future__ import annotations

from rich.text import Text

from .rows import Column, RowsPage, Section

COLUMNS = (Column("#", 4, right=True), Column("breakpoint", 80), Column("state", 8))
EMPTY = Text("no breakpoints: b on a timeline event breaks on its kind", "dim")


class BreakpointsPage(RowsPage):
    """One row per breakpoint: number, what it stops at, enabled."""

    name = "breakpoints"

    def __init__(self) -> None:
        super().__init__()
        self._shown: tuple | None = None
        self.load(())

    def load(self, breakpoints: tuple) -> None:
        """`breakpoints`: the session's Breakpoint objects."""
        key = tuple((b.number, b.text, b.enabled) for b in breakpoints)
        if key == self._shown:
            return
        self._shown = key
        rows = [(str(b.number), b.text.split(": ", 1)[-1],
                 Text("enabled", "green") if b.enabled else Text("disabled", "dim")) for b in breakpoints]
        self.set_sections([Section(COLUMNS, rows, empty=EMPTY)])
