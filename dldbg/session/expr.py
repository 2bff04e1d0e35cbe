"""Expressions of `print`, `set var`, `display`, `watch` and breakpoint conditions (gdb's, for
a linker's objects).

Operands:

* numbers (`42`, `0x2a`, `-1`, `2.5`) and quoted strings (`"libfoo.so"`, for comparisons);
* a data symbol (`own_data`, `libfoo.so!own_data`): the i32 at its address (an lvalue);
  `&own_data` is the address;
* a function (`add`, `libfoo.so!add`): its table slot (a function pointer in wasm);
* `GOT.mem.NAME`, `GOT.func.NAME`: a GOT entry's value (an address, a table slot; an lvalue);
* a wasm global: `$sp` / `__stack_pointer`, an exported global (`libfoo.so!__tls_base`);
* `table[N]`: table slot N (as a value, the slot's function; an lvalue of `set var`);
* `*ADDR`: the i32 at ADDR; `{TYPE} ADDR`: a TYPE at ADDR (i8 u8 i16 u16 i32 u32 i64 u64
  f32 f64), both lvalues;
* a module name (`libfoo.so`): the start of its static data (`__memory_base`);
* `$N`, `$`, `$$`: values printed earlier; `$_event.FIELD`: a field of the event the engine
  stopped at (conditions).

Operators, by C precedence: unary `- ~ ! * & {T}`, `* / %`, `+ -`, `<< >>`, `< <= > >=`,
`== !=`, `&`, `^`, `|`, `&&`, `||`, and parentheses.  Integer arithmetic is Python's
(unbounded); writes wrap to the lvalue's width.  Errors raise CommandError.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Callable

from .errors import CommandError

#: memory types of `{TYPE} ADDR`: (size in bytes, struct code)
TYPES = {"i8": (1, "<b"), "u8": (1, "<B"), "i16": (2, "<h"), "u16": (2, "<H"), "i32": (4, "<i"),
         "u32": (4, "<I"), "i64": (8, "<q"), "u64": (8, "<Q"), "f32": (4, "<f"), "f64": (8, "<d")}

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<num>0[xX][0-9a-fA-F_]+|0[bB][01_]+|\d+\.\d*(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?)
  | (?P<str>"(?:[^"\\]|\\.)*"|'[^']*')
  | (?P<type>\{\s*[iuf](?:8|16|32|64)\s*\})
  | (?P<name>\$\$?\d*(?:[A-Za-z_][\w.]*)?|(?:[A-Za-z_.][\w.@+-]*!)?[A-Za-z_.$][\w.$@]*)
  | (?P<op><<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^~!<>()\[\]])
""", re.VERBOSE)


def tokens(text: str) -> list[tuple[str, str]]:
    out, i = [], 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if m is None:
            raise CommandError(f"bad expression {text!r}: unexpected {text[i:]!r}")
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, m.group(0)))
        i = m.end()
    return out


# -- lvalues ------------------------------------------------------------------------------
@dataclass
class Memory:
    """TYPE at `address` of linear memory."""

    address: int
    type: str = "i32"

    @property
    def size(self) -> int:
        return TYPES[self.type][0]

    def describe(self, engine) -> str:
        from .addresses import place

        where = place(engine, self.address).short()
        return f"{self.type} at {self.address:#x}" + (f" <{where}>" if where and where not in ("heap", "stack") else "")

    def read(self, engine):
        data = engine.read_memory(self.address, self.size)
        return struct.unpack(TYPES[self.type][1], data)[0]


@dataclass
class GotRef:
    symbol: str

    def describe(self, engine) -> str:
        entry = engine.got.get(self.symbol)
        return f"{entry.got}.{self.symbol}" + (f" (provider {entry.provider})" if entry.provider else " (unresolved)" if
                                                 engine.got.value(self.symbol) == -1 else "")

    def read(self, engine):
        return engine.got.value(self.symbol)


@dataclass
class Global:
    glob: object
    label: str

    def describe(self, engine) -> str:
        gtype = self.glob.type(engine.store)
        return f"global {self.label} ({'mut ' if gtype.mutable else ''}{gtype.content})"

    def read(self, engine):
        return self.glob.value(engine.store)


