"""Provides MemoryPage: linear memory as a hex dump, each module's region in its own colour.

Virtualised (16 bytes a row, 8 when the pane is narrow; only the shown rows are drawn), so a
256 MiB memory scrolls like a small one.  It never touches wasmtime: rows it has no bytes for
are drawn as `··` and it asks (NeedBytes, posted by the Inspector) for the 4 KiB chunks around
them; the app reads them on the engine's thread and hands them back with `put_bytes`.  The
line on top says where the selected byte is (its region and offset) and which colour is whose;
the selected byte (from `goto`, or moved with the arrows) is highlighted.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.strip import Strip

from ..messages import NeedBytes
from ..model import KIND_COLOURS, printable, region_at, region_colours
from ..styles import style
from .base import Page

CHUNK = 4096
WIDE = 16 * 4 + 14  # the width a 16-byte row needs (with its characters)
#: chunks of the previous state kept to draw until the new bytes arrive (no flicker)
STALE_CHUNKS = 64


class MemoryPage(Page):
    """A hex dump of linear memory; `address` is the selected byte."""

    name = "memory"
    sticky_lines = 1

    def __init__(self) -> None:
        super().__init__()
        self.memory_size = 0
        self.regions: tuple = ()
        self.colours: dict[str, str] = {}
        self.chunks: dict[int, bytes] = {}
        self.stale: dict[int, bytes] = {}
        self.wanted: set[int] = set()
        self.generation = 0
        self.address = 0
        #: bytes per row: 16, or 8 when the pane is narrower than a 16-byte row
        self.per_row = 16
        self._rows = 1  # body rows shown (from `top`)

    # -- data --------------------------------------------------------------------------
    def set_memory(self, memory_size: int, regions: tuple, generation: int) -> None:
        """A new state (`memory_size` in bytes): the memory may have changed, cached bytes are
        dropped."""
        self.memory_size = memory_size
        self.regions = regions
        self.colours = region_colours(regions)
        self.generation = generation
        self.stale = {**self.stale, **self.chunks} if len(self.stale) < STALE_CHUNKS else dict(self.chunks)
        self.chunks = {}
        self.wanted.clear()
        if self.address >= memory_size:
            self.address = max(memory_size - 1, 0)
        self._request_visible()
        self._prefetch_ends()
        self.changed()

    def put_bytes(self, start: int, data: bytes, generation: int) -> None:
        """Bytes read from `start` for the state `generation` (older ones are dropped)."""
        if generation != self.generation:
            return
        for offset in range(0, len(data), CHUNK):
            chunk = (start + offset) // CHUNK
            self.chunks[chunk] = data[offset: offset + CHUNK]
            self.wanted.discard(chunk)
        top, rows = self.top, self._rows
        if start < (top + rows) * self.per_row and start + len(data) > top * self.per_row:
            self.changed()  # bytes read ahead repaint nothing

    @property
    def rows(self) -> int:
        return (self.memory_size + self.per_row - 1) // self.per_row

    def goto(self, address: int) -> None:
        """Select `address` and scroll it to the top third of the view."""
        if not self.memory_size:
            return
        self.address = max(0, min(address, self.memory_size - 1))
        row = self.address // self.per_row
        top = max(row - self._rows // 3, 0)
        if self.host is not None:
            self.host.scroll_page(self, top)
        else:
            self.top = top
        self.changed()

    # -- the Page interface ----------------------------------------------------------------
    def body_height(self) -> int:
        return self.rows

    def cursor_row(self) -> int | None:
        return self.address // self.per_row if self.memory_size else None

    def key(self, action: str, amount: int, page_rows: int) -> bool:
        if not self.memory_size:
            return True
        if action == "move":
            address = self.address + amount
        elif action == "row":
            address = self.address + amount * self.per_row
        elif action == "page":
            address = self.address + amount * max(page_rows - 1, 1) * self.per_row
        elif action == "home":
            address = 0
        elif action == "end":
            address = self.memory_size - 1
        else:
            return False
        self.address = max(0, min(address, self.memory_size - 1))
        return True

    def click(self, row: int) -> None:
        if 0 <= row < self.rows:
            self.address = row * self.per_row

    def resized(self, width: int, height: int) -> None:
        per_row = 16 if width >= WIDE else 8
        if per_row != self.per_row:
            self.per_row = per_row
            self.changed()
            self.goto(self.address)

    def scrolled(self, top: int, rows: int) -> None:
        self._rows = max(rows, 1)
        self._request_visible()

    # -- bytes ---------------------------------------------------------------------------
    def _request_visible(self) -> None:
        """Ask for the chunks of the shown rows (and the next one) that are not cached."""
        if not self.memory_size:
            return
        top, height = self.top, self._rows
        first = top * self.per_row // CHUNK
        last = min((top + height) * self.per_row + CHUNK, self.memory_size - 1) // CHUNK
        missing = [c for c in range(first, last + 1) if c not in self.chunks and c not in self.wanted]
        if not missing:
            return
        self.wanted.update(missing)
        start = missing[0] * CHUNK
        self._ask(start, min((missing[-1] + 1) * CHUNK, self.memory_size) - start)

    def _prefetch_ends(self) -> None:
        """Read the first and the last chunk ahead of time: home and end then repaint once."""
        for chunk in (0, (self.memory_size - 1) // CHUNK):
            if self.memory_size and chunk not in self.chunks and chunk not in self.wanted:
                self.wanted.add(chunk)
                start = chunk * CHUNK
                self._ask(start, min(CHUNK, self.memory_size - start))

    def _ask(self, start: int, size: int) -> None:
        if self.host is not None:
            self.host.post_message(NeedBytes(start, size, self.generation))

    # -- drawing -------------------------------------------------------------------------
    def sticky(self, width: int) -> list[Strip]:
        segments = [Segment(" memory ", style("bold")), Segment(f"{self.memory_size:#x} bytes ", style("dim"))]
        if self.memory_size:
            region = region_at(self.regions, self.address)
            where = f"{region.owner} ({region.kind}+{self.address - region.start:#x})" if region else "no region"
            segments.append(Segment(f"at {self.address:#x} ", style("bold")))
            segments.append(Segment(f"{where}  ", style("italic")))
        for owner, colour in self.colours.items():
            segments.append(Segment("■ ", style(colour)))
            segments.append(Segment(owner + " ", style("")))
        for kind in ("stack", "heap"):
            segments.append(Segment("■ ", style(KIND_COLOURS[kind])))
            segments.append(Segment(kind + " ", style("")))
        return [Strip(segments).crop(0, width).extend_cell_length(width).apply_style(style("on #1c1c2c"))]

    def body_line(self, row: int, width: int) -> Strip:
        if not 0 <= row < self.rows:
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
        segments = [Segment(f"{address:#010x}  ", style("bold" if selected_row else "dim"))]
        if data is None:
            dots = " ".join(["··"] * 8)
            segments.append(Segment(dots + ("  " + dots if per_row == 16 else ""), style("#5c5c5c")))
            return Strip(segments).crop(0, width).extend_cell_length(width)
        text = []
        # one style per byte: regions start and end anywhere
        for i in range(per_row):
            if i == 8:
                segments.append(Segment(" "))
            if i >= len(data):
                segments.append(Segment("   "))
                text.append(Segment(" "))
                continue
            at = address + i
            byte_style = self._byte_style(at)
            value = data[i]
            cell_style = byte_style if value else f"{byte_style} dim" if byte_style else "dim"
            if at == self.address:
                cell_style = "bold black on #ffd75f"
            segments.append(Segment(f"{value:02x}", style(cell_style)))
            segments.append(Segment(" "))
            text.append(Segment(printable(value), style(cell_style)))
        segments.append(Segment(" "))
        segments.extend(text)
        region = region_at(self.regions, address)
        if region is not None and address <= region.start < address + per_row:
            segments.append(Segment(f"  ◀ {region.owner} ({region.kind})", style("italic")))
        return Strip(segments).crop(0, width).extend_cell_length(width)
