"""Provides SymbolsPage: the symbols of every module that match a regular expression
(`info symbols REGEX`); `/` on the page asks for the expression."""

from __future__ import annotations

from rich.text import Text

from ...textsafe import printable
from .rows import Column, RowsPage, Section

LIMIT = 2000
COLUMNS = (Column("symbol", 48), Column("kind", 8), Column("value", 12, right=True), Column("module", 32),
           Column("binding", 40))


class SymbolsPage(RowsPage):
    """Matching definitions: symbol, kind, value, module, binding (shadowed ones dimmed)."""

    name = "symbols"
    search_prompt = "Search symbols (a regular expression, found anywhere in the name; empty: all)"

    def __init__(self) -> None:
        super().__init__()
        self.regex = "."
        self.set_sections([Section(COLUMNS, title=self._title(None), empty=Text("no program loaded", "dim"))])

    def _title(self, count: int | None) -> Text:
        text = Text()
        text.append(f"symbols matching {self.regex!r}", "bold")
        if count is not None:
            text.append(f" ({count})", "bold")
        text.append("   / searches", "dim")
        return text

    def search(self, text: str) -> None:
        self.regex = text.strip() or "."
        self.cursor = 0

    def load(self, rows: list[dict] | None, error: str | None = None) -> None:
        """`rows` as `info symbols` gives them (name, kind, value, module, binding)."""
        if error:
            self.set_sections([Section(COLUMNS, title=self._title(None), empty=Text(error, "red"))])
            return
        rows = rows or []
        shown = []
        for r in rows[:LIMIT]:
            style = "dim" if r["binding"].startswith(("shadowed", "not")) else ""
            shown.append((Text(printable(r["name"]), style), r["kind"], str(r["value"]), r["module"], r["binding"]))
        sections = [Section(COLUMNS, shown, title=self._title(len(rows)),
                            empty=Text(f"no symbols match {self.regex!r}", "dim"))]
        if len(rows) > LIMIT:
            sections.append(Section((Column("", 80),), title=Text(f"... {len(rows) - LIMIT} more: narrow the search",
                                                                  "dim")))
        self.set_sections(sections)
