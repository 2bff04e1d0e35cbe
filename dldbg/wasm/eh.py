"""Which exception-handling encoding a module's code uses: none, legacy or exnref.

Sources: the exception-handling proposal (WebAssembly/exception-handling): the legacy encoding
(`legacy/Exceptions.md`: `try` 0x06, `catch` 0x07, `rethrow` 0x09, `delegate` 0x18,
`catch_all` 0x19) and the standard one (`Exceptions.md`: `try_table` 0x1f, `throw_ref` 0x0a);
core specification 5.4 "Instructions" for every other opcode's immediates.

Every function body is walked (a module without a tag can still use `try` ... `catch_all`,
`delegate` and `rethrow`: awkward-cpp 57's libawkward-cpu-kernels.so does) instruction by
instruction, so that a 0x06 inside an immediate is never taken for a `try`: runs of ordinary
instructions are matched by one compiled regular expression (in C), and only the rest (block
types, `br_table`, `select t*`, the EH instructions, unusual encodings) is decoded here.  The
walk stops at the first EH instruction, which decides the encoding (a toolchain emits one
encoding per module; wasmtime rejects a module that mixes them anyway).  `throw` (0x08) exists
in both encodings and decides nothing.

Compiling the expression takes 1.5 ms, as long as decoding 10 KiB of code here (about 0.15 µs
a byte: `_skip_short` reads the common instructions without a Cursor; it was 0.35 to 0.6 µs when
`_decode_one` decoded each): a process decodes its first `COMPILE_AFTER` bytes of code without
it, so that `dldbg inspect` of a small module does not compile it, and a process that walks
more pays at most twice what it would have.  `re` itself is imported then too (enum and the expression compiler:
several milliseconds of a start-up that does not already have it, as `python -m dldbg` does not).
"""

from __future__ import annotations

from ..errors import WasmParseError
from ..frozen import Frozen, set_field
from .binary import Cursor

#: opcode -> (encoding, instruction name) for the instructions that decide the encoding
EH_OPCODES = {
    0x06: ("legacy", "try"),
    0x07: ("legacy", "catch"),
    0x09: ("legacy", "rethrow"),
    0x18: ("legacy", "delegate"),
    0x19: ("legacy", "catch_all"),
    0x1F: ("exnref", "try_table"),
    0x0A: ("exnref", "throw_ref"),
}


class EhUse(Frozen):
    """The exception-handling encoding of a module's code.

    :ivar encoding: "none" (no try/catch/throw_ref at all), "legacy", "exnref", or "unknown"
        (the walk met an opcode this reader does not decode, e.g. the GC proposal's 0xfb, or
        a body that ends inside an instruction).
    :ivar offset: byte offset in the file of the instruction that decided it (for "unknown":
        of the opcode that stopped the walk); None for "none".
    :ivar instruction: its name (`try`, `try_table`, ...), or for "unknown" a description.
    """

    __slots__ = ("encoding", "offset", "instruction")

    def __init__(self, encoding: str, offset: int | None = None, instruction: str | None = None):
        set_field(self, "encoding", encoding)
        set_field(self, "offset", offset)
        set_field(self, "instruction", instruction)

    def describe(self) -> str:
        if self.encoding == "none":
            return "none"
        if self.encoding == "unknown":
            return f"unknown ({self.instruction} at byte offset {self.offset:#x})"
        what = "legacy (try/catch/delegate/rethrow)" if self.encoding == "legacy" else "exnref (try_table/throw_ref)"
        return f"{what}, first {self.instruction} at byte offset {self.offset:#x}"

    def to_json(self) -> dict:
        return {"encoding": self.encoding, "offset": self.offset, "instruction": self.instruction}


NONE = EhUse("none")

