"""What a relocation pass changed in a module's memory region, at a cost that scales with what
changed rather than with the region.

A region is compared in 64 KiB chunks (C-speed `bytes` comparisons); only chunks that differ are
compared in 256-byte blocks, and only differing blocks word by word.  A snapshot keeps only the
chunks that are not all zero, so the `.bss` of a 1 GiB region costs nothing to remember.
Words are 4 bytes, little-endian, at offsets 0, 4, 8, ... from the region's base (the layout of
`reloc.apply` events); a trailing partial word is not compared.
"""

from __future__ import annotations

from typing import Callable

CHUNK = 1 << 16
BLOCK = 256
_ZERO = bytes(CHUNK)

Reader = Callable[[int, int], bytes]


class Snapshot:
    """The bytes of [base, base + size), with all-zero chunks left out.

    :ivar chunks: chunk offset (from base) -> its bytes, for chunks that are not all zero.
    :ivar watched: offsets of the chunks compared (None: every chunk of the region).
    """

    def __init__(self, base: int, size: int, chunks: dict[int, bytes] | None = None, watched=None):
        self.base, self.size = base, size
        self.chunks: dict[int, bytes] = chunks or {}
        self.watched: list[int] | None = watched

    def _offsets(self):
        return self.watched if self.watched is not None else range(0, self.size, CHUNK)

    @classmethod
    def take(cls, read: Reader, base: int, size: int, ranges=None) -> "Snapshot":
        """Read the region through `read(address, length)`; only the chunks that overlap the
        `(start, end)` offset ranges when `ranges` is given (the data segments that relocations
        write into), so that a large `.bss` is neither read nor compared."""
        snap = cls(base, size, watched=_chunks_of(ranges, size) if ranges is not None else None)
        for off in snap._offsets():
            data = read(base + off, min(CHUNK, size - off))
            if data != _ZERO[: len(data)]:
                snap.chunks[off] = bytes(data)
        return snap

    @classmethod
    def from_writes(cls, base: int, size: int, writes, ranges=None) -> "Snapshot":
        """A zeroed region with `(offset from base, bytes)` writes applied in order (what the
        module's active data segments alone would leave); writes outside the region are ignored.
        Only chunks overlapping `ranges` are compared later, when given."""
        chunks: dict[int, bytearray] = {}
        for start, data in writes:
            if start < 0 or start + len(data) > size:
                continue
            pos = 0
            while pos < len(data):
                at = start + pos
                chunk_off = at - at % CHUNK
                chunk = chunks.get(chunk_off)
                if chunk is None:
                    chunk = chunks[chunk_off] = bytearray(min(CHUNK, size - chunk_off))
                n = min(len(data) - pos, chunk_off + len(chunk) - at)
                chunk[at - chunk_off : at - chunk_off + n] = data[pos : pos + n]
                pos += n
        watched = _chunks_of(ranges, size) if ranges is not None else None
        return cls(base, size, {off: bytes(c) for off, c in chunks.items() if any(c)}, watched)

    def word_changes(self, read: Reader) -> tuple[tuple[int, int, int], ...]:
        """(address, old word, new word) for every 4-byte word that now differs, read through
        `read(address, length)`."""
        changes: list[tuple[int, int, int]] = []
        usable = self.size - self.size % 4
        for off in self._offsets():
            length = min(CHUNK, usable - off)
            if length <= 0:
                continue
            new = read(self.base + off, length)
            old = self.chunks.get(off)
            old = _ZERO[:length] if old is None else old[:length]
            if new != old:
                _block_changes(old, new, self.base + off, changes)
        return tuple(changes)


def _block_changes(old: bytes, new: bytes, address: int, out: list) -> None:
    for start in range(0, len(new), BLOCK):
        a, b = old[start : start + BLOCK], new[start : start + BLOCK]
        if a == b:
            continue
        for off in range(0, len(b) - 3, 4):
            before, after = a[off : off + 4], b[off : off + 4]
            if before != after:
                out.append((address + start + off, int.from_bytes(before, "little"), int.from_bytes(after, "little")))


def _chunks_of(ranges, size: int) -> list[int]:
    """Sorted offsets of the chunks that overlap any `(start, end)` range within [0, size)."""
    offsets = set()
    for start, end in ranges:
        start, end = max(start, 0), min(end, size)
        if end > start:
            offsets.update(range(start - start % CHUNK, end, CHUNK))
    return sorted(offsets)
