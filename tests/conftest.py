"""Shared fixtures.

`reader_inputs`: small wasm modules for the reader tests (test_reader_objdump.py,
test_reader_malformed.py), built once per session into a temporary folder: tiny C side modules
(clang-16 + wasm-ld-16), hand-written WAT for feature edge cases (wat2wasm) and modules with
hand-made dylink.0 / legacy dylink sections spliced in with dldbg.wasm.binary's encoders.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from dldbg.wasm.binary import encode_custom_section, encode_name, encode_section, encode_uleb

# `dldbg run` tiers up in a detached process after a Winch run (dldbg.linker.tiers): in the
# test run that would compile every sample again with Cranelift behind the tests' back, into
# folders the tests delete.  test_tiers.py calls the tier-up itself.
os.environ.setdefault("DLDBG_NO_TIER_UP", "1")
# npm packages the tests use (binaryen for legacy exception handling, Pyodide's and php-wasm's
# mains) are fetched once into the repository's ignored .cache/npm and reused (dldbg.fetch).
os.environ.setdefault("DLDBG_NPM_DIR", str(Path(__file__).resolve().parent.parent / ".cache" / "npm"))

WASM_HEADER = b"\0asm\x01\x00\x00\x00"

_C_BASIC = r"""
extern int ext_var;
extern int ext_fn(int);
int counter = 5;
int *ptr = &counter;
static int helper(int x) { return x * 3; }
int (*fp)(int) = helper;
int get(int x) { return ext_fn(x) + ext_var + counter + fp(x); }
"""

_C_LIBDEP = r"""
int libval = 3;
int libfn(int x) { return x + libval; }
"""

# NEEDED (links against libdep.so), a weak import, a TLS export, passive data, a start function.
_C_TLS_WEAK_NEEDED = r"""
extern int libfn(int);
__attribute__((weak)) extern int maybe(int);
_Thread_local int tlsvar = 7;
static const char msg[] = "hello world";
int use(int x) { return libfn(x) + (maybe ? maybe(x) : 0) + tlsvar + msg[x]; }
const char *getmsg(void) { return msg; }
"""

WAT_FEATURES_FLAGS = (
    "--enable-extended-const", "--enable-multi-memory", "--enable-memory64",
    "--enable-exceptions", "--enable-threads", "--debug-names",
)

# Extended-const offsets and globals, passive / declarative / expression element segments, an
# explicit table index, tags, memory64, several memories, shared memory, a start function.
_WAT_FEATURES = r"""
(module
  (type $t0 (func (param i32) (result i32)))
  (type $t1 (func))
  (import "env" "memory" (memory $m0 1 10 shared))
  (import "env" "__memory_base" (global $__memory_base i32))
  (import "env" "__table_base" (global $__table_base i32))
  (import "env" "tbl" (table $tbl 4 20 funcref))
  (import "env" "f" (func $f (type $t0)))
  (import "env" "exc" (tag $e0 (param i32)))
  (import "GOT.mem" "x" (global $gx (mut i32)))
  (tag $e1 (param i32))
  (memory $m1 2)
  (memory $m64 i64 1 5)
  (table $t2 3 externref)
  (global $g0 i32 (i32.add (global.get $__memory_base) (i32.const 4)))
  (global $g1 (mut i64) (i64.const -5))
  (global $g2 i32 (i32.sub (i32.mul (global.get $__table_base) (i32.const 3)) (i32.const -1)))
  (global $g3 funcref (ref.func $h))
  (global $g4 externref (ref.null extern))
  (global $g5 f64 (f64.const 1.5))
  (global $g6 i32 (i32.const -1))
  (global $g7 i64 (i64.add (i64.const 4294967296) (i64.const -2)))
  (func $h (type $t1))
  (func $k (param i32) (result i32) local.get 0)
  (start $h)
  (elem (offset (i32.add (global.get $__table_base) (i32.const 1))) func $h $k)
  (elem (table $tbl) (offset (i32.const 2)) funcref (ref.func $k) (ref.null func))
  (elem (table $t2) (offset (i32.const 0)) externref (ref.null extern))
  (elem $p funcref (ref.func $h) (ref.null func))
  (elem declare func $k)
  (elem $p2 func $h $k)
  (data (memory $m1) (i32.const 16) "hello")
  (data (i32.add (global.get $__memory_base) (i32.const 8)) "ab")
  (data $pd "passive")
  (data (memory $m64) (i64.const 4294967296) "x")
  (data (i32.const -16) "top")
  (export "e1" (tag $e1))
  (export "h" (func $h))
  (export "g0" (global $g0))
  (export "mem1" (memory $m1))
  (export "t2" (table $t2))
)
"""

_WAT_SIDE = r"""
(module
  (import "env" "memory" (memory 1))
  (import "env" "__memory_base" (global $__memory_base i32))
  (import "env" "f" (func $f (param i32) (result i32)))
  (import "GOT.mem" "x" (global (mut i32)))
  (global $g i32 (i32.const 16))
  (func $get (result i32) (i32.const 1) (call $f))
  (data (global.get $__memory_base) "abcdefgh")
  (export "get" (func $get))
  (export "g" (global $g))
)
"""

# Symbol flags (tool-conventions Linking.md); wabt 1.0.32 rejects flags above 0x1ff.
UNDEFINED, WEAK, HIDDEN, EXPORTED, EXPLICIT_NAME, NO_STRIP, TLS = 0x10, 0x1, 0x4, 0x20, 0x40, 0x80, 0x100


def dylink0_payload(*subsections: tuple[int, bytes]) -> bytes:
    return b"".join(bytes([sub_id]) + encode_uleb(len(body)) + body for sub_id, body in subsections)


def vec(items: list[bytes]) -> bytes:
    return encode_uleb(len(items)) + b"".join(items)


def mem_info(mem_size: int, mem_align: int, table_size: int, table_align: int) -> bytes:
    return b"".join(encode_uleb(v) for v in (mem_size, mem_align, table_size, table_align))


#: dylink.0 of `wat_dylink`: every subsection kind, an unknown one (id 9) and RUNTIME_PATH (5),
#: which wabt 1.0.32 both skip.
WAT_DYLINK_SECTION = encode_custom_section("dylink.0", dylink0_payload(
    (1, mem_info(1024, 4, 3, 0)),
    (2, vec([encode_name("liba.so"), encode_name("libb.so")])),
    (3, vec([encode_name("g") + encode_uleb(TLS | EXPORTED), encode_name("get") + encode_uleb(NO_STRIP | HIDDEN)])),
    (9, b"\x01\x02\x03"),
    (4, vec([
        encode_name("env") + encode_name("f") + encode_uleb(UNDEFINED | WEAK),
        encode_name("GOT.mem") + encode_name("x") + encode_uleb(UNDEFINED | EXPLICIT_NAME | HIDDEN),
    ])),
    (5, vec([encode_name("$ORIGIN/lib")])),
))

#: the legacy flat `dylink` section: memsize memalign tablesize tablealign needed_count needed*
LEGACY_DYLINK_SECTION = encode_custom_section(
    "dylink", mem_info(64, 3, 2, 0) + vec([encode_name("libold.so")])
)


def insert_first(module: bytes, section: bytes) -> bytes:
    """`section` placed right after the header, before every other section."""
    assert module[:8] == WASM_HEADER
    return module[:8] + section + module[8:]


def table_init_module() -> bytes:
    """A table with an initializer expression (0x40 0x00 prefix); wabt 1.0.32 cannot read it."""
    types = encode_section(1, vec([b"\x60\x00\x00"]))
    funcs = encode_section(3, vec([encode_uleb(0)]))
    # (table 2 10 funcref (ref.func 0)) then a plain (table 1 externref)
    tables = encode_section(4, vec([b"\x40\x00\x70\x01\x02\x0a\xd2\x00\x0b", b"\x6f\x00\x01"]))
    elems = encode_section(9, vec([b"\x00\x41\x00\x0b" + vec([encode_uleb(0)])]))
    code = encode_section(10, vec([encode_uleb(2) + b"\x00\x0b"]))
    names = encode_custom_section("name", b"\x01" + encode_uleb(5) + vec([encode_uleb(0) + encode_name("fn")]))
    return WASM_HEADER + types + funcs + tables + elems + code + names


def _need(*tools: str, package: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not found (install {package}) to build this reader input")


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")


class ReaderInputs:
    """Builds each named input on first use; `path(name)` skips when its toolchain is missing."""

    C_NAMES = ("c_basic", "c_libdep", "c_tls_weak_needed")
    WAT_NAMES = ("wat_features", "wat_side", "wat_dylink", "wat_legacy_dylink")
    HAND_NAMES = ("hand_table_init",)

    def __init__(self, folder: Path):
        self.folder = folder
        self._built: dict[str, Path] = {}

    def path(self, name: str) -> Path:
        if name not in self._built:
            self._built[name] = self._build(name)
        return self._built[name]

    def _clang(self, name: str, source: str, *, extra_cflags=(), extra_ldflags=(), libs=()) -> Path:
        _need("clang-16", "wasm-ld-16", package="clang-16 and lld-16")
        (self.folder / f"{name}.c").write_text(source)
        _run(["clang-16", "--target=wasm32-unknown-emscripten", "-fPIC", "-fvisibility=default", "-O1",
              *extra_cflags, "-c", f"{name}.c", "-o", f"{name}.o"], self.folder)
        _run(["wasm-ld-16", "--experimental-pic", "-shared", *extra_ldflags, f"{name}.o",
              *[str(self.path(lib).name) for lib in libs], "-o", f"{name}.so"], self.folder)
        return self.folder / f"{name}.so"

    def _wat(self, name: str, source: str) -> bytes:
        _need("wat2wasm", package="wabt")
        (self.folder / f"{name}.wat").write_text(source)
        _run(["wat2wasm", *WAT_FEATURES_FLAGS, f"{name}.wat", "-o", f"{name}.wat.wasm"], self.folder)
        return (self.folder / f"{name}.wat.wasm").read_bytes()

    def _write(self, name: str, data: bytes) -> Path:
        out = self.folder / f"{name}.wasm"
        out.write_bytes(data)
        return out

    def _build(self, name: str) -> Path:
        if name == "c_basic":
            return self._clang(name, _C_BASIC)
        if name == "c_libdep":
            return self._clang(name, _C_LIBDEP)
        if name == "c_tls_weak_needed":
            return self._clang(name, _C_TLS_WEAK_NEEDED, extra_cflags=("-matomics", "-mbulk-memory"),
                               extra_ldflags=("--shared-memory",), libs=("c_libdep",))
        if name == "wat_features":
            return self._write(name, self._wat(name, _WAT_FEATURES))
        if name == "wat_side":
            return self._write(name, self._wat(name, _WAT_SIDE))
        if name == "wat_dylink":
            return self._write(name, insert_first(self._wat(name, _WAT_SIDE), WAT_DYLINK_SECTION))
        if name == "wat_legacy_dylink":
            return self._write(name, insert_first(self._wat(name, _WAT_SIDE), LEGACY_DYLINK_SECTION))
        if name == "hand_table_init":
            return self._write(name, table_init_module())
        raise KeyError(f"unknown reader input {name!r}")


@pytest.fixture(scope="session")
def reader_inputs(tmp_path_factory) -> ReaderInputs:
    return ReaderInputs(tmp_path_factory.mktemp("reader_inputs"))
