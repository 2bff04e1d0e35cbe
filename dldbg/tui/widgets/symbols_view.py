"""Provides SymbolsView: symbols of every module, searched by a regular expression."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input

LIMIT = 2000


class SymbolsView(Vertical):
    """A search line (a regular expression, searched anywhere in the name; Enter applies) and the
    matching definitions: symbol, kind, value, module, binding (`info symbols`)."""

    DEFAULT_CSS = """
    SymbolsView {
        height: 1fr;
    }
    SymbolsView > Input {
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    SymbolsView > DataTable {
        height: 1fr;
    }
    """

    class Search(Message):
        def __init__(self, regex: str) -> None:
            super().__init__()
            self.regex = regex

    def __init__(self, *, name=None, id=None, classes=None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.regex = "."

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search symbols (regex), Enter", id="symbol-search")
        yield DataTable(zebra_stripes=True, cursor_type="row", id="symbol-table")

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns("symbol", "kind", "value", "module", "binding")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.regex = event.value.strip() or "."
        self.post_message(self.Search(self.regex))

    def load(self, rows: list[dict] | None, error: str | None = None) -> None:
        table = self.query_one(DataTable)
        table.clear()
        if error:
            table.add_row(Text(error, "red"), "", "", "", "")
            return
        rows = rows or []
        if not rows:
            table.add_row(Text(f"no symbols match {self.regex!r}", "dim"), "", "", "", "")
            return
        for r in rows[:LIMIT]:
            style = "dim" if r["binding"].startswith(("shadowed", "not")) else ""
            table.add_row(Text(r["name"], style), r["kind"], str(r["value"]), r["module"], r["binding"])
        if len(rows) > LIMIT:
            table.add_row(Text(f"... {len(rows) - LIMIT} more: narrow the search", "dim"), "", "", "", "")
