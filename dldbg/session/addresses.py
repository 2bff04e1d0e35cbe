"""Addresses and table slots: from what a user types, and back to module + symbol + offset.

Address expressions (bytes in linear memory): a number (`4096`, `0x10400`), a data symbol
(`own_data`, `&own_data`, `libfoo.so!own_data`; a function gives its table slot), a module name
(`libfoo.so`: the start of its static data), `$sp` (the stack pointer), each optionally followed
by `+N`/`-N` offsets (`tbl+8`).

Regions of linear memory, as the engine and host know them: the host's NULL guard and stack
(hosts that have `stack_low`/`stack_high`), each module's static data (`[memory_base,
memory_base + memory_size)`) and TLS block, and the host heap's other blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import CommandError

_EXPR = re.compile(r"^(?P<base>.*?)(?P<offsets>(?:[+-](?:0[xX][0-9a-fA-F]+|\d+))*)$")
_OFFSET = re.compile(r"([+-])(0[xX][0-9a-fA-F]+|\d+)")


def parse_int(text: str) -> int | None:
    """`123`, `0x7b`, `-4`, `0b101` -> int; anything else -> None."""
    try:
        return int(text.replace("_", ""), 0)
    except ValueError:
        return None


def static_data_symbols(mod) -> dict:
    """A module's data exports computed from the binary (immutable i32 globals + its
    `__memory_base`), for a module that is not instantiated yet; TLS exports are left out."""
    from ..linker.scope import Symbol

    wasm, out = mod.wasm, {}
    if not mod.memory_size:
        return out
    tls = wasm.dylink.tls_exports if wasm.dylink else frozenset()
    for exp in wasm.exports:
        if exp.kind != "global" or exp.index < wasm.num_imported_globals or exp.name in tls:
            continue
        glob = wasm.globals[exp.index - wasm.num_imported_globals]
        value = glob.init.evaluate()
        if not glob.type.mutable and glob.type.val_type == "i32" and isinstance(value, int):
            out[exp.name] = Symbol(exp.name, "data", mod.name, mod.id, address=mod.memory_base + value)
    return out


def module_symbols(mod) -> dict:
    """The module's exports as scope Symbols: relocated ones once instantiated, else its data
    symbols from the binary."""
    return mod.exports if mod.exports else static_data_symbols(mod)


def find_symbol(engine, name: str):
    """The definition of `name` a user most likely means: `MODULE!NAME` in that module, else the
    global scope, else the first module that exports it (a module still loading gives its data
    symbols from the binary).  Returns a scope Symbol or None.  Raises CommandError for an
    unknown module."""
    if "!" in name:
        modname, sym = name.split("!", 1)
        mod = engine.module_named(modname)
        if mod is None:
            raise CommandError(f"no loaded module named {modname}")
        return module_symbols(mod).get(sym)
    found = engine.global_scope.lookup(name)
    if found is not None:
        return found
    for mod in engine.modules:
        if mod.state in ("failed",):
            continue
        symbols = module_symbols(mod)
        if name in symbols:
            return symbols[name]
    return None


def symbol_value(engine, sym) -> int:
    """A data symbol's address, or a function's table slot (if it has one).  Raises CommandError."""
    if sym.kind == "data":
        return sym.address
    if sym.kind == "func":
        slot = engine.table.slot_of(sym.key)
        if slot is None:
            raise CommandError(f"function {sym.module}!{sym.name} has no table slot yet (`dlsym` gives it one)")
        return slot
    if sym.kind == "tls":
        raise CommandError(f"{sym.name} is a TLS offset ({sym.address:#x}) until {sym.module}'s TLS block is initialised")
    raise CommandError(f"{sym.module}!{sym.name} is a wasm {sym.kind}, not in linear memory (try `global {sym.name}`)")


def evaluate(engine, text: str) -> int:
    """The integer an address expression denotes.  Raises CommandError."""
    text = text.strip()
    value = parse_int(text)
    if value is not None:
        return value
    m = _EXPR.match(text)
    base, offsets = m.group("base"), m.group("offsets")
    if not base:
        raise CommandError(f"bad address expression {text!r}")
    value = parse_int(base)
    if value is None:
        name = base[1:] if base.startswith("&") else base
        if name in ("$sp", "$stack_pointer"):
            if engine.stack_pointer is None:
                raise CommandError("this host has no stack pointer")
            value = engine.stack_pointer.value(engine.store) & 0xFFFFFFFF
        else:
            sym = find_symbol(engine, name)
            mod = engine.module_named(name) if sym is None and "!" not in name else None
            if mod is not None:
                value = mod.memory_base
            elif sym is None:
                raise CommandError(f"no symbol {name!r} in the loaded modules (an address is a number, a symbol, "
                                   f"MODULE!SYMBOL, MODULE (its static data) or $sp, with +N/-N offsets)")
            else:
                value = symbol_value(engine, sym)
    for sign, number in _OFFSET.findall(offsets):
        value += int(number, 0) * (1 if sign == "+" else -1)
    return value


@dataclass(frozen=True)
class Region:
    """`[start, end)` of linear memory; `kind`: null-guard, stack, data, tls, heap."""

    start: int
    end: int
    kind: str
    owner: str
    module: object | None = None

    def to_json(self) -> dict:
        return {"start": self.start, "end": self.end, "size": self.end - self.start, "kind": self.kind, "owner": self.owner}


def regions(engine) -> list[Region]:
    """Every region the engine and host know of, by start address."""
    out: list[Region] = []
    host = engine.host
    low, high = getattr(host, "stack_low", None), getattr(host, "stack_high", None)
    if low is not None and high is not None:
        if low > 0:
            out.append(Region(0, low, "null-guard", f"{host.name} host (nothing lives at NULL)"))
        out.append(Region(low, high, "stack", f"{host.name} host stack"))
    claimed: set[int] = set()
    for mod in engine.modules:
        if mod.memory_size:
            out.append(Region(mod.memory_base, mod.memory_base + mod.memory_size, "data", mod.name, mod))
            claimed.add(mod.memory_base)
        if mod.tls_base is not None:
            size = tls_size(engine, mod)
            out.append(Region(mod.tls_base, mod.tls_base + max(size, 1), "tls", mod.name, mod))
            claimed.add(mod.tls_base)
    blocks = getattr(engine.allocator, "blocks", None)
    if isinstance(blocks, dict):
        for address, (start, end) in blocks.items():
            if address not in claimed:
                out.append(Region(address, end, "heap", getattr(engine.allocator, "name", "heap")))
    out.sort(key=lambda r: (r.start, r.end))
    return out


def tls_size(engine, mod) -> int:
    glob = mod.externs.get("__tls_size")
    try:
        return glob.value(engine.store) if glob is not None else 0
    except Exception:  # not a global after all
        return 0


def data_symbols(mod) -> list:
    """The module's data symbols by address."""
    return sorted((s for s in module_symbols(mod).values() if s.kind == "data" and s.address is not None),
                  key=lambda s: (s.address, s.name))