@dataclass
class TableSlot:
    slot: int

    def describe(self, engine) -> str:
        from .addresses import slot_info

        return slot_info(engine, self.slot).text()

    def read(self, engine):
        return self.slot


@dataclass
class Value:
    """An evaluated expression: `value` (int, float or str), the lvalue it came from (or None),
    and what it is (`what`: data, address, function, got, global, slot, number, string)."""

    value: object
    lvalue: object = None
    what: str = "number"
    name: str | None = None


class Evaluator:
    """Evaluates expression text against an engine.

    :param history: the values printed so far (`$1` is history[0]).
    :param event: the event the engine is stopped at, for `$_event.FIELD` (or None).
    """

    def __init__(self, engine, history: list | None = None, event=None):
        self.engine = engine
        self.history = history if history is not None else []
        self.event = event

    def evaluate(self, text: str) -> Value:
        self._toks = tokens(text)
        self._i = 0
        self._text = text
        if not self._toks:
            raise CommandError("an expression is needed")
        value = self._binary(0)
        if self._i != len(self._toks):
            raise CommandError(f"bad expression {text!r}: unexpected {self._toks[self._i][1]!r}")
        return value

    # -- parser ---------------------------------------------------------------------------
    _LEVELS = [("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", "<=", ">", ">="), ("<<", ">>"),
               ("+", "-"), ("*", "/", "%")]

    def _peek(self) -> tuple[str, str] | None:
        return self._toks[self._i] if self._i < len(self._toks) else None

    def _take(self, text: str | None = None) -> tuple[str, str]:
        tok = self._peek()
        if tok is None or (text is not None and tok[1] != text):
            raise CommandError(f"bad expression {self._text!r}: expected {text or 'more'}")
        self._i += 1
        return tok

    def _binary(self, level: int) -> Value:
        if level == len(self._LEVELS):
            return self._unary()
        left = self._binary(level + 1)
        while True:
            tok = self._peek()
            if tok is None or tok[0] != "op" or tok[1] not in self._LEVELS[level]:
                return left
            self._i += 1
            right = self._binary(level + 1)
            left = Value(_apply(tok[1], left.value, right.value))

    def _unary(self) -> Value:
        tok = self._peek()
        if tok is None:
            raise CommandError(f"bad expression {self._text!r}: an operand is missing")
        if tok[0] == "type":
            self._i += 1
            address = _int(self._unary().value, "an address")
            mem = Memory(address, tok[1].strip("{} "))
            return Value(mem.read(self.engine), mem, "data")
        if tok[0] == "op" and tok[1] in "-~!*&+":
            self._i += 1
            if tok[1] == "&":
                return self._address_of()
            operand = self._unary()
            if tok[1] == "*":
                mem = Memory(_int(operand.value, "an address"))
                return Value(mem.read(self.engine), mem, "data")
            if tok[1] == "-":
                return Value(-_num(operand.value))
            if tok[1] == "+":
                return Value(_num(operand.value))
            if tok[1] == "~":
                return Value(~_int(operand.value, "an integer"))
            return Value(int(not operand.value))
        return self._primary()

    def _primary(self) -> Value:
        kind, text = self._take()
        if kind == "op" and text == "(":
            value = self._binary(0)
            self._take(")")
            return value
        if kind == "num":
            try:
                return Value(int(text.replace("_", ""), 0))
            except ValueError:
                return Value(float(text))
        if kind == "str":
            from .tokens import tokenize

            return Value(str(tokenize(text)[0]), what="string")
        if kind == "name":
            if text == "table" and self._peek() == ("op", "["):
                self._i += 1
                slot = _int(self._binary(0).value, "a slot number")
                self._take("]")
                from .addresses import slot_info

                slot_info(self.engine, slot)  # raises for a slot outside the table
                return Value(slot, TableSlot(slot), "slot", f"table[{slot}]")
            return self.name(text)
        raise CommandError(f"bad expression {self._text!r}: unexpected {text!r}")

    def _address_of(self) -> Value:
        tok = self._peek()
        if tok is not None and tok[0] == "name":
            self._i += 1
            from .addresses import evaluate

            sym_value = self.name(tok[1])
            if isinstance(sym_value.lvalue, Memory):
                return Value(sym_value.lvalue.address, None, "address", "&" + tok[1])
            if sym_value.what == "function":
                return sym_value
            return Value(evaluate(self.engine, tok[1]), None, "address", "&" + tok[1])
        operand = self._unary()
        if isinstance(operand.lvalue, Memory):
            return Value(operand.lvalue.address, None, "address")
        raise CommandError("& needs a data symbol or a memory reference (*ADDR, {TYPE} ADDR)")

    # -- names ----------------------------------------------------------------------------
    def name(self, text: str) -> Value:
        """A name's value (see the module docstring).  Raises CommandError."""
        engine = self.engine
        if text.startswith("$"):
            return self._dollar(text)
        for prefix in ("GOT.mem.", "GOT.func."):
            if text.startswith(prefix):
                symbol = text[len(prefix):]
                entry = engine.got.get(symbol)
                if entry is None or entry.got != prefix[:-1]:
                    raise CommandError(f"no {prefix[:-1]} entry {symbol!r} (`info got` lists them)")
                return Value(engine.got.value(symbol), GotRef(symbol), "got", text)
        from .addresses import find_symbol

        sym = find_symbol(engine, text)
        if sym is not None:
            if sym.kind == "data":
                mem = Memory(sym.address)
                return Value(mem.read(engine), mem, "data", f"{sym.module}!{sym.name}")
            if sym.kind == "func":
                slot = engine.table.slot_of(sym.key)
                if slot is None:
                    raise CommandError(f"function {sym.module}!{sym.name} has no table slot yet (`dlsym` gives it one)")
                return Value(slot, TableSlot(slot), "function", f"{sym.module}!{sym.name}")
            if sym.kind == "global" and sym.extern is not None:
                glob = Global(sym.extern, f"{sym.module}!{sym.name}")
                return Value(glob.read(engine), glob, "global", glob.label)
            if sym.kind == "tls":
                raise CommandError(f"{sym.name} is a TLS offset ({sym.address:#x}) until {sym.module}'s TLS block "
                                   f"is initialised")
        glob = _find_global(engine, text)
        if glob is not None:
            return Value(glob.read(engine), glob, "global", glob.label)
        mod = engine.module_named(text) if "!" not in text else None
        if mod is not None:
            return Value(mod.memory_base, None, "address", f"{mod.name} (__memory_base)")
        raise CommandError(f"no symbol {text!r} in the loaded modules (try `info functions`, `info variables`)")

    def _dollar(self, text: str) -> Value:
        engine = self.engine
        if text in ("$sp", "$stack_pointer"):
            if engine.stack_pointer is None:
                raise CommandError("this host has no stack pointer")
            glob = Global(engine.stack_pointer, "__stack_pointer")
            return Value(glob.read(engine), glob, "global", "$sp")
        if text.startswith("$_event"):
            if self.event is None:
                raise CommandError("$_event: the engine is not stopped at an event")
            field = text[len("$_event"):].lstrip(".")
            data = self.event.to_json()
            if not field:
                return Value(self.event.kind, what="string")
            if field not in data:
                raise CommandError(f"event {self.event.kind} has no field {field!r} (fields: {', '.join(data)})")
            value = data[field]
            return Value(value if isinstance(value, (int, float, str)) else str(value), what="event")
        if text in ("$", "$$") or text[1:].isdigit():
            if not self.history:
                raise CommandError("the value history is empty")
            index = len(self.history) - 1 if text == "$" else len(self.history) - 2 if text == "$$" else int(text[1:]) - 1
            if not 0 <= index < len(self.history):
                raise CommandError(f"history has no value {text} (it has {len(self.history)})")
            return Value(self.history[index])
        raise CommandError(f"unknown convenience variable {text!r} ($sp, $N, $_event.FIELD)")


