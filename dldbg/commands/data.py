"""gdb's data commands for a linker's objects: `print`, `set var`, `display`, `undisplay`,
`info display`, `info functions`, `info variables`, `set table`.

Expressions are `dldbg.session.expr`'s: symbols, GOT entries, globals, table slots, memory
references and C operators.
"""

from __future__ import annotations

import argparse
import re

from ..events import GotUpdated
from ..linker.got import UNDEFINED_ADDR
from ..linker.module import is_internal
from ..session.addresses import find_symbol, parse_int, place, slot_info
from ..session.errors import CommandError
from ..session.expr import Global, GotRef, Memory, TableSlot, split_assignment, to_bits
from ..session.values import show, show_display
from ..session.output import Reply
from . import command, parser
from .common import columns, live_exports, search_pattern

PRINT_FORMATS = "xduotcafs"
EXPRESSION_HELP = ("EXPR: numbers, a data symbol (its i32 value; &SYM its address), a function (its table slot), "
                   "MODULE!NAME, GOT.mem.NAME / GOT.func.NAME, a wasm global ($sp, MODULE!__tls_base), table[N], "
                   "*ADDR (the i32 there), {TYPE} ADDR (TYPE: i8 u8 i16 u16 i32 u32 i64 u64 f32 f64), $N (an "
                   "earlier value), $_event.FIELD (the stopped event's field), with C's operators "
                   "(+ - * / % << >> & | ^ ~ ! == != < <= > >= && ||) and parentheses.")


def expression_text(words) -> str:
    """The expression as typed: words joined, quoted words quoted again (for string literals)."""
    out = []
    for w in words:
        if getattr(w, "quoted", False):
            out.append('"' + str(w).replace("\\", "\\\\").replace('"', '\\"') + '"')
        else:
            out.append(str(w))
    return " ".join(out)


def split_format(words) -> tuple[str | None, list]:
    """A leading `/F` word (gdb's print format) and the rest."""
    words = list(words)
    if words and not getattr(words[0], "quoted", False) and words[0].startswith("/"):
        fmt = words.pop(0)[1:]
        if len(fmt) != 1 or fmt not in PRINT_FORMATS:
            raise CommandError(f"bad print format /{fmt}: one of /x /d /u /o /t /c /a /s /f")
        return fmt, words
    return None, words


p = parser("print", "Evaluate EXPR and show its value, as gdb's print: a symbol's value and address, a GOT entry, "
           "a global, a table slot, arithmetic.  Values are numbered $1, $2, ... for later expressions.\n\n"
           + EXPRESSION_HELP + "\n\nFormats: /x hex, /d decimal, /u unsigned, /o octal, /t binary, /c character, "
           "/a address (with the symbol it points at), /s the C string at the value, /f float.",
           ["print own_data", "p &own_data", "p/x GOT.mem.dep_data", "p dep_square", "p table[3]", "p $sp",
            "p/x own_data + 4 * 2", "p/s *(&tbl + 28)", "p {u8} &own_data", "p $1 + 1"])
p.add_argument("expression", nargs=argparse.REMAINDER, metavar="[/F] EXPR", help="format and expression")


@command(p, category="memory", aliases=("p", "inspect"), complete=("symbol",))
def print_(session, expression):
    fmt, words = split_format(expression)
    if not words:
        if not session.values:
            raise CommandError("print: an expression is needed (the value history is empty)")
        text = f"${len(session.values)}"
    else:
        text = expression_text(words)
    value = session.evaluate(text)
    shown = show(session, value, fmt)
    session.values.append(value.value)
    number = len(session.values)
    return Reply({"history": number, "expression": text, "value": value.value, "what": value.what, "name": value.name,
                  "format": fmt, "location": value.lvalue.describe(session.engine) if value.lvalue is not None else None,
                  "text": shown}, f"${number} = {shown}")


# -- writing -----------------------------------------------------------------------------
def owner_of(engine, address: int) -> str:
    where = place(engine, address)
    return where.region.owner if where.region is not None and where.region.kind in ("data", "tls") else "(memory)"


