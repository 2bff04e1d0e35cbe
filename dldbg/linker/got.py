"""The Global Offset Table: one mutable i32 global per symbol, shared by every module.

A module's `GOT.mem.X` and `GOT.func.X` imports both receive the entry for `X` (emscripten's
GOT proxy serves both namespaces from one table, libdylink.js `GOTHandler`).  A GOT.mem value
is an absolute address; a GOT.func value is a table slot.  An entry starts at
`UNDEFINED_ADDR` (-1) until something defines the symbol, so "unresolved" and "NULL" differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import wasmtime

from .capi import I32Globals, as_global

UNDEFINED_ADDR = -1


@dataclass(slots=True)
class GotEntry:
    """:ivar handle: the entry's wasmtime global as `capi.I32Globals` made it (what an import of
        it is given); `glob` is it as a `wasmtime.Global`.
    :ivar required: some importer imports the symbol non-weakly (it may not stay -1 or become 0)."""

    symbol: str
    got: str
    handle: object
    required: bool = False
    provider: str | None = None
    importers: list[str] = field(default_factory=list)

    @property
    def glob(self) -> wasmtime.Global:
        return as_global(self.handle)


class GlobalOffsetTable:
    def __init__(self, store: wasmtime.Store):
        self.store = store
        self.entries: dict[str, GotEntry] = {}
        #: the entries' wasmtime globals, made and read through the C API (one per symbol)
        self._globals = I32Globals(store)

    def get(self, symbol: str) -> GotEntry | None:
        return self.entries.get(symbol)

    def create(self, symbol: str, got: str, value: int = UNDEFINED_ADDR, provider: str | None = None) -> GotEntry:
        if not 0 <= value < 0x80000000:  # to_i32 without its call for the usual address or slot
            value = to_i32(value)
        entry = GotEntry(symbol, got, self._globals.new(value), False, provider)
        self.entries[symbol] = entry
        return entry

    def value(self, symbol: str) -> int:
        return self._globals.get(self.entries[symbol].handle)

    def values(self, symbols):
        """(symbol, value) for each of `symbols` (entries that exist), each value read when the
        iteration reaches it, as `value` would read it then."""
        entries = self.entries
        return zip(symbols, self._globals.each(entries[symbol].handle for symbol in symbols))

    def set(self, symbol: str, value: int, provider: str | None) -> int:
        """Set the entry's value; returns the old value."""
        entry = self.entries[symbol]
        old = self._globals.get(entry.handle)
        self._globals.set(entry.handle, to_i32(value))
        entry.provider = provider
        return old

    def remove(self, symbol: str) -> None:
        self.entries.pop(symbol, None)

    def unresolved(self) -> list[GotEntry]:
        get = self._globals.get
        return [e for e in self.entries.values() if get(e.handle) == UNDEFINED_ADDR]


def to_i32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >> 31 else value
