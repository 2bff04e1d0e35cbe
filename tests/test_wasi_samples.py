"""The WASI sample programs (samples/src/wasi_*): `dldbg run PROGRAM` on every toolchain's build
exits with the status and prints exactly the lines its scenario.json lists under `programs`.

The programs check themselves (one "ok" line per check, derived from the C sources); the engine's
events are checked here: a dlopen made by wasm code runs the same stages as one typed by a user.
"""

from __future__ import annotations

import os

import pytest

from catalogue import OUT, scenario, scenarios
from dldbg.cli import main
from dldbg.hosts.programs import ProgramOptions
from dldbg.hosts.wasi import WasiHost
from dldbg.linker.engine import Engine
from dldbg.wasm.reader import read_module_file


def program_cases() -> list[tuple[str, str, dict]]:
    out = []
    for name in scenarios():
        spec = scenario(name)
        for toolchain in spec.get("toolchains", []):
            for entry in spec.get("programs", []):
                out.append((name, toolchain, entry))
    return out


PROGRAMS = program_cases()


def built_program(name: str, toolchain: str, program: str) -> str:
    path = OUT / toolchain / name / program
    if not path.exists():
        pytest.skip(f"{path} is not built (python samples/build.py)")
    return str(path)


def test_wasi_samples_exist():
    assert {(n, t) for n, t, _ in PROGRAMS} >= {("wasi_dlopen", tc) for tc in ("clang14", "clang16", "zig")} | {("wasi_pyext", "zig")}
    for name, toolchain, entry in PROGRAMS:
        assert (OUT / toolchain / name / entry["program"]).exists(), (name, toolchain, entry["program"])


@pytest.mark.parametrize(("name", "toolchain", "entry"), PROGRAMS,
                         ids=[f"{t}-{n}-{e['program']}" for n, t, e in PROGRAMS])
def test_program(name, toolchain, entry, capfd):
    path = built_program(name, toolchain, entry["program"])
    status = main(["run", "--no-cache", path, "--", *entry["args"]])
    out, err = capfd.readouterr()
    assert status == entry["status"], out + err
    assert out.splitlines() == entry["stdout"], err
    assert "Traceback" not in err


@pytest.mark.parametrize("toolchain", ["clang14", "clang16", "zig"])
def test_dlopen_from_wasm_runs_every_stage(toolchain, capfd):
    """libplugin.so, dlopen'd by main_dlfcn.wasm's code, goes through the stages in order, with
    the flags the program passed (wasi-libc RTLD_NOW|RTLD_GLOBAL); its second dlopen only
    raises the reference count; the failing dlopen of libmissing.so reports load.fail."""
    path = built_program("wasi_dlopen", toolchain, "main_dlfcn.wasm")
    engine = Engine(WasiHost(ProgramOptions()), cache_dir=None)
    events = []
    engine.listeners.append(events.append)
    assert engine.host.run(engine, path, [path]) == 0
    capfd.readouterr()
    plugin = [e for e in events if e.module == "libplugin.so"]
    kinds = [e.kind for e in plugin]
    for kind in ("load.start", "module.read", "memory.alloc", "import.resolve", "got.create", "instantiate",
                 "ctor.call", "symbols.publish", "load.done"):
        assert kind in kinds, kind
    assert kinds.count("load.start") == kinds.count("module.read") == 1
    start = plugin[kinds.index("load.start")]
    assert start.flags == "RTLD_NOW|RTLD_GLOBAL" and start.requested_by is None
    order = [kinds.index(k) for k in ("load.start", "module.read", "memory.alloc", "got.create", "instantiate",
                                      "ctor.call", "symbols.publish", "load.done")]
    assert order == sorted(order)
    mod = next(m for m in engine.modules if m.name == "libplugin.so")
    assert mod.refcount == 1  # dlopen'd twice, dlclose'd once
    fail = next(e for e in events if e.kind == "load.fail")
    assert fail.module == "libmissing.so" and fail.failed_stage == "read"
    # the callback into the main is bound directly to the main's function, not through a stub
    callback = next(e for e in plugin if e.kind == "import.resolve" and e.field == "main_callback" and e.import_module == "env")
    assert callback.provider == "main_dlfcn.wasm"


def test_zig_extension_module_gets_a_memory_export(capfd):
    """The zig-built extension module imports WASI itself; the host adds the `memory` export
    wasmtime's WASI needs, and only to modules that import memory and call WASI."""
    path = built_program("wasi_pyext", "zig", "main_pyext.wasm")
    lib = os.path.join(os.path.dirname(path), "hello.cpython-311-wasm32-wasi.so")
    assert "memory" not in read_module_file(lib).export_map
    engine = Engine(WasiHost(ProgramOptions()), cache_dir=None)
    assert engine.host.run(engine, path, [path]) == 0
    assert "hello, dldbg" in capfd.readouterr().out
    by_name = {m.name: m for m in engine.modules}
    assert "memory" in by_name["hello.cpython-311-wasm32-wasi.so"].wasm.export_map
    assert "memory" in by_name["main_pyext.wasm"].wasm.export_map  # it calls fd_write itself
