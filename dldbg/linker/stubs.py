"""Lazy-binding stubs made of wasm, so that wasm exceptions pass through them.

A function import that nothing defines when its module is instantiated gets a stub that binds
on its first call (emscripten's lazy `stubs` in libdylink.js; LazyStub).  A stub written in
Python would stop a wasm exception (C++ `throw`, `longjmp` with wasm EH): wasmtime turns an
exception leaving a wasm frame into a host error.  So each stub is a tiny wasm function that
calls its target through a slot of a table of its own: the first call finds the slot empty and
calls the host to bind it (which may raise UnresolvedCallError), every later call goes straight
to the target with no Python frame in between.  One trampoline module is compiled per function
type; each stub is one instance of it (its slot number is an immutable global).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import wasmtime

from ..wasm.types import FuncType
from .module import LazyStub

if TYPE_CHECKING:
    from .engine import Engine

#: the trampolines' module name in wasm backtraces (left out of the frames dldbg shows)
MODULE_NAME = "dldbg-lazy-stub"


def _wat(ftype: FuncType) -> str:
    params = " ".join(ftype.params)
    results = " ".join(ftype.results)
    sig = (f"(param {params})" if params else "") + (f" (result {results})" if results else "")
    args = " ".join(f"(local.get {i})" for i in range(len(ftype.params)))
    return f"""(module ${MODULE_NAME}
  (type $sig (func {sig}))
  (import "stub" "bind" (func $bind (param i32)))
  (import "stub" "table" (table $slots 0 funcref))
  (import "stub" "slot" (global $slot i32))
  (func $lazy_stub (export "call") (type $sig)
    (if (ref.is_null (table.get $slots (global.get $slot)))
      (then (call $bind (global.get $slot))))
    (call_indirect $slots (type $sig) {args} (global.get $slot))))"""


class StubFactory:
    """Makes the stubs of one engine: `make(stub)` returns the wasmtime.Func to import."""

    def __init__(self, engine: "Engine"):
        self.engine = engine
        store = engine.store
        self.table = wasmtime.Table(store, wasmtime.TableType(wasmtime.ValType.funcref(), wasmtime.Limits(0, None)), None)
        self.stubs: list[LazyStub] = []
        self._modules: dict[FuncType, wasmtime.Module] = {}
        self._bind_func = wasmtime.Func(store, wasmtime.FuncType([wasmtime.ValType.i32()], []), self._bind,
                                        access_caller=True)

    def make(self, stub: LazyStub) -> wasmtime.Func:
        store = self.engine.store
        slot = self.table.grow(store, 1, None)
        self.stubs.append(stub)
        module = self._module(stub.func_type)
        index = wasmtime.Global(store, wasmtime.GlobalType(wasmtime.ValType.i32(), False), wasmtime.Val.i32(slot))
        instance = wasmtime.Instance(store, module, [self._bind_func, self.table, index])
        return instance.exports(store)["call"]

    def _module(self, ftype: FuncType) -> wasmtime.Module:
        module = self._modules.get(ftype)
        if module is None:
            binary = wasmtime.wat2wasm(_wat(ftype))
            module, _source, _seconds = self.engine.cache.get(bytes(binary), hashlib.sha256(binary).hexdigest())
            self._modules[ftype] = module
        return module

    def _bind(self, caller, slot: int) -> None:
        """The first call of stub `slot`: bind it (Engine.bind_stub raises UnresolvedCallError or
        CallError when nothing fits) and put the target in its slot."""
        stub = self.stubs[slot]
        target = stub.target or self.engine.bind_stub(stub, raise_missing=True)
        self.table.set(caller, slot, target)

