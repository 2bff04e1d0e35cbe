"""What ends a program that dldbg cannot take further, as real wasm traps with backtraces.

- An import the host does not implement is bound to a function of the wasm module
  `emscripten_unimplemented` that executes `unreachable`: the trap's innermost frame is
  `emscripten_unimplemented!env.NAME`, the next ones the program's (name section), and the
  host explains it as `emscripten import env.NAME is not implemented`.
- `abort()` and `__assert_fail` run their JS-library code (which prints `Aborted(...)`) and
  then `unreachable` in the module `emscripten_abort`, so an abort has the program's backtrace.
- For the uncaught-exception report, wasmtime's trap messages are put in V8's words.
"""

from __future__ import annotations

import re

import wasmtime

from ...linker.wasmtypes import functype
from ...wasm.types import FuncType

STUB_MODULE = "emscripten_unimplemented"
ABORT_MODULE = "emscripten_abort"
#: JS-library functions that always abort: they end in a wasm trap, for the backtrace
ABORTING = ("abort", "__assert_fail")
#: imports that would run JavaScript the program carries (EM_ASM, emscripten_run_script)
JAVASCRIPT_IMPORTS = {
    "emscripten_asm_const_int": "EM_ASM code is JavaScript, which dldbg does not run",
    "emscripten_asm_const_double": "EM_ASM code is JavaScript, which dldbg does not run",
    "emscripten_asm_const_ptr": "EM_ASM code is JavaScript, which dldbg does not run",
    "emscripten_asm_const_int_sync_on_main_thread": "EM_ASM code is JavaScript, which dldbg does not run",
    "emscripten_run_script": "the script is JavaScript, which dldbg does not run",
    "emscripten_run_script_int": "the script is JavaScript, which dldbg does not run",
    "emscripten_run_script_string": "the script is JavaScript, which dldbg does not run",
}
#: node's exit code when an exception escapes the glue's uncaughtException handler
UNCAUGHT_EXIT = 7


#: wasmtime's trap messages in the words of V8 (what node prints for the RuntimeError)
V8_TRAPS = (
    ("indirect call to null", "RuntimeError: null function or function signature mismatch"),
    ("uninitialized element", "RuntimeError: null function or function signature mismatch"),
    ("indirect call type mismatch", "RuntimeError: null function or function signature mismatch"),
    ("out of bounds table access", "RuntimeError: table index is out of bounds"),
    ("out of bounds memory access", "RuntimeError: memory access out of bounds"),
    ("unreachable", "RuntimeError: unreachable"),
    ("integer divide by zero", "RuntimeError: divide by zero"),
    ("integer overflow", "RuntimeError: divide result unrepresentable"),
    ("invalid conversion to integer", "RuntimeError: float unrepresentable in integer range"),
    ("call stack exhausted", "RangeError: Maximum call stack size exceeded"),
)


def v8_message(trap: str) -> str:
    """`Type: message` for a trap, as node reports it (wasmtime's text for other traps)."""
    if trap.startswith("wasm trap: "):
        for needle, v8 in V8_TRAPS:
            if needle in trap:
                return v8
    return f"RuntimeError: {trap}"


def stub_message(qualified: str) -> str:
    name = qualified.split(".", 1)[-1]
    reason = JAVASCRIPT_IMPORTS.get(name)
    return f"emscripten import {qualified} is not implemented" + (f" ({reason})" if reason else "")


def _ident(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9!#$%&'*+\-./:<=>?@\\^_`|~]", "_", text)


def stub_functions(engine, keys: list[tuple[str, str, FuncType]]) -> list[wasmtime.Func]:
    """Trapping functions for (import module, name, type) keys, from one new wasm module."""
    if not keys:
        return []
    lines = [f"(module ${STUB_MODULE}"]
    for index, (module, name, ftype) in enumerate(keys):
        params = f" (param {' '.join(ftype.params)})" if ftype.params else ""
        results = f" (result {' '.join(ftype.results)})" if ftype.results else ""
        lines.append(f'  (func ${_ident(f"{module}.{name}")} (export "{index}"){params}{results} unreachable)')
    lines.append(")")
    instance = wasmtime.Instance(engine.store, wasmtime.Module(engine.wasm_engine, "\n".join(lines)), [])
    exports = instance.exports(engine.store)
    return [exports[str(index)] for index in range(len(keys))]


def aborting_function(engine, name: str, ftype: FuncType, record) -> wasmtime.Func:
    """A function of type `ftype` that calls `record(*args)` (a host function), then traps."""
    host = wasmtime.Func(engine.store, functype(ftype), record)
    params = f" (param {' '.join(ftype.params)})" if ftype.params else ""
    gets = " ".join(f"local.get {i}" for i in range(len(ftype.params)))
    text = (f'(module ${ABORT_MODULE} (import "host" "f" (func $f{params}))'
            f' (func ${_ident("env." + name)} (export "f"){params} {gets} call $f unreachable))')
    instance = wasmtime.Instance(engine.store, wasmtime.Module(engine.wasm_engine, text), [host])
    return instance.exports(engine.store)["f"]