@dataclass(frozen=True)
class Place:
    """What an address is: its region (or None), and the nearest data symbol at or below it in
    that region's module, with the offset from it."""

    address: int
    region: Region | None
    symbol: str | None = None
    offset: int = 0

    def short(self) -> str:
        """`libfoo.so!own_data+0x4`, `libfoo.so+0x20`, `stack`, or `` when unknown."""
        r = self.region
        if r is None:
            return ""
        if self.symbol:
            return f"{r.owner}!{self.symbol}" + (f"+{self.offset:#x}" if self.offset else "")
        if r.kind in ("data", "tls"):
            return f"{r.owner}{' TLS' if r.kind == 'tls' else ''}+{self.address - r.start:#x}"
        return r.kind

    def describe(self) -> str:
        r = self.region
        if r is None:
            return f"{self.address:#x} is in no known region"
        where = {"data": "static data", "tls": "TLS block", "stack": "stack", "null-guard": "NULL guard",
                 "heap": "heap block"}[r.kind]
        head = f"{self.address:#x} = {self.short()}" if self.symbol or r.kind in ("data", "tls") else f"{self.address:#x}"
        return f"{head} ({where} of {r.owner} [{r.start:#x}, {r.end:#x}), offset {self.address - r.start:#x})"

    def to_json(self) -> dict:
        return {"address": self.address, "region": self.region.to_json() if self.region else None,
                "symbol": self.symbol, "offset": self.offset, "text": self.short()}


