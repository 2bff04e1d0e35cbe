"""Issue 12: damaged and hostile inputs end in one clear error, rolled back, bounded.

Each test is a finding of the fuzz campaign (docs/hardening.md) or of the issue, on a real sample
changed in one place with fuzz.mutants' edits: a load that fails for any reason is rolled back
completely (nothing left `loading`, dlerror set, the same error again on a retry); the crash sites
are errors naming the file, the stage and the byte offset; resource limits; only regular files
read, the magic number first; `__stack_pointer` after traps; the cost of large tables and memories.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import wasmtime

from dldbg.cli import main as cli_main
from dldbg.errors import DldbgError, DlError, LoadError
from dldbg.hosts.standalone import StandaloneHost
from dldbg.limits import ResourceLimits, default_limits
from dldbg.linker.engine import Engine
from dldbg.linker.flags import RTLD_GLOBAL, RTLD_NOW
from dldbg.wasm.binary import encode_custom_section, encode_uleb
from dldbg.wasm.reader import read_module

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fuzz.mutants import edit_exports, edit_imports, set_mem_info  # noqa: E402

SAMPLES = ROOT / "samples" / "out"
MIB = 1 << 20


def scenario_copy(tmp_path: Path, rel: str) -> Path:
    """A copy of the sample's folder; returns the copy of the file `rel` (under samples/out)."""
    src = SAMPLES / rel
    if not src.exists():
        pytest.skip(f"{src} is not built")
    shutil.copytree(src.parent, tmp_path / "s", dirs_exist_ok=True)
    return tmp_path / "s" / src.name


def mutate(tmp_path: Path, rel: str, change) -> str:
    path = scenario_copy(tmp_path, rel)
    path.write_bytes(change(path.read_bytes()))
    return str(path)


def engine_for(**kw) -> Engine:
    return Engine(StandaloneHost(), cache_dir=None, **kw)