_LEB = rb"(?:[\x80-\xff]*+[\x00-\x7f])"
_MEMARG = rb"(?:[\x00-\x3f]" + _LEB + rb"|[\x40-\x7f]" + _LEB + _LEB + rb")"  # align (+ memidx), offset
_ANY = rb"[\x00-\xff]"
# One ordinary instruction: never an EH opcode, br_table, select t*, or a prefix whose
# sub-opcode is not in its shortest encoding; those are decoded by `_decode_one`.  The most
# frequent kinds come first, and the repetition is possessive (no backtracking state is kept).
_SIMPLE = b"|".join((
    rb"[\x08\x0c\x0d\x10\x12\x14\x15\x20-\x26\x3f-\x42\xd0\xd2\xd5\xd6]" + _LEB,  # one index / const
    rb"[\x00\x01\x05\x0b\x0f\x1a\x1b\x45-\xc4\xd1\xd3\xd4]",            # no immediate
    rb"[\x28-\x3e]" + _MEMARG,                                           # loads and stores
    rb"[\x02-\x04](?:[\x63\x64]" + _LEB + b"|" + _LEB + b")",            # block, loop, if + blocktype
    rb"[\x11\x13]" + _LEB + _LEB,                                        # call_indirect: type, table
    rb"\x43" + _ANY + b"{4}",
    rb"\x44" + _ANY + b"{8}",
    rb"\xfc(?:[\x00-\x07]|[\x09\x0b\x0d\x0f-\x11]" + _LEB + rb"|[\x08\x0a\x0c\x0e]" + _LEB + _LEB + b")",
    rb"\xfd(?:[\x00-\x0b\x5c\x5d]" + _MEMARG + rb"|[\x0c\x0d]" + _ANY + rb"{16}|[\x15-\x22]" + _ANY
    + rb"|[\x54-\x5b]" + _MEMARG + _ANY + rb"|[\x0e-\x14\x23-\x53\x5e-\x7f]|[\x80-\xff][\x01-\x7f])",
    rb"\xfe(?:\x03\x00|[\x00-\x02\x10-\x4e]" + _MEMARG + b")",
))
_NO_IMMEDIATE = frozenset((0x00, 0x01, 0x05, 0x0B, 0x0F, 0x1A, 0x1B, 0xD1, 0xD3, 0xD4, *range(0x45, 0xC5)))
_ONE_INDEX = frozenset((0x08, 0x0C, 0x0D, 0x10, 0x12, 0x14, 0x15, *range(0x20, 0x27), 0x3F, 0x40, 0x41, 0x42,
                        0xD0, 0xD2, 0xD5, 0xD6))
#: bytes of code a process decodes without the compiled expression, before it compiles it
COMPILE_AFTER = 4096
_run_match = None  # the compiled expression's `match`
_decoded_without = 0  # bytes of code decoded before it was compiled


def scan(data: bytes, bodies) -> EhUse:
    """The encoding used by the function `bodies` (a list of FunctionBody, offsets into `data`,
    in file order): that of the first EH instruction, else "none".  Raises WasmParseError for a
    body that ends inside an instruction.
    """
    return next(eh_instructions(data, bodies), NONE)


def eh_instructions(data: bytes, bodies):
    """Yield an EhUse for every EH instruction of the function `bodies`, in file order; an
    "unknown" one (an opcode not decoded here) ends the walk."""
    match = _matcher(bodies[-1].offset + bodies[-1].size - bodies[0].offset if bodies else 0)
    for body in bodies:
        end = body.offset + body.size
        cur = Cursor(data, body.offset, end)
        for _ in range(cur.uleb()):  # locals: count, value type
            cur.uleb()
            _val_type(cur)
        pos = cur.pos
        while pos < end:
            pos = match(data, pos, end).end() if match is not None else _skip_short(data, pos, end)
            if pos >= end:
                break
            found, pos = _decode_one(data, pos, end)
            if found is not None:
                yield found
                if found.encoding == "unknown":
                    return


def _matcher(code_size: int):
    """The compiled expression's `match` for walking `code_size` bytes of code, or None (decode
    every instruction with `_decode_one`) while the code decoded so far without it, this
    included, is under COMPILE_AFTER bytes."""
    global _run_match, _decoded_without
    if _run_match is None:
        _decoded_without += code_size
        if _decoded_without <= COMPILE_AFTER:
            return None
        import re

        _run_match = re.compile(b"(?:" + _SIMPLE + b")*+").match
    return _run_match


def _skip_short(data: bytes, pos: int, end: int) -> int:
    """Without the compiled expression: the position after the run of ordinary instructions at
    `pos` whose immediates are indices, constants and memory offsets that fit any width read
    here (`_leb_end`; also the 5-byte LEBs of relocatable code), block types of one byte and
    loads and stores without a memory index, read without a Cursor; `_decode_one` decodes what
    ends the run (it decoded every instruction before: a walk took 3 to 4 times as long)."""
    while pos < end:
        op = data[pos]
        if op in _NO_IMMEDIATE:
            pos += 1
            continue
        if op in _ONE_INDEX:
            after = pos + 1
        elif 0x28 <= op <= 0x3E and pos + 1 < end and data[pos + 1] < 0x40:  # memarg: align, offset
            after = pos + 2
        elif 0x02 <= op <= 0x04 and pos + 1 < end and data[pos + 1] < 0x80 and data[pos + 1] not in (0x63, 0x64):
            pos += 2
            continue
        elif op in (0x11, 0x13):  # call_indirect, return_call_indirect: type, table
            after = _leb_end(data, pos + 1, end)
            if after < 0:
                break
        else:
            break
        if after < end and data[after] < 0x80:
            pos = after + 1
        else:
            after = _leb_end(data, after, end)
            if after < 0:
                break
            pos = after
    return pos