def _find_global(engine, name: str) -> Global | None:
    import wasmtime

    if name == "__stack_pointer" and engine.stack_pointer is not None:
        return Global(engine.stack_pointer, "__stack_pointer")
    if "!" in name:
        modname, field = name.split("!", 1)
        mod = engine.module_named(modname)
        glob = mod.externs.get(field) if mod is not None else None
        return Global(glob, f"{mod.name}!{field}") if isinstance(glob, wasmtime.Global) else None
    for mod in engine.modules:
        glob = mod.externs.get(name)
        if isinstance(glob, wasmtime.Global) and mod.state != "failed":
            return Global(glob, f"{mod.name}!{name}")
    return None


def _num(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CommandError(f"{value!r} is not a number")
    return value


def _int(value, what: str) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, int):
        raise CommandError(f"{value!r} is not {what}")
    return value


_OPS: dict[str, Callable] = {
    "+": lambda a, b: _num(a) + _num(b), "-": lambda a, b: _num(a) - _num(b), "*": lambda a, b: _num(a) * _num(b),
    "/": lambda a, b: _div(a, b), "%": lambda a, b: _int(a, "an integer") % _nonzero(_int(b, "an integer")),
    "<<": lambda a, b: _int(a, "an integer") << _int(b, "an integer"),
    ">>": lambda a, b: _int(a, "an integer") >> _int(b, "an integer"),
    "&": lambda a, b: _int(a, "an integer") & _int(b, "an integer"),
    "|": lambda a, b: _int(a, "an integer") | _int(b, "an integer"),
    "^": lambda a, b: _int(a, "an integer") ^ _int(b, "an integer"),
    "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b), "<": lambda a, b: int(a < b),
    "<=": lambda a, b: int(a <= b), ">": lambda a, b: int(a > b), ">=": lambda a, b: int(a >= b),
    "&&": lambda a, b: int(bool(a) and bool(b)), "||": lambda a, b: int(bool(a) or bool(b)),
}


