"""The dl API on real side modules: handles and reference counts, dlsym of data and functions,
RTLD_LOCAL isolation, RTLD_NOW vs lazy binding, emscripten's error strings, and loads that fail
without leaving anything behind.  Each toolchain's build of the samples is used.
"""

from __future__ import annotations

import pytest

from catalogue import TOOLCHAINS, built
from dldbg.errors import CallError, DlError
from dldbg.hosts.standalone import StandaloneHost
from dldbg.linker.engine import Engine
from dldbg.linker.flags import (
    BAD_MODE_MESSAGE,
    RTLD_DEFAULT,
    RTLD_GLOBAL,
    RTLD_LAZY,
    RTLD_LOCAL,
    RTLD_NODELETE,
    RTLD_NOLOAD,
    RTLD_NOW,
)

pytestmark = pytest.mark.parametrize("toolchain", TOOLCHAINS)


def make_engine(**kw) -> tuple[Engine, list]:
    engine = Engine(StandaloneHost(), cache_dir=None, **kw)
    events: list = []
    engine.listeners.append(events.append)
    return engine, events


def lib(scenario: str, toolchain: str, name: str) -> str:
    path = built(scenario, toolchain) / name
    if not path.exists():
        pytest.skip(f"{path} is not built")
    return str(path)


def read_i32(engine: Engine, address: int) -> int:
    return int.from_bytes(engine.read_memory(address, 4), "little", signed=True)


def test_same_library_same_handle_with_refcount(toolchain):
    engine, events = make_engine()
    path = lib("reloc", toolchain, "libreloc.so")
    first = engine.dlopen(path, RTLD_NOW | RTLD_GLOBAL)
    again = engine.dlopen(path, RTLD_NOW | RTLD_GLOBAL)
    assert first == again
    mod = engine.by_handle[first]
    assert mod.refcount == 2
    assert sum(1 for e in events if e.kind == "module.read" and e.module == "libreloc.so") == 1
    assert engine.call("get_ctor_runs", []) == 1  # constructors ran once
    assert engine.dlclose(first) == 0
    assert engine.dlsym(first, "own_data")  # still loaded after one dlclose
    assert engine.dlclose(first) == 0
    released = [e for e in events if e.kind == "module.release"]
    assert [e.module for e in released] == ["libreloc.so", "libreloc_dep.so"]
    with pytest.raises(DlError, match=f"Invalid library handle {first:#x}"):
        engine.dlsym(first, "own_data")
    assert engine.global_scope.lookup("own_data") is None


def test_needed_library_is_not_loaded_twice(toolchain):
    """toywasm defect 4: a library loaded as NEEDED, then dlopened, must be the same instance."""
    engine, events = make_engine()
    engine.dlopen(lib("reloc", toolchain, "libreloc.so"), RTLD_NOW | RTLD_GLOBAL)
    dep = engine.module_named("libreloc_dep.so")
    handle = engine.dlopen(lib("reloc", toolchain, "libreloc_dep.so"), RTLD_NOW | RTLD_GLOBAL)
    assert handle == dep.handle
    assert sum(1 for e in events if e.kind == "load.start" and e.module == "libreloc_dep.so") == 1
    # the data libreloc.so points at is the data of that one instance
    assert engine.call("get_dep_data_ptr_ok", []) == 1
    assert read_i32(engine, engine.dlsym(handle, "dep_data")) == 42


def test_dlsym_data_and_functions(toolchain):
    engine, _ = make_engine()
    handle = engine.dlopen(lib("reloc", toolchain, "libreloc.so"), RTLD_NOW | RTLD_GLOBAL)
    assert read_i32(engine, engine.dlsym(handle, "own_data")) == 7
    slot = engine.dlsym(handle, "own_fn")
    assert engine.call(slot, [1]) == 1001
    assert engine.dlsym(handle, "own_fn") == slot  # one slot per function
    assert engine.dlsym(RTLD_DEFAULT, "own_fn") == slot
    # RTLD_DEFAULT sees the dependency (loaded RTLD_GLOBAL); a library handle sees only its own exports
    assert read_i32(engine, engine.dlsym(RTLD_DEFAULT, "dep_data")) == 42
    with pytest.raises(DlError) as info:
        engine.dlsym(handle, "dep_data")
    assert str(info.value) == 'Tried to lookup unknown symbol "dep_data" in dynamic lib: libreloc.so'
    assert engine.dlerror() == str(info.value)
    assert engine.dlerror() is None
    with pytest.raises(DlError, match='unknown symbol "nope" in dynamic lib: __main__'):
        engine.dlsym(RTLD_DEFAULT, "nope")


def test_function_pointers_equal_across_modules(toolchain):
    engine, _ = make_engine()
    handle_b = engine.dlopen(lib("fptr", toolchain, "libfptr_b.so"), RTLD_NOW | RTLD_GLOBAL)
    handle_a = engine.module_named("libfptr_a.so").handle
    slot = engine.dlsym(handle_a, "fa")
    assert engine.dlsym(RTLD_DEFAULT, "fa") == slot
    assert engine.got.value("fa") == slot
    assert engine.call("fa_ptr_equal", []) == 1
    assert engine.call(slot, [4]) == engine.call("fa", [4])
    assert handle_b != handle_a


