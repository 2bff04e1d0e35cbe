"""The WASI host: wasmtime's own WASI for argv, `--env`, inherited stdio and `--dir` folders; the
`memory` export it adds for WASI; guest paths; which mains it runs; the dl API's edges.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import wasmtime

from dldbg.errors import DlError, LoadError
from dldbg.hosts.dlfcn import engine_flags
from dldbg.hosts.programs import ProgramOptions, find_program_host
from dldbg.hosts.wasi import GuestPaths, WasiHost
from dldbg.linker.engine import Engine
from dldbg.linker.flags import RTLD_GLOBAL, RTLD_LAZY, RTLD_NODELETE, RTLD_NOLOAD, RTLD_NOW
from dldbg.wasm.edit import add_memory_export
from dldbg.wasm.reader import read_module

ROOT = Path(__file__).resolve().parent.parent

# A WASI command that only imports its memory: prints its arguments, its environment, the file
# data.txt of its first preopened folder (or "no file"), then what it reads from stdin, and
# exits with its argument count.
ECHO_WAT = r"""
(module
  (import "env" "memory" (memory 1))
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_sizes_get" (func $environ_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "environ_get" (func $environ_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (data (i32.const 0x50) "data.txt")
  (data (i32.const 0x60) "no file\n")
  (data (i32.const 0x70) " \n")
  (func $write (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0x2000) (local.get $ptr))
    (i32.store (i32.const 0x2004) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0x2000) (i32.const 1) (i32.const 0x2010))))
  (func $strlen (param $p i32) (result i32) (local $n i32)
    (block $done (loop $next
      (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $next)))
    (local.get $n))
  (func $print_list (param $ptrs i32) (param $count i32) (param $sep i32) (local $i i32) (local $s i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
      (local.set $s (i32.load (i32.add (local.get $ptrs) (i32.shl (local.get $i) (i32.const 2)))))
      (call $write (local.get $s) (call $strlen (local.get $s)))
      (call $write (local.get $sep) (i32.const 1))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))))
  (func (export "_start") (local $n i32)
    (drop (call $args_sizes_get (i32.const 0x100) (i32.const 0x104)))
    (drop (call $args_get (i32.const 0x200) (i32.const 0x400)))
    (call $print_list (i32.const 0x200) (i32.load (i32.const 0x100)) (i32.const 0x70))
    (call $write (i32.const 0x71) (i32.const 1))
    (drop (call $environ_sizes_get (i32.const 0x108) (i32.const 0x10c)))
    (drop (call $environ_get (i32.const 0x1000) (i32.const 0x1400)))
    (call $print_list (i32.const 0x1000) (i32.load (i32.const 0x108)) (i32.const 0x71))
    (if (i32.eqz (call $path_open (i32.const 3) (i32.const 0) (i32.const 0x50) (i32.const 8) (i32.const 0)
                      (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 0x2020)))
      (then
        (i32.store (i32.const 0x2000) (i32.const 0x3000))
        (i32.store (i32.const 0x2004) (i32.const 4096))
        (drop (call $fd_read (i32.load (i32.const 0x2020)) (i32.const 0x2000) (i32.const 1) (i32.const 0x2010)))
        (call $write (i32.const 0x3000) (i32.load (i32.const 0x2010))))
      (else (call $write (i32.const 0x60) (i32.const 8))))
    (i32.store (i32.const 0x2000) (i32.const 0x3000))
    (i32.store (i32.const 0x2004) (i32.const 4096))
    (drop (call $fd_read (i32.const 0) (i32.const 0x2000) (i32.const 1) (i32.const 0x2010)))
    (call $write (i32.const 0x3000) (i32.load (i32.const 0x2010)))
    (call $proc_exit (i32.load (i32.const 0x100)))))
