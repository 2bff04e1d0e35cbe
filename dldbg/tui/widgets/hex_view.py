"""Provides HexView: linear memory as a hex dump, each module's region in its own colour.

The view is virtualised (16 bytes a row, 8 when the pane is narrow; only the visible rows are
rendered), so a 256 MiB memory
scrolls like a small one.  It never touches wasmtime: rows it has no bytes for are drawn as
`··` and it posts `HexView.NeedBytes` for the 4 KiB chunks around them; the app reads them on
the engine's thread and hands them back with `put_bytes`.  The first line says where the
selected byte is (its region and offset) and which colour is whose; the selected byte (from
`goto`, or moved with the arrows) is highlighted.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ..model import KIND_COLOURS, printable, region_at, region_colours

CHUNK = 4096
WIDE = 16 * 4 + 14  # the width a 16-byte row needs (with its characters)


class HexView(ScrollView, can_focus=True):
    """A hex dump of linear memory; `address` is the selected byte."""

    DEFAULT_CSS = """
    HexView {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: scroll;
        scrollbar-size-vertical: 1;
    }
    """

    BINDINGS = [
        Binding("up", "row(-1)", "Up", show=False),
        Binding("down", "row(1)", "Down", show=False),
        Binding("left", "move(-1)", "Left", show=False),
        Binding("right", "move(1)", "Right", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "home", "Start", show=False),
        Binding("end", "end", "End", show=False),
    ]

    class NeedBytes(Message):
        """Bytes `[start, start + size)` of linear memory are wanted (for generation `generation`)."""

        def __init__(self, start: int, size: int, generation: int) -> None:
            super().__init__()
            self.start, self.size, self.generation = start, size, generation

    class Moved(Message):
        """The selected address changed."""

        def __init__(self, address: int) -> None:
            super().__init__()
            self.address = address

    address: reactive[int] = reactive(0, repaint=False)
    """The selected byte."""

    def __init__(self, *, name=None, id=None, classes=None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.memory_size = 0
        self.regions: tuple = ()
        self.colours: dict[str, str] = {}
        self.chunks: dict[int, bytes] = {}
        #: the bytes of the previous state, shown until the new ones arrive (no flicker)
        self.stale: dict[int, bytes] = {}
        self.wanted: set[int] = set()
        self.generation = 0
        #: bytes per row: 16, or 8 when the pane is narrower than a 16-byte row
        self.per_row = 16
        self._styles: dict[str, Style] = {}

    # -- data --------------------------------------------------------------------------
    def set_memory(self, memory_size: int, regions: tuple, generation: int) -> None:
        """A new state: the memory may have changed, cached bytes are dropped."""
        self.memory_size = memory_size
        self.regions = regions
        self.colours = region_colours(regions)
        self.generation = generation
        self.stale = {**self.stale, **self.chunks} if len(self.stale) < 64 else dict(self.chunks)
        self.chunks = {}
        self.wanted.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, self.rows + 1)
        if self.address >= memory_size:
            self.address = max(memory_size - 1, 0)
        self._request_visible()
        self._prefetch_ends()
        self.refresh()

    def put_bytes(self, start: int, data: bytes, generation: int) -> None:
        if generation != self.generation:
            return
        for offset in range(0, len(data), CHUNK):
            chunk = (start + offset) // CHUNK
            self.chunks[chunk] = data[offset: offset + CHUNK]
            self.wanted.discard(chunk)
        top = round(self.scroll_offset.y) * self.per_row
        bottom = top + self.scrollable_content_region.height * self.per_row
        if start < bottom and start + len(data) > top:  # bytes read ahead repaint nothing
            self.refresh()

    @property
    def rows(self) -> int:
        return (self.memory_size + self.per_row - 1) // self.per_row

    def goto(self, address: int) -> None:
        """Select `address` and scroll it to the top third of the view."""
        if not self.memory_size:
            return
        address = max(0, min(address, self.memory_size - 1))
        self.address = address
        row = address // self.per_row
        height = max(self.scrollable_content_region.height - 1, 1)
        self.scroll_to(y=max(row - height // 3, 0), animate=False)
        self.refresh()

    # -- keys --------------------------------------------------------------------------
    def watch_address(self, value: int) -> None:
        row = value // self.per_row
        height = max(self.scrollable_content_region.height - 1, 1)
        top = round(self.scroll_offset.y)
        if row < top:
            self.scroll_to(y=row, animate=False)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False)
        self.refresh()
        self.post_message(self.Moved(value))

    def _set(self, address: int) -> None:
        if self.memory_size:
            self.address = max(0, min(address, self.memory_size - 1))

    def action_move(self, delta: int) -> None:
        self._set(self.address + delta)

    def action_row(self, direction: int) -> None:
        self._set(self.address + direction * self.per_row)

    def action_page(self, direction: int) -> None:
        height = max(self.scrollable_content_region.height - 2, 1)
        self._set(self.address + direction * height * self.per_row)

    def action_home(self) -> None:
        self._set(0)

    def action_end(self) -> None:
        self._set(self.memory_size - 1)

    def on_resize(self) -> None:
        per_row = 16 if self.scrollable_content_region.width >= WIDE else 8
        if per_row != self.per_row:
            self.per_row = per_row
            self.virtual_size = Size(self.scrollable_content_region.width, self.rows + 1)
            self.goto(self.address)
        self.virtual_size = Size(self.scrollable_content_region.width, self.rows + 1)
        self._request_visible()

    # -- rendering ---------------------------------------------------------------------
    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = Style.parse(name) if name else Style()
        return style

    def _request_visible(self) -> None:
        """Ask for the chunks of the visible rows (and the next one) that are not cached."""
        if not self.memory_size:
            return
        top = round(self.scroll_offset.y)
        height = max(self.scrollable_content_region.height, 1)
        first = top * self.per_row // CHUNK
        last = min((top + height) * self.per_row + CHUNK, self.memory_size - 1) // CHUNK
        missing = [c for c in range(first, last + 1) if c not in self.chunks and c not in self.wanted]
        if not missing:
            return
        self.wanted.update(missing)
        start = missing[0] * CHUNK
        size = min((missing[-1] + 1) * CHUNK, self.memory_size) - start
        self.post_message(self.NeedBytes(start, size, self.generation))

    def _prefetch_ends(self) -> None:
        """Read the first and the last chunk ahead of time: home and end then repaint once."""
        for chunk in (0, (self.memory_size - 1) // CHUNK):
            if self.memory_size and chunk not in self.chunks and chunk not in self.wanted:
                self.wanted.add(chunk)
                start = chunk * CHUNK
                self.post_message(self.NeedBytes(start, min(CHUNK, self.memory_size - start), self.generation))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._request_visible()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._legend(width)
        row = round(self.scroll_offset.y) + y - 1
        if row >= self.rows:
            return Strip.blank(width)
        address = row * self.per_row
        chunk = address // CHUNK
        data = self.chunks.get(chunk)
        if data is None:
            data = self.stale.get(chunk)
        if data is not None:
            offset = address - chunk * CHUNK
            data = data[offset: offset + self.per_row]
        return self._row(address, data, width)

    def _legend(self, width: int) -> Strip:
        segments = [Segment(" memory ", self._style("bold")),
                    Segment(f"{self.memory_size:#x} bytes ", self._style("dim"))]
        if self.memory_size:
            region = region_at(self.regions, self.address)
            where = f"{region.owner} ({region.kind}+{self.address - region.start:#x})" if region else "no region"
            segments.append(Segment(f"at {self.address:#x} ", self._style("bold")))
            segments.append(Segment(f"{where}  ", self._style("italic")))
        for owner, colour in self.colours.items():
            segments.append(Segment("■ ", self._style(colour)))
            segments.append(Segment(owner + " ", self._style("")))
        segments.append(Segment("■ ", self._style(KIND_COLOURS["stack"])))
        segments.append(Segment("stack ", self._style("")))
        segments.append(Segment("■ ", self._style(KIND_COLOURS["heap"])))
        segments.append(Segment("heap", self._style("")))
        return Strip(segments).crop(0, width).extend_cell_length(width).apply_style(self._style("on #1c1c2c"))

    def _byte_style(self, address: int) -> str:
        region = region_at(self.regions, address)
        if region is None:
            return "#5c5c5c"
        if region.kind == "data":
            return self.colours.get(region.owner, "")
        return KIND_COLOURS.get(region.kind, "")

    def _row(self, address: int, data: bytes | None, width: int) -> Strip:
        per_row = self.per_row
        selected_row = address <= self.address < address + per_row
        segments = [Segment(f"{address:#010x}  ", self._style("bold" if selected_row else "dim"))]
        if data is None:
            dots = " ".join(["··"] * 8)
            segments.append(Segment(dots + ("  " + dots if per_row == 16 else ""), self._style("#5c5c5c")))
            return Strip(segments).crop(0, width).extend_cell_length(width)
        text = []
        # one style per run of bytes in the same region: regions start and end anywhere
        for i in range(per_row):
            if i == 8:
                segments.append(Segment(" ", self._style("")))
            if i >= len(data):
                segments.append(Segment("   ", self._style("")))
                text.append(Segment(" ", self._style("")))
                continue
            at = address + i
            style = self._byte_style(at)
            value = data[i]
            cell_style = style if value else f"{style} dim" if style else "dim"
            if at == self.address:
                cell_style = "bold black on #ffd75f"
            segments.append(Segment(f"{value:02x}", self._style(cell_style)))
            segments.append(Segment(" ", self._style("")))
            text.append(Segment(printable(value), self._style(cell_style)))
        segments.append(Segment(" ", self._style("")))
        segments.extend(text)
        region = region_at(self.regions, address)
        if region is not None and region.start >= address and region.start < address + per_row:
            segments.append(Segment(f"  ◀ {region.owner} ({region.kind})", self._style("italic")))
        return Strip(segments).crop(0, width).extend_cell_length(width)