def _leb_end(data: bytes, pos: int, end: int) -> int:
    """The end of the LEB128 at `pos` when it ends before `end` and its value fits any width
    `_decode_one` reads it as (u32, s64, u64): at most 4 bytes, or 5 whose last is at most
    0x0f; else -1 (and `_decode_one` decodes it, or reports it)."""
    for at in range(pos, min(pos + 5, end)):
        if data[at] < 0x80:
            return at + 1 if at - pos < 4 or data[at] <= 0x0F else -1
    return -1


def _val_type(cur: Cursor) -> None:
    if cur.u8() in (0x63, 0x64):  # (ref null? heaptype)
        cur.sleb(33)


def _decode_one(data: bytes, pos: int, end: int) -> tuple[EhUse | None, int]:
    """Decode the instruction at `pos` that the fast path left: (an EhUse if it decides the
    encoding, the position after it)."""
    cur = Cursor(data, pos, end)
    op = cur.u8()
    if op in EH_OPCODES:
        encoding, name = EH_OPCODES[op]
        if op in (0x06, 0x1F):
            _block_type(cur)
        if op == 0x1F:  # catch clauses: kind (catch, catch_ref, catch_all, catch_all_ref), [tag], label
            for _ in range(cur.uleb()):
                if cur.u8() < 2:
                    cur.uleb()
                cur.uleb()
        elif op in (0x07, 0x09, 0x18):
            cur.uleb()
        return EhUse(encoding, pos, name), cur.pos
    if op in (0x02, 0x03, 0x04):
        _block_type(cur)
    elif op == 0x0E:  # br_table: labels, default
        for _ in range(cur.uleb() + 1):
            cur.uleb()
    elif op == 0x1C:  # select t*
        for _ in range(cur.uleb()):
            _val_type(cur)
    elif op in _NO_IMMEDIATE:
        pass
    elif op in _ONE_INDEX:
        cur.sleb(64) if op in (0x41, 0x42, 0xD0) else cur.uleb()
    elif op in (0x11, 0x13):
        cur.uleb(), cur.uleb()
    elif 0x28 <= op <= 0x3E:
        _memarg(cur)
    elif op in (0x43, 0x44):
        cur.bytes(4 if op == 0x43 else 8)
    elif op == 0xFC:
        sub = cur.uleb()
        if sub in (8, 10, 12, 14):
            cur.uleb(), cur.uleb()
        elif sub in (9, 11, 13, 15, 16, 17):
            cur.uleb()
        elif sub > 17:
            return EhUse("unknown", pos, f"opcode 0xfc {sub}"), cur.pos
    elif op == 0xFD:
        sub = cur.uleb()
        if sub <= 11 or sub in (92, 93):
            _memarg(cur)
        elif sub in (12, 13):
            cur.bytes(16)
        elif 21 <= sub <= 34:
            cur.u8()
        elif 84 <= sub <= 91:
            _memarg(cur)
            cur.u8()
    elif op == 0xFE:
        sub = cur.uleb()
        if sub == 3:
            cur.u8()
        elif sub <= 2 or 0x10 <= sub <= 0x4E:
            _memarg(cur)
        else:
            return EhUse("unknown", pos, f"opcode 0xfe {sub:#x}"), cur.pos
    else:
        return EhUse("unknown", pos, f"opcode {op:#x}"), cur.pos
    return None, cur.pos


def _block_type(cur: Cursor) -> None:
    first = cur.data[cur.pos] if cur.pos < cur.end else None
    if first in (0x63, 0x64):
        cur.u8()
    cur.sleb(33)


def _memarg(cur: Cursor) -> None:
    if cur.uleb() & 0x40:
        cur.uleb()  # memory index (multi-memory)
    cur.uleb(64)


def scan_module(wasm, data: bytes) -> EhUse:
    """`scan` for a parsed module (WasmModule) and its bytes.  A function body that ends inside
    an instruction gives "unknown" (with the offset and the reason), not an error: the reader
    checks structure, and wasmtime's validator reports malformed code when the module is
    compiled."""
    try:
        return scan(data, wasm.bodies)
    except WasmParseError as exc:
        return EhUse("unknown", exc.offset, f"malformed code: {exc.message}")
