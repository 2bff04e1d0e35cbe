"""Provides OutputLog: what the commands printed (results, errors, stops, messages, trace
lines) and what the program wrote to stdout and stderr.

Prose wraps at the pane's width; a table (lines with aligned columns: `info got`, `info
modules`) is not wrapped, the pane scrolls sideways instead.  The log keeps what it was given
and lays it out again when its width changes (a zoomed pane, a resized terminal)."""

from __future__ import annotations

import re
from collections import deque

from rich.text import Text
from textual import events
from textual.widgets import RichLog

from ...textsafe import printable
from ..model import Shortener

STYLES = {"echo": "bold #87afff", "result": "", "error": "bold red", "stop": "yellow", "message": "italic",
          "trace": "dim", "warning": "#ffaf5f", "program": "#afd7af"}
MAX_LINES = 5000
#: a column gap: two spaces after something that is not a space
_GAP = re.compile(r"\S  +\S")


def is_table(text: str) -> bool:
    """Two or more lines with column gaps: a table, which wrapping would make unreadable."""
    return sum(1 for line in text.split("\n") if _GAP.search(line)) >= 2


class OutputLog(RichLog):
    """The session's output, newest at the bottom (at most MAX_LINES lines are kept)."""

    DEFAULT_CSS = """
    OutputLog {
        height: 1fr;
        scrollbar-size-vertical: 1;
        scrollbar-size-horizontal: 1;
    }
    """

    def __init__(self, *, shorten: Shortener | None = None, name=None, id=None, classes=None) -> None:
        super().__init__(max_lines=MAX_LINES, wrap=True, markup=False, highlight=False, auto_scroll=True, min_width=20,
                         name=name, id=id, classes=classes)
        self.shorten = shorten or Shortener()
        self.plain: list[str] = []
        #: what was added, (kind, text), to lay out again at another width
        self.items: deque[tuple[str, str]] = deque(maxlen=MAX_LINES)
        self._laid_out_width = 0

    def add(self, kind: str, text: str) -> None:
        """One item of output: `kind` is echo, result, error, stop, message, trace, warning or program."""
        text = printable(self.shorten(text.rstrip("\n")), keep="\n\t")
        self.plain.extend(text.split("\n"))
        del self.plain[:-MAX_LINES]
        self.items.append((kind, text))
        self._write(kind, text)

    def _write(self, kind: str, text: str) -> None:
        if is_table(text):
            self.write(Text(text, STYLES.get(kind, ""), no_wrap=True, overflow="ignore"),
                       width=max(len(line) for line in text.split("\n")), shrink=False)
        else:
            self.write(Text(text, STYLES.get(kind, "")))

    def on_resize(self, event: events.Resize) -> None:
        width = event.size.width
        if self._laid_out_width and width != self._laid_out_width and self.items:
            self.clear()
            for kind, text in self.items:
                self._write(kind, text)
            self.scroll_end(animate=False)
        self._laid_out_width = width