def write_memory(session, address: int, data: bytes) -> bytes:
    """Write through the engine (a memory.set event); returns the old bytes."""
    engine = session.engine
    return engine.poke_memory(address, data, owner_of(engine, address), session.current_command or "")


def write_got(session, symbol: str, value: int) -> int:
    """Set a GOT entry (a got.update event, provider `(debugger)`); returns the old value."""
    engine = session.engine
    entry = engine.got.get(symbol)
    if entry is None:
        raise CommandError(f"no GOT entry {symbol!r} (`info got` lists them)")
    old = engine.got.set(symbol, value, "(debugger)")
    new = engine.got.value(symbol)
    engine.emit(GotUpdated(entry.importers[0] if entry.importers else "(debugger)", entry.got, symbol, old, new,
                           "(debugger)", f"set by the debugger: {session.current_command or ''}".rstrip(": ")))
    return old


def write_global(session, glob: Global, value) -> object:
    import wasmtime

    engine = session.engine
    gtype = glob.glob.type(engine.store)
    content = str(gtype.content)
    if not gtype.mutable:
        raise CommandError(f"{glob.label} is an immutable {content} global")
    old = glob.read(engine)
    if content in ("i32", "i64"):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int):
            raise CommandError(f"{glob.label} is {content}: {value!r} is not an integer")
        bits = 32 if content == "i32" else 64
        number = value & ((1 << bits) - 1)
        if number >> (bits - 1):
            number -= 1 << bits
        new = wasmtime.Val.i32(number) if content == "i32" else wasmtime.Val.i64(number)
    elif content in ("f32", "f64"):
        new = wasmtime.Val.f32(float(value)) if content == "f32" else wasmtime.Val.f64(float(value))
    else:
        raise CommandError(f"cannot set a {content} global")
    glob.glob.set_value(engine.store, new)
    return old


def function_ref(session, text: str):
    """FUNC of `set table`: a slot number or table[N] (what that slot holds), a function name or
    MODULE!NAME.  Returns (func, identity key, `module!function`, module).  Raises CommandError."""
    engine = session.engine
    m = re.fullmatch(r"table\[(.+)\]", text.strip())
    number = parse_int(m.group(1) if m else text)
    if number is not None:
        info = slot_info(engine, number)
        func = engine.table.get(number)
        if func is None:
            raise CommandError(f"slot {number} holds no function")
        return func, engine.table.key_by_slot.get(number), f"{info.module}!{info.function}", info.module or "(table)"
    sym = find_symbol(engine, text)
    if sym is None or sym.kind != "func":
        what = f"a {sym.kind} symbol" if sym is not None else "not defined by a loaded module"
        raise CommandError(f"{text!r} is {what}: FUNC is a function name, MODULE!NAME or a table slot")
    return sym.func, sym.key, f"{sym.module}!{sym.name}", sym.module


def write_slot(session, slot: int, func_text: str) -> tuple[dict, str]:
    engine = session.engine
    before = slot_info(engine, slot)
    func, key, label, module = function_ref(session, func_text)
    old = f"{before.module}!{before.function}" if before.function is not None else None
    new_type = str(engine.func_type_of(func))
    engine.set_slot(slot, func, key, old, label, module, session.current_command or "")
    text = f"slot {slot}: {old or 'empty'} -> {label} {new_type}"
    if before.type is not None and before.type != new_type:
        text += f"\nwarning: the slot held a {before.type} function: calls through it expecting that type will trap"
    return {"slot": slot, "old": old, "new": label, "old_type": before.type, "type": new_type}, text


p = parser("set var", "Assign to an lvalue, as gdb's set var: a data symbol or memory (*ADDR, {TYPE} ADDR), a GOT "
           "entry, a wasm global or a table slot.\n\nLVALUE = EXPR; for table[N], EXPR names a function (NAME, "
           "MODULE!NAME) or another slot, as `set table`.  A memory write is a memory.set event, a GOT write a "
           "got.update event, a slot write a table.set event (watchpoints and breakpoints see them).  " + EXPRESSION_HELP,
           ["set var own_data = 5", "set var *0x100400 = -1", "set var {u8} (&own_data + 1) = 0xff",
            "set var GOT.mem.dep_data = &own_data", "set var $sp = $sp - 16", "set var table[3] = fb",
            "set var libfoo.so!counter = counter * 2"])
