"""The shared linear memory: one interface over wasmtime's Memory and SharedMemory.

Modules built with threads (`--shared-memory`) import a shared memory; everything else a plain
one.  Addresses and lengths are bytes; sizes and growth are pages.
"""

from __future__ import annotations

import ctypes

import wasmtime

from .wasmtime_compat import fix_shared_memory


class LinearMemory:
    """The engine's memory.  `extern` is what instances import."""

    def __init__(self, store: wasmtime.Store, minimum: int, maximum: int | None = None, shared: bool = False):
        self.store = store
        self.shared = shared
        if shared:
            fix_shared_memory()
            limits = wasmtime.Limits(minimum, maximum if maximum is not None else 65536)
            self.extern = wasmtime.SharedMemory(store.engine, wasmtime.MemoryType(limits, shared=True))
        else:
            self.extern = wasmtime.Memory(store, wasmtime.MemoryType(wasmtime.Limits(minimum, maximum)))

    @property
    def pages(self) -> int:
        return self.extern.size() if self.shared else self.extern.size(self.store)

    @property
    def data_len(self) -> int:
        return self.extern.data_len() if self.shared else self.extern.data_len(self.store)

    def grow(self, pages: int) -> int:
        """Grow by `pages`; return the old size in pages.  Raises wasmtime.WasmtimeError."""
        return self.extern.grow(pages) if self.shared else self.extern.grow(self.store, pages)

    def read(self, address: int, size: int) -> bytes:
        if self.shared:
            base = ctypes.addressof(self.extern.data_ptr().contents)
            return ctypes.string_at(base + address, size)
        return bytes(self.extern.read(self.store, address, address + size))

    def write(self, address: int, data: bytes) -> None:
        if self.shared:
            base = ctypes.addressof(self.extern.data_ptr().contents)
            ctypes.memmove(base + address, data, len(data))
        else:
            self.extern.write(self.store, data, address)
