"""Side modules with many symbols, written as wasm binaries (no toolchain needed).

Used by `benchmarks/growth.py` and by the tests that check the loader's work per symbol.
Every module is a dylink.0 side module importing `env.memory`,
`env.__indirect_function_table`, `env.__memory_base` and `env.__table_base`:

- `funcs_module(n)`: exports `f0`..`f{n-1}`, each `() -> i32` returning its index.
- `data_module(n)`: exports `d0`..`d{n-1}`, data symbols (immutable i32 globals, offsets
  4*i from `__memory_base`) over MEM_INFO memorysize 4n bytes, word i holding i.
- `got_user_module(n, "mem" | "func")`: imports `GOT.mem.d{i}` (or `GOT.func.f{i}`) for
  i < n and exports `sum() -> i32`: the wrapping i32 sum of every GOT.mem address, or of
  what every GOT.func entry's function returns when called through its table slot (so
  n(n-1)/2 whatever the slots are), so a run can check that every entry was filled; and n
  data symbols of its own, `p{kind}{i}` (as `int *p_i = &d_i;` would give).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dldbg.wasm.binary import encode_custom_section, encode_name, encode_section, encode_sleb, encode_uleb  # noqa: E402

HEADER = b"\0asm\x01\x00\x00\x00"
I32, MUT, CONST = 0x7F, 1, 0


def _vec(items: list[bytes]) -> bytes:
    return encode_uleb(len(items)) + b"".join(items)


def _dylink(mem_size: int, table_size: int = 0) -> bytes:
    mem_info = encode_uleb(mem_size) + encode_uleb(2) + encode_uleb(table_size) + encode_uleb(0)
    return encode_custom_section("dylink.0", bytes([1]) + encode_uleb(len(mem_info)) + mem_info)


def _base_imports() -> list[bytes]:
    return [
        encode_name("env") + encode_name("memory") + b"\x02\x00" + encode_uleb(0),
        encode_name("env") + encode_name("__indirect_function_table") + b"\x01\x70\x00" + encode_uleb(0),
        encode_name("env") + encode_name("__memory_base") + bytes([0x03, I32, CONST]),
        encode_name("env") + encode_name("__table_base") + bytes([0x03, I32, CONST]),
    ]


def _module(mem_size: int, imports: list[bytes], bodies: list[bytes], exports: list[bytes],
            globals_: list[bytes] = (), data: list[bytes] = ()) -> bytes:
    out = [HEADER, _dylink(mem_size)]
    out.append(encode_section(1, _vec([b"\x60\x00\x01\x7f"])))  # type 0: () -> i32
    out.append(encode_section(2, _vec(imports)))
    out.append(encode_section(3, _vec([b"\x00"] * len(bodies))))
    if globals_:
        out.append(encode_section(6, _vec(list(globals_))))
    out.append(encode_section(7, _vec(exports)))
    out.append(encode_section(10, _vec([encode_uleb(len(b)) + b for b in bodies])))
    if data:
        out.append(encode_section(11, _vec(list(data))))
    return b"".join(out)


def funcs_module(n: int) -> bytes:
    bodies = [b"\x00\x41" + encode_sleb(i) + b"\x0b" for i in range(n)]
    exports = [encode_name(f"f{i}") + b"\x00" + encode_uleb(i) for i in range(n)]
    return _module(0, _base_imports(), bodies, exports)


def data_module(n: int) -> bytes:
    globals_ = [bytes([I32, CONST, 0x41]) + encode_sleb(4 * i) + b"\x0b" for i in range(n)]
    exports = [encode_name(f"d{i}") + b"\x03" + encode_uleb(2 + i) for i in range(n)]  # 2 imported globals
    words = b"".join(i.to_bytes(4, "little") for i in range(n))
    segment = b"\x00\x23\x00\x0b" + encode_uleb(len(words)) + words  # at global.get __memory_base
    return _module(4 * n, _base_imports(), [b"\x00\x41\x00\x0b"], [encode_name("first") + b"\x00\x00"] + exports,
                   globals_, [segment])


#: GOT reads summed per function of `got_user_module` (one huge function would measure the
#: compiler's worst case, not the loader: Cranelift needs gigabytes for 90k calls in one body)
PART = 1000


def got_user_module(n: int, kind: str) -> bytes:
    prefix, name = ("GOT.mem", "d") if kind == "mem" else ("GOT.func", "f")
    imports = _base_imports() + [encode_name(prefix) + encode_name(f"{name}{i}") + bytes([0x03, I32, MUT])
                                 for i in range(n)]
    bodies = []
    for first in range(0, n, PART):
        code = bytearray(b"\x00\x41\x00")
        for i in range(first, min(first + PART, n)):
            code += b"\x23" + encode_uleb(2 + i)  # global.get: the address, or the table slot
            if kind == "func":
                code += b"\x11\x00\x00"  # call_indirect (type 0) through the slot: f_i returns i
            code += b"\x6a"  # i32.add
        bodies.append(bytes(code + b"\x0b"))
    parts = len(bodies)
    total = bytearray(b"\x00\x41\x00")
    for j in range(parts):
        total += b"\x10" + encode_uleb(j) + b"\x6a"  # call part j; i32.add
    bodies.append(bytes(total + b"\x0b"))
    # and a data symbol of its own per import (C: `int *p_i = &d_i;`), as compiled code has
    own = [bytes([I32, CONST, 0x41]) + encode_sleb(4 * i) + b"\x0b" for i in range(n)]
    exports = [encode_name("sum") + b"\x00" + encode_uleb(parts)]
    exports += [encode_name(f"p{kind}{i}") + b"\x03" + encode_uleb(2 + n + i) for i in range(n)]
    return _module(4 * n, imports, bodies, exports, own)


def expected_func_sum(n: int) -> int:
    """What `sum()` of `got_user_module(n, "func")` returns."""
    total = (n * (n - 1) // 2) & 0xFFFFFFFF
    return total - (1 << 32) if total >> 31 else total


def expected_mem_sum(n: int, memory_base: int) -> int:
    """What `sum()` of `got_user_module(n, "mem")` returns when `data_module(n)` is at `memory_base`."""
    total = n * memory_base + 4 * n * (n - 1) // 2
    total &= 0xFFFFFFFF
    return total - (1 << 32) if total >> 31 else total


def write(folder: Path, n: int) -> dict[str, Path]:
    """Write the four modules for `n` symbols into `folder`; return their paths by role."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {
        "funcs": (f"libfuncs{n}.so", lambda: funcs_module(n)),
        "data": (f"libdata{n}.so", lambda: data_module(n)),
        "got_mem": (f"libgotmem{n}.so", lambda: got_user_module(n, "mem")),
        "got_func": (f"libgotfunc{n}.so", lambda: got_user_module(n, "func")),
    }
    out = {}
    for role, (name, build) in made.items():
        path = folder / name
        if not path.exists():
            path.write_bytes(build())
        out[role] = path
    return out