p.add_argument("assignment", nargs=argparse.REMAINDER, metavar="LVALUE = EXPR", help="the assignment")


@command(p, category="memory", aliases=("set variable",), complete=("symbol",), repeatable=False)
def set_var(session, assignment):
    text = expression_text(assignment)
    left, right = split_assignment(text)
    target = session.evaluate(left)
    lv = target.lvalue
    engine = session.engine
    if isinstance(lv, TableSlot):
        data, shown = write_slot(session, lv.slot, right)
        return Reply({"lvalue": left, **data}, shown)
    if lv is None:
        raise CommandError(f"{left!r} is not an lvalue (a data symbol, *ADDR, {{TYPE}} ADDR, GOT.mem.NAME, "
                           f"a global or table[N])")
    value = session.evaluate(right).value
    if isinstance(lv, Memory):
        data = to_bits(value, lv.type)
        old = write_memory(session, lv.address, data)
        new = lv.read(engine)
        return Reply({"lvalue": left, "address": lv.address, "type": lv.type, "old": old.hex(), "new": data.hex(),
                      "value": new}, f"{left} = {new} ({lv.describe(engine)}; bytes {old.hex(' ')} -> {data.hex(' ')})")
    if isinstance(lv, GotRef):
        if not isinstance(value, int):
            raise CommandError(f"a GOT entry holds an integer, not {value!r}")
        old = write_got(session, lv.symbol, value)
        entry = engine.got.get(lv.symbol)
        return Reply({"lvalue": left, "got": entry.got, "symbol": lv.symbol, "old": old, "new": engine.got.value(lv.symbol)},
                     f"{entry.got}.{lv.symbol}: {old if old == UNDEFINED_ADDR else hex(old & 0xFFFFFFFF)} -> "
                     f"{engine.got.value(lv.symbol) & 0xFFFFFFFF:#x}")
    if isinstance(lv, Global):
        old = write_global(session, lv, value)
        return Reply({"lvalue": left, "global": lv.label, "old": old, "new": lv.read(engine)},
                     f"{lv.label}: {old} -> {lv.read(engine)}")
    raise CommandError(f"cannot assign to {left!r}")


p = parser("set table", "Put a function in a table slot (interposition): FUNC is a function name, MODULE!NAME, or "
           "another slot (its function).\n\nThe function the slot belonged to keeps the slot as its address, "
           "so every call through it reaches FUNC: function pointers, GOT.func entries, and `call` of that "
           "function by name.  Each write is a table.set event.  `set table SLOT SLOT` with the slot's own "
           "function undoes it.",
           ["set table 3 fb", "set table 3 libfptr_b.so!fb", "set table 3 5"])
p.add_argument("slot", help="table slot (a number or an expression: a function gives its slot)")
p.add_argument("function", help="function name, MODULE!NAME or a slot")


@command(p, category="memory", complete=("function", "function"), repeatable=False)
def set_table(session, slot, function):
    number = parse_int(slot)
    if number is None:
        number = session.evaluate(slot).value
        if not isinstance(number, int):
            raise CommandError(f"slot {slot!r} is not a number")
    data, text = write_slot(session, number, function)
    return Reply(data, text)


# -- display -----------------------------------------------------------------------------
p = parser("display", "Show EXPR now and at every stop (gdb's display); without EXPR, show every display now.  "
           "Formats as print's.  `undisplay N` removes one, `info display` lists them.",
           ["display own_data", "display/x GOT.mem.dep_data", "display table[3]", "display"])
p.add_argument("expression", nargs=argparse.REMAINDER, metavar="[/F] EXPR", help="format and expression")


@command(p, category="memory", complete=("symbol",), repeatable=False)
def display(session, expression):
    fmt, words = split_format(expression)
    if not words:
        rows = [show_display(session, d) for d in session.displays]
        return Reply(rows, "\n".join(r["text"] for r in rows) if rows else "no displays")
    d = session.add_display(expression_text(words), fmt)
    row = show_display(session, d)
    return Reply(row, row["text"])


