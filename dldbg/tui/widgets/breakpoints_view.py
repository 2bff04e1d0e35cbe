"""Provides BreakpointsView: the session's breakpoints and catchpoints."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable


class BreakpointsView(DataTable):
    """One row per breakpoint: number, what it stops at, enabled."""

    DEFAULT_CSS = """
    BreakpointsView {
        height: 1fr;
    }
    """

    def __init__(self, *, name=None, id=None, classes=None) -> None:
        super().__init__(zebra_stripes=True, cursor_type="row", name=name, id=id, classes=classes)
        self._shown: tuple = ()

    def on_mount(self) -> None:
        self.add_columns("#", "breakpoint", "state")

    def load(self, breakpoints: tuple) -> None:
        key = tuple((b.number, b.text, b.enabled) for b in breakpoints)
        if key == self._shown:
            return
        self._shown = key
        self.clear()
        if not breakpoints:
            self.add_row("", Text("no breakpoints: b on a timeline event breaks on its kind", "dim"), "")
            return
        for b in breakpoints:
            self.add_row(str(b.number), b.text.split(": ", 1)[-1], Text("enabled", "green") if b.enabled
                         else Text("disabled", "dim"))
