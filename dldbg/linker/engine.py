"""The linker engine: one wasmtime store and everything the loaded modules share.

It owns the shared linear memory, the shared funcref table, `__stack_pointer`, the heap
allocator (all three provided by a host, see `Host`), the GOT, the global symbol scope and the
library handles; it loads modules (`LoadRequest`) and serves the dl API with emscripten's
semantics and error strings (libdylink.js, dynlink.c; reference §2.2-2.13).  Every step is
reported to the listeners in `listeners` as a `dldbg.events` event.
"""

from __future__ import annotations

import os
from typing import Callable, Protocol

import wasmtime

from ..errors import CallError, DldbgError, DlError, LoadError, ModuleFileError, WasmParseError
from ..events import (CallTrapped, Event, LazyBound, LoadFailed, Loaded, MemoryGrown, MemorySet, ModuleReleased, TableGrown,
                      TableSlotSet)
from ..wasm.types import FuncType, Import, Limits
from ..wasm.files import ModuleFiles
from ..wasm.reader import WasmModule, read_wasm_bytes
from ..limits import ResourceLimits, default_limits
from .cache import CompileCache, default_cache_dir
from .calltarget import resolve_function
from .flags import BAD_MODE_MESSAGE, RTLD_DEFAULT, RTLD_GLOBAL, RTLD_LAZY, RTLD_NODELETE, RTLD_NOLOAD, RTLD_NOW
from .capi import I32Globals, call_nullary, global_value
from .functable import FunctionTable
from .got import GlobalOffsetTable, to_i32
from .loader import LoadRequest, check_import_limits, first_line
from .tiers import make_config
from .memory import LinearMemory
from .module import LazyStub, LoadedModule, is_internal
from .exports import ExportSymbols
from .scope import Scope, Symbol
from .search import find_library, real_path
from .stubs import MODULE_NAME as STUB_MODULE
from .stubs import StubFactory
from .transaction import Transaction
from .wasmtypes import coerce_args, functype


class UnresolvedCallError(CallError):
    """A lazily bound import was called and nothing defines it."""

    def __init__(self, message: str, symbol: str, importer: str):
        self.symbol = symbol
        self.importer = importer
        super().__init__(message)


class Host(Protocol):
    """What a host provides: the shared objects, an allocator, and host functions.

    `attach(engine)` sets `engine.table` (a FunctionTable) and `engine.stack_pointer`, and may
    publish host symbols with `engine.define_symbols`; `create_memory(engine, limits)` sets
    `engine.memory` (a LinearMemory) and `engine.allocator`, once, when the first module shows
    the memory it imports (`limits` is that import's Limits, or None).
    `resolve_import(module, imp)` returns `(extern, provider name)` for imports the host
    implements by interface rather than by symbol (WASI), else None.
    Optionally, `explain_trap(message, frames)` returns a better message for a trap (its own
    stubs' traps), or None.
    Optionally, `passthrough_exceptions` is a tuple of exception classes that are the program's
    own control flow (emscripten's JS exceptions): a load they fail is rolled back and they are
    re-raised unchanged.
    Optionally, `prepare(wasm, data)` returns changed module bytes to compile instead of the
    file's (or None to keep them); it is called for every module after it has been read.
    """

    name: str

    def attach(self, engine: "Engine") -> None: ...

    def create_memory(self, engine: "Engine", limits: Limits | None) -> None: ...

    def resolve_import(self, module: LoadedModule, imp: Import) -> tuple[object, str] | None: ...


_DEFAULT = object()