def cli(*argv: str) -> tuple[int, str, str]:
    import io

    out, err = io.StringIO(), io.StringIO()
    status = cli_main(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def import_kind(field: str, kind: int, desc: bytes):
    def edit(entries):
        for entry in entries:
            if entry[0] == "env" and entry[1] == field:
                entry[2], entry[3] = kind, desc
    return lambda data: edit_imports(data, edit)


def assert_rolled_back(engine: Engine, path: str, message: str) -> None:
    """Nothing of the failed request stays: no module loading, dlerror() says it, a retry fails
    the same way (not `still being loaded`)."""
    assert not [m for m in engine.modules if m.state != "ready"]
    assert engine.dlerror() == message
    with pytest.raises(DlError) as again:
        engine.dlopen(path, RTLD_NOW | RTLD_GLOBAL)
    assert str(again.value) == message


# -- deliverable 1: every failure rolls back ------------------------------------------------------
WAT_BASE_OF_ANOTHER_KIND = """
(module
  (import "env" "memory" (memory 1))
  (import "env" "__table_base" (global i32))
  (import "env" "__memory_base" {kind}))
"""


@pytest.mark.parametrize("kind,what", [("(func)", "a func"), ("(global (mut i32))", "a mutable i32 global")])
def test_memory_base_of_another_kind_is_an_imports_error_rolled_back(tmp_path, kind, what):
    """An AttributeError in the loader before, which left the module `loading`."""
    path = side_module(tmp_path, WAT_BASE_OF_ANOTHER_KIND.format(kind=kind), "base")
    engine = engine_for()
    with pytest.raises(DlError) as info:
        engine.dlopen(path, RTLD_NOW | RTLD_GLOBAL)
    offset = next(i.offset for i in read_module(Path(path).read_bytes()).imports if i.field == "__memory_base")
    assert f"{path}: imports: env.__memory_base must be an immutable i32 or i64 global, not {what}" in str(info.value)
    assert str(info.value).endswith(f"at byte offset {offset:#x}")
    assert_rolled_back(engine, path, str(info.value))


def test_an_unexpected_exception_rolls_the_load_back_and_names_file_and_stage():
    """Anything that raises in a load (here a listener with a bug, once memory, table, GOT and
    the NEEDED library are in) rolls the whole request back."""
    path = str(SAMPLES / "clang16/reloc/libreloc.so")
    engine = engine_for()
    engine.ensure_memory()
    events: list = []

    def buggy(event):
        events.append(event)
        if event.kind == "reloc.apply" and event.module == "libreloc.so":
            raise RuntimeError("listener bug")

    engine.listeners.append(buggy)
    sp = engine.stack_value()
    with pytest.raises(DlError) as info:
        engine.dlopen(path, RTLD_NOW | RTLD_GLOBAL)
    cause = info.value.__cause__
    assert isinstance(cause, LoadError) and cause.internal and isinstance(cause.__cause__, RuntimeError)
    assert f"{path}: reloc: internal error: RuntimeError: listener bug" in str(info.value)
    failed = [e for e in events if e.kind == "load.fail"]
    assert len(failed) == 1 and failed[0].failed_stage == "reloc"
    assert any("released memory" in step for step in failed[0].rolled_back)
    assert engine.global_scope.lookup("dep_data") is None  # the NEEDED library's symbols withdrawn
    assert engine.got.entries == {} and engine.by_handle == {} and engine.stack_value() == sp
    assert_rolled_back(engine, path, str(info.value))
    engine.listeners.remove(buggy)
    handle = engine.dlopen(path, RTLD_NOW | RTLD_GLOBAL)
    assert engine.call("get_ctor_state", []) == 46 and engine.by_handle[handle].state == "ready"


# -- deliverable 2: the crash sites ---------------------------------------------------------------
def test_inspect_of_an_export_index_out_of_range_names_the_export_and_offset(tmp_path):
    def edit(entries):
        entries[0][2] = 1000
    path = mutate(tmp_path, "clang16/reloc/libreloc.so", lambda d: edit_exports(d, edit))
    for argv in (("inspect", path), ("inspect", "--json", path)):
        status, _, err = cli(*argv)
        assert status == 1
        assert err.startswith(f"dldbg: error: {path}: read: export ") and "index 1000 out of range" in err
        assert "at byte offset 0x" in err


def test_emscripten_import_with_a_type_its_function_cannot_take_is_a_js_type_error(tmp_path):
    """fd_write imported as () -> i32: the JS-library function cannot take it (a TypeError in the
    host's call wrapper before); the program's call is JavaScript's TypeError, node's exit 7."""
    path = wat(tmp_path, WAT_EMSCRIPTEN_MAIN, "main")
    proc = run_dldbg("run", "--no-cache", str(path))
    assert "internal error" not in proc.stderr
    assert proc.stderr.endswith("TypeError: the program imports env.fd_write as () -> (i32), which emscripten's "
                                "fd_write cannot take\n")
    assert proc.returncode == 7


WAT_EMSCRIPTEN_MAIN = """
(module
  (import "env" "memory" (memory 256 256))
  (import "env" "fd_write" (func $fd_write (result i32)))
  (global $sp (mut i32) (i32.const 65536))
  (func (export "stackSave") (result i32) global.get $sp)
  (func (export "stackRestore") (param i32) local.get 0 global.set $sp)
  (func (export "stackAlloc") (param i32) (result i32)
    (global.set $sp (i32.and (i32.sub (global.get $sp) (local.get 0)) (i32.const -16))) global.get $sp)
  (func (export "main") (param i32 i32) (result i32) (drop (call $fd_write)) i32.const 0))
"""


def test_emscripten_main_without_emscripten_stack_get_end_runs(tmp_path):
    """The glue's stack-cookie step needs emscripten_stack_get_end (a KeyError before)."""
    def edit(entries):
        entries[:] = [e for e in entries if e[0] != "emscripten_stack_get_end"]
    path = mutate(tmp_path, "emcc/em_loadtime/main.wasm", lambda d: edit_exports(d, edit))
    proc = run_dldbg("run", "--no-cache", path)
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    assert (proc.returncode, proc.stderr.splitlines()[-1]) == (3, "done, exiting with 3")


def test_emscripten_main_that_fails_its_own_load_is_a_dldbg_error(tmp_path):
    """Not a JavaScript `Error:` line with node's exit 7: no emscripten loader says this."""
    path = mutate(tmp_path, "emcc/em_loadtime/main.wasm", lambda d: set_mem_info(d, memoryalignment=40))
    proc = run_dldbg("run", "--no-cache", path)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith(f"dldbg: error: {path}: memory: dylink.0 MEM_INFO "
                                                           "memoryalignment 2^40 is above dldbg's limit")


def run_dldbg(*argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dldbg", *argv], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, stdin=subprocess.DEVNULL)


WAT_OWN_MEMORY = """
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "own memory\\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 11))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
"""


def wat(tmp_path: Path, text: str, name: str) -> Path:
    if not shutil.which("wat2wasm"):
        pytest.skip("wat2wasm is not installed")
    source = tmp_path / f"{name}.wat"
    source.write_text(text)
    out = tmp_path / f"{name}.wasm"
    subprocess.run(["wat2wasm", str(source), "-o", str(out)], check=True)
    return out


def side_module(tmp_path: Path, text: str, name: str) -> str:
    """A side module from WAT: an empty MEM_INFO dylink.0 section put first."""
    module = wat(tmp_path, text, name).read_bytes()
    dylink = encode_custom_section("dylink.0", bytes([1]) + encode_uleb(4) + bytes(4))
    path = tmp_path / f"lib{name}.so"
    path.write_bytes(module[:8] + dylink + module[8:])
    return str(path)


def test_wasi_command_with_its_own_memory_runs(tmp_path):
    path = wat(tmp_path, WAT_OWN_MEMORY, "own")
    proc = run_dldbg("run", "--no-cache", str(path))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "own memory\n", "")


def test_wasi_main_with_a_huge_table_import_fails_at_its_import(tmp_path):
    def edit(entries):
        for entry in entries:
            if entry[2] == 1:
                entry[3] = b"\x70\x00" + encode_uleb(1 << 30)
    path = mutate(tmp_path, "clang16/wasi_dlopen/main_dlfcn.wasm", lambda d: edit_imports(d, edit))
    status, _, err = cli("run", "--no-cache", path)
    assert status == 1
    assert f"{path}: imports: env.__indirect_function_table: minimum size 1073741824 slots is above dldbg's limit " \
           "table_size=4194304" in err and "at byte offset 0x" in err


# -- messages ---------------------------------------------------------------------------------------
def test_undefined_symbol_names_the_import_offset():
    path = str(SAMPLES / "clang16/missing_symbol/libmissing_data.so")
    wasm = read_module(Path(path).read_bytes())
    engine = engine_for()
    with pytest.raises(DlError) as info:
        engine.dlopen(path, RTLD_NOW | RTLD_GLOBAL)
    error = info.value.__cause__
    imp = next(i for i in wasm.imports if i.module == "GOT.mem" and i.field == error.symbol)
    assert error.offset == imp.offset and str(info.value).endswith(f"at byte offset {imp.offset:#x}")


def test_memory_import_minimum_above_the_limit_has_an_offset(tmp_path):
    path = mutate(tmp_path, "clang16/reloc/libreloc_dep.so", import_kind("memory", 2, b"\x00" + encode_uleb(70000)))
    status, _, err = cli("run", "--no-cache", path)
    assert status == 1 and f"{path}: imports: env.memory: minimum size 70000 pages is above" in err
    assert "at byte offset 0x" in err


def test_not_a_side_module_names_the_read_stage(tmp_path):
    path = tmp_path / "plain.wasm"
    path.write_bytes(b"\0asm\x01\0\0\0")
    status, _, err = cli("run", str(path))
    assert status == 1 and err == f"dldbg: error: {path}: read: not a side module (no dylink.0 section) and no program " \
                                  "host runs it\n"


WAT_SEGMENT_TRAP = """
(module
  (import "env" "memory" (memory 1))
  (import "env" "__memory_base" (global i32))
  (data (i32.const 0x7ffffff0) "out of bounds"))
"""


def test_instantiation_trap_without_a_start_function_says_so(tmp_path):
    path = side_module(tmp_path, WAT_SEGMENT_TRAP, "segtrap")
    status, _, err = cli("run", "--no-cache", path)
    assert status == 1 and f"{path}: instantiate: instantiation (segment initialisation) trapped:" in err
    assert "None" not in err


# -- deliverable 3: limits and files ----------------------------------------------------------------
def test_mem_info_limits_and_raising_them(tmp_path, monkeypatch):
    path = mutate(tmp_path, "clang16/reloc/libreloc.so", lambda d: set_mem_info(d, memoryalignment=20))
    status, _, err = cli("run", "--no-cache", path, "--invoke", "get_ctor_state")
    assert status == 1 and f"{path}: memory: dylink.0 MEM_INFO memoryalignment 2^20 is above dldbg's limit " \
                          "memory_alignment=16; raise it with --limit memory_alignment=N or DLDBG_LIMITS at byte " \
                          "offset 0x8" in err
    assert cli("run", "--no-cache", "--limit", "memory_alignment=20", path, "--invoke", "get_ctor_state")[:2] == (0, "46\n")
    monkeypatch.setenv("DLDBG_LIMITS", "memory_alignment=24,table_size=1M")
    assert cli("run", "--no-cache", path, "--invoke", "get_ctor_state")[:2] == (0, "46\n")
    assert default_limits() == ResourceLimits(memory_alignment=24, table_size=1 << 20)
    status, _, err = cli("run", "--limit", "nonsense=1", path)
    assert status == 1 and "--limit nonsense=1: expected NAME=VALUE" in err


@pytest.mark.parametrize("field,value,stage", [("memorysize", (1 << 30) + 1, "memory"),
                                               ("tablesize", (1 << 22) + 1, "table")])
def test_mem_info_sizes_above_the_limits(tmp_path, field, value, stage):
    path = mutate(tmp_path, "clang16/reloc/libreloc.so", lambda d: set_mem_info(d, **{field: value}))
    status, _, err = cli("run", "--no-cache", path)
    assert status == 1 and f"{path}: {stage}: dylink.0 MEM_INFO {field} {value} is above" in err


def test_import_count_limit(tmp_path):
    path = scenario_copy(tmp_path, "clang16/reloc/libreloc.so")
    count = len(read_module(path.read_bytes()).imports)
    status, _, err = cli("inspect", "--limit", f"imports={count - 1}", str(path))
    assert status == 1 and f"read: {count} imports is above the limit of {count - 1}" in err
    assert cli("inspect", "--limit", f"imports={count}", str(path))[0] == 0


def test_special_files_are_not_read_as_modules(tmp_path):
    for path, kind in (("/dev/zero", "a character device"), (str(tmp_path), "a folder")):
        status, _, err = cli("inspect", path)
        assert (status, err) == (1, f"dldbg: error: {path}: read: not a regular file ({kind}): only regular files "
                                    "are read as modules\n")
    engine = engine_for()
    with pytest.raises(DlError, match="/dev/zero: read: not a regular file"):
        engine.dlopen("/dev/zero", RTLD_NOW)


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "lib.so"
    os.mkfifo(fifo)
    proc = run_dldbg("inspect", str(fifo), timeout=20)
    assert proc.returncode == 1 and "not a regular file (a FIFO)" in proc.stderr


def test_large_files_are_refused_and_non_wasm_files_read_only_to_the_magic(tmp_path):
    big = tmp_path / "libbig.so"
    with open(big, "wb") as fh:
        fh.write(b"\0asm\x01\0\0\0")
        fh.truncate(600 * MIB)  # sparse
    status, _, err = cli("inspect", str(big))
    assert status == 1 and "the file is 629145600 bytes, larger than the file_size limit of 536870912 bytes" in err
    assert cli("inspect", "--limit", "file_size=1G", str(big))[0] == 1  # read, then malformed
    elf = tmp_path / "libelf.so"
    with open(elf, "wb") as fh:
        fh.write(b"\x7fELF")
        fh.truncate(400 * MIB)
    with PeakRss() as peak:
        status, _, err = cli("inspect", str(elf))
    assert status == 1 and "read: not a wasm module: need to see wasm magic number" in err
    assert peak.growth < 64 * MIB  # the 400 MiB were not read


class PeakRss:
    """The growth of this process's resident set while the block runs, sampled every 5 ms."""

    def __enter__(self):
        self.base = self.peak = _rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss())
        self.growth = self.peak - self.base


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_a_1_gib_region_with_relocations_loads_without_copying_it(tmp_path):
    """The relocation diff and the zeroing touch what changed, not the 1 GiB region."""
    small = engine_for()
    small_events: list = []
    small.listeners.append(small_events.append)
    small.dlopen(str(SAMPLES / "clang16/reloc/libreloc.so"), RTLD_NOW | RTLD_GLOBAL)
    path = mutate(tmp_path, "clang16/reloc/libreloc.so", lambda d: set_mem_info(d, memorysize=1 << 30))
    engine = engine_for()
    events: list = []
    engine.listeners.append(events.append)
    with PeakRss() as peak:
        handle = engine.dlopen(path, RTLD_NOW | RTLD_GLOBAL)
    assert peak.growth < 256 * MIB
    assert engine.call("get_ctor_state", []) == 46

    def changes(evts, module):
        event = next(e for e in evts if e.kind == "reloc.apply" and e.module == module)
        base = next(e for e in evts if e.kind == "memory.alloc" and e.module == module).memory_base
        return [(addr - base, old, new) for addr, old, new in event.changes], base

    big, big_base = changes(events, "libreloc.so")
    ref, ref_base = changes(small_events, "libreloc.so")
    assert len(big) == len(ref) > 0
    assert handle


