"""Provides TableView: the shared function table, slot -> module!function."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable


class TableView(DataTable):
    """One row per slot that holds (or is reserved for) a function (`table`)."""

    DEFAULT_CSS = """
    TableView {
        height: 1fr;
    }
    """

    def __init__(self, *, name=None, id=None, classes=None) -> None:
        super().__init__(zebra_stripes=True, cursor_type="row", name=name, id=id, classes=classes)
        self._shown = None

    def on_mount(self) -> None:
        self.add_columns("slot", "function", "type", "note")

    def load(self, rows: list[dict] | None, size: int = 0, error: str | None = None) -> None:
        key = (error, size, rows)
        if self.row_count and key == self._shown:
            return
        self._shown = key
        self.clear()
        if error:
            self.add_row("", Text(error, "red"), "", "")
            return
        if not rows:
            self.add_row("", Text(f"no functions in the table ({size} slots)", "dim"), "", "")
            return
        for r in rows:
            name = f"{r['module']}!{r['function']}" if r.get("function") else "(empty)"
            style = "yellow" if "lazy" in (r.get("note") or "") else ""
            self.add_row(str(r["slot"]), Text(name, style), r.get("type") or "", r.get("note") or "")
