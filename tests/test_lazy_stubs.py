"""Lazily bound imports are wasm trampolines (dldbg.linker.stubs): a wasm exception thrown by the
function a stub binds to reaches the caller's `try_table`, as it does through emscripten's JS
stubs.  (A stub written in Python turned it into "thrown Wasm exception" at the host boundary:
C++ exceptions thrown through a main's load-time import of a side module's function, or a
module's import of its own weak C++ functions, never reached their catch.)
"""

from __future__ import annotations

import pytest
import wasmtime

from conftest import WASM_HEADER, dylink0_payload, mem_info
from dldbg.errors import CallError
from dldbg.hosts.standalone import StandaloneHost
from dldbg.linker.engine import Engine
from dldbg.linker.flags import RTLD_GLOBAL, RTLD_LAZY
from dldbg.wasm.binary import encode_custom_section

CATCHER = """(module
  (import "env" "__cpp_exception" (tag $e (param i32)))
  (import "env" "later_throw" (func $later_throw (param i32)))
  (func (export "catch_it") (param i32) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (call $later_throw (local.get 0)))
      (i32.const -1))))"""

THROWER = """(module
  (import "env" "__cpp_exception" (tag $e (param i32)))
  (func (export "later_throw") (param i32)
    (if (local.get 0) (then (throw $e (i32.mul (local.get 0) (i32.const 2)))))))"""


def side_module(wat: str, path) -> str:
    body = bytes(wasmtime.wat2wasm(wat))[len(WASM_HEADER):]
    path.write_bytes(WASM_HEADER + encode_custom_section("dylink.0", dylink0_payload((1, mem_info(0, 0, 0, 0)))) + body)
    return str(path)


def test_exception_crosses_a_lazily_bound_import(tmp_path):
    engine = Engine(StandaloneHost(), cache_dir=None)
    events = []
    engine.listeners.append(events.append)
    catcher = engine.dlopen(side_module(CATCHER, tmp_path / "libcatcher.so"), RTLD_LAZY | RTLD_GLOBAL)
    resolved = [e for e in events if e.kind == "import.unresolved" and e.field == "later_throw"]
    assert resolved and resolved[0].action.startswith("lazy")
    engine.dlopen(side_module(THROWER, tmp_path / "libthrower.so"), RTLD_LAZY | RTLD_GLOBAL)
    slot = engine.dlsym(catcher, "catch_it")
    assert engine.call(slot, [21]) == 42        # first call: binds, then the exception is caught
    assert engine.call(slot, [0]) == -1         # no exception
    assert engine.call(slot, [5]) == 10         # bound: straight through the table slot
    assert [e.provider for e in events if e.kind == "import.bind"] == ["libthrower.so"]


def test_unbound_stub_still_names_the_symbol(tmp_path):
    engine = Engine(StandaloneHost(), cache_dir=None)
    catcher = engine.dlopen(side_module(CATCHER, tmp_path / "libcatcher.so"), RTLD_LAZY | RTLD_GLOBAL)
    with pytest.raises(CallError, match="undefined symbol 'later_throw' called from libcatcher.so") as info:
        engine.call(engine.dlsym(catcher, "catch_it"), [1])
    assert not any("lazy-stub" in frame for frame in info.value.backtrace)