def test_rollback_of_a_million_slot_table_nulls_only_what_was_written(tmp_path, monkeypatch):
    """A slot at a time over the whole range before (10 s for 1M slots)."""
    path = mutate(tmp_path, "clang16/missing_symbol/libmissing_data.so", lambda d: set_mem_info(d, tablesize=1 << 20))
    engine = engine_for()
    sets = []
    original = wasmtime.Table.set
    monkeypatch.setattr(wasmtime.Table, "set", lambda table, store, slot, value: sets.append(slot) or
                        original(table, store, slot, value))
    with pytest.raises(DlError, match="undefined symbol"):
        engine.dlopen(path, RTLD_NOW | RTLD_GLOBAL)
    assert len(sets) < 100
    size = engine.table.size
    engine.dlopen(str(SAMPLES / "clang16/reloc/libreloc.so"), RTLD_NOW | RTLD_GLOBAL)
    assert engine.table.size - size < 16  # the next load does not pay for the failed one
    assert engine.call("get_ctor_state", []) == 46


# -- deliverable 6: __stack_pointer after traps -----------------------------------------------------
WAT_STACK_TRAP = """
(module
  (import "env" "memory" (memory 1))
  (import "env" "__stack_pointer" (global $sp (mut i32)))
  (func $frame_then_trap
    (global.set $sp (i32.sub (global.get $sp) (i32.const 4096)))
    unreachable)
  (func (export "leak") call $frame_then_trap)
  (func (export "__wasm_call_ctors") {ctor}))
"""