class Engine:
    """The dynamic linker.

    :param host: provides memory, table, stack and heap (see Host).
    :param library_path: folders searched for NEEDED and dlopen'd names (`-L`).
    :param bind_now: resolve every function import at load time (LD_BIND_NOW).
    :param cache_dir: folder of the compiled-module cache; None disables the disk cache.
    :param environ: environment for `LD_LIBRARY_PATH` (default: os.environ).
    :param files: parsed module files to start from (see `dldbg.wasm.files`).
    :param tier: the compiler, `cranelift` or `winch` (see `dldbg.linker.tiers`).  Raises
        ValueError for another name.
    :param limits: resource limits (dldbg.limits); default: the built-in ones with `DLDBG_LIMITS`
        (and those of `files`, when given).
    :param compile_cache: the CompileCache to compile with, made for `tier` with the cache
        folder `cache_dir` (`dldbg run` starts the main's compile in it before the engine
        exists); this engine's wasmtime engine is its.  Default: a new one.
    """

    #: function imports can be bound at load time on request (`dlopen ... now`, `--bind-now`);
    #: a backend whose loader always binds lazily says False (emscripten's glue under node)
    binds_now_on_request = True

    def __init__(self, host: Host, *, library_path=(), bind_now: bool = False, cache_dir=_DEFAULT, environ=None,
                 files: ModuleFiles | None = None, tier: str = "cranelift", limits: ResourceLimits | None = None,
                 compile_cache: CompileCache | None = None):
        if limits is None:
            limits = files.limits if files is not None else default_limits(environ)
        self.limits = limits
        #: module files read and parsed once (the command line passes the ones it has read)
        self.files = files or ModuleFiles(limits)
        #: the compiler tier of this engine's code: cranelift or winch (`dldbg.linker.tiers`)
        self.tier = tier
        folder = default_cache_dir() if cache_dir is _DEFAULT else cache_dir
        if compile_cache is None:
            config, settings = make_config(tier)
            compile_cache = CompileCache(wasmtime.Engine(config), settings, folder, tier_up=tier == "winch")
        self.wasm_engine = compile_cache.engine
        self.store = wasmtime.Store(self.wasm_engine)
        self.store.set_epoch_deadline(1)
        #: the program's main module, once `load_program` has run
        self.main: LoadedModule | None = None
        if folder and self.files.parse_cache is None:
            self.files.use_cache(folder)
        #: dldbg's cache folder (compiled code, exnref translations); None: no disk cache
        self.cache_dir = folder
        self.cache = compile_cache
        self.library_path = tuple(library_path)
        self.bind_now = bind_now
        self.environ = environ
        self.listeners: list[Callable[[Event], None]] = []
        #: called before the engine calls into wasm (`call_func`, and instantiating a module with
        #: a start function): the debugger session starts its SIGINT watcher there
        self.before_wasm: Callable[[], None] | None = None
        self.global_scope = Scope("global")
        self.got = GlobalOffsetTable(self.store)
        self._constants: I32Globals | None = None  # immutable i32 globals (`constant_global`)
        self.modules: list[LoadedModule] = []
        self.modules_by_path: dict[str, LoadedModule] = {}
        self.by_handle: dict[int, LoadedModule] = {}
        #: the module and loader stage in progress, for events of shared resources
        self.context = "(engine)"
        self.stage = "call"
        self.memory: LinearMemory | None = None
        self.table: FunctionTable | None = None
        self.stack_pointer: wasmtime.Global | None = None
        self.allocator = None
        self._tags: dict[str, tuple[wasmtime.Tag, str]] = {}  # name -> (tag, provider)
        #: makes the lazy-binding stubs (wasm trampolines, see dldbg.linker.stubs)
        self.stub_factory = StubFactory(self)
        self._next_id = 1
        self._next_handle = 1
        self._next_request = 0
        self._error: str | None = None
        self.host = host
        host.attach(self)

    # -- events -------------------------------------------------------------------------
    def enter(self, module: str, stage: str) -> None:
        """Note the module and stage in progress (see `dldbg.events.STAGES`)."""
        self.context, self.stage = module, stage

    def emit(self, event: Event) -> None:
        for listener in list(self.listeners):
            listener(event)

    def table_grown(self, base: int, before: int, after: int, reason: str) -> None:
        """FunctionTable's growth callback."""
        self.emit(TableGrown(module=self.context, stage=self.stage, table_base=base, size_before=before,
                             size_after=after, reason=reason))

    def grow_memory(self, pages: int, reason: str = "heap") -> int:
        """Grow the shared memory by `pages`; return the old size in pages (emits memory.grow)."""
        before = self.memory.grow(pages)
        self.emit(MemoryGrown(module=self.context, stage=self.stage, pages_before=before,
                              pages_after=before + pages, reason=reason))
        return before

    # -- memory -------------------------------------------------------------------------
    def ensure_memory(self, limits: Limits | None = None) -> LinearMemory:
        """The shared memory, created by the host on first use from the first memory import."""
        if self.memory is None:
            self.host.create_memory(self, limits)
        return self.memory

    def _check_range(self, address: int, size: int) -> None:
        length = self.ensure_memory().data_len
        if address < 0 or address + size > length:
            raise DldbgError(f"memory range [{address:#x}, {address + size:#x}) is outside linear memory ({length:#x} bytes)")

    def read_memory(self, address: int, size: int) -> bytes:
        """`size` bytes at `address`.  Raises DldbgError when the range is outside memory."""
        self._check_range(address, size)
        return self.memory.read(address, size) if size else b""

    def read_cstring(self, address: int, limit: int = 4096) -> bytes:
        """The bytes at `address` up to (not including) the first NUL, at most `limit` bytes.

        Raises DldbgError when `address` is outside linear memory.
        """
        size = self.ensure_memory().data_len
        if not 0 <= address < size:
            raise DldbgError(f"string address {address:#x} is outside linear memory ({size:#x} bytes)")
        out = bytearray()
        while len(out) < limit and address < size:
            chunk = self.read_memory(address, min(256, size - address, limit - len(out)))
            nul = chunk.find(b"\0")
            if nul >= 0:
                return bytes(out + chunk[:nul])
            out += chunk
            address += len(chunk)
        return bytes(out)

    def write_memory(self, address: int, data: bytes) -> None:
        """Write `data` at `address`.  Raises DldbgError when the range is outside memory."""
        self._check_range(address, len(data))
        if data:
            self.memory.write(address, data)

    def poke_memory(self, address: int, data: bytes, module: str, command: str) -> bytes:
        """The debugger's write of `data` at `address` (emits memory.set; `module` owns the
        address).  Returns the bytes it replaced.  Raises DldbgError outside memory."""
        old = self.read_memory(address, len(data))
        self.write_memory(address, data)
        self.emit(MemorySet(module=module, stage=self.stage, address=address, size=len(data), old=old.hex(),
                            new=bytes(data).hex(), command=command))
        return old

    def set_slot(self, slot: int, func: wasmtime.Func, key, old: str | None, new: str, module: str, command: str) -> None:
        """The debugger's write of `func` (identity `key`, shown as `new`) into table `slot`
        (emits table.set).  Raises DldbgError for a slot outside the table."""
        if not 0 <= slot < self.table.size:
            raise DldbgError(f"slot {slot} is outside the table (size {self.table.size})")
        self.table.interpose(slot, func, key)
        self.emit(TableSlotSet(module=module, stage=self.stage, slot=slot, old=old, new=new, command=command))

    # -- modules ------------------------------------------------------------------------
    def new_module(self, **fields) -> LoadedModule:
        mod = LoadedModule(id=self._next_id, **fields)
        self._next_id += 1
        return mod

    def forget_module(self, mod: LoadedModule, real_path: str) -> None:
        """Rollback of a load: the engine no longer knows `mod`."""
        self.modules_by_path.pop(real_path, None)
        if mod in self.modules:
            self.modules.remove(mod)
        mod.state = "failed"

    def new_request_id(self) -> int:
        self._next_request += 1
        return self._next_request

    def complete(self, mod: LoadedModule, req: LoadRequest) -> None:
        """A module finished loading: it gets its handle and first reference."""
        self.enter(mod.name, "done")
        mod.state = "ready"
        mod.handle = self._next_handle
        self._next_handle += 1
        mod.refcount += 1
        self.by_handle[mod.handle] = mod
        req.txn.add_call("withdrew handle {} of {}", (mod.handle, mod.name), self._withdraw_handle, mod)
        self.emit(Loaded(mod.name, mod.path, mod.handle, mod.refcount, req.id))

    def _withdraw_handle(self, mod: LoadedModule) -> None:
        """`complete` undone (a request rolled back)."""
        self.by_handle.pop(mod.handle, None)
        mod.refcount -= 1

    def module_named(self, name: str) -> LoadedModule | None:
        """A live module by file name, path or handle number."""
        for mod in self.modules:
            if mod.state != "released" and name in (mod.name, mod.path, str(mod.handle)):
                return mod
        return None

    # -- imports and symbols ------------------------------------------------------------
    def builtin_import(self, mod: LoadedModule, imp: Import) -> tuple[object, str] | None:
        """The shared objects every side module imports from `env`."""
        if imp.module != "env":
            return None
        if imp.kind in ("memory", "table"):
            check_import_limits(self, mod.path, imp)
        if imp.kind == "memory":
            limits = imp.desc.limits
            if limits.shared != self.memory.shared:
                have, want = ("shared", "plain") if self.memory.shared else ("plain", "shared")
                raise LoadError(mod.path, "imports", f"{imp.qualified} is {want} memory but the program's memory is {have}", imp.offset)
            pages = self.memory.pages
            if limits.min > pages:
                self.grow_memory(limits.min - pages, f"{mod.name} imports memory with min {limits.min} pages")
            return self.memory.extern, f"{self.host.name} memory"
        if imp.kind == "table" and imp.field in ("__indirect_function_table", "table"):
            if imp.desc.limits.min > self.table.size:
                self.table.grow(imp.desc.limits.min - self.table.size, f"{mod.name} imports a table of {imp.desc.limits.min} slots")
            return self.table.table, f"{self.host.name} table"
        if imp.kind == "global" and imp.field == "__stack_pointer":
            return self.stack_pointer, f"{self.host.name} stack"
        if imp.kind == "tag":
            return self._tag(mod.wasm, imp)
        return None

    def _tag(self, wasm: WasmModule, imp: Import) -> tuple[object, str]:
        """The program's exception tag `imp.field` (`__cpp_exception`, `__c_longjmp`): the main
        module's own when it defines and exports it (emscripten 4+ mains: the glue passes
        `wasmExports` tags on to side modules), else one the engine makes, shared by every module."""
        if imp.field not in self._tags:
            own = self.main.externs.get(imp.field) if self.main is not None else None
            if isinstance(own, wasmtime.Tag):
                self._tags[imp.field] = own, self.main.name
            else:
                tag = wasmtime.Tag(self.store, wasmtime.TagType(functype(wasm.types[imp.desc])))
                self._tags[imp.field] = tag, f"{self.host.name} tag"
        return self._tags[imp.field]

    def constant_global(self, val_type: str, value: int):
        """A new immutable global of `val_type` ("i32" or "i64") holding `value`, as an import
        of this store (`__memory_base`, `__table_base`): an i32 through wasmtime's C API
        (`dldbg.linker.capi`: a `wasmtime.Global` costs some 20 times more), an i64 as a
        `wasmtime.Global`.  Raises wasmtime.WasmtimeError."""
        if val_type == "i64":
            return wasmtime.Global(self.store, wasmtime.GlobalType(wasmtime.ValType.i64(), False), wasmtime.Val.i64(value))
        if self._constants is None:
            self._constants = I32Globals(self.store, mutable=False)
        return self._constants.new(to_i32(value))

    def lookup(self, name: str, group: Scope | None = None) -> tuple[Symbol | None, str | None]:
        """Search the global scope, then an RTLD_LOCAL group's scope."""
        owner = self.global_scope.owners.get(name)  # Scope.lookup without its call: once per import
        if owner is not None:
            return owner[name], "global scope"
        if group is not None:
            owner = group.owners.get(name)
            if owner is not None:
                return owner[name], "local scope"
        return None, None

    def symbol_value(self, sym: Symbol, reason: str, txn: Transaction | None) -> int | None:
        """The integer a GOT entry or dlsym gives for `sym`: an address, or a table slot."""
        if sym.kind == "data":
            return sym.address
        if sym.kind == "func":
            slot, new = self.table.assign(sym.key, sym.func, reason)
            if new and txn is not None:
                txn.add(f"freed table slot {slot}", lambda: self.table.release(slot, slot + 1))
            return slot
        return None

    def relocate_exports(self, mod: LoadedModule) -> ExportSymbols:
        """emscripten `relocateExports`: the module's exports as symbols, each made when first
        looked up (`dldbg.linker.exports.ExportSymbols`)."""
        return ExportSymbols(mod, self.store)

    def bind_stub(self, stub: LazyStub, raise_missing: bool) -> wasmtime.Func | None:
        """Resolve a lazy import: global scope, the RTLD_LOCAL group, then the module's own exports."""
        importer = stub.importer
        sym, how = self.lookup(stub.symbol, importer.group)
        if sym is None or sym.kind != "func":
            own = importer.exports.get(stub.symbol)
            if own is not None and own.kind == "func" and own.key != ("stub", importer.id, stub.symbol):
                sym, how = own, "own export"
            else:
                sym = None
        if sym is None:
            self.emit(LazyBound(importer.name, stub.symbol, None))
            if not raise_missing:
                return None
            where = "the global scope" + (", its RTLD_LOCAL group" if importer.group is not None else "")
            raise UnresolvedCallError(
                f"undefined symbol '{stub.symbol}' called from {importer.name}: lazy binding found no "
                f"definition in {where} or the module itself",
                stub.symbol,
                importer.name,
            )
        if sym.func_type != stub.func_type:
            if not raise_missing:
                return None
            raise CallError(
                f"signature mismatch for {stub.symbol} called from {importer.name}: it imports {stub.func_type}, "
                f"{sym.module} defines {sym.func_type}"
            )
        stub.target, stub.provider = sym.func, sym.module
        if stub.binding is not None:
            stub.binding.provider, stub.binding.how = sym.module, f"lazy ({how})"
        self.emit(LazyBound(importer.name, stub.symbol, sym.module))
        return stub.target

    # -- loading ------------------------------------------------------------------------
    def load_startup(self, paths: list[str], *, bind_now: bool | None = None) -> list[LoadedModule]:
        """Load libraries as a program's start-up does (emscripten `loadDylibs`): all RTLD_GLOBAL,
        relocations and constructors after every module is in.  Raises LoadError, rolled back."""
        req = LoadRequest(self, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE, deferred=True,
                          bind_now=self.bind_now if bind_now is None else bind_now)

        def load_all() -> list[LoadedModule]:
            mods = [req.load(path) for path in paths]
            req.finish()
            return mods

        return self._run_request(req, load_all, paths[-1] if paths else "(none)")

    def _run_request(self, req: LoadRequest, step: Callable, path: str):
        """Run a load request; on any failure roll it back completely, emit load.fail, and
        raise one LoadError naming the file, the stage and (where there is one) the byte offset.

        Whatever raised, the request is rolled back: a LoadError as it is; wasmtime's errors and
        other dldbg errors (a failing host call, a bad file) become a LoadError of the module and
        stage in progress; any other exception is a bug in dldbg, reported as an internal error
        of that stage (the original is the LoadError's `__cause__`).  KeyboardInterrupt and other
        BaseExceptions, and the host's `passthrough_exceptions` (the program's own control flow,
        such as emscripten's `exit()` or a C++ throw out of a constructor), are re-raised
        unchanged after the rollback.
        """
        outer = (self.context, self.stage)  # a load may run inside another (wasm calling dlopen)
        saved_sp = self.stack_value()
        try:
            return step()
        except BaseException as raised:
            exc = self._as_load_error(req, raised, path)
            self.restore_stack(saved_sp)
            self._rolled_back(req, exc)
            if exc is raised:
                raise
            if not isinstance(raised, Exception) or isinstance(raised, self._passthrough):
                raise raised
            raise exc from (raised if exc.internal else None)
        finally:
            self.enter(*outer)

    @property
    def _passthrough(self) -> tuple[type, ...]:
        return tuple(getattr(self.host, "passthrough_exceptions", ()))

    def _as_load_error(self, req: LoadRequest, exc: BaseException, path: str) -> LoadError:
        if isinstance(exc, LoadError):
            return exc
        mod = next((m for m in reversed(req.new_modules) if m.name == self.context), None)
        where = mod.path if mod is not None else path
        stage = self.stage if self.stage != "call" else "read"
        if isinstance(exc, ModuleFileError):
            error = LoadError(exc.path, "read", exc.reason, exc.offset)
        elif isinstance(exc, WasmParseError):
            error = LoadError(exc.path or where, "read", exc.message, exc.offset)
        elif isinstance(exc, wasmtime.WasmtimeError):
            error = LoadError(where, stage, first_line(exc))
        elif isinstance(exc, wasmtime.Trap):  # wasm the host called for the load (not a Trap's base class above)
            error = LoadError(where, stage, f"wasm trapped: {first_line(exc)}")
        elif isinstance(exc, DldbgError):
            error = LoadError(where, stage, exc.one_line())
        elif isinstance(exc, self._passthrough):
            error = LoadError(where, stage, f"{type(exc).__name__}: {exc}")
        elif isinstance(exc, Exception):
            error = LoadError(where, stage, f"internal error: {type(exc).__name__}: {exc} (a bug in dldbg)")
            error.internal = True
        else:
            error = LoadError(where, stage, "interrupted" if isinstance(exc, KeyboardInterrupt) else type(exc).__name__)
        return error

    def _rolled_back(self, req: LoadRequest, exc: LoadError) -> None:
        rolled = req.txn.rollback()
        self.emit(LoadFailed(os.path.basename(exc.path), exc.path, exc.stage, exc.reason,
                             tuple(rolled), tuple(req.txn.leaked), req.id))

    def stack_value(self) -> int | None:
        """`__stack_pointer`'s value (read through wasmtime's C API: `capi.global_value`)."""
        sp = self.stack_pointer
        return global_value(self.store, sp) if sp is not None else None

    def restore_stack(self, value: int | None) -> None:
        """Put `__stack_pointer` back after a trap (a trapping frame never pops its stack)."""
        if value is not None and self.stack_pointer is not None and global_value(self.store, self.stack_pointer) != value:
            self.stack_pointer.set_value(self.store, wasmtime.Val.i32(value))

    def load_program(self, path: str, *, memory_base: int = 0, table_base: int = 0, preload=(),
                     needed: bool = True) -> LoadedModule:
        """Load a program: its main module at `memory_base`/`table_base` (a PIE main with
        dylink.0; ignored for a main with fixed addresses), then its NEEDED libraries (unless
        `needed` is False: emscripten's NO_AUTOLOAD_DYLIBS) and the `preload` libraries,
        relocations and constructors main first.  Raises LoadError."""
        req = LoadRequest(self, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE, deferred=True, bind_now=self.bind_now)

        def load_all() -> LoadedModule:
            main = req.load_main(path, memory_base, table_base, load_needed=needed)
            for lib in preload:
                req.load(lib, main)
            req.finish()
            return main

        self.main = self._run_request(req, load_all, path)
        return self.main

    def define_symbols(self, symbols: dict[str, Symbol]) -> None:
        """Publish host-provided definitions (emscripten's JS library, layout symbols such as
        `__heap_base`) into the global scope, ahead of every module."""
        self.global_scope.publish(symbols)

    def precompile(self, path: str) -> bool:
        """Begin compiling the module file `path` on a worker thread (`CompileCache.start`), so
        that its load finds the machine code ready or under way: `dldbg run` starts the
        program's main this way before the host sets up, and the libraries its last run loaded
        (`dldbg.linker.tiers.last_run_modules`) before the program asks for them.  Nothing is
        started for a module whose code is cached (nor is the file parsed then), that must be
        translated to exnref first, or under a host that may adapt modules (`Host.prepare`:
        the WASI and Pyodide hosts; the code cached is then that of other bytes), nor for a
        file that cannot be read or parsed: its load reports that.  A Winch engine starts
        before parsing the file (a `dlopen` in it starts this way too, so that the parse runs
        beside the compile): it has exception handling off, so a module that would need the
        exnref translation fails to load in it anyway.  Returns whether a compile was started."""
        import hashlib

        if getattr(self.host, "prepare", None) is not None:
            return False
        try:
            data = read_wasm_bytes(path, self.limits.file_size)
            sha = hashlib.sha256(data).hexdigest()
            if self.cache.has(sha):
                return False
            if self.tier != "winch":
                data, wasm = self.files.get(path)  # parsed now rather than at its load
                sha = hashlib.sha256(data).hexdigest()
                if self.cache.eh_use(wasm, sha).encoding == "legacy":
                    return False
        except DldbgError:
            return False
        return self.cache.start(data, sha)

    def interrupt(self) -> None:
        """Stop running wasm at its next epoch check (Ctrl-C); the call raises CallError."""
        self.wasm_engine.increment_epoch()

    # -- dl API -------------------------------------------------------------------------
    def dlopen(self, path: str, flags: int = RTLD_LAZY | RTLD_GLOBAL, *, bind_now: bool | None = None) -> int:
        """Load `path` (and its NEEDED libraries); return its handle.

        A library already loaded gives the same handle with its reference count raised.
        Raises DlError with emscripten's message (`could not load dynamic lib: ...`); `dlerror()`
        returns the same text.  `bind_now`: whether function imports bind at load time; None:
        when RTLD_NOW is given or the engine binds now (a host whose loader ignores RTLD_NOW, as
        emscripten's does, passes False and keeps the program's flags for the events).
        """
        self._error = None
        if not flags & (RTLD_LAZY | RTLD_NOW):
            self._fail(BAD_MODE_MESSAGE)
        found = path
        if "/" not in path:
            found = find_library(path, None, (), self.library_path, self.environ)[0] or path
        real = real_path(found)
        existing = self.modules_by_path.get(real)
        if flags & RTLD_NOLOAD and (existing is None or existing.state != "ready"):
            self._fail(f"could not load dynamic lib: {path}\nRTLD_NOLOAD was given and it is not loaded")
        if bind_now is None:
            bind_now = self.bind_now or bool(flags & RTLD_NOW)
        if existing is None and self.tier == "winch":
            self.precompile(found)  # compiling while the load reads and parses the file
        req = LoadRequest(self, flags, bind_now=bind_now)
        try:
            mod = self._run_request(req, lambda: req.load(found, real=real), found)
        except LoadError as exc:
            self._fail(f"could not load dynamic lib: {path}\n{exc}", exc)
        except BaseException:
            self._error = f"could not load dynamic lib: {path}\ninterrupted"
            raise
        if flags & RTLD_NODELETE:
            mod.nodelete = True
        return mod.handle

    def dlsym(self, handle: int, name: str) -> int:
        """A data symbol's address or a function's table slot (one slot per function).

        RTLD_DEFAULT (0) searches the global scope; a library handle searches only that
        library's exports.  Raises DlError.
        """
        self._error = None
        if handle == RTLD_DEFAULT:
            sym, libname = self.global_scope.lookup(name), "__main__"
        else:
            mod = self._module_for_handle(handle)
            sym, libname = (None if is_internal(name) else mod.exports.get(name)), mod.name
        if sym is None:
            self._fail(f'Tried to lookup unknown symbol "{name}" in dynamic lib: {libname}')
        value = self.symbol_value(sym, f"dlsym {name}", None)
        if value is None:
            self._fail(f'symbol "{name}" in dynamic lib: {libname} is a {sym.kind}, not a function or data')
        return value

    def dlclose(self, handle: int) -> int:
        """Drop a reference; at zero the library leaves the scopes and its handle is freed.

        Its memory and table slots stay (other modules' GOT entries and function pointers may
        still reach them), as in emscripten, which never unloads.  Raises DlError.
        """
        self._error = None
        mod = self._module_for_handle(handle)
        if mod.nodelete or mod.refcount > 1:
            mod.refcount = max(mod.refcount - 1, 1 if mod.nodelete else 0)
            return 0
        self._release(mod)
        return 0

    def dlerror(self) -> str | None:
        """The last dl error, once; then None (musl dlerror.c)."""
        error, self._error = self._error, None
        return error

    def _module_for_handle(self, handle: int) -> LoadedModule:
        mod = self.by_handle.get(handle)
        if mod is None:
            self._fail(f"Invalid library handle {handle:#x}")
        return mod

    def _fail(self, message: str, cause: Exception | None = None):
        self._error = message
        raise DlError(message) from cause

    def _release(self, mod: LoadedModule) -> None:
        mod.refcount = 0
        mod.state = "released"
        self.by_handle.pop(mod.handle, None)
        self.modules_by_path.pop(real_path(mod.path), None)
        scope = self.global_scope if mod.is_global else mod.group
        scope.remove(mod.published, mod.id)
        released = [f"handle {mod.handle}", f"{len(mod.published)} symbols from the {scope.name} scope"]
        kept = []
        if mod.memory_size:
            kept.append(f"memory [{mod.memory_base:#x}, {mod.memory_base + mod.memory_size:#x})")
        if mod.table_size:
            kept.append(f"table slots [{mod.table_base}, {mod.table_base + mod.table_size})")
        self.emit(ModuleReleased(mod.name, mod.handle, tuple(released), tuple(kept)))
        for dep in mod.deps:
            if dep.state == "ready" and not dep.nodelete:
                dep.refcount -= 1
                if dep.refcount <= 0:
                    self._release(dep)

    # -- calls --------------------------------------------------------------------------
    def resolve_function(self, target: str | int) -> tuple[wasmtime.Func, FuncType, str]:
        """A function by table slot, `module!name`, or name (global scope, then any module);
        see dldbg.linker.calltarget.  Raises CallError."""
        return resolve_function(self, target)

    def func_type_of(self, func: wasmtime.Func) -> FuncType:
        ft = func.type(self.store)
        return FuncType(tuple(str(p) for p in ft.params), tuple(str(r) for r in ft.results))

    def call(self, target: str | int, args: list) -> object:
        """Call a function with command-line style arguments; returns its result(s).

        Raises CallError (a trap carries its wasm backtrace).
        """
        func, ftype, name = self.resolve_function(target)
        return self.call_func(func, name, coerce_args(ftype, list(args), name))

    def call_func(self, func: wasmtime.Func, name: str, args: list, *, nullary: bool = False) -> object:
        """Call `func`.  A trap or failure raises CallError (a trap carries its wasm backtrace),
        with `__stack_pointer` put back where it was before the call: a trapping frame never
        pops its stack, so each failure would leak it.  `nullary`: the caller knows `func` is
        of type [] -> [] (and `args` is empty): it is called through wasmtime's C API
        (`capi.call_nullary`)."""
        self.store.set_epoch_deadline(1)
        if self.before_wasm is not None:
            self.before_wasm()
        saved_sp = self.stack_value()
        try:
            if nullary:
                return call_nullary(self.store, func)
            return func(self.store, *args)
        except BaseException as exc:
            self.restore_stack(saved_sp)
            if isinstance(exc, wasmtime.Trap):
                self._raise_trap(exc, name)
            if isinstance(exc, wasmtime.WasmtimeError):
                raise CallError(f"{name} failed: {first_line(exc)}") from None
            if isinstance(exc, DldbgError) and not isinstance(exc, CallError):
                raise CallError(f"{name} failed: {exc}") from None
            raise

    def _raise_trap(self, trap: wasmtime.Trap, name: str):
        frames = tuple(self.describe_frame(f) for f in (trap.frames or []) if f.module_name != STUB_MODULE)
        if trap.trap_code == wasmtime.TrapCode.INTERRUPT:
            raise CallError(f"{name} interrupted", trap="interrupted", backtrace=frames) from None
        message = first_line(trap)
        explain = getattr(self.host, "explain_trap", None)  # a host may say what its own stubs mean
        message = (explain(message, frames) if explain is not None else None) or message
        module = frames[0].split("!", 1)[0] if frames else self.context
        self.emit(CallTrapped(module, name, message, frames))
        raise CallError(f"{name} trapped: {message}", trap=message, backtrace=frames) from None

    def describe_frame(self, frame: wasmtime.Frame) -> str:
        """`module!function` for a trap frame, using the loaded modules' name sections."""
        index, offset = frame.func_index, frame.module_offset
        for mod in self.modules:
            wasm = mod.wasm
            local = index - wasm.num_imported_funcs
            if 0 <= local < len(wasm.bodies):
                body = wasm.bodies[local]
                if body.offset <= offset <= body.offset + body.size and (
                    frame.module_name in (None, wasm.names.module)
                ):
                    return f"{mod.name}!{wasm.function_name(index) or f'func[{index}]'}"
        name = frame.func_name or f"func[{index}]"
        return f"{frame.module_name or '?'}!{name}"
