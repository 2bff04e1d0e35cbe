"""Provides InspectorTabs: the one-line tab bar of the inspectors (memory, table, GOT, symbols,
imports and exports, breakpoints), with the key that shows each.

One widget, repainted as one line when the inspector shown changes (no layout of the screen).
"""

from __future__ import annotations

from rich.text import Text
from textual.events import Click
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

#: (id, label), in key order: 1 shows the first
TABS = (("memory", "Memory"), ("table", "Table"), ("got", "GOT"), ("symbols", "Symbols"),
        ("imports", "Imports"), ("breakpoints", "Breakpoints"))


class InspectorTabs(Widget):
    """` 1 Memory  2 Table  3 GOT ...` with the active one highlighted."""

    DEFAULT_CSS = """
    InspectorTabs {
        height: 1;
        background: $boost;
    }
    """

    active: reactive[str] = reactive("memory")
    """The id of the inspector shown."""

    class Chosen(Message):
        """A tab was clicked."""

        def __init__(self, tab: str) -> None:
            super().__init__()
            self.tab = tab

    def render(self) -> Text:
        text = Text()
        for number, (tab, label) in enumerate(TABS, 1):
            style = "bold reverse" if tab == self.active else ""
            text.append(f" {number} ", "dim" if tab != self.active else style)
            text.append(f"{label} ", style)
        return text

    def on_click(self, event: Click) -> None:
        x = 0
        for number, (tab, label) in enumerate(TABS, 1):
            width = len(f" {number} {label} ")
            if x <= event.x < x + width:
                self.post_message(self.Chosen(tab))
                return
            x += width