def _nonzero(b):
    if b == 0:
        raise CommandError("division by zero")
    return b


def _div(a, b):
    a, b = _num(a), _nonzero(_num(b))
    if isinstance(a, int) and isinstance(b, int):
        q = abs(a) // abs(b)  # C division truncates toward zero
        return q if (a >= 0) == (b >= 0) else -q
    return a / b


def _apply(op: str, a, b):
    try:
        return _OPS[op](a, b)
    except TypeError:
        raise CommandError(f"cannot apply {op} to {a!r} and {b!r}") from None


# -- writing ------------------------------------------------------------------------------
def split_assignment(text: str) -> tuple[str, str]:
    """`LHS = RHS` -> (LHS, RHS): the first `=` that is not part of ==, !=, <=, >=."""
    for m in re.finditer(r"=", text):
        i = m.start()
        before, after = text[i - 1 : i], text[i + 1 : i + 2]
        if (before and before in "=!<>") or after == "=":
            continue
        return text[:i].strip(), text[i + 1 :].strip()
    raise CommandError(f"set var: expected LVALUE = VALUE, not {text!r}")


def to_bits(value, mem_type: str) -> bytes:
    """`value` as the bytes of `mem_type` (integers wrap to its width).  Raises CommandError."""
    size, code = TYPES[mem_type]
    if code in ("<f", "<d"):
        return struct.pack(code, float(_num(value)))
    number = _int(value, "an integer")
    if not -(1 << (size * 8)) < number < (1 << (size * 8)):
        raise CommandError(f"{value} does not fit in {size} bytes")
    return (number & ((1 << (size * 8)) - 1)).to_bytes(size, "little")


def format_value(value, fmt: str | None, size: int = 4) -> str:
    """`value` in gdb's print format letter (x d u o t c f; a and s need the engine: see
    `dldbg.commands.data`), or its natural form without one."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float):
        return repr(value) if fmt in (None, "f") else format_value(int(value), fmt, size)
    if fmt in (None, "d"):
        return str(value)
    bits = size * 8 if -(1 << (size * 8 - 1)) <= value < (1 << (size * 8)) else 64
    unsigned = value & ((1 << bits) - 1)
    if fmt == "x":
        return hex(unsigned)
    if fmt == "u":
        return str(unsigned)
    if fmt == "o":
        return "0" + format(unsigned, "o") if unsigned else "0"
    if fmt == "t":
        return format(unsigned, "b")
    if fmt == "c":
        byte = value & 0xFF
        shown = chr(byte) if 32 <= byte < 127 else "\\x%02x" % byte
        return f"{value} '{shown}'"
    if fmt == "f":
        return repr(float(value))
    raise CommandError(f"bad print format /{fmt} (x d u o t c a s f)")
