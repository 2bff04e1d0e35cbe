"""Provides RowsPage: rows in aligned columns, in one or more titled sections, with a cursor
(the table, the GOT, symbols, imports and exports, breakpoints).

Column widths are fitted to the cells when rows are loaded (each capped; a longer cell ends in
`…`), so drawing a row is a matter of cropping and padding its cells.  With one untitled section
the column titles stay on top while the rows scroll.  Left and right scroll wide rows sideways.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual.strip import Strip

from ...textsafe import printable
from ..styles import style
from .base import Page

GAP = 2
ZEBRA = "on #1d1d27"
#: columns left/right scroll by
SIDEWAYS = 8


@dataclass(frozen=True)
class Column:
    """A column's title; `cap` is the widest it gets, in cells; numbers align `right`."""

    title: str
    cap: int = 48
    right: bool = False


def safe_cell(cell):
    """A cell with control characters escaped (dldbg.textsafe): a str, or a one-style Text (a
    Text with spans is dldbg's own)."""
    if isinstance(cell, str):
        return printable(cell)
    if isinstance(cell, Text) and not cell.spans:
        safe = printable(cell.plain)
        if safe != cell.plain:
            return Text(safe, cell.style, justify=cell.justify, overflow=cell.overflow, no_wrap=cell.no_wrap)
    return cell


@dataclass
class Section:
    """Rows under column titles; each cell is a str or a rich Text.  `title` is a line above
    the column titles; `empty` is shown when there are no rows."""

    columns: tuple[Column, ...]
    rows: list[tuple] = field(default_factory=list)
    title: Text | None = None
    empty: Text | None = None
    widths: list[int] = field(default_factory=list)

    def fit(self) -> None:
        # names from a module, made safe (dldbg.textsafe) before their widths are measured
        self.rows = [tuple(safe_cell(c) for c in row) for row in self.rows]
        if self.title is not None:
            self.title = safe_cell(self.title)
        widths = [len(c.title) for c in self.columns]
        for row in self.rows:
            for i, cell in enumerate(row):
                n = cell.cell_len if isinstance(cell, Text) else cell_len(cell)
                if n > widths[i]:
                    widths[i] = n
        self.widths = [min(w, c.cap) for w, c in zip(widths, self.columns)]


class RowsPage(Page):
    """Sections of rows; `cursor` is a body line."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[Section] = []
        self.lines: list[tuple] = []  # ("title", Text) | ("header", Section) | ("row", Section, cells, n) | ...
        self.cursor = 0
        self.left = 0  # first column of the rows shown (sideways scroll)
        self._strips: dict[int, Strip] = {}

    def set_sections(self, sections: list[Section]) -> None:
        """Show `sections` (the cursor stays on the same line number)."""
        self.sections = sections
        single = self._single
        lines: list[tuple] = []
        for number, section in enumerate(sections):
            section.fit()
            if number:
                lines.append(("blank",))
            if section.title is not None:
                lines.append(("title", section.title))
            if not single:
                lines.append(("header", section))
            if not section.rows:
                lines.append(("note", section.empty or Text("nothing to show", "dim")))
            lines.extend(("row", section, row, n) for n, row in enumerate(section.rows))
        self.lines = lines
        self.cursor = max(0, min(self.cursor, len(lines) - 1))
        self._strips.clear()
        self.changed()

    @property
    def _single(self) -> bool:
        return len(self.sections) == 1 and self.sections[0].title is None

    @property
    def sticky_lines(self) -> int:
        return 1 if self._single else 0

    # -- drawing -------------------------------------------------------------------------
    def sticky(self, width: int) -> list[Strip]:
        return [self._visible(self._header(self.sections[0]), width)] if self._single else []

    def body_height(self) -> int:
        return len(self.lines)

    def cursor_row(self) -> int | None:
        return self.cursor

    def body_line(self, row: int, width: int) -> Strip:
        if not 0 <= row < len(self.lines):
            return Strip.blank(width)
        strip = self._strips.get(row)
        if strip is None:
            strip = self._strips[row] = self._draw(self.lines[row])
        strip = self._visible(strip, width)
        if row == self.cursor:
            focused = self.host is not None and self.host.has_focus
            strip = strip.apply_style(style("on #2f3f5f" if focused else "on #2a2a3a"))
        return strip

    def _visible(self, strip: Strip, width: int) -> Strip:
        """The part of a whole line that is shown: from `left`, `width` cells."""
        return strip.crop(self.left, self.left + width).extend_cell_length(width)

    def _draw(self, line: tuple) -> Strip:
        """A whole body line (as wide as its cells; `_visible` crops it)."""
        what = line[0]
        if what == "row":
            _, section, cells, n = line
            strip = self._cells(section, cells)
            return strip.apply_style(style(ZEBRA)) if n % 2 else strip
        if what == "header":
            return self._header(line[1])
        if what in ("title", "note"):
            return Strip([Segment(" "), *(line[1].render(self.host.app.console) if self.host is not None else [])])
        return Strip([])

    def _header(self, section: Section) -> Strip:
        cells = tuple(Text(c.title, "bold") for c in section.columns)
        return self._cells(section, cells).apply_style(style("on #262636"))

    def _cells(self, section: Section, cells: tuple) -> Strip:
        segments: list[Segment] = [Segment(" ")]
        last = len(section.columns) - 1
        for i, (column, cell) in enumerate(zip(section.columns, cells)):
            w = section.widths[i]
            segments.extend(self._cell(cell, w, column.right, pad=i != last))
            if i != last:
                segments.append(Segment(" " * GAP))
        return Strip(segments)

    def _cell(self, cell, w: int, right: bool, pad: bool) -> list[Segment]:
        if isinstance(cell, Text):
            text = cell
        else:
            text = Text(cell)
        n = text.cell_len
        if n > w:
            text = text.copy()
            text.truncate(w, overflow="ellipsis")
            n = w
        segments = list(text.render(self.host.app.console)) if self.host is not None else [Segment(text.plain)]
        if n < w and (pad or right):
            filler = Segment(" " * (w - n))
            segments = [filler, *segments] if right else [*segments, filler]
        return segments

    @property
    def text(self) -> str:
        """The page as plain text, a line per body line (for tests and copying)."""
        out = []
        for line in self.lines:
            if line[0] == "row":
                out.append("  ".join(c.plain if isinstance(c, Text) else c for c in line[2]))
            elif line[0] in ("title", "note"):
                out.append(line[1].plain)
            elif line[0] == "header":
                out.append("  ".join(c.title for c in line[1].columns))
            else:
                out.append("")
        return "\n".join(out)

    # -- input ---------------------------------------------------------------------------
    def key(self, action: str, amount: int, page_rows: int) -> bool:
        last = max(len(self.lines) - 1, 0)
        if action == "row":
            self.cursor += amount
        elif action == "page":
            self.cursor += amount * max(page_rows - 1, 1)
        elif action == "home":
            self.cursor = 0
        elif action == "end":
            self.cursor = last
        elif action == "move":
            widest = max((sum(s.widths) + GAP * len(s.widths) for s in self.sections), default=0)
            self.left = max(0, min(self.left + amount * SIDEWAYS, widest - SIDEWAYS))
            return True
        else:
            return False
        self.cursor = max(0, min(self.cursor, last))
        return True

    def click(self, row: int) -> None:
        if 0 <= row < len(self.lines):
            self.cursor = row