def stack_trap_module(tmp_path: Path, name: str, ctor: str) -> str:
    return side_module(tmp_path, WAT_STACK_TRAP.format(ctor=ctor), name)


def test_stack_pointer_is_restored_after_a_failed_constructor_and_a_trapping_call(tmp_path):
    engine = engine_for()
    engine.ensure_memory()
    sp = engine.stack_value()
    failing = stack_trap_module(tmp_path, "ctortrap", "call $frame_then_trap")
    for _ in range(3):
        with pytest.raises(DlError, match="ctors: __wasm_call_ctors failed"):
            engine.dlopen(failing, RTLD_NOW | RTLD_GLOBAL)
        assert engine.stack_value() == sp
    engine.dlopen(stack_trap_module(tmp_path, "calltrap", ""), RTLD_NOW | RTLD_GLOBAL)
    for _ in range(3):
        with pytest.raises(DldbgError, match="leak trapped"):
            engine.call("leak", [])
        assert engine.stack_value() == sp


# -- found by the full campaign (docs/hardening.md) -------------------------------------------------
def test_wasi_main_whose_start_export_is_a_global_is_an_error(tmp_path):
    """A TypeError ('Global' object is not callable) in the WASI host before."""
    def edit(entries):
        for entry in entries:
            if entry[0] == "_start":
                entry[1], entry[2] = 3, 0
    path = mutate(tmp_path, "zig/wasi_dlopen/main_dyld.wasm", lambda d: edit_exports(d, edit))
    status, _, err = cli("run", "--no-cache", path)
    assert (status, err) == (1, "dldbg: error: main_dyld.wasm!_start failed: the export is a global, not a function to "
                                "call as the entry point\n")