p = parser("undisplay", "Remove displays (all of them without numbers).", ["undisplay 1", "undisplay"])
p.add_argument("numbers", nargs="*", type=int, metavar="N", help="display numbers")


@command(p, category="memory", aliases=("delete display",), repeatable=False)
def undisplay(session, numbers):
    gone = session.remove_displays(numbers)
    return Reply({"removed": gone}, f"removed display {', '.join(map(str, gone))}" if gone else "no displays")


p = parser("info display", "The expressions shown at every stop.", ["info display"])


@command(p, category="memory")
def info_display(session):
    rows = [{"number": d.number, "expression": d.expression, "format": d.format} for d in session.displays]
    if not rows:
        return Reply([], "no displays")
    return Reply(rows, "\n".join(f"{r['number']}: {'/' + r['format'] + ' ' if r['format'] else ''}{r['expression']}"
                                 for r in rows))


# -- info functions / variables ------------------------------------------------------------
def _symbols(session, regex: str | None, kinds: tuple[str, ...]) -> list[dict]:
    engine = session.engine
    pattern = search_pattern(regex)
    rows = []
    for mod, name, sym in live_exports(engine):
        if sym.kind not in kinds or is_internal(name) or not pattern.search(name):
            continue
        row = {"name": name, "module": mod.name, "kind": sym.kind}
        if sym.kind == "func":
            row["type"] = str(sym.func_type) if sym.func_type else None
            row["slot"] = engine.table.slot_of(sym.key)
        elif sym.kind == "data":
            row["address"] = sym.address
        elif sym.kind == "tls":
            row["offset"] = sym.address
        bound = engine.global_scope.lookup(name)
        row["global"] = bound is not None and bound.module_id == mod.id
        rows.append(row)
    rows.sort(key=lambda r: (r["module"], r["name"]))
    return rows


def _grouped(rows: list[dict], cells) -> str:
    lines, current = [], None
    block: list[list[str]] = []
    for r in rows:
        if r["module"] != current:
            if block:
                lines.append(columns(block, indent="  "))
            current, block = r["module"], []
            lines.append(f"{current}:")
        block.append(cells(r))
    if block:
        lines.append(columns(block, indent="  "))
    return "\n".join(lines)


p = parser("info functions", "The loaded modules' functions whose name REGEX searches, as gdb's info functions.\n\n"
           "Every function export (all of them without REGEX), by module: its type, its table slot (if it has "
           "one) and whether the global scope binds this definition.",
           ["info functions", "info functions dep_", "info functions '^get_.*_ok$'"])
p.add_argument("regex", nargs="?", help="regular expression searched in the name")


@command(p, category="inspecting", complete=("symbol",))
def info_functions(session, regex):
    rows = _symbols(session, regex, ("func",))
    if not rows:
        return Reply([], "no functions" + (f" match {regex!r}" if regex else " (no modules loaded)"))
    text = _grouped(rows, lambda r: [r["name"], r["type"] or "", f"slot {r['slot']}" if r["slot"] is not None else "no slot",
                                     "" if r["global"] else "(not the global definition)"])
    return Reply(rows, text)


p = parser("info variables", "The loaded modules' data symbols whose name REGEX searches, as gdb's info variables.\n\n"
           "Every data export and TLS symbol (all of them without REGEX), by module: its address (the "
           "module-relative value relocated by __memory_base) or TLS offset, and whether the global scope binds "
           "this definition.",
           ["info variables", "info variables dep_", "info variables '^own'"])
p.add_argument("regex", nargs="?", help="regular expression searched in the name")


@command(p, category="inspecting", complete=("symbol",))
def info_variables(session, regex):
    rows = _symbols(session, regex, ("data", "tls"))
    if not rows:
        return Reply([], "no variables" + (f" match {regex!r}" if regex else " (no modules loaded)"))

    def cells(r):
        if r["kind"] == "tls":
            return [r["name"], f"TLS offset {r['offset']:#x}", ""]
        return [r["name"], f"{r['address']:#x}", "" if r["global"] else "(not the global definition)"]

    return Reply(rows, _grouped(rows, cells))
