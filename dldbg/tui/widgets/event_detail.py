"""Provides EventDetail: every field of the selected event, and whether the engine is stopped
there or a breakpoint stops at it.

It is a line-API widget of a fixed size that scrolls its lines itself (up/down, page keys, the
mouse wheel): showing another event renders the new lines and repaints that one region, with
no layout of the screen, so moving through the timeline stays fast.
"""

from __future__ import annotations

from rich.console import Group
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.strip import Strip
from textual.widget import Widget

from ..model import Shortener, event_fields, event_message, kind_style

_MORE = Style.parse("bold reverse")


class EventDetail(Widget, can_focus=True):
    """The selected event: kind, stage, module, its trace line and each field."""

    DEFAULT_CSS = """
    EventDetail {
        height: 1fr;
    }
    """

    BINDINGS = [
        Binding("up", "scroll_lines(-1)", "Up", show=False),
        Binding("down", "scroll_lines(1)", "Down", show=False),
        Binding("pageup", "scroll_lines(-10)", "Page up", show=False),
        Binding("pagedown", "scroll_lines(10)", "Page down", show=False),
    ]

    def __init__(self, *, shorten: Shortener | None = None, name=None, id=None, classes=None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.shorten = shorten or Shortener()
        self.entry = None
        self.top = 0
        self._content = Text("select an event in the timeline", "dim")
        self._lines: list[Strip] = []
        self._width = -1

    def show(self, entry, paused_index: int | None = None, bp_numbers: tuple[int, ...] = ()) -> None:
        """Show `entry` (a LoggedEvent, or None)."""
        self.entry = entry
        self._content = self._renderable(entry, paused_index, bp_numbers)
        self.top = 0
        self._width = -1  # render again at the next paint
        self.refresh()

    @property
    def text(self) -> str:
        """The lines shown, as plain text."""
        self._ensure_lines()
        return "\n".join(strip.text.rstrip() for strip in self._lines)

    def _renderable(self, entry, paused_index, bp_numbers):
        if entry is None:
            return Text("no event selected", "dim")
        e = entry.event
        head = Text()
        head.append(f"#{entry.index} ", "bold")
        head.append(e.kind, f"bold {kind_style(e)}")
        head.append(f"  stage {e.stage}  depth {entry.depth}\n", "dim")
        head.append(e.module, "bold")
        head.append(": " + self.shorten(event_message(e)) + "\n")
        if entry.index == paused_index:
            head.append("▶ the engine is stopped here\n", "bold yellow")
        if bp_numbers:
            head.append(f"● breakpoint {', '.join(map(str, bp_numbers))} stops at this event\n", "red")
        table = Table.grid(padding=(0, 1))
        table.add_column(style="dim", no_wrap=True)
        table.add_column(overflow="fold")
        for key, value in event_fields(e):
            table.add_row(key, self.shorten(value))
        return Group(head, table)

    def _ensure_lines(self) -> None:
        width = self.content_region.width
        if width == self._width:
            return
        self._width = width
        if width <= 0:
            self._lines = []
            return
        console = self.app.console
        options = console.options.update_width(width)
        self._lines = [Strip(line, width).adjust_cell_length(width)
                       for line in console.render_lines(self._content, options, pad=True)]

    def action_scroll_lines(self, delta: int) -> None:
        self._ensure_lines()
        height = self.content_region.height
        self.top = max(0, min(self.top + delta, max(len(self._lines) - height, 0)))
        self.refresh()

    def on_mouse_scroll_down(self, event) -> None:
        event.stop()
        self.action_scroll_lines(3)

    def on_mouse_scroll_up(self, event) -> None:
        event.stop()
        self.action_scroll_lines(-3)

    def render_line(self, y: int) -> Strip:
        self._ensure_lines()
        width = self.content_region.width
        height = self.content_region.height
        row = self.top + y
        if y == height - 1 and len(self._lines) > self.top + height:
            more = f" ↓ {len(self._lines) - self.top - height + 1} more lines "
            return Strip([Segment(more, _MORE)]).extend_cell_length(width)
        if self.top and y == 0:
            return Strip([Segment(f" ↑ {self.top} more lines ", _MORE)]).extend_cell_length(width)
        if 0 <= row < len(self._lines):
            return self._lines[row]
        return Strip.blank(width)
