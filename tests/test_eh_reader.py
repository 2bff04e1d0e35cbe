"""The reader tells the exception-handling encodings apart (dldbg.wasm.eh): none, legacy
(`try`/`catch`/`catch_all`/`delegate`/`rethrow`) and exnref (`try_table`/`throw_ref`), never
taking a byte of an immediate for an instruction; it agrees with wasm-objdump on every legacy
instruction of a real emscripten build; `dldbg inspect` says the encoding.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import wasmtime

from catalogue import OUT
from dldbg.errors import WasmParseError
from dldbg.wasm import eh
from dldbg.wasm.eh import eh_instructions
from dldbg.wasm.reader import read_module, read_module_file
from test_cli import run

EH_SAMPLE = OUT / "emcc" / "em_wasm_eh"

# Every immediate here holds 0x06, 0x07, 0x09, 0x0a, 0x18, 0x19 or 0x1f (the EH opcodes) as a byte.
_IMMEDIATES = r"""
  (memory 1)
  (table 32 funcref)
  (type $t (func (param i32) (result i32)))
  (global $g (mut i32) (i32.const 0))
  (func $f (type $t) local.get 0)
  (func (export "imm") (param i32 i32 i32 i32 i32 i32 i32) (result i32)
    (local i64 f64 v128 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)
    i32.const 6 drop  i32.const 0x1f drop  i64.const 0x0a0a0a0a0a drop  f32.const 0x1.0c0e0p-120 drop
    f64.const 0x1.06070918190a1p-200 drop  v128.const i32x4 0x06070918 0x190a1f06 0x07091819 0x0a1f0607 drop
    local.get 6  local.set 6  local.get 0x19  local.tee 0x1f  drop  global.get $g drop
    i32.const 0 i32.load offset=0x1f06 drop  i32.const 0 i32.const 7 i32.store8 offset=0x18
    (block $a (block $b (block $c (br_table $a $b $c $a $b $c $a (local.get 0)))))
    (call $f (i32.const 9)) drop  (call_indirect (type $t) (i32.const 10) (i32.const 0x19)) drop
    (select (i32.const 6) (i32.const 7) (local.get 1))  drop
    i32.const 0 i32.const 0 i32.const 0x18 memory.fill
    i32.const 0x1f)
