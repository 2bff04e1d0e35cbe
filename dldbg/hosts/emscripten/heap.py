"""Memory for side modules, as emscripten 3.1.6's `getMemory` gives it (library_dylink.js).

Before the runtime is initialised (start-up libraries), memory is bumped off `__heap_base`,
16-byte granular, and the `GOT.mem.__heap_base` entry follows, so that the main module's
sbrk (initialised from `__heap_base` by its constructors, which run after) starts above every
library.  After that, memory comes from the program's own `malloc`.  Either way the request is
`size + alignment` bytes and the address is aligned up (`alignMemory(getMemory(size + align),
align)`, with at least STACK_ALIGN 16), which is what makes module addresses equal to node's.
"""

from __future__ import annotations

from ...errors import LoadError
from .layout import STACK_ALIGN, align_up


class EmscriptenHeap:
    name = "emscripten getMemory"

    def __init__(self, host, heap_base: int):
        self.host = host
        self.heap_base = heap_base
        self._malloced: dict[int, int] = {}  # aligned address -> malloc's pointer

    @property
    def engine(self):
        return self.host.engine

    def allocate(self, size: int, alignment: int = 16) -> int:
        align = max(alignment, STACK_ALIGN)
        request = size + align
        if not self.host.runtime_initialized:
            start = self.heap_base
            end = (start + request + 15) & -16
            if end > self.engine.memory.data_len:
                raise LoadError(self.engine.context, self.engine.stage,
                                "failure to getMemory - memory growth etc. is not supported there, call malloc/sbrk "
                                "directly or increase INITIAL_MEMORY")
            self.heap_base = end
            got = self.engine.got.get("__heap_base")
            if got is not None:
                self.engine.got.set("__heap_base", end, "emscripten getMemory")
            return align_up(start, align)
        ptr = self.host.call("malloc", request) & 0xFFFFFFFF
        if not ptr:
            raise LoadError(self.engine.context, self.engine.stage, f"malloc({request}) returned NULL")
        addr = align_up(ptr, align)
        self._malloced[addr] = ptr
        return addr

    def free(self, addr: int) -> None:
        """Give back a block (a load that failed).  Bump allocations stay used, as in emscripten."""
        ptr = self._malloced.pop(addr, None)
        if ptr is not None and self.host.export("free") is not None:
            self.host.call("free", ptr)
