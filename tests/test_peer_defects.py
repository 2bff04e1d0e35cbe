"""toywasm libdyld's defects (peer-loaders-toywasm-and-dylink.md §1.5), each shown not to happen
in dldbg with the WASI sample programs (samples/src/wasi_dlopen) and their libraries:

1. a PIE main's data at address 0 (its first datum is NULL);
2. a library placed over memory the program grew itself (a private bump pointer);
3. `&main_function` unequal in the main and in a library;
4. a library instantiated twice (dlopen twice, or dlopen of a NEEDED library);
6. a dylink.0 section with EXPORT_INFO rejected.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import wasmtime

from catalogue import OUT, SAMPLES
from dldbg.hosts.programs import ProgramOptions
from dldbg.hosts.wasi import GLOBAL_BASE, WasiHost
from dldbg.linker.engine import Engine
from dldbg.linker.scope import Symbol
from dldbg.wasm.binary import encode_name, encode_uleb
from dldbg.wasm.reader import read_module_file
from dldbg.wasm.types import WASM_PAGE_SIZE, FuncType

sys.path.insert(0, str(SAMPLES))
import wasmedit  # noqa: E402

TOOLCHAINS = ("clang14", "clang16", "zig")


def sample(toolchain: str, name: str) -> Path:
    path = OUT / toolchain / "wasi_dlopen" / name
    if not path.exists():
        pytest.skip(f"{path} is not built (python samples/build.py)")
    return path


def run(path: Path, capfd) -> tuple[Engine, list, list[str]]:
    """Run a sample program in the WASI host; (engine, events, stdout lines)."""
    engine = Engine(WasiHost(ProgramOptions()), cache_dir=None)
    events: list = []
    engine.listeners.append(events.append)
    status = engine.host.run(engine, str(path), [str(path)])
    lines = capfd.readouterr().out.splitlines()
    assert status == 0, lines
    return engine, events, lines


@pytest.mark.parametrize("toolchain", TOOLCHAINS)
def test_1_pie_main_data_is_not_at_address_zero(toolchain, capfd):
    engine, events, lines = run(sample(toolchain, "main_dlfcn.wasm"), capfd)
    main = engine.main
    alloc = next(e for e in events if e.kind == "memory.alloc" and e.module == main.name)
    assert alloc.memory_base == main.memory_base == GLOBAL_BASE  # emscripten's GLOBAL_BASE, toywasm: 0
    data = [s for s in main.exports.values() if s.kind == "data"]
    assert data and min(s.address for s in data) >= GLOBAL_BASE
    # the main passes its own string to a NEEDED library, which sees it (toywasm: NULL)
    assert "ok the main program's data is not at address 0" in lines
    assert "ok a NEEDED library reads the main's string" in lines


def test_2_a_library_never_lands_in_memory_the_program_grew(capfd):
    """The program grows memory itself (as sbrk does) and fills it; the next library's data
    must come from beyond it, because the engine allocates at memory's *current* end."""
    folder = sample("clang16", "libplugin.so").parent
    engine = Engine(WasiHost(), cache_dir=None)
    callback = wasmtime.Func(engine.store, wasmtime.FuncType([wasmtime.ValType.i32()], [wasmtime.ValType.i32()]), lambda x: 2 * x + 1)
    engine.define_symbols({"main_callback": Symbol("main_callback", "func", "test", 0, extern=callback,
                                                   key=("host", "main_callback"), func_type=FuncType(("i32",), ("i32",)))})
    engine.dlopen(str(folder / "libneeded.so"))
    # leave the allocator too little room for libplugin.so's 4112 bytes in what it already has
    engine.allocator.allocate(WASM_PAGE_SIZE - 600, 16)
    grown_pages = engine.memory.grow(4)  # the program's own memory.grow: no engine involved
    start, end = grown_pages * WASM_PAGE_SIZE, (grown_pages + 4) * WASM_PAGE_SIZE
    pattern = bytes(i * 7 + 3 & 0xFF for i in range(end - start))
    engine.write_memory(start, pattern)
    events: list = []
    engine.listeners.append(events.append)
    handle = engine.dlopen(str(folder / "libplugin.so"))
    plugin = engine.by_handle[handle]
    assert plugin.memory_base >= end, (hex(plugin.memory_base), hex(start), hex(end))
    grow = next(e for e in events if e.kind == "memory.grow")
    assert grow.pages_before == grown_pages + 4  # grown at the end the program left
    assert engine.read_memory(start, end - start) == pattern
    # and the program-level check, where the program grows memory between two loads
    *_, lines = run(folder / "main_dlfcn.wasm", capfd)
    assert "ok dlopen leaves memory the program grew itself alone" in lines
    assert "ok the library's data lies outside the program's memory" in lines


