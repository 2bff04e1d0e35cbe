"""The event stream of a load: every stage appears, in emscripten's order, with the data a user
needs (addresses, slots, changed words), and events serialise to JSON.
"""

from __future__ import annotations

import json

import pytest

from catalogue import TOOLCHAINS, built
from dldbg.events import EVENT_KINDS, STAGES
from dldbg.hosts.standalone import StandaloneHost
from dldbg.linker.engine import Engine
from dldbg.linker.flags import RTLD_GLOBAL, RTLD_NOW


def load(toolchain: str, scenario: str, name: str, **kw):
    path = built(scenario, toolchain) / name
    if not path.exists():
        pytest.skip(f"{path} is not built")
    engine = Engine(StandaloneHost(), cache_dir=None, **kw)
    events: list = []
    engine.listeners.append(events.append)
    handle = engine.dlopen(str(path), RTLD_NOW | RTLD_GLOBAL)
    return engine, events, handle


def index(events, kind, module):
    return next(i for i, e in enumerate(events) if e.kind == kind and e.module == module)


@pytest.mark.parametrize("toolchain", TOOLCHAINS)
def test_reloc_event_sequence(toolchain):
    engine, events, handle = load(toolchain, "reloc", "libreloc.so")
    main, dep = "libreloc.so", "libreloc_dep.so"
    # NEEDED is resolved first, and the dependency is completely loaded before the dependent is instantiated
    assert index(events, "needed.resolved", main) < index(events, "load.start", dep)
    assert index(events, "load.done", dep) < index(events, "memory.alloc", main)
    order = [index(events, k, main) for k in ("module.read", "memory.alloc", "got.create", "instantiate", "ctor.call", "symbols.publish", "load.done")]
    assert order == sorted(order)
    # stages of one module never go backwards
    stages = [STAGES.index(e.stage) for e in events if e.module == main and e.stage != "call"]
    assert stages == sorted(stages)

    needed = events[index(events, "needed.resolved", main)]
    assert needed.name == dep and needed.path.endswith(dep) and needed.tried[-1] == needed.path

    alloc = events[index(events, "memory.alloc", main)]
    mod = engine.by_handle[handle]
    assert (alloc.memory_base, alloc.size) == (mod.memory_base, mod.wasm.dylink.mem_size)
    assert alloc.memory_base % alloc.alignment == 0

    # the relocation event shows the word of tbl.p_dep becoming the address of dep_data
    relocs = [e for e in events if e.kind in ("reloc.apply", "reloc.start") and e.module == main]
    assert relocs, "no relocation event"
    changed = {address: new for e in relocs for address, _old, new in e.changes}
    tbl = engine.dlsym(handle, "tbl")
    assert changed[tbl] == engine.dlsym(0, "dep_data")
    assert changed[tbl + 8] == engine.dlsym(0, "dep_square")  # a table slot
    assert all(mod.memory_base <= a < mod.memory_base + mod.memory_size for a in changed)
    # relocations were applied before the constructor ran
    assert events.index(relocs[0]) < index(events, "ctor.call", main)

    got = {e.symbol: e for e in events if e.kind == "got.create"}
    assert got["dep_data"].value == engine.dlsym(0, "dep_data") and got["dep_data"].provider == dep


@pytest.mark.parametrize("toolchain", TOOLCHAINS)
def test_events_are_json(toolchain):
    _engine, events, _ = load(toolchain, "reloc", "libreloc.so")
    kinds = set()
    for event in events:
        data = json.loads(json.dumps(event.to_json()))
        assert data["kind"] == event.kind and data["module"] == event.module
        assert EVENT_KINDS[data["kind"]] is type(event)
        kinds.add(event.kind)
    assert {"load.start", "module.read", "module.compile", "needed.resolved", "memory.alloc", "import.resolve",
            "got.create", "instantiate", "ctor.call", "symbols.publish", "load.done"} <= kinds
    assert kinds & {"reloc.apply", "reloc.start"}  # LLD 14 relocates in the start function
    with pytest.raises(Exception):
        events[0].module = "x"  # frozen


def test_lld14_start_function_relocations_are_reported():
    """LLD 14 runs __wasm_apply_data_relocs as the start function, inside instantiation."""
    _engine, events, _ = load("clang14", "reloc", "libreloc.so")
    start = [e for e in events if e.kind == "reloc.start" and e.module == "libreloc.so"]
    assert start and start[0].where == "start function"
    instantiated = next(e for e in events if e.kind == "instantiate" and e.module == "libreloc.so")
    assert instantiated.start_function == "__wasm_apply_data_relocs"


def test_table_grows_for_element_segment_and_got_func():
    engine, events, handle = load("clang16", "fptr", "libfptr_b.so")
    grows = [e for e in events if e.kind == "table.grow"]
    assert grows and all(g.size_after > g.size_before for g in grows)
    assert grows[0].table_base >= 1  # slot 0 stays the null function pointer
    assert engine.table.size == grows[-1].size_after


def test_weak_undefined_got_entries_become_zero():
    engine, events, _ = load("clang16", "weak", "libweak_undef.so")
    zeroed = {e.symbol for e in events if e.kind == "got.update" and e.new == 0}
    assert {"wu_func", "wu_data"} <= zeroed
    assert engine.call("undef_func_is_null", []) == 1
