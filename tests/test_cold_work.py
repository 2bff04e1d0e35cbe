"""What a cold `dldbg run` (nothing in the cache) does besides compiling the program: counted,
never timed (docs/performance.md, "(a) A real workload").

- The emscripten host publishes a trap stub for every JS-library function it does not
  implement (hundreds for a MAIN_MODULE program), but makes them (a wasm module whose every
  function wasmtime compiles with a host-call trampoline) only for the imports bound to them
  and for the symbols looked up: a cold run compiled all of them.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
import wasmtime

from catalogue import OUT, scenario
from conftest import WASM_HEADER, dylink0_payload, mem_info
from dldbg.errors import CallError
from dldbg.hosts.emscripten import EmscriptenHost
from dldbg.hosts.emscripten import host as emscripten_host
from dldbg.hosts.emscripten.traps import STUB_MODULE
from dldbg.hosts.programs import ProgramOptions
from dldbg.linker.engine import Engine
from dldbg.wasm.binary import encode_custom_section


@pytest.fixture
def stub_modules(monkeypatch):
    """The trap-stub modules made from here on: the (import module, name, type) keys of each."""
    made: list[list[tuple]] = []
    real = emscripten_host.stub_functions

    def counting(engine, keys):
        made.append(list(keys))
        return real(engine, keys)

    monkeypatch.setattr(emscripten_host, "stub_functions", counting)
    return made


#: functions the patched glue publishes (`asmLibraryArg`) that dldbg does not implement
EXTRA = 60


def _glue_publishing_more(name: str, folder: Path) -> Path:
    """A copy of the sample program `name` whose glue also publishes EXTRA JS functions that
    no module imports, as a `-sMAIN_MODULE=1` glue publishes the whole JS library."""
    shutil.copytree(OUT / "emcc" / name, folder)
    glue = folder / "main.js"
    text = glue.read_text()
    marker = "var asmLibraryArg = {\n"
    assert marker in text
    entries = "".join(f'  "dldbg_test_unimplemented_{k}": _dldbg_test_unimplemented_{k},\n' for k in range(EXTRA))
    sigs = "".join(f"_dldbg_test_unimplemented_{k}.sig = 'ii';\n" for k in range(EXTRA))
    glue.write_text(text.replace(marker, marker + entries) + sigs)
    return folder


def _run(folder: Path, events: list) -> tuple[Engine, EmscriptenHost, int, bytes]:
    program = scenario(folder.name)["emscripten_programs"][0]
    out = io.BytesIO()
    host = EmscriptenHost(ProgramOptions(), stdout=out, stderr=io.BytesIO())
    engine = Engine(host, cache_dir=None)
    engine.listeners.append(events.append)
    wasm = str(folder / program["file"])
    status = host.run(engine, wasm, [wasm, *program.get("args", [])])
    return engine, host, status, out.getvalue()


def _published_stubs(engine: Engine) -> list[str]:
    return [name for name, sym in engine.global_scope.symbols.items()
            if sym.module == "emscripten" and sym.kind == "func" and "_published" in sym.__dict__]


@pytest.mark.parametrize("name", ["em_unimplemented", "em_dlopen"])
def test_trap_stubs_are_made_for_the_imports_bound_to_them_only(name, stub_modules, tmp_path):
    events: list = []
    folder = _glue_publishing_more(name, tmp_path / name)
    engine, _host, status, out = _run(folder, events)
    recorded = scenario(name)["emscripten_programs"][0]
    expect = recorded.get("dldbg", recorded["node"])  # what node prints (dldbg's own for a trap)
    assert (status, out.decode()) == (expect["exit"], expect["stdout"])
    assert len(_published_stubs(engine)) >= EXTRA  # published, for side modules and dlsym
    bound = {(e.import_module, e.field) for e in events if e.kind == "import.resolve" and "not implemented" in e.provider}
    made = [key for keys in stub_modules for key in keys]
    assert {(module, field) for module, field, _type in made} == bound
    assert len(made) == len(set(made))  # each made once


def test_a_published_stub_looked_up_traps_naming_itself(stub_modules, tmp_path):
    events: list = []
    engine, host, _status, _out = _run(_glue_publishing_more("em_loadtime", tmp_path / "em_loadtime"), events)
    name = "dldbg_test_unimplemented_7"
    sym = engine.global_scope.lookup(name)
    before = len(stub_modules)
    func = sym.func
    assert stub_modules[before:] == [[("env", name, sym.func_type)]]  # made when first looked up, alone
    assert sym.func is func and host._stub("env", name, sym.func_type) is func  # one function per stub
    with pytest.raises(CallError) as trapped:
        engine.call_func(func, name, [1])
    assert trapped.value.backtrace[0] == f"{STUB_MODULE}!env.{name}"
    assert host.explain_trap(trapped.value.trap, trapped.value.backtrace) == f"emscripten import env.{name} is not implemented"


TAKES_STUB_ADDRESSES = """(module
  (import "GOT.func" "dldbg_test_unimplemented_1" (global (mut i32)))
  (import "GOT.func" "dldbg_test_unimplemented_2" (global (mut i32)))
  (import "env" "dldbg_test_unimplemented_3" (func (param i32) (result i32))))"""


def test_the_stubs_a_library_takes_the_address_of_or_imports_come_from_one_module(stub_modules, tmp_path):
    """A library's `GOT.func` entries reach the published stubs one by one before its imports
    are resolved: the first makes all the stubs the library binds, in one wasm module."""
    engine, _host, _status, _out = _run(_glue_publishing_more("em_loadtime", tmp_path / "em_loadtime"), [])
    library = tmp_path / "libaddresses.so"
    body = bytes(wasmtime.wat2wasm(TAKES_STUB_ADDRESSES))[len(WASM_HEADER):]
    library.write_bytes(WASM_HEADER + encode_custom_section("dylink.0", dylink0_payload((1, mem_info(0, 0, 0, 0))))
                        + body)
    before = len(stub_modules)
    engine.dlopen(str(library))
    assert [sorted(name for _module, name, _type in keys) for keys in stub_modules[before:]] == [
        [f"dldbg_test_unimplemented_{k}" for k in (1, 2, 3)]]


@pytest.fixture
def compile_starts(monkeypatch):
    """(module size, how many dldbg Engines existed) at each compile started on a worker."""
    from dldbg.linker import engine as engine_module
    from dldbg.linker.cache import CompileCache

    made = [0]
    starts: list[tuple[int, int]] = []
    real_init, real_start = engine_module.Engine.__init__, CompileCache.start

    def counting_init(self, *args, **kwargs):
        made[0] += 1
        real_init(self, *args, **kwargs)

    def recording_start(self, data, sha256):
        started = real_start(self, data, sha256)
        if started:
            starts.append((len(data), made[0]))
        return started

    monkeypatch.setattr(engine_module.Engine, "__init__", counting_init)
    monkeypatch.setattr(CompileCache, "start", recording_start)
    return starts


def test_run_starts_the_mains_compile_before_the_engine_and_the_host_are_made(tmp_path, monkeypatch, compile_starts):
    """`dldbg run` of an emscripten main begins its compile as soon as the main is parsed and
    its tier chosen: the host's and the engine's imports and set-up run beside the compile."""
    from dldbg.cli import main

    monkeypatch.setenv("DLDBG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DLDBG_NO_TIER_UP", "1")
    program = scenario("em_loadtime")["emscripten_programs"][0]
    path = OUT / "emcc" / "em_loadtime" / program["file"]
    status = main(["run", str(path), "--", *program.get("args", [])], stdout=io.StringIO(), stderr=io.StringIO())
    assert status == program["node"]["exit"]
    assert (path.stat().st_size, 0) in compile_starts  # no Engine yet
    assert [size for size, _engines in compile_starts].count(path.stat().st_size) == 1


def test_run_compiles_a_wasi_main_only_once_the_host_is_known(tmp_path, monkeypatch, compile_starts):
    """The WASI host may change the bytes before they compile (`Host.prepare`): nothing of
    the file is compiled before its host is made."""
    from dldbg.cli import main

    path = OUT / "clang16" / "wasi_dlopen" / "main_dlfcn.wasm"
    if not path.exists():
        pytest.skip(f"{path} is not built (python samples/build.py)")
    monkeypatch.setenv("DLDBG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DLDBG_NO_TIER_UP", "1")
    main(["run", str(path)], stdout=io.StringIO(), stderr=io.StringIO())
    assert all(engines == 1 for _size, engines in compile_starts)


def test_a_dlopen_in_a_winch_engine_compiles_while_the_library_is_parsed(tmp_path, monkeypatch):
    """A Winch engine (a cold `dldbg run`) begins a library's compile when `dlopen` has found
    the file, before the loader reads and parses it (exception handling is off in Winch, so
    nothing about the parse can stop the compile): the parse runs beside the compile."""
    from dldbg.hosts.standalone import StandaloneHost
    from dldbg.linker.cache import CompileCache
    from dldbg.wasm.files import ModuleFiles

    order: list[str] = []
    real_start, real_read = CompileCache.start, ModuleFiles._read

    def start(self, data, sha256, **kwargs):
        order.append("compile")
        return real_start(self, data, sha256, **kwargs)

    def read(self, path):  # the file read and parsed (`get`, and `take` for a file not kept)
        order.append("parse")
        return real_read(self, path)

    monkeypatch.setattr(CompileCache, "start", start)
    monkeypatch.setattr(ModuleFiles, "_read", read)
    path = OUT / "clang16" / "reloc" / "libreloc_dep.so"
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path), tier="winch")
    engine.dlopen(str(path))
    assert order == ["compile", "parse"]
    engine.cache.wait()
    order.clear()
    cranelift = Engine(StandaloneHost(), cache_dir=str(tmp_path / "other"))
    cranelift.dlopen(str(path))
    assert order == ["parse"]  # a Cranelift engine parses first (an exnref translation may come first)
