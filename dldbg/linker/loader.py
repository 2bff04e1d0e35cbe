"""The staged load of one request (a dlopen, or a set of libraries loaded at start-up).

Stages and their order follow emscripten's `loadWebAssemblyModule` (libdylink.js; reference
§2.5): read -> NEEDED (depth first, before the dependent is instantiated) -> memory -> table ->
imports and GOT -> instantiate (the start function runs) -> GOT update from the module's own
exports -> undefined-symbol report -> TLS -> data relocations -> constructors -> publish.
TLS comes before the relocations, as in emscripten's postInstantiation (registerTLSInit runs
before `__wasm_apply_data_relocs`), so that relocated data can hold TLS addresses.

A start-up request (`deferred=True`, emscripten's libraries loaded before `initRuntime`)
publishes each module right after instantiation and runs the undefined-symbol report, then all
TLS set-up, relocations and constructors, once every module is in (reference §2.1 steps 4-6).

Every change to shared state is recorded in the request's Transaction, so a failure anywhere
rolls the whole request back.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from typing import TYPE_CHECKING

import wasmtime

from ..errors import (
    BinaryenUnavailable,
    CallError,
    DldbgError,
    LoadError,
    ModuleFileError,
    TranslationError,
    UndefinedSymbolError,
    WasmParseError,
)
from ..events import (
    ConstructorCalled,
    GotCreated,
    GotUpdated,
    ImportResolved,
    ImportUnresolved,
    Instantiated,
    LoadStarted,
    MemoryAllocated,
    ModuleCompiled,
    ModuleRead,
    ModuleTranslated,
    NeededResolved,
    RelocationsApplied,
    StartRelocationsApplied,
    SymbolsPublished,
    TlsInitialized,
)
from ..nogc import collector_paused
from ..wasm.reader import read_module
from ..wasm.types import FuncType, GlobalType
from .exnref import translate
from .capi import instantiate
from .flags import RTLD_GLOBAL, RTLD_NODELETE, describe_flags
from .got import UNDEFINED_ADDR, to_i32
from .memdiff import Snapshot
from .module import ImportBinding, LazyStub, LoadedModule
from .exports import SymbolTable
from .scope import Scope, Symbol
from .search import absolute_path, find_library, real_path
from .transaction import Transaction
from .wasmtime_compat import InstanceExports, instance_exports

if TYPE_CHECKING:
    from .engine import Engine


def first_line(exc: BaseException) -> str:
    """The reason of a wasmtime error or trap in one line: the text after "Caused by:" (wasmtime
    puts the backtrace first), else the first line."""
    text = (getattr(exc, "message", None) or str(exc)).strip()
    if "Caused by:" in text:
        return " ".join(text.split("Caused by:", 1)[1].split())
    return text.split("\n")[0]


class LoadRequest:
    """One load request; `load()` may be called several times (start-up preloads), then `finish()`."""

    def __init__(self, engine: "Engine", flags: int, *, deferred: bool = False, bind_now: bool = False):
        self.engine = engine
        #: a number per request, carried by its load.start, load.done and load.fail events
        self.id = engine.new_request_id()
        self.flags = flags
        self.is_global = bool(flags & RTLD_GLOBAL)
        self.group = None if self.is_global else Scope("local")
        self.deferred = deferred
        self.bind_now = bind_now
        self.txn = Transaction()
        self.new_modules: list[LoadedModule] = []
        #: new modules in the order they were instantiated: dependencies before dependents,
        #: which is the order emscripten queues their relocations and constructors
        self.instantiated: list[LoadedModule] = []
        #: GOT entries (importer, symbol) waiting for a TLS export's address (set by `_init_tls`)
        self.tls_pending: list[tuple[LoadedModule, str]] = []
        self._elem_slot_maps: dict[int, dict[int, int]] = {}
        self._chain: list[str] = []
        #: GOT.func definitions looked up by `_place_found_functions` for the module whose
        #: imports are being resolved, used again by `_got_import`: name -> (symbol, how), or
        #: (None, how, symbol table, function key, module name) for a function whose symbol
        #: is not made
        self._got_found: dict[str, tuple] = {}
        #: the memory this request made (a module's memory import made the host create it), while
        #: it holds nothing but zeros: no module instantiated (`instantiated`), no host write
        self._made_memory = None

    # -- entry points -------------------------------------------------------------------
    def load(self, path: str, requested_by: LoadedModule | None = None, real: str | None = None) -> LoadedModule:
        """Load `path` (`real`: its `os.path.realpath`, when known) and its NEEDED libraries.
        Raises LoadError."""
        engine = self.engine
        real = real or real_path(path)
        existing = engine.modules_by_path.get(real)
        if existing is not None:
            if existing.state == "loading":
                if requested_by is None:  # a dlopen from inside this library's own load
                    raise LoadError(path, "read", f"{existing.name} is still being loaded (a dlopen of it "
                                    "from inside its own load, e.g. by a constructor or a debugger stop)")
                cycle = " -> ".join(self._chain + [existing.name])
                raise LoadError(requested_by.path, "needed", f"NEEDED cycle: {cycle}")
            self._reuse(existing)
            return existing
        engine.emit(LoadStarted(os.path.basename(path), path, describe_flags(self.flags),
                                requested_by and requested_by.name, self.id))
        mod = self._read(path, real)
        self._chain.append(mod.name)
        self._load_needed(mod)
        self._chain.pop()
        self._allocate_memory(mod)
        self._reserve_table(mod)
        externs = self._resolve_imports(mod)
        self._instantiate(mod, externs)
        self.instantiated.append(mod)
        engine.enter(mod.name, "got")
        got = bool(mod.got_symbols)  # a module without GOT imports has no entry to fill or report
        if got:
            self._update_got_from_exports(mod)
        if self.deferred:
            self._publish(mod)
        else:
            if got:
                self._report_undefined([mod])
            self._bind_now_check(mod)
            self._init_tls(mod)
            self._check_tls_pending()
            self._relocate(mod)
            self._construct(mod)
            self._publish(mod)
            engine.complete(mod, self)
        return mod

    def load_main(self, path: str, memory_base: int, table_base: int, load_needed: bool = True) -> LoadedModule:
        """Load a program's main module at host-chosen bases (emscripten: GLOBAL_BASE 1024 and
        table slot 1), then its NEEDED libraries (unless `load_needed` is False): the main is
        instantiated first and its relocations and constructors run first (reference §2.1).
        Call `finish()` after."""
        engine = self.engine
        name = os.path.basename(path)
        engine.emit(LoadStarted(name, path, "main program", None, self.id))
        mod = self._read(path, real_path(path), program=True)
        dylink = mod.wasm.dylink
        if dylink is not None:
            self._check_mem_info(mod)
            mod.memory_base, mod.memory_size = memory_base, dylink.mem_size
            mod.table_base, mod.table_size = table_base, dylink.table_size
            if dylink.mem_size:
                engine.enter(name, "memory")
                engine.emit(MemoryAllocated(module=name, stage="memory", memory_base=memory_base, size=dylink.mem_size,
                                            alignment=dylink.mem_alignment_bytes, allocator=f"{engine.host.name} program layout",
                                            purpose="main program static data"))
        externs = self._resolve_imports(mod)
        engine.enter(name, "table")
        needed = max(self._elem_slots(mod).values(), default=-1) + 1
        if needed > engine.table.size:
            engine.table.grow(needed - engine.table.size, f"{name} element segment")
        self._instantiate(mod, externs)
        self.instantiated.append(mod)
        engine.enter(name, "got")
        self._update_got_from_exports(mod)
        self._publish(mod)
        if dylink is not None and load_needed:
            self._chain.append(name)
            self._load_needed(mod)
            self._chain.pop()
        return mod

    def finish(self) -> None:
        """Start-up requests: the undefined report, then all relocations, then all constructors."""
        if not self.deferred:
            return
        self._report_undefined(self.instantiated)
        for mod in self.instantiated:
            self._bind_now_check(mod)
        for mod in self.instantiated:
            self._init_tls(mod)
        self._check_tls_pending()
        for mod in self.instantiated:
            self._relocate(mod)
        for mod in self.instantiated:
            self._construct(mod)
        for mod in self.instantiated:
            self.engine.complete(mod, self)

    # -- read ---------------------------------------------------------------------------
    @collector_paused()  # thousands of long-lived objects per module (dldbg.nogc)
    def _read(self, path: str, real: str, program: bool = False) -> LoadedModule:
        """Read, parse and compile.  A side module needs dylink.0 first; a main program may
        have no dylink.0 (it then has fixed addresses)."""
        engine = self.engine
        name = os.path.basename(path)
        engine.enter(name, "read")
        try:
            data, wasm = engine.files.take(path, real)  # parsed once: the CLI or the host may have read it
        except ModuleFileError as exc:
            raise LoadError(path, "read", exc.reason, exc.offset) from None
        except WasmParseError as exc:
            raise LoadError(path, "read", exc.message, exc.offset) from None
        if wasm.dylink is None and not program:
            raise LoadError(path, "read", "need dylink section: this is not a side module (no dylink.0 custom section)")
        if wasm.dylink is not None and not wasm.dylink_first:
            raise LoadError(path, "read", "need the dylink section to be first", wasm.dylink.offset)
        memory = next((imp for imp in wasm.imports if imp.kind == "memory"), None)
        if memory is not None:
            check_import_limits(engine, path, memory)
            made = engine.memory is None
            try:
                engine.ensure_memory(memory.desc.limits)
            except wasmtime.WasmtimeError as exc:
                raise LoadError(path, "imports", f"{memory.qualified}: the memory cannot be created: "
                                f"{_wasmtime_reason(exc)[0]}", memory.offset) from None
            except DldbgError as exc:
                raise LoadError(path, "imports", f"{memory.qualified}: {exc.one_line()}", memory.offset) from None
            if made and engine.memory.writes == 0:
                self._made_memory = engine.memory
        file_size, file_sha = len(data), wasm.sha256 or hashlib.sha256(data).hexdigest()
        dylink = wasm.dylink.to_json() if wasm.dylink else None
        eh = engine.cache.eh_use(wasm, file_sha)
        legacy = eh.encoding == "legacy"
        estimate = found = None
        if not legacy:
            data, wasm, sha = self._prepare(path, data, wasm, file_sha)
            found = engine.cache.cached(sha)  # machine code cached: nothing to estimate
            estimate = 0.0 if found is not None else engine.cache.expected_seconds(len(data), sha)
        engine.emit(ModuleRead(name, path, file_size, file_sha, dylink,
                               round(estimate, 3) if estimate is not None else None, eh.encoding))
        if legacy:
            data, wasm, sha = self._translate(name, path, data, eh)
        try:
            compiled, source, seconds = found or engine.cache.get(data, sha)
        except wasmtime.WasmtimeError as exc:
            reason, offset = _wasmtime_reason(exc)
            reason = f"wasmtime rejected the module: {reason}"
            if engine.tier == "winch":
                reason += " (compiling with the baseline tier, Winch: `--tier=cranelift` uses Cranelift)"
            raise LoadError(path, "read", reason, offset) from None
        engine.emit(ModuleCompiled(name, path, source, round(seconds, 6)))
        mod = engine.new_module(
            path=absolute_path(path),
            wasm=wasm,
            sha256=sha,
            flags=self.flags,
            compiled=compiled,
            is_global=self.is_global,
            group=self.group,
            nodelete=bool(self.flags & RTLD_NODELETE),
        )
        engine.modules_by_path[real] = mod
        engine.modules.append(mod)
        self.new_modules.append(mod)
        self.txn.add_call("forgot {}", (mod.name,), engine.forget_module, mod, real)
        self.txn.leak(f"the wasmtime code and any instance of {mod.name} stay in the store until the session ends")
        return mod

    def _translate(self, name: str, path: str, data: bytes, eh) -> tuple[bytes, object, str]:
        """Legacy exception handling -> exnref (dldbg.linker.exnref); emits module.translate.
        Returns (bytes, their WasmModule, their sha256).  Raises LoadError."""
        engine = self.engine
        try:
            result = translate(data, path, engine.cache_dir)
            translated_sha = hashlib.sha256(result.data).hexdigest()
            wasm = self._parse(result.data, translated_sha, path)
        except (BinaryenUnavailable, TranslationError, WasmParseError) as exc:
            raise LoadError(path, "read", f"legacy exception handling (first {eh.instruction} at byte offset "
                            f"{eh.offset:#x}) must be translated to exnref for wasmtime: {exc}") from exc
        data, wasm, sha = self._prepare(path, result.data, wasm, translated_sha)
        estimate = engine.cache.expected_seconds(len(data), sha)
        engine.emit(ModuleTranslated(name, path, "legacy", "exnref", round(result.seconds, 3), result.cached,
                                     result.tool, len(result.data), translated_sha,
                                     round(estimate, 3) if estimate is not None else None))
        return data, wasm, sha

    def _prepare(self, path: str, data: bytes, wasm, sha: str) -> tuple[bytes, object, str]:
        """A host may adapt the bytes before compiling (the WASI host adds a `memory` export to
        modules that import memory and call WASI).  The module is parsed again so that offsets
        (trap frames, function bodies) match the code wasmtime runs."""
        prepare = getattr(self.engine.host, "prepare", None)
        changed = prepare(wasm, data) if prepare is not None else None
        if changed is None:
            return data, wasm, sha
        changed_sha = hashlib.sha256(changed).hexdigest()
        return changed, self._parse(changed, changed_sha, path), changed_sha

    def _parse(self, data: bytes, sha: str, path: str):
        """The parse of bytes the loader made (a translation, a host's adaptation), through the
        parse cache when there is one (without the exception-handling scan: the loader asks
        for it of the file's own bytes only).  Raises WasmParseError."""
        cache = self.engine.files.parse_cache
        if cache is None:
            return read_module(data, path, self.engine.limits)
        wasm = cache.module(data, sha, path, self.engine.limits, scan_eh=False)
        wasm.sha256 = sha
        return wasm

    def _reuse(self, mod: LoadedModule) -> None:
        """A library already loaded: count the reference; join this request's scope."""
        mod.refcount += 1
        self.txn.add(f"reference count of {mod.name} back to {mod.refcount - 1}", lambda: _dec(mod))
        names = mod.exports.public_names()
        if self.is_global and not mod.is_global:
            mod.is_global = True
            added, shadowed = self.engine.global_scope.publish_table(names, mod.exports.table)
            mod.published = added
            self.engine.emit(SymbolsPublished(mod.name, "global", tuple(added), tuple(shadowed)))

            def undo() -> None:
                self.engine.global_scope.remove(added, mod.id)
                mod.is_global = False

            self.txn.add(f"{mod.name} back to RTLD_LOCAL", undo)
        elif self.group is not None:
            self.group.publish_table(names, mod.exports.table)

    # -- NEEDED -------------------------------------------------------------------------
    def _load_needed(self, mod: LoadedModule) -> None:
        dylink = mod.wasm.dylink
        for needed in dylink.needed:
            self.engine.enter(mod.name, "needed")
            found, tried = find_library(
                needed, mod.path, dylink.runtime_path, self.engine.library_path, self.engine.environ,
                getattr(self.engine.host, "visible", None),
            )
            real = real_path(found) if found is not None else None
            already = real is not None and real in self.engine.modules_by_path
            self.engine.emit(NeededResolved(mod.name, needed, found, tuple(tried), already))
            if found is None:
                raise LoadError(mod.path, "needed", f"NEEDED library {needed} not found (tried {', '.join(tried)})")
            dep = self.load(found, mod, real)
            mod.deps.append(dep)

    # -- memory and table ---------------------------------------------------------------
    def _check_mem_info(self, mod: LoadedModule) -> None:
        check_mem_info(self.engine, mod.path, mod.wasm.dylink)

    def _allocate_memory(self, mod: LoadedModule) -> None:
        dylink = mod.wasm.dylink
        self._check_mem_info(mod)
        if not dylink.mem_size:
            return
        engine = self.engine
        engine.enter(mod.name, "memory")
        memory = engine.ensure_memory(None)
        alignment = dylink.mem_alignment_bytes
        fresh_from = memory.data_len  # memory grown from here on is zero already
        if memory is self._made_memory and not self.instantiated and memory.writes == 0:
            fresh_from = 0  # made by this request, and nothing has run or written since: all zeros
        base = engine.allocator.allocate(dylink.mem_size, alignment)
        self.txn.add_call("released memory [{:#x}, {:#x}) of {}", (base, base + dylink.mem_size, mod.name),
                          engine.allocator.free, base)
        # The start function zeroes only the .bss of a fresh region: reused memory is zeroed here.
        if base < fresh_from:
            memory.zero(base, min(base + dylink.mem_size, fresh_from) - base)
        mod.memory_base, mod.memory_size = base, dylink.mem_size
        engine.emit(MemoryAllocated(module=mod.name, stage="memory", memory_base=base, size=dylink.mem_size,
                                    alignment=alignment, allocator=engine.allocator.name, purpose="static data (MEM_INFO)"))

    def _reserve_table(self, mod: LoadedModule) -> None:
        size = mod.wasm.dylink.table_size
        if not size:
            return
        table = self.engine.table
        self.engine.enter(mod.name, "table")
        base = table.grow(size, f"{mod.name} element segment (MEM_INFO tablesize {size})")
        mod.table_base, mod.table_size = base, size
        self.txn.add(f"nulled table slots [{base}, {base + size}) of {mod.name} and freed them",
                     lambda: table.release(base, base + size, self._elem_ranges(mod)))

    # -- imports ------------------------------------------------------------------------
    @collector_paused()  # thousands of long-lived objects per module (dldbg.nogc)
    def _resolve_imports(self, mod: LoadedModule) -> list:
        weak = mod.wasm.weak_imports
        self.engine.enter(mod.name, "imports")
        self._reserve_own_function_slots(mod)
        externs, undefined = [], []
        try:
            got_import, resolve_import = self._got_import, self._resolve_import
            for imp in mod.wasm.imports:
                try:
                    if imp.module in _GOT_MODULES:  # `_resolve_import`'s first case, without its call
                        externs.append(got_import(mod, imp, imp.field in weak))
                    else:
                        externs.append(resolve_import(mod, imp, imp.field in weak))
                except UndefinedSymbolError as exc:
                    # go on, so that every undefined symbol of the module has its import.unresolved
                    # event (and `why` names them all); the load fails with the first, as emscripten's
                    undefined.append(exc)
                    externs.append(None)
        finally:
            self._got_found = {}
        if undefined:
            raise undefined[0]
        return externs

    def _reserve_own_function_slots(self, mod: LoadedModule) -> None:
        """One table growth for every own function that a GOT.func import will need a slot for
        (emscripten grows the table one slot per function in `addFunction`)."""
        engine, table, wasm = self.engine, self.engine.table, mod.wasm
        got_funcs = [imp for imp in wasm.imports if imp.module == "GOT.func"]
        if not got_funcs:  # no slot to reserve or place (and nothing to look up for it)
            return
        keys: dict = {}  # insertion-ordered set
        exports = wasm.export_map
        for imp in got_funcs:
            exp = exports.get("orig$" + imp.field)  # `_own_export` without its call: once per import
            if exp is None or exp.kind != "func":
                exp = exports.get(imp.field)
            if (exp is None or exp.kind != "func" or exp.index < wasm.num_imported_funcs
                    or engine.got.get(imp.field) is not None or engine.lookup(imp.field, mod.group)[0] is not None
                    or exp.index in self._elem_slots(mod)):
                continue
            key = mod.func_key(exp.index)
            if table.slot_of(key) is None:
                keys[key] = None
        if keys:
            base = table.grow(len(keys), f"GOT.func slots for {len(keys)} functions of {mod.name}")
            for offset, key in enumerate(keys):
                table.reserve_at(key, base + offset)
            self.txn.add(f"nulled table slots [{base}, {base + len(keys)}) reserved for {mod.name}",
                         lambda: table.release(base, base + len(keys)))
        self._place_found_functions(mod, got_funcs)

    def _place_found_functions(self, mod: LoadedModule, got_funcs: list) -> None:
        """One table growth for the functions of other modules that this module's new GOT.func
        entries will point at and that have no slot yet; each then gets its slot in import
        order, as `symbol_value` would have given it one at a time."""
        engine, table, looked_up = self.engine, self.engine.table, self._got_found
        entries, got_lookup, group, slot_of = engine.got.entries, self._got_lookup, mod.group, table.slot_of
        # `_got_lookup` (and `Engine.lookup`) inlined: once per import
        global_owners, local_owners = engine.global_scope.owners, (group.owners if group is not None else None)
        found: dict = {}  # key -> function, or (instance, export name, its symbol or table), insertion-ordered
        for imp in got_funcs:
            name = imp.field
            if name in entries:
                continue
            orig = "orig$" + name
            if orig in global_owners or (local_owners is not None and orig in local_owners):
                definition = looked_up[name] = got_lookup(name, group)
                sym = definition[0]
            else:
                owner, how = global_owners.get(name), "global scope"
                if owner is None and local_owners is not None:
                    owner, how = local_owners.get(name), "local scope"
                if owner is None:
                    looked_up[name] = (None, None)
                    continue
                if type(owner) is SymbolTable and name not in owner:
                    # a module's function export whose symbol is not made: only its slot is needed
                    target = owner.exports.unmade_function(name)
                    if target is not None:
                        key, instance, provider = target
                        looked_up[name] = (None, how, owner, key, provider)
                        if key not in found and slot_of(key) is None:
                            found[key] = (instance, name, owner)
                        continue
                sym = owner[name]
                looked_up[name] = (sym, how)
            if sym is not None and sym.kind == "func":
                key = sym.key
                if key not in found and slot_of(key) is None:
                    fields = sym.__dict__
                    if type(fields.get("_externs")) is InstanceExports and "extern" not in fields:
                        # a module's export, not fetched yet: written by name below
                        found[key] = (fields["_externs"].instance, sym.name, sym)
                    elif sym.func is not None:
                        found[key] = sym.func
        if not found:
            return
        base = table.grow(len(found), f"GOT.func slots for {len(found)} functions {mod.name} takes the address of")
        items = list(found.items())
        if all(type(func) is tuple for func in found.values()):  # the usual case: all at once
            runs = [(0, items)]
        else:
            runs = [(offset, [item]) for offset, item in enumerate(items)]
        for start, run in runs:
            exported = type(run[0][1]) is tuple
            missed = range(len(run))
            if exported:  # one C lookup and write each, no wasmtime.Func per function
                missed = table.place_exports(base + start, [key for key, _target in run],
                                             [(instance, name) for _key, (instance, name, _sym) in run])
            for k in missed:  # not exported as a function by that name: through its wasmtime.Func
                key, func = run[k]
                if exported:
                    _instance, name, sym = func
                    func = (sym[name] if type(sym) is SymbolTable else sym).func
                table.place(key, func, base + start + k)
        self.txn.add(f"nulled table slots [{base}, {base + len(found)}) given to functions {mod.name} imports",
                     lambda: table.release(base, base + len(found)))

    def _elem_ranges(self, mod: LoadedModule) -> list[tuple[int, int]]:
        """[start, end) table slots that the module's active element segments on table 0 write."""
        values = self._base_globals(mod)
        ranges = []
        for seg in mod.wasm.elements:
            if seg.mode == "active" and seg.table == 0:
                base = seg.offset_expr.evaluate(values)
                if isinstance(base, int):
                    ranges.append((base, base + len(seg.items)))
        return ranges

    def _elem_slots(self, mod: LoadedModule) -> dict[int, int]:
        """Function index -> table slot, for the module's active element segments on table 0."""
        if mod.id not in self._elem_slot_maps:
            slots: dict[int, int] = {}
            values = self._base_globals(mod) if mod.wasm.elements else None
            for seg in mod.wasm.elements:
                if seg.mode != "active" or seg.table != 0:
                    continue
                base = seg.offset_expr.evaluate(values)
                if isinstance(base, int):
                    for k, item in enumerate(seg.items):
                        if isinstance(item, int):
                            slots.setdefault(item, base + k)
            self._elem_slot_maps[mod.id] = slots
        return self._elem_slot_maps[mod.id]

    def _emit_resolved(self, mod, imp, provider, symbol, how, target=None, stub=None):
        self.engine.emit(ImportResolved(mod.name, imp.module, imp.field, imp.kind, provider, symbol, how))
        mod.bind(ImportBinding(imp, how, provider, symbol, stub, target))

    def _resolve_import(self, mod: LoadedModule, imp, weak: bool):
        engine = self.engine
        if imp.module in _GOT_MODULES:
            return self._got_import(mod, imp, weak)
        if imp.module == "env" and imp.field in ("__memory_base", "__table_base", "__memory_base32", "__table_base32"):
            value = mod.memory_base if imp.field.startswith("__memory_base") else mod.table_base
            gtype = imp.desc
            if imp.kind != "global" or gtype.val_type not in ("i32", "i64") or gtype.mutable:
                what = f"a mutable {gtype.val_type} global" if imp.kind == "global" else f"a {imp.kind}"
                raise LoadError(mod.path, "imports", f"{imp.qualified} must be an immutable i32 or i64 global, "
                                f"not {what} (DynamicLinking.md)", imp.offset)
            glob = engine.constant_global(gtype.val_type, value)
            self._emit_resolved(mod, imp, "loader", hex(value), imp.field.strip("_").split("32")[0].replace("_", "-"))
            return glob
        builtin = engine.builtin_import(mod, imp)
        if builtin is not None:
            extern, provider = builtin
            self._emit_resolved(mod, imp, provider, imp.field, "host")
            return extern
        host = engine.host.resolve_import(mod, imp)
        if host is not None:
            extern, provider = host
            self._emit_resolved(mod, imp, provider, imp.field, "host")
            return extern
        if imp.kind == "func":
            return self._func_import(mod, imp, weak)
        if imp.kind == "global":
            sym, how = engine.lookup(imp.field, mod.group)
            if sym is not None and sym.kind == "global":
                self._check_global_type(mod, imp, sym)
                self._emit_resolved(mod, imp, sym.module, sym.name, how, sym)
                return sym.extern
        engine.emit(ImportUnresolved(mod.name, imp.module, imp.field, imp.kind, weak, "error"))
        raise LoadError(mod.path, "imports", f"unresolved import {imp.qualified} ({imp.kind}): nothing provides it", imp.offset)

    def _check_global_type(self, mod, imp, sym: Symbol) -> None:
        gtype = sym.extern.type(self.engine.store)
        want: GlobalType = imp.desc
        if str(gtype.content) != want.val_type or gtype.mutability != ("var" if want.mutable else "const"):
            raise LoadError(mod.path, "imports", f"{imp.qualified}: global type mismatch with {sym.module}", imp.offset)

    def _func_import(self, mod: LoadedModule, imp, weak: bool):
        engine = self.engine
        ftype = mod.wasm.types[imp.desc]
        sym, how = engine.lookup(imp.field, mod.group)
        if sym is not None and sym.kind == "func":
            if sym.func_type != ftype:
                raise LoadError(
                    mod.path,
                    "imports",
                    f"signature mismatch for {imp.qualified}: {mod.name} imports {ftype}, "
                    f"{sym.module} defines {sym.func_type}",
                    imp.offset,
                )
            self._emit_resolved(mod, imp, sym.module, sym.name, how, sym)
            return sym.extern
        own = mod.wasm.export_map.get(imp.field)
        if self.bind_now and own is None and not weak:
            engine.emit(ImportUnresolved(mod.name, imp.module, imp.field, "func", weak, "error"))
            raise UndefinedSymbolError(mod.path, "imports", imp.field, "function", imp.offset)
        stub = LazyStub(mod, imp.field, ftype, weak)
        stub.func = engine.stub_factory.make(stub)
        mod.stubs[imp.field] = stub
        action = "lazy-stub (own export)" if own is not None else "lazy-stub"
        engine.emit(ImportUnresolved(mod.name, imp.module, imp.field, "func", weak, action))
        stub.binding = ImportBinding(imp, "lazy", "unbound", imp.field, stub)
        mod.bind(stub.binding)
        return stub.func

    def _got_import(self, mod: LoadedModule, imp, weak: bool):
        engine = self.engine
        desc = imp.desc
        if imp.kind != "global" or desc.val_type != "i32" or not desc.mutable:
            raise LoadError(mod.path, "imports", f"{imp.qualified} must be a mutable i32 global", imp.offset)
        got, name, importer = engine.got, imp.field, mod.name
        entry = got.entries.get(name)
        created = entry is None
        if created:
            # `_early_value`'s first case inlined: a function that `_place_found_functions` found
            # (and gave a slot, which is below 2^31: no wrap to i32)
            found = self._got_found.get(name)
            slot = None
            if found is not None:
                sym = found[0]
                if sym is not None:
                    if sym.kind == "func":
                        slot, provider = engine.table.slot_of(sym.key), sym.module
                elif len(found) > 2:  # a function whose symbol is not made (`_place_found_functions`)
                    slot, provider = engine.table.slot_of(found[3]), found[4]
            if slot is not None:
                value = slot
            else:
                value, provider = self._early_value(mod, name, imp.module)
                if value is None:
                    if not weak and not self.deferred and name not in mod.wasm.export_map:
                        engine.emit(ImportUnresolved(importer, imp.module, name, "global", weak, "error"))
                        raise UndefinedSymbolError(mod.path, "imports", name, imp.module, imp.offset)
                    value = UNDEFINED_ADDR
                else:
                    value = to_i32(value)
            entry = got.create(name, imp.module, value, provider)
        # the entry is complete before its event, so a stop there shows what it will be
        made_required = not weak and not entry.required
        if made_required:
            entry.required = True
        entry.importers.append(importer)
        self.txn.add_each(_got_import_steps, (got, entry, importer, created, made_required))
        mod.got_symbols.append(name)
        if created:
            slot = value if value != UNDEFINED_ADDR and imp.module == "GOT.func" else None
            engine.emit(GotCreated(importer, imp.module, name, value, provider, slot))
        else:
            self._emit_resolved(mod, imp, entry.provider or "(unresolved)", name, "got")
        return entry.handle

    def _got_lookup(self, name: str, group):
        """A GOT entry's definition: `orig$NAME` first (emscripten `resolveGlobalSymbol(name,
        direct)`: without WASM_BIGINT a function with i64 in its type is exported legalized as
        NAME and as itself as `orig$NAME`; its address is the original's)."""
        engine = self.engine
        orig = "orig$" + name
        if orig in engine.global_scope.owners or (group is not None and orig in group.owners):
            sym, how = engine.lookup(orig, group)
            if sym is not None and sym.kind == "func":
                return sym, how
        return engine.lookup(name, group)

    def _early_value(self, mod: LoadedModule, name: str, got_kind: str) -> tuple[int | None, str | None]:
        """A GOT value known before instantiation: a published definition, else the module's own
        export computed from the binary (so LLD 14's start-function relocations see final values)."""
        found = self._got_found.get(name)
        if found is None:
            sym = self._got_lookup(name, mod.group)[0]
        else:  # the symbol is made now if `_place_found_functions` did not make it
            sym = found[0] if found[0] is not None or len(found) == 2 else found[2][name]
        if sym is not None:
            kind = sym.kind
            if kind == "data":  # what symbol_value gives, without its slot's reason text
                return sym.address, sym.module
            if kind == "func":
                slot = self.engine.table.slot_of(sym.key)  # placed by _place_found_functions
                if slot is not None:
                    return slot, sym.module
            value = self.engine.symbol_value(sym, f"GOT.func.{name}", self.txn)
            if value is not None:
                return value, sym.module
        exp = _own_export(mod, name)
        if exp is None or name in mod.wasm.tls_exports:
            return None, None
        if exp.kind == "global" and exp.index >= mod.wasm.num_imported_globals:
            glob = mod.wasm.globals[exp.index - mod.wasm.num_imported_globals]
            offset = glob.init.evaluate()
            if not glob.type.mutable and glob.type.val_type == "i32" and isinstance(offset, int):
                return mod.memory_base + offset, mod.name
        if exp.kind == "func" and exp.index >= mod.wasm.num_imported_funcs:
            table, key = self.engine.table, mod.func_key(exp.index)
            slot = table.slot_of(key)  # reserved by _reserve_own_function_slots
            if slot is None:
                slot = self._elem_slots(mod).get(exp.index)
            if slot is None:
                slot = table.reserve(key, f"GOT.func.{name} of {mod.name}")
                self.txn.add(f"freed reserved table slot {slot}", lambda: table.release(slot, slot + 1))
            elif table.record(key, slot):
                self.txn.add(f"forgot table slot {slot}", lambda: table.forget(key))
            return slot, mod.name
        return None, None

    def _base_globals(self, mod: LoadedModule) -> dict[int, int]:
        return mod.base_global_values()

    # -- instantiate --------------------------------------------------------------------
    @collector_paused()  # thousands of long-lived objects per module (dldbg.nogc)
    def _instantiate(self, mod: LoadedModule, externs: list) -> None:
        engine = self.engine
        engine.enter(mod.name, "instantiate")
        start_name = mod.wasm.start_name if mod.wasm.start is not None else None
        if mod.wasm.start is not None and start_name is None:
            start_name = f"func[{mod.wasm.start}]"
        began = time.perf_counter()
        engine.store.set_epoch_deadline(1)  # an interrupt that arrived while no wasm ran is stale
        saved_sp = None  # without a start function no wasm runs: `__stack_pointer` stays as it is
        if start_name is not None:
            if engine.before_wasm is not None:
                engine.before_wasm()
            saved_sp = engine.stack_value()
        try:
            mod.instance = instantiate(engine.store, mod.compiled, externs)
            mod.externs = instance_exports(engine.store, mod.instance, mod.wasm.export_map)
        except BaseException as exc:
            engine.restore_stack(saved_sp)
            # without a start function, a trap comes from initialising element or data segments
            what = f"start function {start_name}" if start_name is not None else "instantiation (segment initialisation)"
            if isinstance(exc, wasmtime.Trap):
                raise LoadError(mod.path, "instantiate", f"{what} trapped: {first_line(exc)}") from None
            if isinstance(exc, wasmtime.WasmtimeError):
                reason, _offset = _wasmtime_reason(exc)
                named = re.search(r"`([^`]*)::([^`]*)`", reason)  # "incompatible import type for `env::f`"
                offset = _import_offset(mod, (named.group(1),), named.group(2)) if named else None
                raise LoadError(mod.path, "instantiate", reason, offset) from None
            if isinstance(exc, DldbgError):
                raise LoadError(mod.path, "instantiate", f"{what}: {exc.one_line()}") from None
            raise
        mod.state = "instantiated"
        engine.emit(Instantiated(mod.name, start_name, round(time.perf_counter() - began, 6)))
        if mod.wasm.start is not None and mod.memory_size:
            changes = self._initial_image(mod).word_changes(engine.read_memory)
            if changes:
                engine.emit(StartRelocationsApplied(mod.name, start_name, "start function", changes))
        self._map_table(mod)
        mod.exports = engine.relocate_exports(mod)

    def _segment_writes(self, mod: LoadedModule) -> list[tuple[int, bytes]]:
        """(offset from `__memory_base`, bytes) of the module's active data segments."""
        values = self._base_globals(mod)
        writes = []
        for seg in mod.wasm.data:
            if seg.mode != "active" or seg.memory != 0:
                continue
            at = seg.offset_expr.evaluate(values)
            if isinstance(at, int):
                writes.append((at - mod.memory_base, seg.data))
        return writes

    def _initial_image(self, mod: LoadedModule) -> Snapshot:
        """The module's memory region as its active data segments alone would leave it."""
        writes = self._segment_writes(mod)
        return Snapshot.from_writes(mod.memory_base, mod.memory_size, writes, self._reloc_ranges(mod, writes))

    def _reloc_ranges(self, mod: LoadedModule, writes) -> list[tuple[int, int]] | None:
        """Where relocations write in the module's region: its active data segments (offsets
        from `__memory_base`).  None (the whole region) when the module has passive segments,
        which its start function copies to addresses only its code knows."""
        if any(seg.mode == "passive" for seg in mod.wasm.data):
            return None
        return [(start, start + len(data)) for start, data in writes]

    def _map_table(self, mod: LoadedModule) -> None:
        table = self.engine.table
        for func_index, slot in self._elem_slots(mod).items():
            key = mod.func_key(func_index)
            if table.record(key, slot):
                self.txn.add(f"forgot table slot {slot}", lambda key=key: table.forget(key))
        pending = table.pending_for_module(mod.id)
        if pending:
            names = {e.index: e.name for e in mod.wasm.exports if e.kind == "func"}
            for key, slot in pending:
                table.fill(slot, mod.externs[names[key[2]]])

    # -- GOT ----------------------------------------------------------------------------
    @collector_paused()  # thousands of long-lived objects per module (dldbg.nogc)
    def _update_got_from_exports(self, mod: LoadedModule) -> None:
        """emscripten `updateGOT(moduleExports)`: fill the module's own unresolved GOT imports."""
        exported, value = mod.wasm.export_map, self.engine.got.value
        for name in mod.got_symbols:  # `.get`: in C for an ExportTable looked up this often
            if (exported.get("orig$" + name) or exported.get(name)) is not None and value(name) == UNDEFINED_ADDR:
                sym = mod.exports.get("orig$" + name) or mod.exports[name]
                self._set_got(mod, name, sym, f"defined by {mod.name}")

    def _set_got(self, mod: LoadedModule, name: str, sym: Symbol, reason: str) -> bool:
        engine = self.engine
        value = engine.symbol_value(sym, f"GOT.func.{name}", self.txn)
        if value is None:
            return False
        entry = engine.got.get(name)
        old = engine.got.set(name, value, sym.module)
        old_provider = entry.provider

        def undo() -> None:
            engine.got.set(name, old, old_provider)

        self.txn.add(f"GOT entry {name} back to {old}", undo)
        engine.emit(GotUpdated(mod.name, entry.got, name, old, value, sym.module, reason))
        return True

    @collector_paused()  # thousands of long-lived objects per module (dldbg.nogc)
    def _report_undefined(self, mods: list[LoadedModule]) -> None:
        """emscripten `reportUndefinedSymbols`: resolve what is left, weak -> 0, else fail."""
        engine = self.engine
        undefined: list[UndefinedSymbolError] = []
        for mod in mods:
            engine.enter(mod.name, "got")
            for name, value in engine.got.values(mod.got_symbols):
                if value != UNDEFINED_ADDR:
                    continue
                sym, how = self._got_lookup(name, mod.group)
                own = mod.exports.get(name)
                if (sym or own) is not None and (sym or own).kind == "tls":
                    self.tls_pending.append((mod, name))  # its address exists once TLS is set up
                    continue
                if sym is not None and self._set_got(mod, name, sym, f"found in the {how}"):
                    continue
                entry = engine.got.get(name)
                if not entry.required:
                    old = engine.got.set(name, 0, None)
                    self.txn.add(f"GOT entry {name} back to {old}", lambda name=name, old=old: engine.got.set(name, old, None))
                    engine.emit(ImportUnresolved(mod.name, entry.got, name, "global", True, "weak-zero"))
                    engine.emit(GotUpdated(mod.name, entry.got, name, old, 0, None, "undefined weak symbol"))
                    continue
                engine.emit(ImportUnresolved(mod.name, entry.got, name, "global", False, "error"))
                undefined.append(UndefinedSymbolError(mod.path, "imports", name, entry.got,
                                                      _import_offset(mod, ("GOT.mem", "GOT.func"), name)))
            if undefined:  # every undefined symbol of the module has its event; fail with the first
                raise undefined[0]

    def _bind_now_check(self, mod: LoadedModule) -> None:
        if not self.bind_now:
            return
        for stub in mod.stubs.values():
            if stub.target is None and not self.engine.bind_stub(stub, raise_missing=False) and not stub.weak:
                raise UndefinedSymbolError(mod.path, "imports", stub.symbol, "function",
                                           _import_offset(mod, None, stub.symbol, "func"))

    # -- initialisers -------------------------------------------------------------------
    def _call(self, mod: LoadedModule, name: str, stage: str, *args):
        func = mod.externs.get(name)
        exp = mod.wasm.export_map.get(name)
        nullary = not args and exp is not None and exp.kind == "func" and mod.wasm.func_type(exp.index) == _NULLARY
        try:
            return self.engine.call_func(func, name, list(args), nullary=nullary)
        except CallError as exc:
            raise LoadError(mod.path, stage, f"{name} failed: {exc}") from None

    def _relocate(self, mod: LoadedModule) -> None:
        name = "__wasm_apply_data_relocs"
        if _does_nothing(mod, name):  # wasm-ld emits it for every -shared module, often empty
            self.engine.enter(mod.name, "reloc")
            self.engine.emit(RelocationsApplied(mod.name, name, "loader", ()))
            return
        if not isinstance(mod.externs.get(name), wasmtime.Func):
            return
        self.engine.enter(mod.name, "reloc")
        ranges = self._reloc_ranges(mod, self._segment_writes(mod))
        before = Snapshot.take(self.engine.read_memory, mod.memory_base, mod.memory_size, ranges)
        self._call(mod, name, "reloc")
        self.engine.emit(RelocationsApplied(mod.name, name, "loader", before.word_changes(self.engine.read_memory)))

    def _init_tls(self, mod: LoadedModule) -> None:
        engine = self.engine
        exports = mod.externs
        if "__wasm_init_tls" not in exports or "__tls_size" not in exports:  # no TLS (and no lookup)
            return
        init, size_global = exports.get("__wasm_init_tls"), exports.get("__tls_size")
        if not isinstance(init, wasmtime.Func) or not isinstance(size_global, wasmtime.Global):
            return
        engine.enter(mod.name, "tls")
        size = size_global.value(engine.store)
        align_global = exports.get("__tls_align")
        alignment = max(align_global.value(engine.store) if isinstance(align_global, wasmtime.Global) else 1, 1)
        limits = engine.limits
        if size > limits.memory_size or alignment > 1 << limits.memory_alignment:
            raise LoadError(mod.path, "tls", f"__tls_size {size} / __tls_align {alignment} is above "
                            f"{limits.describe('memory_size')} / 2^{limits.memory_alignment}")
        block = engine.allocator.allocate(max(size, 1), alignment)
        engine.ensure_memory().zero(block, max(size, 1))
        self.txn.add(f"released TLS block {block:#x} of {mod.name}", lambda: engine.allocator.free(block))
        engine.emit(MemoryAllocated(module=mod.name, stage="tls", memory_base=block, size=size, alignment=alignment,
                                    allocator=engine.allocator.name, purpose="TLS block"))
        self._call(mod, "__wasm_init_tls", "tls", block)
        mod.tls_base = block
        names = []
        for name in sorted(mod.wasm.tls_exports):
            sym = mod.exports.get(name)
            if sym is None or sym.kind != "tls":
                continue
            # the scopes it is published in already (start-up requests) see the new symbol
            mod.exports[name] = Symbol(name, "data", mod.name, mod.id, address=block + sym.address)
            names.append(name)
        engine.emit(TlsInitialized(mod.name, block, size, alignment, tuple(names)))

    def _check_tls_pending(self) -> None:
        """Fill GOT entries that wait for TLS addresses; fail for those still undefined."""
        pending, self.tls_pending = self.tls_pending, []
        for mod, name in pending:
            sym = mod.exports.get(name)
            if sym is None or sym.kind != "data":
                sym, _how = self.engine.lookup(name, mod.group)
            if sym is None or not self._set_got(mod, name, sym, "TLS export relocated by __tls_base"):
                raise UndefinedSymbolError(mod.path, "imports", name, "TLS symbol without an initialised TLS block",
                                           _import_offset(mod, ("GOT.mem", "GOT.func"), name))

    def _construct(self, mod: LoadedModule) -> None:
        exports = mod.externs
        names = ["__wasm_call_ctors"]
        if "__wasm_call_ctors" not in exports and "__wasm_apply_data_relocs" not in exports:
            names = ["__post_instantiate"]  # legacy ABI: relocations and constructors in one call
        for name in names:
            if _does_nothing(mod, name):  # clang's when the module has no constructors
                self.engine.enter(mod.name, "ctors")
                self.engine.emit(ConstructorCalled(mod.name, name, 0.0))
                continue
            if not isinstance(exports.get(name), wasmtime.Func):
                continue
            self.engine.enter(mod.name, "ctors")
            began = time.perf_counter()
            self._call(mod, name, "ctors")
            self.engine.emit(ConstructorCalled(mod.name, name, round(time.perf_counter() - began, 6)))

    # -- publish ------------------------------------------------------------------------
    @collector_paused()  # thousands of long-lived objects per module (dldbg.nogc)
    def _publish(self, mod: LoadedModule) -> None:
        engine = self.engine
        engine.enter(mod.name, "publish")
        scope = engine.global_scope if mod.is_global else mod.group
        added, shadowed = scope.publish_table(mod.exports.public_names(), mod.exports.table)
        mod.published = added
        self.txn.add_call("withdrew {} symbols of {} from the {} scope", (len(added), mod.name, scope.name),
                          scope.remove, added, mod.id)
        engine.emit(SymbolsPublished(mod.name, "global" if mod.is_global else "local", tuple(added), tuple(shadowed)))


def _got_import_steps(item: tuple) -> list[tuple]:
    """The undo steps of one GOT import (`Transaction.add_each`), in the order they were done:
    the entry created, made required, given an importer."""
    got, entry, importer, created, made_required = item
    name = entry.symbol
    steps = []
    if created:
        steps.append(("removed GOT entry {}", (name,), got.remove, (name,)))
    if made_required:
        steps.append(("GOT entry {} no longer required", (name,), setattr, (entry, "required", False)))
    steps.append(("{} no longer imports GOT entry {}", (importer, name), entry.importers.remove, (importer,)))
    return steps


def _own_export(mod: LoadedModule, name: str):
    """The module's export for GOT entry `name`: `orig$NAME` (the unlegalized function) first."""
    exp = mod.wasm.export_map.get("orig$" + name)
    return exp if exp is not None and exp.kind == "func" else mod.wasm.export_map.get(name)


_NULLARY = FuncType((), ())
_GOT_MODULES = frozenset(("GOT.mem", "GOT.func"))


def _does_nothing(mod: LoadedModule, name: str) -> bool:
    """Whether export `name` is a function of the module's own whose body is empty (no locals,
    then `end`: what wasm-ld and clang emit for `__wasm_apply_data_relocs` with no relocation to
    apply and `__wasm_call_ctors` with no constructor).  Calling it would change nothing; its
    event is still emitted, without the call (and without the first call into wasm of the
    process, a tenth of a millisecond)."""
    exp = mod.wasm.export_map.get(name)
    if exp is None or exp.kind != "func":
        return False
    local = exp.index - mod.wasm.num_imported_funcs
    if local < 0:
        return False
    body = mod.wasm.bodies[local]
    return body.size == 2 and mod.wasm.raw[body.offset:body.offset + 2] == b"\x00\x0b"


def check_mem_info(engine: "Engine", path: str, dylink) -> None:
    """MEM_INFO against the resource limits (dldbg.limits), before anything is allocated.
    Raises LoadError (stage memory or table) at the dylink.0 section's offset."""
    limits = engine.limits
    for stage, field, value, limit, name in (
        ("memory", "memorysize", dylink.mem_size, limits.memory_size, "memory_size"),
        ("memory", "memoryalignment", dylink.mem_align, limits.memory_alignment, "memory_alignment"),
        ("table", "tablesize", dylink.table_size, limits.table_size, "table_size"),
    ):
        if value > limit:
            shown = f"2^{value}" if field == "memoryalignment" else str(value)
            raise LoadError(path, stage, f"{dylink.format} MEM_INFO {field} {shown} is above {limits.describe(name)}",
                            dylink.offset)


def check_import_limits(engine: "Engine", path: str, imp) -> None:
    """A memory or table import's minimum against the resource limits (dldbg.limits)."""
    limits = engine.limits
    if imp.kind == "memory":
        lim = imp.desc.limits
        if lim.min * lim.page_size > limits.memory_size:
            raise LoadError(path, "imports", f"{imp.qualified}: minimum size {lim.min} pages is above "
                            f"{limits.describe('memory_size')}", imp.offset)
    elif imp.kind == "table" and imp.desc.limits.min > limits.table_size:
        raise LoadError(path, "imports", f"{imp.qualified}: minimum size {imp.desc.limits.min} slots is above "
                        f"{limits.describe('table_size')}", imp.offset)


def _import_offset(mod: LoadedModule, modules, field: str, kind: str | None = None) -> int | None:
    """Byte offset of the module's import of `field` (from one of `modules`, of `kind`)."""
    for imp in mod.wasm.imports:
        if imp.field == field and (modules is None or imp.module in modules) and (kind is None or imp.kind == kind):
            return imp.offset
    return None


def _dec(mod: LoadedModule) -> None:
    mod.refcount -= 1


def _wasmtime_reason(exc: wasmtime.WasmtimeError) -> tuple[str, int | None]:
    """wasmtime's message in one line, and the byte offset it names (`at offset 0x1a`, or the
    validator's decimal `at offset 26`), if any."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if len(lines) > 1 and lines[1] == "Caused by:":
        text = f"{lines[0]}: {' '.join(lines[2:])}"
    else:
        text = " ".join(lines)
    found = re.findall(r"at offset (0x[0-9a-fA-F]+|\d+)", text)
    return text, (int(found[-1], 0) if found else None)
