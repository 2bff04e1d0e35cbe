"""Provides GotView: the Global Offset Table, unresolved entries in red and weak ones in yellow."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from ..model import Shortener

UNDEFINED = -1


class GotView(DataTable):
    """One row per GOT entry (`info got`): entry, value, flags, provider, importers, target."""

    DEFAULT_CSS = """
    GotView {
        height: 1fr;
    }
    """

    def __init__(self, *, shorten: Shortener | None = None, name=None, id=None, classes=None) -> None:
        super().__init__(zebra_stripes=True, cursor_type="row", name=name, id=id, classes=classes)
        self.shorten = shorten or Shortener()
        self.rows_data: list[dict] = []
        self._shown = None

    def on_mount(self) -> None:
        self.add_columns("entry", "value", "flags", "provider", "importers", "points to")

    def load(self, rows: list[dict] | None, error: str | None = None) -> None:
        key = (error, rows)
        if self.row_count and key == self._shown:
            return
        self._shown = key
        self.rows_data = list(rows or [])
        self.clear()
        if error:
            self.add_row(Text(error, "red"), "", "", "", "", "")
            return
        if not self.rows_data:
            self.add_row(Text("no GOT entries", "dim"), "", "", "", "", "")
            return
        for r in self.rows_data:
            value = r["value"]
            unresolved = value == UNDEFINED
            style = "bold red" if unresolved else ("yellow" if r.get("weak") else "")
            shown = "-1" if unresolved else (hex(value) if r["got"] == "GOT.mem" else str(value))
            flags = " ".join(r.get("flags") or []) or "ok"
            self.add_row(Text(f"{r['got']}.{r['symbol']}", style), Text(shown, style), Text(flags, style),
                         r.get("provider") or "-", ",".join(r.get("importers") or []),
                         self.shorten(str(r.get("target") or "")))
