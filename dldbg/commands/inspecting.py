"""Inspecting: `info modules|got|symbols|imports|exports|dylink`, `lookup`, `table`, `events`,
`reloc diff`."""

from __future__ import annotations

import os

from ..linker.flags import describe_flags
from ..linker.got import UNDEFINED_ADDR
from ..linker.module import is_internal
from ..session.addresses import find_symbol, parse_int, place, regions, slot_info
from ..session.errors import CommandError
from ..session.output import Reply
from ..trace import describe
from . import command, parser
from .common import columns, hex_or_dash, live_exports, module_arg, parse_range, search_pattern


def module_json(engine, mod) -> dict:
    return {"id": mod.id, "name": mod.name, "path": mod.path, "state": mod.state, "handle": mod.handle,
            "refcount": mod.refcount, "memory_base": mod.memory_base, "memory_size": mod.memory_size,
            "table_base": mod.table_base, "table_size": mod.table_size, "tls_base": mod.tls_base,
            "scope": "global" if mod.is_global else "local", "flags": describe_flags(mod.flags),
            "needed": [d.name for d in mod.deps], "main": mod is getattr(engine, "main", None)}


p = parser("info modules", "The loaded modules and the memory map (like gdb's info sharedlibrary and pwndbg's "
           "vmmap): each module's handle, state, static data region, table slots, references and scope; then "
           "every known region of linear memory and the table size.",
           ["info modules", "vmmap", "image list"])


@command(p, category="inspecting", aliases=("info sharedlibrary", "image list", "vmmap"))
def info_modules(session):
    engine = session.engine
    rows, mods = [], []
    for mod in engine.modules:
        mem = f"[{mod.memory_base:#x}, {mod.memory_base + mod.memory_size:#x}) {mod.memory_size} B" if mod.memory_size else "-"
        table = f"[{mod.table_base}, {mod.table_base + mod.table_size})" if mod.table_size else "-"
        rows.append([str(mod.handle or "-"), mod.name, mod.state, mem, table, str(mod.refcount),
                     ("main " if mod is getattr(engine, "main", None) else "") + ("global" if mod.is_global else "local")])
        mods.append(module_json(engine, mod))
    lines = [columns(rows, ["handle", "module", "state", "memory", "table", "refs", "scope"])] if rows else ["no modules loaded"]
    regs = regions(engine) if engine.memory is not None else []
    if regs:
        lines.append("memory map:")
        lines += [f"  [{r.start:#010x}, {r.end:#010x}) {r.end - r.start:>8} B  {r.kind:<10} {r.owner}" for r in regs]
    memory = {"pages": engine.memory.pages, "bytes": engine.memory.data_len} if engine.memory is not None else None
    if memory:
        lines.append(f"linear memory: {memory['pages']} pages ({memory['bytes']:#x} bytes); table: {engine.table.size} slots")
    return Reply({"modules": mods, "regions": [r.to_json() for r in regs], "memory": memory,
                  "table_size": engine.table.size}, "\n".join(lines))


def got_importers(engine, entry) -> list[tuple[str, bool]]:
    """(module, imports it weakly) for every module whose binary imports the entry, in load order
    (the engine's `importers` list is only filled once each import is done)."""
    out = []
    for mod in engine.modules:
        if mod.state == "failed":
            continue
        for imp in mod.wasm.imports:
            if imp.module in ("GOT.mem", "GOT.func") and imp.field == entry.symbol:
                weak = mod.wasm.dylink is not None and imp.field in mod.wasm.dylink.weak_imports
                out.append((mod.name, weak))
                break
    return out


def got_rows(engine, module: str | None, unresolved_only: bool) -> list[dict]:
    out = []
    for entry in engine.got.entries.values():
        importers = got_importers(engine, entry)
        names = [n for n, _ in importers] or list(entry.importers)
        if module is not None and module not in names and entry.provider != module:
            continue
        value = engine.got.value(entry.symbol)
        weak = not entry.required and all(w for _, w in importers)
        flags = []
        if value == UNDEFINED_ADDR:
            flags.append("UNRESOLVED")
        if weak:
            flags.append("weak")
        if unresolved_only and value != UNDEFINED_ADDR:
            continue
        if value == UNDEFINED_ADDR:
            target = "-"
        elif entry.got == "GOT.func":
            target = slot_info(engine, value).text() if 0 <= value < engine.table.size else "slot outside the table"
        else:
            target = place(engine, value & 0xFFFFFFFF).short() or ("NULL" if value == 0 else "")
        out.append({"symbol": entry.symbol, "got": entry.got, "value": value, "provider": entry.provider,
                    "importers": names, "weak": weak, "flags": flags, "target": target})
    return out


