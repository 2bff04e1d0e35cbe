"""The emscripten host's parts: layout from main.js, the sandboxed file system, emscripten's
PATH.normalize and JS printf, the registry, `dldbg inspect` on emscripten mains."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

import pytest

from catalogue import OUT, ROOT
from dldbg.hosts.emscripten.dynlink import normalize
from dldbg.hosts.emscripten.formatstring import format_string
from dldbg.hosts.emscripten.fs import E, FsError, SandboxFS
from dldbg.hosts.emscripten.layout import computed_layout, find_js, read_layout, wasm_of_js
from dldbg.hosts.emscripten.registry import IMPORTS, implemented, load_all, sig_to_types
from dldbg.wasm.reader import read_module_file

EM = OUT / "emcc"


def main_of(name: str):
    path = str(EM / name / "main.wasm")
    return path, read_module_file(path)


# -- layout ----------------------------------------------------------------------------------

def test_layout_from_main_js_matches_the_computed_one():
    for name in ("em_loadtime", "em_dlopen", "em_cxx"):
        path, wasm = main_of(name)
        layout, computed = read_layout(path, wasm), computed_layout(path, wasm)
        assert layout.js_path == find_js(path) == str(EM / name / "main.js")
        assert (layout.memory_base, layout.table_base) == (1024, 1)
        assert layout.heap_base == layout.stack_high == computed.heap_base
        assert layout.stack_low == computed.stack_low
        assert layout.heap_base - layout.stack_low == 5 * 1024 * 1024
        assert layout.table_initial == computed.table_initial
        assert layout.initial_memory == 16 * 1024 * 1024 and not layout.can_grow
        assert layout.assertions and not layout.exit_runtime and not layout.noderawfs
        assert wasm_of_js(layout.js_path) == path


def test_layout_settings():
    assert read_layout(*main_of("em_loadtime")).autoload_dylibs
    assert not read_layout(*main_of("em_dlopen")).autoload_dylibs  # -sNO_AUTOLOAD_DYLIBS
    layout = read_layout(*main_of("em_unimplemented"))
    assert "emscripten_run_script_int" in layout.library_functions
    assert "fd_write" in layout.library_functions and layout.js_sigs["fd_write"] == "iiiii"


# -- file system -----------------------------------------------------------------------------

def test_sandbox_paths(tmp_path):
    root, other = tmp_path / "root", tmp_path / "other"
    root.mkdir()
    other.mkdir()
    (root / "data.txt").write_text("root file")
    (other / "mounted.txt").write_text("mounted")
    (root / "escape").symlink_to(tmp_path)
    fs = SandboxFS(str(root), [(str(other), "/mnt/other")])
    try:
        assert fs.host_path("/data.txt") == str(root / "data.txt")
        assert fs.host_path(fs.absolute("../../data.txt")) == str(root / "data.txt")  # .. stops at /
        assert fs.host_path("/mnt/other/mounted.txt") == str(other / "mounted.txt")
        with pytest.raises(FsError) as exc:
            fs.host_path("/escape/other/mounted.txt")
        assert exc.value.errno == E.EACCES
        tmp_host = fs.host_path("/tmp/x")
        assert os.path.dirname(tmp_host) not in (str(root), str(other))
        stream = fs.open("/tmp/x", 0o101, 0o644)  # O_WRONLY | O_CREAT
        os.write(stream.host_fd, b"in tmp")
        fs.close(stream.fd)
        assert open(tmp_host).read() == "in tmp"
        with pytest.raises(FsError) as exc:
            fs.open("/missing.txt", 0)
        assert exc.value.errno == E.ENOENT
        fs.cwd = "/mnt"
        assert fs.absolute("other/mounted.txt") == "/mnt/other/mounted.txt"
    finally:
        fs.close_all()
    assert not os.path.exists(tmp_host)


def test_dir_option_mounts_a_folder(tmp_path):
    """`--dir HOST::GUEST` on the command line reaches the program's file system."""
    (tmp_path / "in.txt").write_text("from the host")
    from dldbg.hosts.emscripten import EmscriptenHost
    from dldbg.hosts.programs import ProgramOptions, parse_dir

    host = EmscriptenHost(ProgramOptions(dirs=[parse_dir(f"{tmp_path}::/data")]))
    fs = SandboxFS("/nonexistent-root", host.options.dirs)
    try:
        assert fs.find_file("/data/in.txt") == str(tmp_path / "in.txt")
    finally:
        fs.close_all()


# -- PATH.normalize and the JS printf -------------------------------------------------------

@pytest.mark.parametrize(("path", "expect"), [
    ("libfoo.so", "libfoo.so"), ("./libfoo.so", "libfoo.so"), ("a/../b.so", "b.so"), ("/x//y/./z.so", "/x/y/z.so"),
    ("../up.so", "../up.so"), ("/../root.so", "/root.so"), ("dir/", "dir/"),
])
def test_path_normalize(path, expect):
    assert normalize(path) == expect


class FakeMemory:
    """Enough of the runtime for format_string: a little linear memory."""

    def __init__(self):
        self.mem = bytearray(4096)

    def read(self, addr, size):
        return bytes(self.mem[addr:addr + size])

    def i32(self, addr):
        return struct.unpack_from("<i", self.mem, addr)[0]

    def set_i32(self, addr, value):
        struct.pack_into("<I", self.mem, addr, value & 0xFFFFFFFF)

    def cbytes(self, addr):
        return bytes(self.mem[addr:self.mem.index(0, addr)])


