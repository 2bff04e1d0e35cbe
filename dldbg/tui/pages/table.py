"""Provides TablePage: the shared function table, slot -> module!function (`table`)."""

from __future__ import annotations

from rich.text import Text

from ...textsafe import printable
from .rows import Column, RowsPage, Section

COLUMNS = (Column("slot", 8, right=True), Column("function", 60), Column("type", 40), Column("note", 40))


class TablePage(RowsPage):
    """One row per slot that holds (or is reserved for) a function; lazy binding stubs in yellow."""

    name = "table"

    def __init__(self) -> None:
        super().__init__()
        self._shown = None
        self.set_sections([Section(COLUMNS, empty=Text("no program loaded", "dim"))])

    def load(self, rows: list[dict] | None, size: int = 0, error: str | None = None) -> None:
        """`rows` as `table` gives them (slot, module, function, type, note); `size` in slots."""
        key = (error, size, rows)
        if key == self._shown:
            return
        self._shown = key
        if error:
            self.set_sections([Section(COLUMNS, empty=Text(error, "red"))])
            return
        shown = []
        for r in rows or ():
            name = f"{r['module']}!{r['function']}" if r.get("function") else "(empty)"
            style = "yellow" if "lazy" in (r.get("note") or "") else ""
            shown.append((str(r["slot"]), Text(printable(name), style), r.get("type") or "", r.get("note") or ""))
        self.set_sections([Section(COLUMNS, shown, empty=Text(f"no functions in the table ({size} slots)", "dim"))])
