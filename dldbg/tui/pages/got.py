"""Provides GotPage: the Global Offset Table (`info got`), unresolved entries in red and weak
ones in yellow."""

from __future__ import annotations

from rich.text import Text

from ...textsafe import printable
from ..model import Shortener
from .rows import Column, RowsPage, Section

UNDEFINED = -1
COLUMNS = (Column("entry", 48), Column("value", 12, right=True), Column("flags", 24), Column("provider", 28),
           Column("importers", 40), Column("points to", 48))


class GotPage(RowsPage):
    """One row per GOT entry: entry, value, flags, provider, importers, target."""

    name = "got"

    def __init__(self, shorten: Shortener | None = None) -> None:
        super().__init__()
        self.shorten = shorten or Shortener()
        self.rows_data: list[dict] = []
        self._shown = None
        self.set_sections([Section(COLUMNS, empty=Text("no GOT entries", "dim"))])

    def load(self, rows: list[dict] | None, error: str | None = None) -> None:
        """`rows` as `info got` gives them (got, symbol, value, flags, weak, provider, ...)."""
        key = (error, rows)
        if key == self._shown:
            return
        self._shown = key
        self.rows_data = list(rows or [])
        if error:
            self.set_sections([Section(COLUMNS, empty=Text(error, "red"))])
            return
        shown = []
        for r in self.rows_data:
            value = r["value"]
            unresolved = value == UNDEFINED
            style = "bold red" if unresolved else ("yellow" if r.get("weak") else "")
            value_text = "-1" if unresolved else (hex(value) if r["got"] == "GOT.mem" else str(value))
            flags = " ".join(r.get("flags") or []) or "ok"
            shown.append((Text(printable(f"{r['got']}.{r['symbol']}"), style), Text(value_text, style), Text(flags, style),
                          r.get("provider") or "-", ",".join(r.get("importers") or []),
                          self.shorten(str(r.get("target") or ""))))
        self.set_sections([Section(COLUMNS, shown, empty=Text("no GOT entries", "dim"))])
