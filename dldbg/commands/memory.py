"""Memory: `x/NFU`, `set mem`, `set got`, `global` (writes are memory.set and got.update events)."""

from __future__ import annotations

import argparse

import wasmtime

from ..linker.got import UNDEFINED_ADDR
from ..session.addresses import evaluate, find_symbol, parse_int, place
from ..session.errors import CommandError
from ..session.memview import UNITS, ExamineFormat, examine, parse_format
from ..session.output import Reply
from . import command, parser

p = parser("x", "Examine linear memory, as gdb's x/NFU: N units of format F and size U at ADDR.\n\n"
           "Formats: x hex, d decimal, u unsigned, o octal, t binary, c char, f float, a address (with the "
           "symbol it points at), s C string.  Units: b (1 byte), h (2), w (4), g (8).  The format and count "
           "are remembered; without ADDR, x goes on after the last unit shown.  ADDR is a number, a data "
           "symbol, MODULE!SYMBOL or $sp, with +N/-N offsets.",
           ["x/4xw own_data", "x/16xb 0x100400", "x/s str_ptr", "x/2a tbl", "x/3dw libfoo.so!counter+4", "x"])
p.add_argument("spec", nargs="*", metavar="[/NFU] ADDR", help="format and address")


@command(p, category="memory", repeatable=True, complete=("symbol",))
def x(session, spec):
    words = list(spec)
    fmt = session.examine_format
    if words and words[0].startswith("/"):
        fmt = parse_format(words.pop(0), fmt)
    elif words:  # `x ADDR`: the last format and unit, one unit (as gdb)
        fmt = ExamineFormat(1, fmt.format, fmt.unit)
    if words:
        address = evaluate(session.engine, "".join(words))
    elif session.examine_next is not None:
        address = session.examine_next
    else:
        raise CommandError("x: an address is needed (nothing examined yet)")
    lines, data, after = examine(session.engine, address, fmt)
    session.examine_format, session.examine_next = fmt, after
    return Reply({"address": address, **data}, "\n".join(lines))


p = parser("set mem", "Write linear memory at ADDR: integers as units of -u (default w, 4 bytes, little-endian), "
           "quoted strings as their UTF-8 bytes (no NUL unless written: \"hi\\0\").  Prints the bytes before and after.",
           ["set mem 0x100400 42", "set mem own_data -u b 1 2 3 4", "set mem buf \"hello\\0\"", "set mem counter -1"])
p.add_argument("address", help="address expression")
p.add_argument("-u", "--unit", choices=tuple(UNITS), default="w", help="size of integer values (default w)")
p.add_argument("values", nargs=argparse.REMAINDER, help="integers and quoted strings")


@command(p, category="memory", complete=("symbol",), repeatable=False)
def set_mem(session, address, unit, values):
    engine = session.engine
    where = evaluate(engine, address)
    size = UNITS[unit]
    if values and values[0] in ("-u", "--unit"):
        if len(values) < 2 or values[1] not in UNITS:
            raise CommandError("set mem: -u takes b, h, w or g")
        size = UNITS[values[1]]
        values = values[2:]
    if not values:
        raise CommandError("set mem: nothing to write (give integers or a quoted string)")
    data = bytearray()
    for token in values:
        if getattr(token, "quoted", False):
            data += str(token).encode()
            continue
        number = parse_int(token)
        if number is None:
            number = evaluate(engine, token)
        if not -(1 << (size * 8 - 1)) <= number < (1 << (size * 8)):
            raise CommandError(f"set mem: {token} does not fit in {size} bytes")
        data += (number & ((1 << (size * 8)) - 1)).to_bytes(size, "little")
    from .data import write_memory

    before = write_memory(session, where, bytes(data))
    label = place(engine, where).short()
    return Reply({"address": where, "size": len(data), "before": before.hex(), "after": bytes(data).hex()},
                 f"{where:#x}{f' <{label}>' if label else ''}: {len(data)} bytes {before.hex(' ')} -> {bytes(data).hex(' ')}")


p = parser("set got", "Set a GOT entry: SYMBOL's GOT.mem (an address) or GOT.func (a table slot) value, as if the "
           "loader had resolved it so.  VALUE is a number or an address expression (a data symbol's address, "
           "a function's slot).",
           ["set got missing_data 0x100400", "set got wfunc 3", "set got counter other_counter"])