@pytest.mark.parametrize(("fmt", "args", "expect"), [
    ("%d|%5d|%-5d|%05d", [("i", -42), ("i", 42), ("i", 7), ("i", 7)], "-42|   42|7    |00007"),
    ("%u %x %X %o %#x", [("i", -1), ("i", 255), ("i", 255), ("i", 8), ("i", 255)], "4294967295 ff FF 10 0xff"),
    # 64-bit values are JS doubles there: printed with the shortest digits, then zeros
    ("%lld %llu %lld", [("q", -(1 << 40)), ("q", 1 << 63), ("q", (1 << 62) + 1)],
     "-1099511627776 9223372036854776000 4611686018427388000"),
    ("%.2f %e %g %g", [("d", 3.14159), ("d", 12345.678), ("d", 0.0001), ("d", 1e20)],
     "3.14 1.234568e+04 0.0001 1e+20"),
    ("%s|%.3s|%6s|%c%%", [("s", "hello"), ("s", "hello"), ("s", "hi"), ("i", ord("!"))], "hello|hel|    hi|!%"),
    ("%p %p", [("i", 0), ("i", 0x1234)], "(nil) 0x1234"),
])
def test_js_printf(fmt, args, expect):
    rt = FakeMemory()
    rt.mem[16:16 + len(fmt) + 1] = fmt.encode() + b"\0"
    at, offset = 1024, 256  # string arguments go at 1024, the va_list at 256
    for kind, value in args:
        if kind in ("q", "d"):
            offset = (offset + 7) & ~7
            struct.pack_into("<d" if kind == "d" else "<Q", rt.mem, offset, value if kind == "d" else value & (2 ** 64 - 1))
            offset += 8
            continue
        if kind == "s":
            rt.mem[at:at + len(value) + 1] = value.encode() + b"\0"
            value, at = at, at + len(value) + 1
        struct.pack_into("<i", rt.mem, offset, value)
        offset += 4
    assert format_string(rt, 16, 256).decode("latin-1") == expect


# -- registry and inspect --------------------------------------------------------------------

def test_registry_signatures_parse():
    for name, impl in load_all().items():
        params, results = sig_to_types(impl.sig)
        assert len(results) <= 1, name
    assert implemented("invoke_viii") and implemented("__cxa_find_matching_catch_3")
    assert implemented("fd_write") and implemented("_dlopen_js") and implemented("__syscall_openat")
    assert not implemented("emscripten_run_script_int")
    assert IMPORTS["clock_gettime"].func is IMPORTS["__clock_gettime"].func


def test_recognizes_emscripten_mains_only():
    from dldbg.hosts.emscripten import EmscriptenHost

    assert EmscriptenHost.recognizes(main_of("em_dlopen")[1], "main.wasm")
    for side in (EM / "em_dlopen" / "libem_plugin.so", EM / "reloc" / "libreloc.so"):
        assert not EmscriptenHost.recognizes(read_module_file(str(side)), str(side))


def test_inspect_lists_unimplemented_imports_without_importing_wasmtime():
    code = ("import sys, io\nfrom dldbg.cli import main\nout = io.StringIO()\n"
            f"main(['inspect', {str(EM / 'em_unimplemented' / 'main.wasm')!r}], stdout=out)\n"
            f"main(['inspect', '--json', {str(EM / 'em_loadtime' / 'main.wasm')!r}], stdout=out)\n"
            f"main(['inspect', {str(EM / 'em_loadtime' / 'libem_util.so')!r}], stdout=out)\n"
            "print(out.getvalue()); print('wasmtime' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    lines = proc.stdout.strip().splitlines()
    assert lines[-1] == "False"
    assert "emscripten imports not implemented: env.emscripten_run_script_int" in lines
    report = json.loads(next(line for line in lines if line.startswith("{")))
    assert report["emscripten_unimplemented"] == []
    util = proc.stdout.split("libem_util.so:", 1)[1]
    assert "emscripten imports not implemented" not in util


def test_js_library_bindings_inspect_each_function_once(tmp_path, monkeypatch, capfd):
    """Binding the JS library asks `inspect.signature` once per function and parameter count,
    not once per program run (a MAIN_MODULE program binds a hundred on every run)."""
    import inspect

    from dldbg.hosts.emscripten import EmscriptenHost
    from dldbg.hosts.programs import ProgramOptions
    from dldbg.linker.engine import Engine

    path = str(OUT / "emcc" / "em_cxx" / "main.wasm")
    if not os.path.exists(path):
        pytest.skip(f"{path} is not built")
    import weakref

    import dldbg.hosts.emscripten.host as host_module

    monkeypatch.setattr(host_module, "_TAKES", weakref.WeakKeyDictionary())  # as in a new process
    calls = []
    real = inspect.signature
    monkeypatch.setattr(inspect, "signature", lambda f, *a, **k: calls.append(f) or real(f, *a, **k))
    runs = []
    for _ in range(2):
        before = len(calls)
        engine = Engine(EmscriptenHost(ProgramOptions()), cache_dir=str(tmp_path))
        assert engine.host.run(engine, path, [path]) == 0
        runs.append(len(calls) - before)
    assert runs[0] > 0 and runs[1] == 0
    assert sig_to_types("vij") == (("i32", "i64"), ())
    capfd.readouterr()