p = parser("info got", "The Global Offset Table: one entry per symbol, shared by every module (GOT.mem: an "
           "address; GOT.func: a table slot).  UNRESOLVED marks entries still -1 (nothing defines them yet); "
           "weak marks entries only weak references ask for (they become 0 if nothing defines them).  With "
           "MODULE, the entries that module imports or provides.",
           ["info got", "info got libfoo.so", "info got --unresolved", "got"])
p.add_argument("module", nargs="?", help="a module name")
p.add_argument("-u", "--unresolved", action="store_true", help="only unresolved entries")


@command(p, category="inspecting", aliases=("got",), complete=("module",))
def info_got(session, module, unresolved):
    engine = session.engine
    name = module_arg(session, module).name if module else None
    rows = got_rows(engine, name, unresolved)
    if not rows:
        return Reply([], "no GOT entries" + (f" for {name}" if name else ""))
    text = columns([[r["got"] + "." + r["symbol"], hex_or_dash(r["value"]) if r["got"] == "GOT.mem" else
                     (str(r["value"]) if r["value"] != UNDEFINED_ADDR else "-1"),
                     " ".join(r["flags"]) or "ok", r["provider"] or "-", ",".join(r["importers"]), r["target"]]
                    for r in rows], ["entry", "value", "flags", "provider", "importers", "points to"])
    return Reply(rows, text)


def _binding(engine, mod, name: str, sym) -> str:
    if mod.state in ("loading", "instantiated") and not mod.published:
        return "not published yet"
    scope = engine.global_scope if mod.is_global else mod.group
    winner = scope.lookup(name) if scope is not None else None
    if winner is None:
        return "internal" if is_internal(name) else "not published"
    if winner.module_id == mod.id:
        return "global" if mod.is_global else "local"
    return f"shadowed by {winner.module}"


def _value(engine, sym) -> str:
    if sym.kind in ("data", "tls"):
        return hex_or_dash(sym.address) + (" (TLS offset)" if sym.kind == "tls" else "")
    if sym.kind == "func":
        slot = engine.table.slot_of(sym.key)
        return f"slot {slot}" if slot is not None else "no slot"
    if sym.kind == "global":
        try:
            return str(sym.extern.value(engine.store))
        except Exception:
            return "?"
    return "-"


p = parser("info symbols", "Symbols whose name matches REGEX (searched anywhere in the name) in every module's "
           "exports: kind, value (data address or table slot), module and binding (global, local, shadowed by "
           "an earlier definition, not published yet).",
           ["info symbols dep_", "info symbols '^get_.*_ok$'", "info symbols . --kind data"])
p.add_argument("regex", help="regular expression")
p.add_argument("-k", "--kind", choices=("func", "data", "global", "tls", "memory", "table", "tag"), help="only this kind")


@command(p, category="inspecting", complete=("symbol",))
def info_symbols(session, regex, kind):
    engine = session.engine
    pattern = search_pattern(regex)
    rows = []
    for mod, name, sym in live_exports(engine):
        if pattern.search(name) and (kind is None or sym.kind == kind) and not is_internal(name):
            rows.append({"name": name, "kind": sym.kind, "value": _value(engine, sym), "module": mod.name,
                         "binding": _binding(engine, mod, name, sym)})
    for name, sym in engine.global_scope.symbols.items():
        if sym.module_id not in {m.id for m in engine.modules} and pattern.search(name) and (kind is None or sym.kind == kind):
            rows.append({"name": name, "kind": sym.kind, "value": _value(engine, sym), "module": sym.module, "binding": "global"})
    rows.sort(key=lambda r: (r["name"], r["module"]))
    if not rows:
        return Reply([], f"no symbols match {regex!r}")
    return Reply(rows, columns([[r["name"], r["kind"], r["value"], r["module"], r["binding"]] for r in rows],
                               ["symbol", "kind", "value", "module", "binding"]))