"""


@pytest.fixture(scope="module")
def echo_wasm(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("wasi") / "echo.wasm"
    path.write_bytes(wasmtime.wat2wasm(ECHO_WAT))
    return path


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dldbg", "run", "--no-cache", *args], input=stdin,
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_argv_env_dir_and_stdin(echo_wasm, tmp_path):
    data = tmp_path / "folder"
    data.mkdir()
    (data / "data.txt").write_text("from the host folder\n")
    proc = run_cli("--env", "GREETING=hi", "--env", "EMPTY=", "--dir", f"{data}::/data", str(echo_wasm), "--",
                   "one", "two words", stdin="typed on stdin\n")
    assert proc.returncode == 3, proc.stderr  # proc_exit(argc)
    assert proc.stdout.splitlines() == [f"{echo_wasm} one two words ", "GREETING=hi", "EMPTY=",
                                        "from the host folder", "typed on stdin"]


def test_no_folder_and_no_environment_unless_given(echo_wasm):
    proc = run_cli(str(echo_wasm))
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == [f"{echo_wasm} ", "no file"]
    assert "HOME=" not in proc.stdout  # the host's environment is not inherited


def test_dir_must_exist(echo_wasm, tmp_path):
    proc = run_cli("--dir", f"{tmp_path / 'nope'}::/x", str(echo_wasm))
    assert proc.returncode == 1
    assert proc.stderr.startswith("dldbg: error: --dir") and "no such folder" in proc.stderr


def test_memory_export_added_for_wasi(echo_wasm):
    data = echo_wasm.read_bytes()
    wasm = read_module(data)
    assert "memory" not in wasm.export_map
    host = WasiHost()
    changed = host.prepare(wasm, data)
    new = read_module(changed)
    assert new.export_map["memory"].kind == "memory" and new.export_map["memory"].index == 0
    assert [e.name for e in new.exports] == ["_start", "memory"]
    wasmtime.Module.validate(wasmtime.Engine(), changed)
    assert host.prepare(new, changed) is None  # already exported


def test_memory_export_only_where_needed():
    no_wasi = wasmtime.wat2wasm('(module (import "env" "memory" (memory 1)) (func (export "f")))')
    assert WasiHost().prepare(read_module(no_wasi), no_wasi) is None
    own_memory = wasmtime.wat2wasm('(module (import "wasi_snapshot_preview1" "sched_yield" (func (result i32))) (memory 1))')
    assert WasiHost().prepare(read_module(own_memory), own_memory) is None


def test_add_memory_export_without_export_section():
    data = wasmtime.wat2wasm('(module (import "env" "memory" (memory 1)) (func) (start 0) (data (i32.const 0) "x"))')
    new = add_memory_export(data)
    wasm = read_module(new)
    assert wasm.export_map["memory"].index == 0
    ids = [s.id for s in wasm.sections if s.id]
    assert ids.index(7) == ids.index(3) + 1 and ids.index(7) < ids.index(8)  # after function, before start
    wasmtime.Module.validate(wasmtime.Engine(), new)
    with pytest.raises(ValueError, match="already exports"):
        add_memory_export(new)
    with pytest.raises(ValueError, match="no memory"):
        add_memory_export(wasmtime.wat2wasm("(module)"))


def test_guest_paths(tmp_path):
    """wasi-libc's longest-prefix preopen match, then the rest resolved beneath its folder."""
    for folder in ("root/usr/libx", "lib", "cwd/sub"):
        (tmp_path / folder).mkdir(parents=True)
    for file in ("root/usr/libx/x.so", "lib/x.so", "lib/z.so", "cwd/sub/y.so"):
        (tmp_path / file).write_bytes(b"")
    paths = GuestPaths([(str(tmp_path / "root"), "/"), (str(tmp_path / "lib"), "/usr/lib"), (str(tmp_path / "cwd"), ".")])
    assert paths.to_host("/usr/lib/x.so") == str(tmp_path / "lib" / "x.so")
    assert paths.to_host("/usr/libx/x.so") == str(tmp_path / "root" / "usr" / "libx" / "x.so")
    assert paths.to_host("/usr/lib") == str(tmp_path / "lib")
    assert paths.to_host("sub/y.so") == str(tmp_path / "cwd" / "sub" / "y.so")
    assert paths.to_host("/usr/lib/./z.so") == str(tmp_path / "lib" / "z.so")
    with pytest.raises(DlError):  # matched to /usr/lib first, then `..` climbs out of it (wasmtime)
        paths.to_host("/usr/lib/../lib/z.so")
    assert paths.to_guest(str(tmp_path / "lib" / "z.so")) == "/usr/lib/z.so"
    narrow = GuestPaths([(str(tmp_path), "/data")])
    for outside in ("/etc/x.so", "/data/../lib/x.so", "../lib/x.so", "/data/nothing.so"):
        with pytest.raises(DlError, match=r"no such file in the program's view \(its --dir folders: /data\)"):
            narrow.to_host(outside)
    assert narrow.to_guest("/elsewhere") is None