def test_lazy_binding_signature_mismatch_names_the_caller(tmp_path):
    """env.needed_add imported as () -> i32 while libneeded.so defines (i32, i32) -> i32: the lazy
    stub's error said neither that it was a call nor from where."""
    def edit(entries):
        for entry in entries:
            if entry[1] == "needed_add":
                entry[3] = b"\x01"
    path = mutate(tmp_path, "clang14/wasi_dlopen/main_dyld.wasm", lambda d: edit_imports(d, edit))
    data = read_module(Path(path).read_bytes())
    want = data.types[1]
    status, _, err = cli("run", "--no-cache", path)
    assert status == 1
    assert err == (f"dldbg: error: signature mismatch for needed_add called from main_dyld.wasm: it imports {want}, "
                   "libneeded.so defines (i32, i32) -> (i32)\n")


def test_a_trap_in_wasm_the_host_calls_during_a_load_is_a_load_error(tmp_path):
    """emscripten's glue calls the main's `__set_stack_limits` after instantiation; here that
    export is `main`, which traps: a raw wasmtime.Trap (an internal error) before."""
    def edit(entries):
        for entry in entries:
            if entry[0] == "main":
                entry[0] = "__set_stack_limits"
    path = mutate(tmp_path, "emcc/em_unimplemented/main.wasm", lambda d: edit_exports(d, edit))
    proc = run_dldbg("run", "--no-cache", path)
    assert proc.returncode == 1 and "internal error" not in proc.stderr
    assert proc.stderr.splitlines()[-1].startswith(f"dldbg: error: {path}: instantiate: wasm trapped: ")