def place(engine, address: int, all_regions: list[Region] | None = None) -> Place:
    """Where `address` is (see Place)."""
    found = None
    for region in all_regions if all_regions is not None else regions(engine):
        if region.start <= address < region.end and (found is None or region.kind in ("data", "tls")):
            found = region
    if found is None:
        return Place(address, None)
    if found.kind == "data" and found.module is not None:
        best = None
        for sym in data_symbols(found.module):
            if found.start <= sym.address <= address:
                best = sym
        if best is not None:
            return Place(address, found, best.name, address - best.address)
    return Place(address, found)


@dataclass(frozen=True)
class SlotInfo:
    """What a table slot holds: `owner!function`, its type, and how it got there."""

    slot: int
    function: str | None
    module: str | None
    type: str | None
    note: str = ""

    def text(self) -> str:
        if self.function is None:
            return f"slot {self.slot}: empty" + (f" ({self.note})" if self.note else "")
        return f"slot {self.slot}: {self.module}!{self.function} {self.type or ''}".rstrip() + (f" ({self.note})" if self.note else "")

    def to_json(self) -> dict:
        return {"slot": self.slot, "module": self.module, "function": self.function, "type": self.type, "note": self.note}


def module_by_id(engine, module_id: int):
    return next((m for m in engine.modules if m.id == module_id), None)


def key_name(engine, key) -> tuple[str, str, str]:
    """(module, function, note) for a function identity (see dldbg.linker.functable)."""
    if key[0] == "module":
        mod = module_by_id(engine, key[1])
        if mod is None:
            return f"module#{key[1]}", f"func[{key[2]}]", "module no longer loaded"
        name = mod.wasm.function_name(key[2]) or f"func[{key[2]}]"
        return mod.name, name, ""
    if key[0] == "stub":
        mod = module_by_id(engine, key[1])
        stub = mod.stubs.get(key[2]) if mod is not None else None
        bound = f"bound to {stub.provider}" if stub is not None and stub.target is not None else "unbound"
        return (mod.name if mod else f"module#{key[1]}"), key[2], f"lazy import stub, {bound}"
    if key[0] == "host":
        return "host", str(key[1]), ""
    if key[0] == "named":  # ("named", module, function): a backend that knows slots by name (node)
        return str(key[1]), str(key[2]), ""
    return "?", str(key), ""


def slot_info(engine, slot: int) -> SlotInfo:
    """Raises CommandError for a slot outside the table."""
    table = engine.table
    if not 0 <= slot < table.size:
        raise CommandError(f"slot {slot} is outside the table (size {table.size})")
    func = table.get(slot)
    key = table.key_by_slot.get(slot)
    ftype = str(engine.func_type_of(func)) if func is not None else None
    original = getattr(table, "interposed", {}).get(slot, False)
    interposed = ""
    if original is not False:
        was = "empty" if original is None else "!".join(key_name(engine, original)[:2])
        interposed = f"interposed by the debugger; was {was}"
    if key is None:
        if func is None:
            return SlotInfo(slot, None, None, None, interposed or ("null function pointer" if slot == 0 else ""))
        return SlotInfo(slot, "?", "?", ftype, interposed or "not recorded by the loader")
    module, name, note = key_name(engine, key)
    if key[0] == "module" and func is None and note == "":
        note = "reserved, filled at instantiation"
    return SlotInfo(slot, name, module, ftype, "; ".join(n for n in (note, interposed) if n))