@pytest.mark.parametrize("toolchain", TOOLCHAINS)
def test_3_pointer_to_a_main_function_is_the_same_everywhere(toolchain, capfd):
    engine, _events, lines = run(sample(toolchain, "main_dlfcn.wasm"), capfd)
    main = engine.main
    index = main.wasm.export_map["main_callback"].index
    slot = engine.table.slot_of(main.func_key(index))
    assert slot is not None and main.table_base <= slot < main.table_base + main.table_size  # main's own element segment
    assert engine.got.value("main_callback") == slot  # libplugin.so's GOT.func.main_callback
    assert engine.dlsym(0, "main_callback") == slot
    assert "ok &main_callback is the same in the main and in the library" in lines
    assert "ok a function pointer in the main's data is relocated" in lines


@pytest.mark.parametrize("toolchain", TOOLCHAINS)
def test_4_a_library_is_instantiated_once(toolchain, capfd):
    engine, events, lines = run(sample(toolchain, "main_dlfcn.wasm"), capfd)
    for name in ("libplugin.so", "libneeded.so"):  # dlopen'd twice / NEEDED, then dlopen'd
        assert [e.kind for e in events if e.module == name].count("instantiate") == 1, name
        assert sum(m.name == name for m in engine.modules) == 1
    assert "ok a second dlopen gives the same handle" in lines
    assert "ok ... and the same data, not a second copy" in lines
    assert "ok dlopen of a NEEDED library gives the instance already loaded" in lines


def with_export_info(data: bytes, entries: list[tuple[str, int]]) -> bytes:
    """`data` with an EXPORT_INFO subsection (id 3) placed in ID order, before IMPORT_INFO (as
    the toywasm repro did); LLVM writes it for TLS exports."""
    sections = wasmedit.split_sections(data)
    i = next(k for k, (sid, p) in enumerate(sections) if sid == 0 and wasmedit.custom_name(p)[0] == "dylink.0")
    subs = wasmedit.parse_subsections(wasmedit.custom_name(sections[i][1])[1])
    payload = encode_uleb(len(entries)) + b"".join(encode_name(n) + encode_uleb(f) for n, f in entries)
    at = next((k for k, (sub_id, _) in enumerate(subs) if sub_id > 3), len(subs))
    subs.insert(at, (3, payload))
    sections[i] = (0, encode_name("dylink.0") + wasmedit.encode_subsections(subs))
    return wasmedit.join_sections(sections)


@pytest.mark.parametrize("toolchain", TOOLCHAINS)
def test_6_export_info_is_accepted(toolchain, tmp_path, capfd):
    """toywasm: `section (dylink.0) has 26 bytes extra data`.  Here the library loads, through
    toywasm's own dl API (dyld.load_object / resolve_symbol), and its EXPORT_INFO is read."""
    folder = sample(toolchain, "main_dyld.wasm").parent
    for name in ("main_dyld.wasm", "libneeded.so", "libplugin.so"):
        shutil.copy(folder / name, tmp_path / name)
    plugin = tmp_path / "libplugin.so"
    plugin.write_bytes(with_export_info(plugin.read_bytes(), [("plugin_calls_main", 0), ("plugin_counter", 0)]))
    info = wasmedit.dylink_info(plugin.read_bytes())
    assert 3 in info["subsections"] and info["export_info"] == [["plugin_calls_main", 0], ["plugin_counter", 0]]
    assert read_module_file(plugin).dylink.export_info
    engine, _events, lines = run(tmp_path / "main_dyld.wasm", capfd)
    assert lines[-1] == "PASSED 0 failures"
    loaded = next(m for m in engine.modules if m.name == "libplugin.so")
    assert dict(loaded.wasm.dylink.export_info) == {"plugin_calls_main": 0, "plugin_counter": 0}