def _logged_resolutions(session, mod) -> dict[tuple[str, str], object]:
    """import.resolve events of the module's current load, by (import module, field): at a stop
    on such an event the engine has not recorded the binding yet."""
    out: dict[tuple[str, str], object] = {}
    for entry in reversed(session.log.entries):
        e = entry.event
        if e.module != mod.name:
            continue
        if e.kind == "load.start":
            break
        if e.kind == "import.resolve":
            out.setdefault((e.import_module, e.field), e)
    return out


def import_rows(session, mod) -> list[dict]:
    engine = session.engine
    weak = mod.wasm.dylink.weak_imports if mod.wasm.dylink else frozenset()
    bindings = {id(b.imp): b for b in mod.bindings}
    logged = _logged_resolutions(session, mod) if mod.state == "loading" else {}
    rows = []
    for imp in mod.wasm.imports:
        row = {"import": imp.qualified, "kind": imp.kind, "weak": imp.field in weak,
               "type": str(mod.wasm.types[imp.desc]) if imp.kind == "func" else None}
        b = bindings.get(id(imp))
        if imp.module in ("GOT.mem", "GOT.func"):
            entry = engine.got.get(imp.field)
            if entry is None:
                row.update(how="got", provider=None, state="no GOT entry yet")
            else:
                value = engine.got.value(imp.field)
                row.update(how="got", provider=entry.provider, value=value,
                           state="UNRESOLVED" if value == UNDEFINED_ADDR else ("weak, undefined: 0" if value == 0 and not entry.required else "resolved"))
        elif b is not None:
            state = "resolved"
            if b.stub is not None:
                state = f"lazy stub, bound to {b.stub.provider}" if b.stub.target is not None else "lazy stub, unbound"
            row.update(how=b.how, provider=b.provider, symbol=b.symbol, state=state)
        elif (imp.module, imp.field) in logged:
            e = logged[(imp.module, imp.field)]
            row.update(how=e.how, provider=e.provider, symbol=e.symbol, state="resolved")
        else:
            row.update(how=None, provider=None, state="not resolved yet" if mod.state == "loading" else "?")
        rows.append(row)
    return rows


p = parser("info imports", "A module's imports and how each was resolved: the provider and the rule (host, "
           "global-scope, local-scope, got, lazy), lazy stubs bound or not, GOT entries and their state; "
           "weak imports are flagged.",
           ["info imports libfoo.so", "info imports 2"])
p.add_argument("module", help="module name or handle")


@command(p, category="inspecting", complete=("module",))
def info_imports(session, module):
    mod = module_arg(session, module)
    rows = import_rows(session, mod)
    text = columns([[r["import"], r["kind"] + (" weak" if r["weak"] else ""), r.get("how") or "-",
                     r.get("provider") or "-", r["state"]] for r in rows], ["import", "kind", "how", "provider", "state"])
    return Reply({"module": mod.name, "imports": rows}, f"{mod.name} ({mod.state}):\n{text}" if rows else f"{mod.name}: no imports")


p = parser("info exports", "A module's exports: kind, value (data address relocated by __memory_base, TLS offset, "
           "table slot) and binding in its scope.",
           ["info exports libfoo.so", "info exports 1"])
p.add_argument("module", help="module name or handle")


@command(p, category="inspecting", complete=("module",))
def info_exports(session, module):
    engine = session.engine
    mod = module_arg(session, module)
    rows = []
    for exp in mod.wasm.exports:
        sym = mod.exports.get(exp.name)
        if sym is None:
            rows.append({"name": exp.name, "kind": exp.kind, "value": "-", "binding": "not instantiated yet"})
            continue
        rows.append({"name": exp.name, "kind": sym.kind, "value": _value(engine, sym),
                     "binding": "internal" if is_internal(exp.name) else _binding(engine, mod, exp.name, sym)})
    text = columns([[r["name"], r["kind"], r["value"], r["binding"]] for r in rows], ["export", "kind", "value", "binding"])
    return Reply({"module": mod.name, "exports": rows}, f"{mod.name} ({mod.state}):\n{text}" if rows else f"{mod.name}: no exports")