p.add_argument("symbol", help="GOT entry name")
p.add_argument("value", help="number or address expression")


@command(p, category="memory", complete=("symbol", "symbol"), repeatable=False)
def set_got(session, symbol, value):
    engine = session.engine
    entry = engine.got.get(symbol)
    if entry is None:
        raise CommandError(f"no GOT entry {symbol!r} (`info got` lists them)")
    from .data import write_got

    new = evaluate(engine, value)
    old = write_got(session, symbol, new)
    return Reply({"symbol": symbol, "got": entry.got, "old": old, "new": engine.got.value(symbol)},
                 f"{entry.got}.{symbol}: {old if old == UNDEFINED_ADDR else hex(old)} -> {new:#x}")


def _find_global(session, name: str) -> tuple[wasmtime.Global, str]:
    engine = session.engine
    if name in ("$sp", "__stack_pointer"):
        if engine.stack_pointer is None:
            raise CommandError("this host has no stack pointer")
        return engine.stack_pointer, "__stack_pointer (host)"
    for prefix in ("GOT.mem.", "GOT.func.", "GOT."):
        if name.startswith(prefix):
            entry = engine.got.get(name[len(prefix):])
            if entry is None:
                raise CommandError(f"no GOT entry {name[len(prefix):]!r}")
            return entry.glob, f"{entry.got}.{entry.symbol}"
    if "!" in name:
        modname, field = name.split("!", 1)
        mod = engine.module_named(modname)
        if mod is None:
            raise CommandError(f"no loaded module named {modname}")
        glob = mod.externs.get(field)
        if isinstance(glob, wasmtime.Global):
            return glob, f"{mod.name}!{field}"
        raise CommandError(f"{mod.name} exports no global {field!r}")
    sym = find_symbol(engine, name)
    if sym is not None and sym.kind == "global":
        return sym.extern, f"{sym.module}!{name}"
    for mod in engine.modules:
        glob = mod.externs.get(name)
        if isinstance(glob, wasmtime.Global):
            return glob, f"{mod.name}!{name}"
    if sym is not None:
        raise CommandError(f"{name} is a {sym.kind} symbol, not a wasm global (`x` reads data)")
    raise CommandError(f"no wasm global {name!r} (try MODULE!NAME, GOT.mem.NAME or __stack_pointer)")


p = parser("global", "Read or set a wasm global.\n\nNAME is an exported global (NAME or MODULE!NAME, such as a "
           "module's __tls_base), a GOT entry (GOT.mem.NAME, GOT.func.NAME) or the host's __stack_pointer ($sp).",
           ["global __stack_pointer", "global libfoo.so!__tls_base", "global GOT.mem.counter", "global $sp 0x8000"])
p.add_argument("name", help="global name")
p.add_argument("value", nargs="?", help="new value")


@command(p, category="memory", complete=("symbol",), repeatable=False)
def global_(session, name, value):
    engine = session.engine
    glob, label = _find_global(session, name)
    gtype = glob.type(engine.store)
    content = str(gtype.content)
    old = glob.value(engine.store)
    if value is None:
        shown = f"{old} ({old & 0xFFFFFFFF:#x})" if content == "i32" and isinstance(old, int) else str(old)
        return Reply({"global": label, "type": content, "mutable": gtype.mutable, "value": old},
                     f"{label} ({'mut ' if gtype.mutable else ''}{content}) = {shown}")
    if not gtype.mutable:
        raise CommandError(f"{label} is an immutable {content} global")
    if content in ("i32", "i64"):
        number = parse_int(value)
        if number is None:
            number = evaluate(engine, value)
        bits = 32 if content == "i32" else 64
        number &= (1 << bits) - 1
        if number >> (bits - 1):
            number -= 1 << bits
        new = wasmtime.Val.i32(number) if content == "i32" else wasmtime.Val.i64(number)
    elif content in ("f32", "f64"):
        try:
            number = float(value)
        except ValueError:
            raise CommandError(f"{value!r} is not a number") from None
        new = wasmtime.Val.f32(number) if content == "f32" else wasmtime.Val.f64(number)
    else:
        raise CommandError(f"cannot set a {content} global from the command line")
    glob.set_value(engine.store, new)
    now = glob.value(engine.store)
    return Reply({"global": label, "type": content, "old": old, "value": now}, f"{label}: {old} -> {now}")
