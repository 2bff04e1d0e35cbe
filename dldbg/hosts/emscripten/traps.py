"""What ends a program that dldbg cannot take further, as real wasm traps with backtraces.

- An import the host does not implement is bound to a function of the wasm module
  `emscripten_unimplemented` (generated as a binary and compiled through the compile cache,
  so a warm run does not compile it again) that executes `unreachable`: the trap's innermost frame is
  `emscripten_unimplemented!env.NAME`, the next ones the program's (name section), and the
  host explains it as `emscripten import env.NAME is not implemented`.
- `abort()` and `__assert_fail` run their JS-library code (which prints `Aborted(...)`) and
  then `unreachable` in the module `emscripten_abort`, so an abort has the program's backtrace.
- For the uncaught-exception report, wasmtime's trap messages are put in V8's words.
"""

from __future__ import annotations

import hashlib

import wasmtime

from ...linker.wasmtime_compat import instance_exports
from ...linker.wasmtypes import functype
from ...wasm.binary import encode_custom_section, encode_name, encode_section, encode_uleb
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


_VALTYPE_CODES = {"i32": 0x7F, "i64": 0x7E, "f32": 0x7D, "f64": 0x7C, "v128": 0x7B, "funcref": 0x70, "externref": 0x6F}


def _functype(ftype: FuncType) -> bytes:
    """A type-section entry.  Raises KeyError for a value type without a one-byte code."""
    params = bytes(_VALTYPE_CODES[t] for t in ftype.params)
    results = bytes(_VALTYPE_CODES[t] for t in ftype.results)
    return b"\x60" + encode_uleb(len(params)) + params + encode_uleb(len(results)) + results


def _vec(items: list[bytes]) -> bytes:
    return encode_uleb(len(items)) + b"".join(items)


def _names(module: str, functions: list[str]) -> bytes:
    """A `name` section: the module's name and its functions' names (what trap frames show)."""
    module_names = encode_name(module)
    function_names = _vec([encode_uleb(i) + encode_name(n) for i, n in enumerate(functions)])
    return encode_custom_section("name", b"\x00" + encode_uleb(len(module_names)) + module_names
                                 + b"\x01" + encode_uleb(len(function_names)) + function_names)


def stub_module(keys: list[tuple[str, str, FuncType]]) -> bytes:
    """The wasm module of `stub_functions`: function i (export "i", named `MODULE.NAME`) has
    the type of key i and executes `unreachable`.  Raises KeyError for an unknown value type."""
    types = list(dict.fromkeys(ftype for _m, _n, ftype in keys))
    type_index = {ftype: i for i, ftype in enumerate(types)}
    return b"".join([
        b"\0asm\x01\x00\x00\x00",
        encode_section(1, _vec([_functype(t) for t in types])),
        encode_section(3, _vec([encode_uleb(type_index[ftype]) for _m, _n, ftype in keys])),
        encode_section(7, _vec([encode_name(str(i)) + b"\x00" + encode_uleb(i) for i in range(len(keys))])),
        encode_section(10, _vec([b"\x03\x00\x00\x0b"] * len(keys))),  # no locals; unreachable; end
        _names(STUB_MODULE, [f"{module}.{name}" for module, name, _t in keys]),
    ])


def _instantiate(engine, data: bytes, imports: list) -> wasmtime.Instance:
    """Instantiate a module dldbg generated, its machine code from the compile cache."""
    module, _source, _seconds = engine.cache.get(data, hashlib.sha256(data).hexdigest())
    return wasmtime.Instance(engine.store, module, imports)


def stub_functions(engine, keys: list[tuple[str, str, FuncType]]) -> list[wasmtime.Func]:
    """Trapping functions for (import module, name, type) keys, from one new wasm module.
    Raises KeyError for a value type without a one-byte code."""
    if not keys:
        return []
    instance = _instantiate(engine, stub_module(keys), [])
    names = [str(index) for index in range(len(keys))]
    exports = instance_exports(engine.store, instance, names)
    return [exports[name] for name in names]


def aborting_function(engine, name: str, ftype: FuncType, record) -> wasmtime.Func:
    """A function of type `ftype` that calls `record(*args)` (a host function), then traps."""
    host = wasmtime.Func(engine.store, functype(ftype), record)
    gets = b"".join(b"\x20" + encode_uleb(i) for i in range(len(ftype.params)))  # local.get i
    data = b"".join([
        b"\0asm\x01\x00\x00\x00",
        encode_section(1, _vec([_functype(ftype)])),
        encode_section(2, _vec([encode_name("host") + encode_name("f") + b"\x00\x00"])),
        encode_section(3, _vec([b"\x00"])),
        encode_section(7, _vec([encode_name("f") + b"\x00\x01"])),
        encode_section(10, _vec([encode_uleb(len(gets) + 5) + b"\x00" + gets + b"\x10\x00\x00\x0b"])),  # call 0; unreachable
        _names(ABORT_MODULE, ["host.f", f"env.{name}"]),
    ])
    return instance_exports(engine.store, _instantiate(engine, data, [host]), ["f"])["f"]