p = parser("info dylink", "A module's dylink.0 metadata, imports and exports as `dldbg inspect` shows them "
           "(wasm-objdump's field names); MODULE is a loaded module or a file.",
           ["info dylink libfoo.so", "info dylink samples/out/clang16/reloc/libreloc.so"])
p.add_argument("module", help="module name, handle or file path")


@command(p, category="inspecting", complete=("module",))
def info_dylink(session, module):
    from ..report import inspect_module, render_text
    from ..wasm.reader import read_module_file

    mod = session.engine.module_named(module)
    if mod is not None:
        wasm = mod.wasm
    elif os.path.isfile(module):
        wasm = read_module_file(module)
    else:
        mod = module_arg(session, module)
        wasm = mod.wasm
    return Reply(inspect_module(wasm), render_text(wasm))


p = parser("lookup", "What an address, table slot or symbol is.\n\n"
           "An address (a number or expression) gives its region and the nearest data symbol: "
           "module!symbol+offset.  -t SLOT gives the function in a table slot: module!function and its type.  "
           "A symbol gives every definition in the loaded modules, the one the global scope binds, its GOT "
           "entry and its table slot.",
           ["lookup 0x100410", "lookup tbl+4", "lookup -t 3", "lookup dep_data", "lookup libfoo.so!get_answer"])
p.add_argument("what", help="address, symbol, or (with -t) table slot")
p.add_argument("-t", "--slot", action="store_true", help="WHAT is a table slot")


@command(p, category="inspecting", aliases=("info symbol", "info address"), complete=("symbol",))
def lookup(session, what, slot):
    engine = session.engine
    number = parse_int(what)
    if slot:
        if number is None:
            raise CommandError(f"-t takes a slot number, not {what!r}")
        info = slot_info(engine, number)
        return Reply(info.to_json(), info.text())
    if number is not None or any(c in what for c in "+$") or what.startswith("&"):
        from ..session.addresses import evaluate

        address = evaluate(engine, what) if number is None else number
        where = place(engine, address)
        data = {"address": where.to_json()}
        lines = [where.describe()]
        if 0 < address < engine.table.size and engine.table.get(address) is not None:
            info = slot_info(engine, address)
            data["slot"] = info.to_json()
            lines.append(f"as a table slot: {info.text()}")
        return Reply(data, "\n".join(lines))
    return _lookup_symbol(engine, what)


def _lookup_symbol(engine, name: str) -> Reply:
    chosen = find_symbol(engine, name)
    bare = name.split("!", 1)[1] if "!" in name else name
    defs = []
    for mod in engine.modules:
        sym = mod.exports.get(bare)
        if sym is None or ("!" in name and sym is not chosen):
            continue
        defs.append({"module": mod.name, "kind": sym.kind, "value": _value(engine, sym),
                     "binding": _binding(engine, mod, bare, sym), "chosen": sym is chosen})
    bound = engine.global_scope.lookup(bare)
    entry = engine.got.get(bare)
    got = None if entry is None else {"got": entry.got, "value": engine.got.value(bare), "provider": entry.provider,
                                       "importers": list(entry.importers)}
    if not defs and got is None and bound is None:
        raise CommandError(f"no symbol {name!r}: no loaded module defines it and there is no GOT entry (try `why` or `info symbols`)")
    lines = [f"{name}:"]
    lines += [f"  defined by {d['module']}: {d['kind']} {d['value']} ({d['binding']})" for d in defs]
    lines.append(f"  global scope: {bound.module}" if bound is not None else "  global scope: not defined")
    if got is not None:
        value = got["value"]
        shown = hex_or_dash(value) if got["got"] == "GOT.mem" else (str(value) if value < 0 else f"slot {value}")
        lines.append(f"  {got['got']}.{bare} = {shown} (provider {got['provider'] or '-'}; imported by {', '.join(got['importers'])})")
    return Reply({"symbol": name, "definitions": defs, "global": bound.module if bound else None, "got": got}, "\n".join(lines))


