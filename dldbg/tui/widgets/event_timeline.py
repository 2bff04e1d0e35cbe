"""Provides EventTimeline: the event log as a virtualised list (Textual's line API).

Only the visible rows are rendered, from the log entries by position, so 100k events scroll
as fast as 100.  A filter keeps a list of the matching positions, extended as the log grows.
The row of the event the engine is stopped at is marked `▶`, the failed load's `load.fail`
`✗`, and events an enabled breakpoint stops at `●`.
"""

from __future__ import annotations

from typing import Callable

from rich.segment import Segment
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..model import Shortener, event_message, kind_style
from ..styles import style

#: entries a filter tests between two turns of the event loop
SCAN_SLICE = 4000


class EventTimeline(ScrollView, can_focus=True):
    """The event log, one row per event; `cursor` is a row of the (filtered) list (watch it to
    follow the selected event: `current`)."""

    DEFAULT_CSS = """
    EventTimeline {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
    }
    """

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "choose", "Select", show=False),
    ]

    class Chosen(Message):
        """Enter on `entry`: show it everywhere (memory, the module)."""

        def __init__(self, entry) -> None:
            super().__init__()
            self.entry = entry

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)
    """Position of the cursor in the shown rows."""

    def __init__(self, *, shorten: Shortener | None = None, name=None, id=None, classes=None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.entries: list = []
        self.rows: list[int] | None = None  # filtered positions, None: every event
        self.predicate: Callable | None = None
        self.marked: int | None = None
        self.failed: set[int] = set()
        self.breakpoints: tuple = ()
        self.follow = True
        #: a filter is being applied (its rows are still growing)
        self.scanning = False
        self.shorten = shorten or Shortener()

    # -- data --------------------------------------------------------------------------
    @property
    def count(self) -> int:
        return len(self.rows) if self.rows is not None else len(self.entries)

    def entry_at(self, row: int):
        if not 0 <= row < self.count:
            return None
        return self.entries[self.rows[row] if self.rows is not None else row]

    @property
    def current(self):
        """The LoggedEvent under the cursor, or None."""
        return self.entry_at(self.cursor)

    def extend(self, new_entries: list) -> None:
        """Events appended to the log."""
        if not new_entries:
            return
        at_end = self.follow and self.cursor >= self.count - 1
        start = len(self.entries)
        self.entries.extend(new_entries)
        if self.rows is not None and self.predicate is not None and not self.scanning:
            pred = self.predicate
            self.rows.extend(i for i in range(start, len(self.entries)) if pred(self.entries[i]))
        self._resize()
        if at_end:
            self.cursor = max(self.count - 1, 0)
        self.refresh()

    def set_filter(self, predicate: Callable | None) -> None:
        """Show only entries for which `predicate(entry)` holds (None: all).  The log is
        scanned in slices between which the app goes on handling keys (`scanning` meanwhile);
        the cursor stays on the same event when it is still shown."""
        keep = self.current
        self.predicate = predicate
        if predicate is None:
            self.scanning = False
            self.rows = None
            self._resize()
            self._place(keep)
            return
        self.rows = []
        self.scanning = True
        self._resize()
        self.refresh()
        self.run_worker(self._scan(predicate, keep), exclusive=True, group="filter")

    async def _scan(self, predicate: Callable, keep) -> None:
        import asyncio

        i, rows = 0, self.rows
        while i < len(self.entries):
            stop = min(i + SCAN_SLICE, len(self.entries))
            entries = self.entries
            rows.extend(j for j in range(i, stop) if predicate(entries[j]))
            i = stop
            if self.predicate is not predicate:
                return
            self._resize()
            self.refresh()
            await asyncio.sleep(0)
        if self.predicate is predicate:
            self.scanning = False
            self._place(keep)

    def _place(self, keep) -> None:
        row = self.row_of(keep.index) if keep is not None else None
        self.cursor = row if row is not None else max(self.count - 1, 0)
        self.refresh()

    def row_of(self, index: int) -> int | None:
        """The row showing log position `index`, or None when the filter hides it."""
        if self.rows is None:
            return index if 0 <= index < len(self.entries) else None
        import bisect

        at = bisect.bisect_left(self.rows, index)
        return at if at < len(self.rows) and self.rows[at] == index else None

    def show_index(self, index: int) -> None:
        """Move the cursor to log position `index` (or the nearest shown row before it)."""
        row = self.row_of(index)
        if row is None and self.rows is not None:
            import bisect

            row = max(bisect.bisect_right(self.rows, index) - 1, 0)
        if row is not None:
            self.cursor = row

    def set_marks(self, marked: int | None, failed: set[int], breakpoints: tuple) -> None:
        self.marked, self.failed, self.breakpoints = marked, failed, breakpoints
        self.refresh()

    def _resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self.count)

    def on_resize(self) -> None:
        self._resize()
        self._scroll_to_cursor()

    # -- cursor ------------------------------------------------------------------------
    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, self.count - 1)) if self.count else 0

    def watch_cursor(self, value: int) -> None:
        self.follow = value >= self.count - 1
        self._scroll_to_cursor()
        self.refresh()

    def _scroll_to_cursor(self) -> None:
        height = self.scrollable_content_region.height
        if height <= 0:
            return
        top = round(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        self.cursor += delta

    def action_page(self, direction: int) -> None:
        self.cursor += direction * max(self.scrollable_content_region.height - 1, 1)

    def action_jump(self, where: int) -> None:
        self.cursor = 0 if where == 0 else self.count - 1

    def action_choose(self) -> None:
        if self.current is not None:
            self.post_message(self.Chosen(self.current))

    def on_click(self, event) -> None:
        row = round(self.scroll_offset.y) + event.y
        if 0 <= row < self.count:
            self.cursor = row

    # -- rendering ---------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        row = round(self.scroll_offset.y) + y
        entry = self.entry_at(row)
        if entry is None:
            if row == 0 and not self.entries:
                return Strip([Segment(" no events yet: s steps into `run`, : takes commands", style("dim"))]).adjust_cell_length(width)
            return Strip.blank(width)
        return self._row_strip(entry, row == self.cursor, width)

    def _row_strip(self, entry, selected: bool, width: int) -> Strip:
        e = entry.event
        if entry.index == self.marked:
            marker, mstyle = "▶ ", "bold black on yellow"
        elif entry.index in self.failed:
            marker, mstyle = "✗ ", "bold red"
        elif any(bp.enabled and bp.filter.matches(e) for bp in self.breakpoints):
            marker, mstyle = "● ", "bold red"
        else:
            marker, mstyle = "  ", ""
        digits = max(len(str(len(self.entries))), 4)
        indent = "  " * max(entry.depth - 1, 0)
        segments = [
            Segment(marker, style(mstyle)),
            Segment(f"#{entry.index:<{digits}} ", style("dim")),
            Segment(f"{e.stage:<11} ", style("dim")),
            Segment(f"{e.kind:<17} ", style(kind_style(e))),
            Segment(indent + e.module, style("bold")),
            Segment(": " + self.shorten(event_message(e)), style("")),
        ]
        strip = Strip(segments).crop(0, width).extend_cell_length(width)
        if selected:
            strip = strip.apply_style(style("on #2f3f5f" if self.has_focus else "on #2a2a3a"))
        if entry.index == self.marked and not selected:
            strip = strip.apply_style(style("on #3a3a1a"))
        return strip

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
