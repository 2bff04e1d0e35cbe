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
    """

    def __init__(self, base: int, size: int, chunks: dict[int, bytes] | None = None):
        self.base, self.size = base, size
        self.chunks: dict[int, bytes] = chunks or {}

    @classmethod
    def take(cls, read: Reader, base: int, size: int) -> "Snapshot":
        """Read the region through `read(address, length)`."""
        snap = cls(base, size)
        for off in range(0, size, CHUNK):
            data = read(base + off, min(CHUNK, size - off))
            if data != _ZERO[: len(data)]:
                snap.chunks[off] = bytes(data)
        return snap

    @classmethod
    def from_writes(cls, base: int, size: int, writes) -> "Snapshot":
        """A zeroed region with `(offset from base, bytes)` writes applied in order (what the
        module's active data segments alone would leave); writes outside the region are ignored."""
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
        return cls(base, size, {off: bytes(c) for off, c in chunks.items() if any(c)})

    def word_changes(self, read: Reader) -> tuple[tuple[int, int, int], ...]:
        """(address, old word, new word) for every 4-byte word that now differs, read through
        `read(address, length)`."""
        changes: list[tuple[int, int, int]] = []
        usable = self.size - self.size % 4
        for off in range(0, usable, CHUNK):
            length = min(CHUNK, usable - off)
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