def test_a_module_file_is_read_with_requests_of_its_own_size_not_the_limit(tmp_path, monkeypatch):
    # a read of N bytes allocates N bytes first: asking for the 512 MiB limit cost a small
    # module's load a tenth of its time (issue 13)
    import dldbg.wasm.reader as reader

    sample = Path(__file__).resolve().parent.parent / "samples" / "out" / "clang16" / "reloc" / "libreloc_dep.so"
    data = sample.read_bytes()
    asked: list[int] = []
    real_read = os.read

    def counting(fd, n):
        asked.append(n)
        return real_read(fd, n)

    monkeypatch.setattr(reader.os, "read", counting)
    assert reader.read_wasm_bytes(sample, 512 * MIB) == data
    assert asked and max(asked) <= len(data) + 1
    # a file that grows between fstat and its read is still read whole (up to the limit)
    grown = tmp_path / "libgrown.so"
    grown.write_bytes(data)
    real_fstat = os.fstat
    monkeypatch.setattr(reader.os, "fstat", lambda fd: (real_fstat(fd), grown.write_bytes(data + data))[0])
    assert reader.read_wasm_bytes(grown, 512 * MIB) == data + data
    with pytest.raises(DldbgError, match="grew past the file_size limit"):
        grown.write_bytes(data)
        reader.read_wasm_bytes(grown, len(data) + 4)
