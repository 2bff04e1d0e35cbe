"""Provides ImportsView: the imports (how each was resolved) and exports of one module."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static


class ImportsView(Vertical):
    """The selected module's imports (`info imports`) above its exports (`info exports`)."""

    DEFAULT_CSS = """
    ImportsView {
        height: 1fr;
    }
    ImportsView > Static {
        height: 1;
        background: $boost;
        padding: 0 1;
    }
    ImportsView > DataTable {
        height: 1fr;
    }
    """

    def __init__(self, *, name=None, id=None, classes=None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.module: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("imports: select a module in the tree", "dim"), id="imports-title")
        yield DataTable(zebra_stripes=True, cursor_type="row", id="imports-table")
        yield Static(Text("exports", "dim"), id="exports-title")
        yield DataTable(zebra_stripes=True, cursor_type="row", id="exports-table")

    def on_mount(self) -> None:
        self.query_one("#imports-table", DataTable).add_columns("import", "kind", "how", "provider", "state")
        self.query_one("#exports-table", DataTable).add_columns("export", "kind", "value", "binding")

    def load(self, module: str | None, imports: dict | None, exports: dict | None, error: str | None = None) -> None:
        self.module = module
        imp_table = self.query_one("#imports-table", DataTable)
        exp_table = self.query_one("#exports-table", DataTable)
        imp_table.clear()
        exp_table.clear()
        title = self.query_one("#imports-title", Static)
        if error or module is None:
            title.update(Text(error or "imports: select a module in the tree", "red" if error else "dim"))
            self.query_one("#exports-title", Static).update(Text("exports", "dim"))
            return
        rows = (imports or {}).get("imports", [])
        title.update(Text(f"imports of {module} ({len(rows)})", "bold"))
        for r in rows:
            state = r.get("state") or ""
            style = "bold red" if state == "UNRESOLVED" or state.startswith("not resolved") else (
                "yellow" if r.get("weak") or "unbound" in state else "")
            imp_table.add_row(Text(r["import"], style), r["kind"] + (" weak" if r.get("weak") else ""),
                              r.get("how") or "-", r.get("provider") or "-", Text(state, style))
        erows = (exports or {}).get("exports", [])
        self.query_one("#exports-title", Static).update(Text(f"exports of {module} ({len(erows)})", "bold"))
        for r in erows:
            exp_table.add_row(r["name"], r["kind"], str(r["value"]), r["binding"])