"""


def wat(body: str) -> bytes:
    return bytes(wasmtime.wat2wasm(f"(module (tag $e (param i32)) {body})"))


def test_immediates_are_not_instructions():
    assert read_module(wat(_IMMEDIATES)).eh.encoding == "none"


def test_each_encoding_and_its_first_instruction():
    legacy = read_module(wat(_IMMEDIATES + "(func (result i32) try (result i32) i32.const 6 catch $e catch_all i32.const 1 end)"))
    assert (legacy.eh.encoding, legacy.eh.instruction) == ("legacy", "try")
    assert legacy.raw[legacy.eh.offset] == 0x06
    exnref = read_module(wat(_IMMEDIATES + "(func (result i32) (block $h (result i32) "
                             "(try_table (result i32) (catch $e $h) (i32.const 7))))"))
    assert (exnref.eh.encoding, exnref.eh.instruction) == ("exnref", "try_table")
    assert exnref.raw[exnref.eh.offset] == 0x1F
    thrower = read_module(wat("(func (param i32) local.get 0 throw $e)"))
    assert thrower.eh.encoding == "none"  # `throw` exists in both encodings


def test_module_without_a_tag_is_scanned_too():
    """`try` ... `catch_all` (and `delegate`, `rethrow`) need no tag: a module without one can use
    the legacy encoding (awkward-cpp 57's libawkward-cpu-kernels.so, tests/test_pyodide.py)."""
    module = read_module(bytes(wasmtime.wat2wasm(
        "(module (func (result i32) try (result i32) i32.const 6 catch_all i32.const 1 end))")))
    assert not module.tags and not [imp for imp in module.imports if imp.kind == "tag"]
    assert (module.eh.encoding, module.eh.instruction) == ("legacy", "try")
    tagged = read_module(wat("(func (result i32) i32.const 6)"))
    bad = bytearray(tagged.raw)
    bad[tagged.bodies[0].offset + 1] = 0xFB  # an opcode the walk does not decode, in place of i32.const
    unknown = read_module(bytes(bad)).eh
    assert (unknown.encoding, unknown.offset) == ("unknown", tagged.bodies[0].offset + 1)


@pytest.mark.skipif(shutil.which("wasm-objdump") is None, reason="wabt's wasm-objdump is not installed")
@pytest.mark.parametrize("name", ["main.wasm", "libeh_thrower.so"])
def test_every_legacy_instruction_as_wasm_objdump_finds_it(name):
    path = EH_SAMPLE / name
    module = read_module_file(path)
    ours = [(e.offset, e.instruction) for e in eh_instructions(module.raw, module.bodies)]
    dump = subprocess.run(["wasm-objdump", "-d", str(path)], capture_output=True, text=True, check=True).stdout
    theirs = [(int(m.group(1), 16), m.group(2)) for m in
              re.finditer(r"^ *([0-9a-f]+):[ 0-9a-f]+\| *(try|catch_all|catch|rethrow|delegate)\b", dump, re.M)]
    assert ours == theirs
    assert {i for _, i in ours} >= {"try", "catch", "catch_all", "rethrow"}
    assert module.eh.encoding == "legacy" and module.eh.offset == ours[0][0]


def test_inspect_says_the_encoding():
    path = str(EH_SAMPLE / "libeh_thrower.so")
    status, out, _ = run(["inspect", path])
    assert status == 0
    offset = read_module_file(path).eh.offset
    assert out.splitlines()[:2] == [
        f"{path}: {read_module_file(path).size} bytes, side module",
        f"exception handling: legacy (try/catch/delegate/rethrow), first try at byte offset {offset:#x}",
    ]
    status, out, _ = run(["inspect", "--json", path, str(OUT / "emcc" / "em_cxx" / "libem_thrower.so")])
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["exception_handling"] == {"encoding": "legacy", "offset": offset, "instruction": "try"}
    assert second["exception_handling"]["encoding"] == "none"  # -fexceptions: JavaScript exceptions


def test_truncated_body_is_unknown_not_an_error():
    tagged = read_module(wat("(func nop nop nop nop nop nop nop nop nop)"))
    body = tagged.bodies[0]
    bad = bytearray(tagged.raw)
    bad[body.offset + body.size - 5] = 0x44  # f64.const: its 8 bytes would run past the body's end
    eh = read_module(bytes(bad)).eh
    assert (eh.encoding, eh.offset) == ("unknown", body.offset + body.size - 4)
    assert eh.instruction.startswith("malformed code:")


def test_the_walk_without_the_compiled_expression_finds_the_same(monkeypatch):
    """A process decodes its first KiBs of code one instruction at a time, without compiling
    the expression that matches runs of ordinary instructions (dldbg.wasm.eh.COMPILE_AFTER):
    both walks find the same EH instructions, the same unknown opcode, the same malformed body."""
    modules = [read_module_file(p) for p in sorted(OUT.glob("*/*/*.so")) + sorted(OUT.glob("*/*/*.wasm"))]
    modules += [read_module(wat(_IMMEDIATES + body)) for body in (
        "(func (result i32) try (result i32) i32.const 6 catch $e catch_all i32.const 1 end)",
        "(func (result i32) (block $h (result i32) (try_table (result i32) (catch $e $h) (i32.const 7))))")]
    damaged = read_module(wat("(func nop nop nop nop nop nop nop nop nop) (func (result i32) i32.const 6)"))
    for at, byte in ((damaged.bodies[0].offset + damaged.bodies[0].size - 5, 0x44),  # runs past the body
                     (damaged.bodies[1].offset + 1, 0xFB)):  # an opcode the walk does not decode
        bad = bytearray(damaged.raw)
        bad[at] = byte
        modules.append(read_module(bytes(bad)))
    assert sum(m.eh.encoding == "legacy" for m in modules) >= 3 and sum(m.eh.encoding == "unknown" for m in modules) == 2

    def walk(module, match, skip_short=eh._skip_short):
        monkeypatch.setattr(eh, "_matcher", lambda size: match)
        monkeypatch.setattr(eh, "_skip_short", skip_short)
        try:
            return [(e.encoding, e.offset, e.instruction) for e in eh_instructions(module.raw, module.bodies)]
        except WasmParseError as exc:
            return exc.offset, exc.message

    compiled = eh._matcher(eh.COMPILE_AFTER + 1)
    assert compiled is not None
    for module in modules:  # with the expression; without it; without it, every instruction decoded
        assert walk(module, None) == walk(module, compiled) == walk(module, None, lambda data, pos, end: pos), \
            module.path


def test_the_walk_without_the_expression_decodes_few_instructions_one_by_one(monkeypatch):
    """Without the compiled expression, runs of ordinary instructions whose immediates fit any
    width (the 5-byte LEBs of relocatable code too) are skipped without a Cursor
    (eh._skip_short): `_decode_one`, three times slower, decodes a tenth of libreloc.so's
    instructions at most (it decoded each)."""
    module = read_module_file(OUT / "clang16" / "reloc" / "libreloc.so")
    decoded = []
    decode_one = eh._decode_one
    monkeypatch.setattr(eh, "_decode_one", lambda data, pos, end: decoded.append(pos) or decode_one(data, pos, end))
    monkeypatch.setattr(eh, "_matcher", lambda size: None)
    assert list(eh_instructions(module.raw, module.bodies)) == []
    fast = len(decoded)
    monkeypatch.setattr(eh, "_skip_short", lambda data, pos, end: pos)
    decoded.clear()
    assert list(eh_instructions(module.raw, module.bodies)) == []
    assert len(decoded) > 300 and fast * 10 < len(decoded)


def test_a_small_module_is_walked_without_compiling_the_expression(monkeypatch):
    monkeypatch.setattr(eh, "_run_match", None)
    monkeypatch.setattr(eh, "_decoded_without", 0)
    assert read_module_file(OUT / "clang16" / "reloc" / "libreloc.so").eh.encoding == "none"
    assert read_module_file(EH_SAMPLE / "libeh_thrower.so").eh.encoding == "legacy"
    assert eh._run_match is None
    assert read_module_file(EH_SAMPLE / "main.wasm").eh.encoding == "legacy"  # over 4 KiB of code
    assert eh._run_match is not None
