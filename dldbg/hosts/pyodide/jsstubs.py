"""The JavaScript functions of Pyodide's glue, as wasm functions that trap naming them.

Every function is in one wasm module (`emscripten_unimplemented`), named `env.NAME`, so a trap's
innermost frame says which JavaScript function was wanted.  While the main module's constructors
run, the stubs return zero (or a null reference) instead and count the call: the constructors of
Pyodide's main call a few JavaScript functions (hiwire's deduplication map, for one) that exist
only to serve Python later; dldbg does not run Python, so their results are never used.  After
the constructors, the module's global `lenient` is 0 and every call traps.
"""

from __future__ import annotations

import hashlib
import re

import wasmtime

from ...wasm.types import FuncType

MODULE = "emscripten_unimplemented"
_ZERO = {"i32": "i32.const 0", "i64": "i64.const 0", "f32": "f32.const 0", "f64": "f64.const 0",
         "v128": "v128.const i64x2 0 0", "externref": "ref.null extern", "funcref": "ref.null func",
         "exnref": "ref.null exn"}


def _ident(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9!#$%&'*+\-./:<=>?@\\^_`|~]", "_", text)


class JsStubs:
    """Makes and keeps the stubs of one engine.

    :ivar lenient: a mutable i32 global; 1: stubs return zero and count the call, 0: they trap.
    :ivar calls: `env.NAME` -> how many times it was called while lenient.
    """

    def __init__(self, engine):
        self.engine = engine
        self.lenient = wasmtime.Global(engine.store, wasmtime.GlobalType(wasmtime.ValType.i32(), True), wasmtime.Val.i32(0))
        self.calls: dict[str, int] = {}
        self._names: list[str] = []
        self._note = wasmtime.Func(engine.store, wasmtime.FuncType([wasmtime.ValType.i32()], []), self._count)
        self._funcs: dict[tuple, wasmtime.Func] = {}

    def _count(self, index: int) -> None:
        name = self._names[index]
        self.calls[name] = self.calls.get(name, 0) + 1

    def get(self, module: str, name: str, ftype: FuncType) -> wasmtime.Func:
        key = (module, name, ftype)
        if key not in self._funcs:
            self.make([key])
        return self._funcs[key]

    def make(self, keys: list[tuple[str, str, FuncType]]) -> None:
        """Stubs for (import module, name, type) keys, in one new wasm module."""
        keys = [k for k in dict.fromkeys(keys) if k not in self._funcs]
        if not keys:
            return
        lines = [f"(module ${MODULE}", '  (import "host" "lenient" (global $lenient (mut i32)))',
                 '  (import "host" "note" (func $note (param i32)))']
        for index, (module, name, ftype) in enumerate(keys):
            params = f" (param {' '.join(ftype.params)})" if ftype.params else ""
            results = f" (result {' '.join(ftype.results)})" if ftype.results else ""
            zeros = " ".join(_ZERO.get(r, "unreachable") for r in ftype.results)
            lines.append(f'  (func ${_ident(f"{module}.{name}")} (export "{index}"){params}{results}'
                         f" global.get $lenient if i32.const {len(self._names) + index} call $note {zeros} return end"
                         " unreachable)")
        lines.append(")")
        binary = wasmtime.wat2wasm("\n".join(lines))
        module_, _source, _seconds = self.engine.cache.get(bytes(binary), hashlib.sha256(binary).hexdigest())
        instance = wasmtime.Instance(self.engine.store, module_, [self.lenient, self._note])
        exports = instance.exports(self.engine.store)
        self._names += [f"{m}.{n}" for m, n, _ in keys]
        for index, key in enumerate(keys):
            self._funcs[key] = exports[str(index)]

    def set_lenient(self, on: bool) -> None:
        self.lenient.set_value(self.engine.store, wasmtime.Val.i32(1 if on else 0))