p = parser("table", "The shared function table: each slot's function (module!function), its type and how it got "
           "there.  Without RANGE, every slot that holds or is reserved for a function.",
           ["table", "table 1-8", "table 5", "table 10-"])
p.add_argument("range", nargs="?", help="N, N-M or N-")


@command(p, category="inspecting")
def table(session, range):
    engine = session.engine
    size = engine.table.size
    slots = parse_range(range, size)
    infos = [slot_info(engine, s) for s in slots]
    if range is None:
        infos = [i for i in infos if i.function is not None]
    if not infos:
        return Reply([], f"no functions in the table ({size} slots)")
    return Reply([i.to_json() for i in infos], "\n".join(i.text() for i in infos) + f"\n({size} slots)")


p = parser("events", "The event log: every linker event of the session, numbered from 0.\n\n"
           "RANGE is N, N-M, N- or -N (the last N).  A filter follows, as for `break`: KIND [KEY=REGEX ...].  "
           "-v shows every field.",
           ["events", "events -20", "events 10-30", "events got module=libfoo.so", "events import.unresolved -v",
            "events load.fail"])
p.add_argument("spec", nargs="*", metavar="RANGE|FILTER", help="range and filter")
p.add_argument("-v", "--verbose", action="store_true", help="every field of each event")


@command(p, category="inspecting", complete=("filter",))
def events(session, spec, verbose):
    entries = session.log.select(spec)
    if not entries:
        return Reply([], "no events" if not session.log.entries else "no events match")
    lines = []
    for e in entries:
        lines.append(f"#{e.index:<4} {'  ' * max(e.depth - 1, 0)}{describe(e.event)}")
        if verbose:
            for key, value in e.event.to_json().items():
                if key not in ("kind", "module"):
                    lines.append(f"        {key}: {value}")
    return Reply([e.to_json() for e in entries], "\n".join(lines))


def _pointee(engine, value: int, regs) -> str:
    where = place(engine, value, regs)
    text = where.short() if where.region is not None and where.region.kind in ("data", "tls") else ""
    if not text and 0 < value < engine.table.size and engine.table.get(value) is not None:
        info = slot_info(engine, value)
        text = f"slot {value} = {info.module}!{info.function}"
    got = [e.got + "." + e.symbol for e in engine.got.entries.values() if engine.got.value(e.symbol) == value and value > 0]
    if got:
        text += (" " if text else "") + f"(= {', '.join(got[:3])})"
    return text


p = parser("reloc diff", "The words each relocation step changed, with what they point to now: the data "
           "relocations run by the loader (__wasm_apply_data_relocs) and those of an LLD 14 start function.  "
           "Each line: address (module!symbol+offset), old -> new value, and the symbol, table slot or GOT "
           "entry the new value equals.",
           ["reloc diff", "reloc diff libreloc.so"])
p.add_argument("module", nargs="?", help="only this module")


@command(p, category="inspecting", complete=("module",))
def reloc_diff(session, module):
    engine = session.engine
    name = module_arg(session, module).name if module and engine.module_named(module) else module
    regs = regions(engine) if engine.memory is not None else []
    steps, lines = [], []
    for entry in session.log.entries:
        e = entry.event
        if e.kind not in ("reloc.apply", "reloc.start") or (name and e.module != name):
            continue
        words = []
        lines.append(f"#{entry.index} {e.module}: {e.function} ({e.where}): {len(e.changes)} words changed")
        for address, old, new in e.changes:
            at = place(engine, address, regs).short()
            to = _pointee(engine, new, regs)
            words.append({"address": address, "at": at, "old": old, "new": new, "points_to": to})
            lines.append(f"  {address:#010x} {at:<28} {old:#010x} -> {new:#010x}  {to}".rstrip())
        steps.append({"index": entry.index, "module": e.module, "function": e.function, "where": e.where, "words": words})
    if not steps:
        return Reply([], "no relocation steps logged" + (f" for {name}" if name else "") +
                     " (LLD 16+ modules run __wasm_apply_data_relocs in the reloc stage; LLD 14 ones in the start function)")
    return Reply(steps, "\n".join(lines))
