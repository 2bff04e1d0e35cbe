"""The shared linear memory: one interface over wasmtime's Memory and SharedMemory.

Modules built with threads (`--shared-memory`) import a shared memory; everything else a plain
one.  Addresses and lengths are bytes; sizes and growth are pages.
"""

from __future__ import annotations

import ctypes
import mmap
import sys

import wasmtime

from ..errors import DldbgError
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
        #: how many times `write` has written (a new memory is all zeros: the loader does not
        #: zero the first module's region of a memory it made and nothing has written since)
        self.writes = 0
        #: the arguments of the C API's `wasmtime_memory_data` and `wasmtime_memory_data_size`
        #: for a plain memory (called without wasmtime-py's wrappers, see `_c_function`)
        self._c_args = None
        if not shared and _DATA is not None and hasattr(self.extern, "_memory") and hasattr(store, "_context"):
            self._c_args = (store._context(), ctypes.byref(self.extern._memory))

    @property
    def pages(self) -> int:
        if self._c_args is not None:  # (a memory made here has 64 KiB pages)
            return _DATA_SIZE(*self._c_args) >> 16
        return self.extern.size() if self.shared else self.extern.size(self.store)

    @property
    def data_len(self) -> int:
        if self._c_args is not None:
            return _DATA_SIZE(*self._c_args)
        return self.extern.data_len() if self.shared else self.extern.data_len(self.store)

    def grow(self, pages: int) -> int:
        """Grow by `pages`; return the old size in pages.  Raises wasmtime.WasmtimeError."""
        return self.extern.grow(pages) if self.shared else self.extern.grow(self.store, pages)

    def _base(self, address: int, size: int) -> int:
        """The host address of `address`; raises DldbgError unless [address, address + size) is
        inside the memory (ctypes does not check: a bad range would crash the process)."""
        length = self.data_len
        if address < 0 or size < 0 or address + size > length:
            raise DldbgError(f"memory range [{address:#x}, {address + size:#x}) is outside linear memory "
                             f"({length:#x} bytes)")
        if self._c_args is not None:
            return _DATA(*self._c_args) + address
        ptr = self.extern.data_ptr() if self.shared else self.extern.data_ptr(self.store)
        return ctypes.addressof(ptr.contents) + address

    def read(self, address: int, size: int) -> bytes:
        """`size` bytes at `address`.  Raises DldbgError outside the memory."""
        return ctypes.string_at(self._base(address, size), size)

    def write(self, address: int, data: bytes) -> None:
        """Write `data` at `address`.  Raises DldbgError outside the memory."""
        self.writes += 1
        ctypes.memmove(self._base(address, len(data)), data if isinstance(data, bytes) else bytes(data), len(data))

    def zero(self, address: int, size: int) -> None:
        """Zero `size` bytes at `address`.  Raises DldbgError outside the memory.

        Whole host pages of a large range are given back to the kernel instead
        (`madvise(MADV_DONTNEED)`: an anonymous mapping, which wasmtime's memories are, reads as
        zero afterwards), so zeroing a reused 1 GiB region neither takes time nor stays resident.
        """
        start = self._base(address, size)
        end = start + size
        if size >= _MADVISE_FROM and _madvise is not None:
            lo = -(-start // _HOST_PAGE) * _HOST_PAGE
            hi = end // _HOST_PAGE * _HOST_PAGE
            if hi > lo and _madvise(ctypes.c_void_p(lo), ctypes.c_size_t(hi - lo), _MADV_DONTNEED) == 0:
                ctypes.memset(start, 0, lo - start)
                ctypes.memset(hi, 0, end - hi)
                return
        ctypes.memset(start, 0, size)


def _c_function(name: str, restype):
    """wasmtime's C function `name` through a pointer of its own without declared argument
    types (wasmtime-py's checks of its declared pointer types, and its `POINTER(c_ubyte)` cast
    of the data pointer, cost several times the call: every read, write and zeroing of memory
    asks for the data pointer and size); None if wasmtime-py's private names have changed."""
    try:
        from wasmtime import _bindings

        func = _bindings.dll[name]
    except (ImportError, AttributeError):
        return None
    func.restype = restype
    return func


_DATA = _c_function("wasmtime_memory_data", ctypes.c_void_p)
_DATA_SIZE = _c_function("wasmtime_memory_data_size", ctypes.c_size_t)
if _DATA_SIZE is None:
    _DATA = None

_HOST_PAGE = mmap.PAGESIZE
_MADVISE_FROM = 1 << 20
_MADV_DONTNEED = 4  # Linux


def _libc_madvise():
    if not sys.platform.startswith("linux"):
        return None
    try:
        func = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    func.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    func.restype = ctypes.c_int
    return func


_madvise = _libc_madvise()
