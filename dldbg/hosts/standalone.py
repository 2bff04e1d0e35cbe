"""The standalone host: side modules with no main program.

dldbg itself provides what a main program would: linear memory, the funcref table (slot 0 is
the null function pointer), `__stack_pointer` and a heap.  Layout, in bytes:

    [0, 1024)                      reserved, so no data lives at NULL (emscripten GLOBAL_BASE)
    [1024, 1024 + stack_size)      the C stack, growing down from its top
    [stack top, ...)               the heap: module data, TLS blocks; grown on demand

Nothing else is provided.  A function that a module imports from `env` and no loaded module
defines (libc, say) becomes the linker's lazy stub; a WASI import is the host's interface, which
this host does not implement: it is bound to a host function that fails naming the import when
called (the WASI host, `dldbg.hosts.wasi`, implements them).
"""

from __future__ import annotations

import wasmtime

from ..linker.allocator import HeapAllocator, align_up
from ..linker.functable import FunctionTable
from ..linker.memory import LinearMemory
from ..linker.wasmtypes import functype
from ..errors import CallError

WASI_MODULES = ("wasi_snapshot_preview1", "wasi_unstable")
from ..wasm.types import WASM_PAGE_SIZE

GLOBAL_BASE = 1024
DEFAULT_STACK_SIZE = 1 << 20


class StandaloneHost:
    name = "standalone"

    def __init__(self, stack_size: int = DEFAULT_STACK_SIZE):
        self.stack_size = stack_size
        self.stack_low = GLOBAL_BASE
        self.stack_high = GLOBAL_BASE + stack_size

    def attach(self, engine) -> None:
        store = self._store = engine.store
        self._unimplemented: dict[tuple, wasmtime.Func] = {}
        table = wasmtime.Table(store, wasmtime.TableType(wasmtime.ValType.funcref(), wasmtime.Limits(1, None)), None)
        engine.table = FunctionTable(store, table, engine.table_grown)
        engine.stack_pointer = wasmtime.Global(
            store, wasmtime.GlobalType(wasmtime.ValType.i32(), True), wasmtime.Val.i32(self.stack_high)
        )

    def create_memory(self, engine, limits) -> None:
        """Memory for the stack and a first heap region; shared if the modules need it."""
        heap_start = align_up(self.stack_high, 16)
        pages = align_up(heap_start, WASM_PAGE_SIZE) // WASM_PAGE_SIZE
        shared = bool(limits and limits.shared)
        engine.memory = LinearMemory(engine.store, pages, limits.max if shared else None, shared)
        engine.allocator = HeapAllocator(lambda n: engine.grow_memory(n, "standalone heap"))
        engine.allocator.add_region(heap_start, pages * WASM_PAGE_SIZE)

    def resolve_import(self, module, imp):
        if imp.kind != "func" or imp.module not in WASI_MODULES:
            return None
        ftype = module.wasm.types[imp.desc]
        key = (imp.module, imp.field, ftype)
        if key not in self._unimplemented:
            self._unimplemented[key] = wasmtime.Func(self._store, functype(ftype), _unimplemented(imp.qualified))
        return self._unimplemented[key], "standalone host (not implemented: fails when called)"


def _unimplemented(name: str):
    def call(*_args):
        raise CallError(f"{name} is not implemented by the standalone host (it has no WASI); run the module under a WASI main program")

    return call
