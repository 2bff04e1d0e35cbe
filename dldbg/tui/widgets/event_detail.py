"""Provides EventDetail: every field of the selected event, and whether the engine is stopped
there or a breakpoint stops at it.

It is a line-API widget of a fixed size that scrolls its lines itself (up/down, page keys, the
mouse wheel): showing another event renders the new lines and repaints that one region, with
no layout of the screen, so moving through the timeline stays fast.
"""

from __future__ import annotations

import textwrap

from rich.segment import Segment
from textual.binding import Binding
from textual.strip import Strip
from textual.widget import Widget

from ..model import Shortener, event_fields, event_message, kind_style
from ..styles import style

_MORE = style("bold reverse")


def _wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` cells: broken at spaces where it can, anywhere when a
    word is longer than a line; existing newlines kept."""
    out = []
    for paragraph in text.split("\n"):
        out.extend(textwrap.wrap(paragraph, max(width, 1), replace_whitespace=False,
                                 break_on_hyphens=False) or [""])
    return out


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
        self._content: tuple = (None, None, ())
        self._lines: list[Strip] = []
        self._width = -1

    def show(self, entry, paused_index: int | None = None, bp_numbers: tuple[int, ...] = ()) -> None:
        """Show `entry` (a LoggedEvent, or None)."""
        self.entry = entry
        self._content = (entry, paused_index, bp_numbers)
        self.top = 0
        self._width = -1  # render again at the next paint
        self.refresh()

    @property
    def text(self) -> str:
        """The lines shown, as plain text."""
        self._ensure_lines()
        return "\n".join(strip.text.rstrip() for strip in self._lines)

    def _ensure_lines(self) -> None:
        width = self.content_region.width
        if width == self._width:
            return
        self._width = width
        self._lines = [Strip(segments).crop(0, width).extend_cell_length(width)
                       for segments in self._layout(width)] if width > 0 else []

    def _layout(self, width: int) -> list[list[Segment]]:
        """The lines, as segments: a head (index, kind, stage, module, trace line, stop and
        breakpoint notes), then a field per line, long values wrapped under their value column.
        Built by hand (not with a Rich table): this runs on every cursor move in the timeline."""
        entry, paused_index, bp_numbers = self._content
        if entry is None:
            return [[Segment("no event selected", style("dim"))]]
        e = entry.event
        lines = [[Segment(f"#{entry.index} ", style("bold")), Segment(e.kind, style(f"bold {kind_style(e)}")),
                  Segment(f"  stage {e.stage}  depth {entry.depth}", style("dim"))]]
        message = f"{e.module}: {self.shorten(event_message(e))}"
        for number, part in enumerate(_wrap(message, width)):
            if number == 0:
                lines.append([Segment(e.module, style("bold")), Segment(part[len(e.module):])])
            else:
                lines.append([Segment(part)])
        if entry.index == paused_index:
            lines.append([Segment("▶ the engine is stopped here", style("bold yellow"))])
        if bp_numbers:
            lines.append([Segment(f"● breakpoint {', '.join(map(str, bp_numbers))} stops at this event",
                                  style("red"))])
        fields = event_fields(e)
        key_width = max((len(key) for key, _ in fields), default=0)
        value_width = max(width - key_width - 1, 8)
        for key, value in fields:
            for number, part in enumerate(_wrap(self.shorten(value), value_width)):
                label = key if number == 0 else ""
                lines.append([Segment(f"{label:<{key_width}} ", style("dim")), Segment(part)])
        return lines

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