def test_rtld_local_isolation_and_promotion(toolchain):
    engine, _ = make_engine()
    handle_a = engine.dlopen(lib("local", toolchain, "liblocal_a.so"), RTLD_NOW | RTLD_LOCAL)
    engine.dlopen(lib("local", toolchain, "liblocal_user.so"), RTLD_LAZY | RTLD_GLOBAL)
    with pytest.raises(CallError, match="shared_name"):
        engine.call("user_call", [])
    assert engine.call(engine.dlsym(handle_a, "shared_name"), []) == 1
    with pytest.raises(DlError):
        engine.dlsym(RTLD_DEFAULT, "shared_name")
    # dlopen again with RTLD_GLOBAL: the library joins the global scope, the lazy stub now binds
    assert engine.dlopen(lib("local", toolchain, "liblocal_a.so"), RTLD_NOW | RTLD_GLOBAL) == handle_a
    assert engine.call("user_call", []) == 1


def test_rtld_now_fails_on_missing_function_lazy_does_not(toolchain):
    engine, events = make_engine()
    path = lib("missing_symbol", toolchain, "libmissing_func.so")
    with pytest.raises(DlError) as info:
        engine.dlopen(path, RTLD_NOW | RTLD_GLOBAL)
    assert str(info.value).startswith(f"could not load dynamic lib: {path}\n")
    assert "does_not_exist" in str(info.value) and ": imports: " in str(info.value)
    handle = engine.dlopen(path, RTLD_LAZY | RTLD_GLOBAL)
    assert engine.call("no_call", []) == 5
    with pytest.raises(CallError, match="undefined symbol 'does_not_exist' called from libmissing_func.so"):
        engine.call("call_missing", [])
    assert handle == engine.module_named("libmissing_func.so").handle
    assert [e.provider for e in events if e.kind == "import.bind"] == [None]


def test_bad_mode_and_noload(toolchain):
    engine, _ = make_engine()
    path = lib("reloc", toolchain, "libreloc_dep.so")
    with pytest.raises(DlError, match=BAD_MODE_MESSAGE.replace("(", r"\(").replace(")", r"\)")):
        engine.dlopen(path, RTLD_GLOBAL)
    with pytest.raises(DlError, match="RTLD_NOLOAD"):
        engine.dlopen(path, RTLD_NOW | RTLD_NOLOAD)
    assert engine.modules == []
    handle = engine.dlopen(path, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE)
    assert engine.dlopen(path, RTLD_NOW | RTLD_NOLOAD) == handle
    engine.dlclose(handle)
    engine.dlclose(handle)
    assert engine.dlsym(handle, "dep_data")  # RTLD_NODELETE: never released


def snapshot(engine: Engine) -> dict:
    return {
        "global": dict(engine.global_scope.symbols),
        "got": {name: (e.glob.value(engine.store), e.required, e.provider, list(e.importers))
                for name, e in engine.got.entries.items()},
        "handles": dict(engine.by_handle),
        "modules": list(engine.modules),
        "heap": engine.allocator.blocks,
        "slots": dict(engine.table.key_by_slot),
        "refcounts": {m.name: m.refcount for m in engine.modules},
    }


@pytest.mark.parametrize(
    ("scenario", "name", "stage"),
    [
        ("missing_symbol", "libmissing_data.so", "imports"),
        ("ctor_trap", "libctor_trap.so", "ctors"),
        ("needed_missing", "libneeds_missing.so", "needed"),
        ("needed_cycle", "libcycle_a.so", "needed"),
    ],
)
def test_failed_load_leaves_nothing_behind(toolchain, scenario, name, stage):
    engine, events = make_engine()
    engine.dlopen(lib("reloc", toolchain, "libreloc.so"), RTLD_NOW | RTLD_GLOBAL)
    before = snapshot(engine)
    with pytest.raises(DlError):
        engine.dlopen(lib(scenario, toolchain, name), RTLD_NOW | RTLD_GLOBAL)
    assert snapshot(engine) == before
    failed = [e for e in events if e.kind == "load.fail"]
    assert len(failed) == 1 and failed[0].failed_stage == stage
    assert any("forgot" in item for item in failed[0].rolled_back)
    # the engine still works after the failure
    assert engine.call("get_dep_value", []) == 42
    # and the same failure happens again (emscripten #22887: a second attempt must not "succeed")
    with pytest.raises(DlError):
        engine.dlopen(lib(scenario, toolchain, name), RTLD_NOW | RTLD_GLOBAL)


def test_library_memory_avoids_memory_the_program_grew(toolchain):
    """toywasm defect 2: memory grown by wasm code (sbrk) must never be handed to a library."""
    engine, _ = make_engine()
    engine.dlopen(lib("reloc", toolchain, "libreloc_dep.so"), RTLD_NOW | RTLD_GLOBAL)
    grown_from = engine.memory.grow(4) * 65536  # as a program's sbrk would, behind the allocator
    engine.write_memory(grown_from, b"\xab" * 4 * 65536)
    handle = engine.dlopen(lib("reloc", toolchain, "libreloc.so"), RTLD_NOW | RTLD_GLOBAL)
    mod = engine.by_handle[handle]
    assert not (grown_from <= mod.memory_base < grown_from + 4 * 65536)
    assert engine.read_memory(grown_from, 4 * 65536) == b"\xab" * 4 * 65536
    assert engine.call("get_bss_ok", []) == 1


def test_no_data_at_address_zero(toolchain):
    """toywasm defect 1: nothing is placed at NULL."""
    engine, _ = make_engine()
    engine.dlopen(lib("reloc", toolchain, "libreloc.so"), RTLD_NOW | RTLD_GLOBAL)
    assert all(m.memory_base >= 1024 for m in engine.modules)
    assert engine.table.get(0) is None
