"""The standalone host's heap: a first-fit allocator over linear memory that it grows itself.

Regions come from `memory.grow` at the memory's *current* end, so memory that wasm code grew
on its own (sbrk, a bundled malloc) is never handed out again.  This is the defect of toywasm's
private bump pointer (peer-loaders §1.5, defect 2) made impossible by construction.
Addresses and sizes are bytes.
"""

from __future__ import annotations

from typing import Callable

from ..wasm.types import WASM_PAGE_SIZE


def align_up(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


class HeapAllocator:
    """First-fit over a sorted free list.

    :param grow: `grow(pages) -> old_size_in_pages`, raising on failure.
    """

    name = "standalone-heap"

    def __init__(self, grow: Callable[[int], int], page_size: int = WASM_PAGE_SIZE):
        self._grow = grow
        self._page_size = page_size
        self._free: list[tuple[int, int]] = []  # (start, end), sorted, coalesced
        self._used: dict[int, tuple[int, int]] = {}  # address -> (block start, block end)

    def add_region(self, start: int, end: int) -> None:
        """Give [start, end) to the allocator."""
        if end > start:
            self._release(start, end)

    def allocate(self, size: int, alignment: int = 16) -> int:
        """Reserve `size` bytes aligned to `alignment` (a power of two); return the address."""
        size = max(size, 1)
        for i, (start, end) in enumerate(self._free):
            addr = align_up(start, alignment)
            if addr + size <= end:
                return self._take(i, addr, size)
        needed = align_up(size + alignment, self._page_size) // self._page_size
        old = self._grow(needed)
        self._release(old * self._page_size, (old + needed) * self._page_size)
        return self.allocate(size, alignment)

    def free(self, addr: int) -> None:
        start, end = self._used.pop(addr)
        self._release(start, end)

    def owns(self, addr: int) -> bool:
        return addr in self._used

    @property
    def blocks(self) -> dict[int, tuple[int, int]]:
        """Live allocations: address -> (block start, block end)."""
        return dict(self._used)

    def _take(self, index: int, addr: int, size: int) -> int:
        start, end = self._free.pop(index)
        block_end = align_up(addr + size, 8)
        if block_end < end:
            self._free.insert(index, (block_end, end))
        if start < addr:
            self._free.insert(index, (start, addr))
        self._used[addr] = (addr, min(block_end, end))
        return addr

    def _release(self, start: int, end: int) -> None:
        self._free.append((start, end))
        self._free.sort()
        merged: list[tuple[int, int]] = []
        for s, e in self._free:
            if merged and s <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
            else:
                merged.append((s, e))
        self._free = merged
