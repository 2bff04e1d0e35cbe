"""Provides OutputLog: what the commands printed (results, errors, stops, messages, trace
lines) and what the program wrote to stdout and stderr."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import RichLog

from ..model import Shortener

STYLES = {"echo": "bold #87afff", "result": "", "error": "bold red", "stop": "yellow", "message": "italic",
          "trace": "dim", "warning": "#ffaf5f", "program": "#afd7af"}


class OutputLog(RichLog):
    """The session's output, newest at the bottom (at most `max_lines` lines are kept)."""

    DEFAULT_CSS = """
    OutputLog {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, *, shorten: Shortener | None = None, name=None, id=None, classes=None) -> None:
        super().__init__(max_lines=5000, wrap=True, markup=False, highlight=False, auto_scroll=True, min_width=20,
                         name=name, id=id, classes=classes)
        self.shorten = shorten or Shortener()
        self.plain: list[str] = []

    def add(self, kind: str, text: str) -> None:
        """One item of output: `kind` is echo, result, error, stop, message, trace, warning or program."""
        text = self.shorten(text.rstrip("\n"))
        self.plain.extend(text.split("\n"))
        del self.plain[:-5000]
        self.write(Text(text, STYLES.get(kind, "")))