def test_wasi_rtld_values():
    """wasi-libc's RTLD_LOCAL is 8, musl's (the engine's) 0; the other bits are the same."""
    assert engine_flags(2 | 8) == RTLD_NOW
    assert engine_flags(1 | 0x100) == RTLD_LAZY | RTLD_GLOBAL
    assert engine_flags(2 | 4 | 0x1000) == RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE


def test_which_programs_the_hosts_run(echo_wasm):
    def host_of(wat: str, name: str = "main.wasm"):
        return find_program_host(read_module(wasmtime.wat2wasm(wat)), name)

    wasi = '(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32))) (func (export "_start")))'
    assert host_of(wasi) is WasiHost
    assert host_of(wasi, "libfoo.so") is None  # a library, even if zig linked a _start into it
    emscripten = ('(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))'
                  ' (import "env" "emscripten_memcpy_big" (func (param i32 i32 i32))) (func (export "_start")))')
    assert host_of(emscripten) is not WasiHost
    assert host_of('(module (import "dyld" "load_object" (func (param i32 i32 i32 i32) (result i32))) (func (export "_initialize")))') is WasiHost
    assert host_of("(module (func (export \"f\")))") is None


def test_dl_import_with_a_wrong_type_fails_the_load(tmp_path, capfd):
    path = tmp_path / "main.wasm"
    path.write_bytes(wasmtime.wat2wasm(
        '(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))'
        ' (import "env" "memory" (memory 1))'
        ' (import "env" "dlopen" (func (param i32) (result i32))) (func (export "_start")))'))
    engine = Engine(WasiHost(ProgramOptions()), cache_dir=None)
    with pytest.raises(LoadError, match=r"env\.dlopen has type \(i32\) -> \(i32\), but the dl API function is \(i32, i32\) -> \(i32\)"):
        engine.host.run(engine, str(path), [str(path)])


def test_side_modules_without_a_program(tmp_path):
    """A WasiHost engine also loads side modules by dlopen alone (no main): it then lays memory
    out as for an empty PIE main and still publishes the layout symbols."""
    lib = ROOT / "samples" / "out" / "clang16" / "wasi_dlopen" / "libneeded.so"
    if not lib.exists():
        pytest.skip("samples not built")
    engine = Engine(WasiHost(), cache_dir=None)
    handle = engine.dlopen(str(lib))
    assert engine.by_handle[handle].memory_base >= 1024
    assert engine.call("needed_add", [40, 2]) == 42
    assert engine.global_scope.lookup("__heap_base").address >= engine.global_scope.lookup("__stack_high").address
    assert os.path.basename(engine.modules[0].path) == "libneeded.so"


def test_non_pic_main_stack_for_side_modules(tmp_path, capfd):
    """A non-PIC main that exports `__stack_pointer` shares it with side modules; one that does
    not gives them a stack of their own from the heap."""
    lib = ROOT / "samples" / "out" / "clang16" / "wasi_dlopen" / "libneeded.so"
    if not lib.exists():
        pytest.skip("samples not built")
    path = tmp_path / "main.wasm"
    path.write_bytes(wasmtime.wat2wasm(
        '(module (import "wasi_snapshot_preview1" "proc_exit" (func (param i32)))'
        ' (import "env" "memory" (memory 2)) (import "env" "__indirect_function_table" (table 1 funcref))'
        ' (global (export "__stack_pointer") (mut i32) (i32.const 65536)) (func (export "_start")))'))
    host = WasiHost(ProgramOptions(preload=[str(lib)]))
    engine = Engine(host, cache_dir=None)
    host.load(engine, str(path), [str(path)], read_module(path.read_bytes()))
    assert engine.stack_pointer.value(engine.store) == 65536  # the main's own global
    assert engine.main.externs["__stack_pointer"].value(engine.store) == 65536

    program = ROOT / "samples" / "out" / "clang16" / "wasi_dlopen" / "main_nopic.wasm"
    engine = Engine(WasiHost(ProgramOptions()), cache_dir=None)
    assert engine.host.run(engine, str(program), [str(program)]) == 0
    capfd.readouterr()
    top = engine.stack_pointer.value(engine.store)
    assert any(start < top <= end for start, end in engine.allocator.blocks.values())
