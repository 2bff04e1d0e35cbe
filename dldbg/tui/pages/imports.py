"""Provides ImportsPage: the imports of one module (how each was resolved) and its exports."""

from __future__ import annotations

from rich.text import Text

from ...textsafe import printable
from .rows import Column, RowsPage, Section

IMPORTS = (Column("import", 48), Column("kind", 16), Column("how", 20), Column("provider", 32), Column("state", 40))
EXPORTS = (Column("export", 48), Column("kind", 16), Column("value", 12, right=True), Column("binding", 40))


class ImportsPage(RowsPage):
    """The selected module's imports (`info imports`) above its exports (`info exports`)."""

    name = "imports"

    def __init__(self) -> None:
        super().__init__()
        self.module: str | None = None
        self.load(None, None, None)

    def load(self, module: str | None, imports: dict | None, exports: dict | None, error: str | None = None) -> None:
        """`imports`/`exports`: the data of `info imports MODULE` / `info exports MODULE`."""
        self.module = module
        if error or module is None:
            self.set_sections([Section(IMPORTS, title=Text(error or "imports: select a module in the tree",
                                                           "red" if error else "dim"),
                                       empty=Text("", "dim"))])
            return
        rows = []
        for r in (imports or {}).get("imports", []):
            state = r.get("state") or ""
            style = "bold red" if state == "UNRESOLVED" or state.startswith("not resolved") else (
                "yellow" if r.get("weak") or "unbound" in state else "")
            rows.append((Text(printable(r["import"]), style), r["kind"] + (" weak" if r.get("weak") else ""),
                         r.get("how") or "-", r.get("provider") or "-", Text(state, style)))
        erows = [(r["name"], r["kind"], str(r["value"]), r["binding"]) for r in (exports or {}).get("exports", [])]
        self.set_sections([
            Section(IMPORTS, rows, title=Text(f"imports of {printable(module)} ({len(rows)})", "bold"),
                    empty=Text("no imports", "dim")),
            Section(EXPORTS, erows, title=Text(f"exports of {printable(module)} ({len(erows)})", "bold"),
                    empty=Text("no exports", "dim")),
        ])
