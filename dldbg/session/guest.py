"""Guest memory helpers: data copied into linear memory.

Data copied in (a `call` string argument, a `dlerror` message) goes to memory from the
program's own `malloc` when the global scope has one (`malloc: (i32) -> i32`, a main program's
or a side module's), else to the host heap (the standalone host's allocator), so the guest can
keep the pointer.  Addresses and sizes are bytes.
"""

from __future__ import annotations

from ..errors import CallError
from ..wasm.types import FuncType

MALLOC_TYPE = FuncType(("i32",), ("i32",))


def allocate(engine, size: int) -> tuple[int, str]:
    """`size` bytes of guest memory; returns (address, who allocated it: `malloc` or the host
    heap).  Raises CallError when malloc fails or returns NULL."""
    sym = engine.global_scope.lookup("malloc")
    if sym is not None and sym.kind == "func" and sym.func_type == MALLOC_TYPE:
        address = engine.call_func(sym.func, "malloc", [size])
        if not address:
            raise CallError(f"malloc({size}) returned NULL")
        return address & 0xFFFFFFFF, f"malloc ({sym.module})"
    if engine.allocator is None:
        engine.ensure_memory()
    return engine.allocator.allocate(size, 8), "host heap"


def copy_in(engine, data: bytes) -> tuple[int, str]:
    """Copy `data` into fresh guest memory; returns (address, allocator)."""
    address, how = allocate(engine, max(len(data), 1))
    engine.write_memory(address, data)
    return address, how
