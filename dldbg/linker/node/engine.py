"""The node backend: emscripten's own loader, in the program's own glue under node, behind the
engine interface the session uses (docs/node.md).

`NodeEngine.run_program` instruments the glue (`instrument`), starts node on the copy with two
extra pipes, and turns each hook line into the events dldbg's wasmtime engine emits for the same
stage (dldbg.events: same kinds, same fields) for the listeners.  While a listener runs (a
session stopped at a breakpoint), node is blocked in its hook, and `read_memory`,
`write_memory`, `memory` and `table` ask it through the pipes.  What this backend has of the
engine interface: `listeners`, `emit`, `modules` (NodeModule; the main module first, once the
glue has instantiated it), `main`, `by_handle`, `module_named`, `memory` (`pages`,
`data_len`), `table` (`size`, `get`, `key_by_slot`, `slot_of`), `got` (a mirror of the glue's
GOT; `set` writes it), `global_scope` (what `mergeLibSymbols` published), `stack_pointer`,
`read_memory`, `read_cstring`, `write_memory`, `poke_memory`, `func_type_of`,
`resolve_function`, `call`, `call_func`, `dlopen`, `dlsym`, `dlerror`, `set_slot`,
`interrupt`, `host.name`, `run_program`.  `call`, `dlopen` and `dlsym` run the glue's own code
while node is stopped (docs/node.md); the loader's hooks stop inside them.  `dlclose` and
`ensure_memory` raise NotSupportedByBackend.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field

from ...errors import CallError, DldbgError, DlError, LoadError, NotSupportedByBackend, WasmParseError
from ...events import (CallTrapped, ConstructorCalled, Event, GlueHooked, GotCreated, GotUpdated, Instantiated,
                       LoadFailed, LoadStarted, Loaded, MemoryAllocated, MemorySet, ModuleRead, NeededResolved,
                       RelocationsApplied, StartRelocationsApplied, SymbolsPublished, TableGrown, TableSlotSet)
from ...limits import ResourceLimits
from ...wasm.reader import WasmModule, read_module, read_module_file
from ..calltarget import is_slot, resolve_function
from ..flags import RTLD_DEFAULT, RTLD_GLOBAL, RTLD_LAZY, RTLD_NODELETE, RTLD_NOW, describe_flags
from ..scope import Scope
from .instrument import instrument
from .protocol import Channel, RequestFailed
from .symbols import NodeFunc, NodeGlobal, module_exports

WASM_PAGE = 65536


@dataclass(eq=False)
class NodeModule:
    """A module emscripten's loader loads, as far as the hooks show it (the fields the
    session's `info modules`, `x` and address lookups read, as dldbg.linker.module.LoadedModule)."""

    id: int
    name: str
    path: str
    flags: int
    request: int
    state: str = "loading"
    wasm: WasmModule | None = None
    handle: int = 0
    refcount: int = 1
    memory_base: int = 0
    memory_size: int = 0
    table_base: int = 0
    table_size: int = 0
    tls_base: int | None = None
    is_global: bool = True
    deps: list = field(default_factory=list)
    exports: dict = field(default_factory=dict)
    externs: dict = field(default_factory=dict)
    stubs: dict = field(default_factory=dict)
    #: how imports were bound, symbols published, the RTLD_LOCAL group: the hooks do not show
    #: them (emscripten binds in a JS Proxy), so they stay empty
    bindings: list = field(default_factory=list)
    published: list = field(default_factory=list)
    group: object = None
    nodelete: bool = False
    stage: str = "read"


class NodeMemory:
    """The program's linear memory, read through the hooks (only while node is stopped; its
    size is the one of the last stop while node runs)."""

    def __init__(self, channel: Channel):
        self._channel = channel
        self._size = 0

    @property
    def data_len(self) -> int:
        if self._channel.waiting:
            self._size = self._channel.request("memory")["bytes"]
        return self._size

    @property
    def pages(self) -> int:
        return self.data_len // WASM_PAGE

    def read(self, address: int, size: int) -> bytes:
        return self._channel.read(address, size)


class _SlotKeys:
    """`key_by_slot` for dldbg.session.addresses.slot_info: ("named", module, function)."""

    def __init__(self, table: "NodeTable"):
        self._table = table

    def get(self, slot: int, default=None):
        func = self._table.get(slot)
        if func is None:
            return default
        return ("named", func.module or "?", func.name or f"func[{func.index}]")


class NodeTable:
    """The glue's `wasmTable`, through the hooks: its size (the one of the last stop while node
    runs) and what a slot holds (`get`, while stopped; a NodeFunc or None)."""

    def __init__(self, channel: Channel, engine: "NodeEngine"):
        self._channel = channel
        self._engine = engine
        self._size = 0
        self.key_by_slot = _SlotKeys(self)
        self.interposed: dict = {}

    @property
    def size(self) -> int:
        if self._channel.waiting:
            self._size = self._channel.request("table")["size"]
        return self._size

    def get(self, slot: int) -> NodeFunc | None:
        """Raises DldbgError while node runs."""
        found = self._channel.request("slot", index=slot)
        if found is None:
            return None
        lib = found.get("lib")
        module = self._engine.main_name if lib is None and found.get("name") else (os.path.basename(lib) if lib else None)
        if lib == "__main__":
            module = self._engine.main_name
        name, index = found.get("name"), found.get("index")
        if name is None and index is not None and index.isdigit():
            # not an export: V8 names it by its function index; the module is the one whose
            # table slots (dylink.0 tablesize, from its __table_base) hold the slot
            owner = next((m for m in self._engine.modules if m.wasm is not None and m.table_size
                          and m.table_base <= slot < m.table_base + m.table_size), None)
            if owner is not None:
                module, name = owner.name, owner.wasm.function_name(int(index)) or f"func[{index}]"
        return NodeFunc(module, name, index, slot)

    def slot_of(self, key) -> int | None:
        """The table slot of a function named by its key (("named", module, export)), as the
        glue's `functionsInTableMap` has it; None when it has none or node runs."""
        if not self._channel.waiting or not key or key[0] != "named":
            return None
        mod = self._engine.module_named(key[1])
        if mod is None:
            return None
        return self._channel.request("slotof", lib=self._engine.lib_of(mod), name=key[2])


@dataclass
class NodeGotEntry:
    """A GOT entry as the hooks last reported it (dldbg.linker.got.GotEntry's fields; emscripten's
    GOT knows no weak entries: `required` is always true, and 0 means unresolved)."""

    symbol: str
    got: str
    value: int
    provider: str | None = None
    required: bool = False
    importers: list = field(default_factory=list)
    glob: object = None


class NodeGot:
    """The glue's `GOT`, mirrored from the GOT changes each hook line carries (current at every
    stop: node is stopped in the hook that sent them); `set` writes the glue's entry."""

    def __init__(self, engine: "NodeEngine"):
        self.entries: dict[str, NodeGotEntry] = {}
        self._engine = engine
        #: entries of the main module's start-up that no loaded module imports (NodeEngine
        #: `startup_got_events` False): mirrored, not listed; `promote` lists them
        self.startup: dict[str, NodeGotEntry] = {}

    def get(self, symbol: str) -> NodeGotEntry | None:
        return self.entries.get(symbol) or self.startup.get(symbol)

    def value(self, symbol: str) -> int:
        """Raises KeyError for a symbol the GOT does not have."""
        entry = self.get(symbol)
        if entry is None:
            raise KeyError(symbol)
        return entry.value

    def promote(self, symbols) -> None:
        """List the start-up entries a module imports (its GOT.mem/GOT.func imports)."""
        for symbol in symbols:
            if symbol in self.startup:
                self.entries[symbol] = self.startup.pop(symbol)

    def set(self, symbol: str, value: int, provider: str) -> int:
        """Write GOT[symbol] in the stopped program (the glue's WebAssembly.Global); returns the
        old value.  Raises DldbgError when node is not stopped."""
        entry = self.get(symbol)
        if entry is None:
            raise KeyError(symbol)
        old = self._engine.stopped("set got").request("setgot", name=symbol, value=value & 0xFFFFFFFF)
        entry.value, entry.provider = value & 0xFFFFFFFF, provider
        return old

    def entry(self, symbol: str, kind: str, value: int, startup: bool = False) -> NodeGotEntry:
        """The mirror's entry for `symbol` (new ones get a global `global GOT.mem.NAME` reads;
        `startup`: a new one goes to the unlisted start-up entries)."""
        found = self.get(symbol)
        if found is None:
            glob = NodeGlobal(lambda: self.value(symbol), lambda v: self.set(symbol, v, "(debugger)"))
            found = NodeGotEntry(symbol, kind, value, required=True, glob=glob)
            (self.startup if startup else self.entries)[symbol] = found
        return found


class _Rearm:
    """What the session re-arms interrupts through before each top-level command (the wasmtime
    engine's `store.set_epoch_deadline`): a Ctrl-C that came while nothing ran is dropped."""

    pending = False

    def set_epoch_deadline(self, ticks: int) -> None:
        self.pending = False


@dataclass
class NodeHost:
    name: str = "node"


class NodeEngine:
    """The node backend.

    :param glue: the program's emscripten glue (MAIN.js); its copy with hooks goes to
        `cache_dir`/node (a temporary folder when None).
    :param node: the node executable (default: `node` on PATH).
    """

    backend = "node"
    #: module paths name host files (emscripten's loader reads them relative to the current folder)
    guest_paths = False
    #: GOT entries the main module's start-up makes (before any library loads) are events; a
    #: mirror only when False (Pyodide's main exports thousands of symbols)
    startup_got_events = True
    #: emscripten's loader binds every function import lazily, whatever the dlopen mode
    binds_now_on_request = False

    def __init__(self, glue: str, *, cache_dir: str | None = None, node: str | None = None, environ=None,
                 limits: ResourceLimits | None = None, stdin_passthrough: bool = True):
        self.glue = glue
        self.cache_dir = cache_dir
        self.node = node or shutil.which("node")
        self.environ = dict(os.environ if environ is None else environ)
        #: dldbg's resource limits, applied to the modules the glue reads (module.read): a module
        #: above one fails its load in the glue with dldbg's message (docs/node.md)
        self.limits = limits or ResourceLimits()
        #: node reads dldbg's stdin (`dldbg run --node`), else /dev/null (the debugger owns the
        #: terminal)
        self.stdin_passthrough = stdin_passthrough
        #: folders `why` searches besides the current one (the glue reads side modules relative
        #: to the current folder; it has no -L)
        self.library_path: list[str] = []
        self.listeners: list = []
        self.modules: list[NodeModule] = []
        self.by_handle: dict[int, NodeModule] = {}
        self.main: NodeModule | None = None
        #: what mergeLibSymbols published (the glue's asmLibraryArg, for the loaded modules)
        self.global_scope = Scope("global")
        self.got = NodeGot(self)
        self._error: str | None = None
        self.host = NodeHost()
        self.allocator = None
        self.store = _Rearm()
        self.stack_pointer = None
        self.memory: NodeMemory | None = None
        self.table: NodeTable | None = None
        self.stage = "call"
        self.process: subprocess.Popen | None = None
        self._channel: Channel | None = None
        self._calls: dict[int, NodeModule] = {}  # the module of each loadDynamicLibrary call in progress
        self._by_mid: dict[int, NodeModule] = {}  # hooks.js module ids (loadWebAssemblyModule)
        self._instantiating: NodeModule | None = None
        self._got_kind: dict[str, str] = {}
        #: each module binary's GOT kinds (`_got_kinds`), indexed once: id(wasm) -> (wasm, kinds)
        self._kinds_of: dict[int, tuple] = {}
        self._next_id = 1
        self._next_handle = 1
        self._next_request = 0
        #: the main module's file name (the glue's `wasmBinaryFile`) and its parse, for GOT kinds
        self.main_name = "(main)"
        self.main_wasm: WasmModule | None = None
        self._glue_folder = "."

    # -- the engine interface -----------------------------------------------------------
    def emit(self, event: Event) -> None:
        for listener in list(self.listeners):
            listener(event)

    def module_named(self, name: str) -> NodeModule | None:
        """A module by file name, path (as the glue loaded it) or handle number; the latest
        that did not fail."""
        return next((m for m in reversed(self.modules) if m.state != "failed" and (
            name in (m.name, m.path) or (m.handle and name == str(m.handle)))), None)

    def read_memory(self, address: int, size: int) -> bytes:
        """`size` bytes at `address`, from the stopped program.  Raises DldbgError outside
        memory or when the program is not stopped."""
        if self._channel is None:
            raise DldbgError("the program is not running under node (no memory yet)")
        return self._channel.read(address, size) if size else b""

    def read_cstring(self, address: int, limit: int = 4096) -> bytes:
        """The bytes at `address` up to the first NUL (at most `limit`).  Raises DldbgError."""
        size = self.memory.data_len if self.memory is not None else 0
        if not 0 <= address < size:
            raise DldbgError(f"string address {address:#x} is outside linear memory ({size:#x} bytes)")
        data = self.read_memory(address, min(limit, size - address))
        nul = data.find(b"\0")
        return data if nul < 0 else data[:nul]

    def write_memory(self, address: int, data: bytes) -> None:
        """Write `data` at `address` in the stopped program.  Raises DldbgError."""
        if self._channel is None:
            raise DldbgError("the program is not running under node (no memory yet)")
        if data:
            self._channel.request("write", address=address, data=base64.b64encode(data).decode())

    def poke_memory(self, address: int, data: bytes, module: str, command: str) -> bytes:
        """The debugger's write (`set mem`, `set var`): emits memory.set; returns the old bytes.
        Raises DldbgError."""
        old = self.read_memory(address, len(data))
        self.write_memory(address, data)
        self.emit(MemorySet(module=module, stage=self.stage, address=address, size=len(data), old=old.hex(),
                            new=bytes(data).hex(), command=command))
        return old

    def stopped(self, what: str) -> Channel:
        """The channel to node, which must be stopped at a hook.  Raises DldbgError."""
        if self._channel is None:
            raise DldbgError(f"{what}: the program is not running under node (`run` it and stop it at an event first)")
        if not self._channel.waiting:
            raise DldbgError(f"{what}: the program is running under node; it can be asked only while it is stopped "
                             f"at an event")
        return self._channel

    def lib_of(self, mod: NodeModule) -> str | None:
        """The glue's name for a loaded module (its LDSO key: the name it was loaded by); None
        for the main module."""
        return None if mod is self.main else mod.path

    def _source(self, func: NodeFunc) -> dict:
        """How the hooks find `func`: by module and export name, else by the slot it came from."""
        mod = self.module_named(func.module) if func.module and func.name else None
        if mod is not None and func.name in mod.exports:
            return {"lib": self.lib_of(mod), "name": func.name}
        if func.slot is not None:
            return {"slot": func.slot}
        raise CallError(f"{func.module or '?'}!{func.name or func.index}: not a function the glue can find")

    def resolve_function(self, target) -> tuple[NodeFunc, object, str]:
        """A function by table slot, `module!name`, or name (global scope, then any module):
        (NodeFunc, its FuncType or `?`, a label); a slot is read while node is stopped.  Raises
        CallError (dldbg.linker.calltarget)."""
        if is_slot(target):
            self.stopped("call")
        return resolve_function(self, target, ("ready", "instantiated"))

    def call(self, target, args: list) -> object:
        """Call a function in V8 with command-line style arguments, while node is stopped;
        returns its result.  Raises CallError (a trap carries V8's wasm frames)."""
        func, ftype, name = self.resolve_function(target)
        if ftype == "?":  # a function no loaded module exports: numbers as they are
            return self._call(func, name, [_number(a, name) for a in args], [])
        from ..wasmtypes import coerce_args

        return self._call(func, name, coerce_args(ftype, list(args), name), list(ftype.params))

    def call_func(self, func: NodeFunc, name: str, args: list) -> object:
        """Call `func` (a NodeFunc) with call values.  Raises CallError."""
        ftype = self.func_type_of(func)
        return self._call(func, name, args, list(ftype.params) if ftype != "?" else [])

    def _call(self, func: NodeFunc, name: str, args: list, params: list) -> object:
        channel = self.stopped("call")
        source = self._source(func)
        values = [str(a) if i < len(params) and params[i] == "i64" else a for i, a in enumerate(args)]
        try:
            value = channel.request("call", args=values, params=params, **source)
        except RequestFailed as exc:
            detail = exc.detail
            frames = tuple(detail.get("frames") or ())
            if detail.get("trap"):
                self.emit(CallTrapped(func.module or self.main_name, name, exc.reason, frames))
                raise CallError(f"{name} trapped: {exc.reason}", trap=exc.reason, backtrace=frames) from None
            raise CallError(f"{name} failed: {detail.get('exception') or 'exception'}: {exc.reason}",
                            backtrace=frames) from None
        return int(value) if isinstance(value, str) and value.lstrip("-").isdigit() else value

    def dlopen(self, path: str, flags: int = RTLD_LAZY | RTLD_GLOBAL, **_) -> int:
        """Load `path` with the glue's own loader (`loadDynamicLibrary`, with the flags its
        dlopen gives: RTLD_GLOBAL, RTLD_NODELETE; RTLD_NOW/RTLD_LAZY are ignored, as by
        emscripten), while node is stopped; returns dldbg's handle.  The loader's hooks report
        and stop inside.  Raises DlError with the glue's message (dlerror's text)."""
        channel = self.stopped("dlopen")
        self._error = None
        try:
            reply = channel.request("dlopen", lib=path, **{"global": bool(flags & RTLD_GLOBAL)},
                                    nodelete=bool(flags & RTLD_NODELETE))
        except RequestFailed as exc:
            self._error = exc.reason
            raise DlError(exc.reason) from None
        mod = next((m for m in reversed(self.modules) if m.path == path and m.state == "ready"), None)
        if mod is None or not reply.get("loaded"):
            self._error = (f"Could not load dynamic lib: {path}\nemscripten's loader has it registered from an earlier "
                           f"load that did not complete (its LDSO keeps a failed library: a later dlopen of it returns "
                           f"success without loading anything)")
            raise DlError(self._error)
        mod.refcount = reply.get("refcount", mod.refcount)
        return mod.handle

    def dlsym(self, handle: int, name: str) -> int:
        """A data symbol's address or a function's table slot, as the glue's dlsym gives them
        (`resolveGlobalSymbol` for RTLD_DEFAULT, else the library's exports; a function gets a
        slot from `addFunction`).  Raises DlError with the glue's message."""
        channel = self.stopped("dlsym")
        self._error = None
        if handle == RTLD_DEFAULT:
            lib = None
        else:
            mod = self.by_handle.get(handle)
            if mod is None:
                self._error = f"Invalid library handle {handle:#x}"
                raise DlError(self._error)
            lib = self.lib_of(mod)
        try:
            return channel.request("dlsym", lib=lib, name=name)["value"]
        except RequestFailed as exc:
            self._error = exc.reason
            raise DlError(exc.reason) from None

    def dlclose(self, handle: int):
        raise NotSupportedByBackend("dlclose: not available with the node backend: emscripten's loader never unloads "
                                    "a library (its dlclose only drops a reference in libc)")

    def dlerror(self) -> str | None:
        """The last error of a `dlopen`/`dlsym` typed in the debugger, once; then None."""
        error, self._error = self._error, None
        return error

    def ensure_memory(self, limits=None):
        raise NotSupportedByBackend("the node backend has no memory of its own: the program's memory exists while it "
                                    "runs under node")

    def set_slot(self, slot: int, func: NodeFunc, key, old, new, module, command) -> None:
        """The debugger's write of `func` into table `slot` of the stopped program (the glue's
        `setWasmTableEntry`, which keeps its table mirror in step); emits table.set.  Raises
        DldbgError."""
        channel = self.stopped("set table")
        if not 0 <= slot < self.table.size:
            raise DldbgError(f"slot {slot} is outside the table (size {self.table.size})")
        previous = self.table.key_by_slot.get(slot)
        channel.request("setslot", index=slot, source=self._source(func))
        self.table.interposed.setdefault(slot, previous)
        self.emit(TableSlotSet(module=module, stage=self.stage, slot=slot, old=old, new=new, command=command))

    def func_type_of(self, func: NodeFunc):
        """The function's type from its module's binary (a FuncType), or `?` when unknown."""
        wasm = self.main_wasm if func.module == self.main_name else getattr(self.module_named(func.module or ""),
                                                                              "wasm", None)
        if wasm is not None and func.name is not None:
            for exp in wasm.exports:
                if exp.kind == "func" and exp.name == func.name:
                    return wasm.func_type(exp.index)
            index = int(func.index) if func.index is not None and func.index.isdigit() else -1
            if 0 <= index < wasm.num_imported_funcs + len(wasm.functions):  # named by V8's function index
                return wasm.func_type(index)
        return "?"

    def interrupt(self) -> None:
        """Ctrl-C: SIGINT to node (it ends the program, as under plain node).  Before node has
        started, the program is interrupted as soon as it starts, unless the session re-arms
        first (`store.set_epoch_deadline`, which it calls before each top-level command)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        else:
            self.store.pending = True

    # -- running ------------------------------------------------------------------------
    def run_program(self, path: str, argv: list[str]) -> int:
        """Run the glue `path` under node with `argv[1:]` as the program's arguments (argv[0]
        is the program); returns node's exit status.  Raises DldbgError (no node, a glue
        without a dynamic loader)."""
        if self.node is None:
            raise DldbgError("the node backend needs node on PATH (Debian: apt-get install nodejs)")
        glue, command, main_wasm = self._launch(path, argv)
        self._glue_folder = os.path.dirname(os.path.abspath(main_wasm))
        # the glue's wasmBinaryFile, until its first hook names it (main.js.strict.js: main.wasm)
        self._read_main(os.path.basename(main_wasm))
        self.emit(GlueHooked(os.path.basename(glue.original), glue.original, glue.path, glue.hooked,
                             tuple(f"{name} ({what})" for name, what in _missing(glue.missing)), glue.not_exposed))
        events_r, events_w = os.pipe()
        replies_r, replies_w = os.pipe()
        env = dict(self.environ, DLDBG_NODE_OUT=str(events_w), DLDBG_NODE_IN=str(replies_r))
        try:
            self.process = subprocess.Popen(command, env=env, pass_fds=(events_w, replies_r),
                                            stdin=None if self.stdin_passthrough else subprocess.DEVNULL)
        except OSError as exc:
            for fd in (events_r, events_w, replies_r, replies_w):
                os.close(fd)
            raise DldbgError(f"{self.node}: {exc.strerror or exc}") from None
        os.close(events_w)
        os.close(replies_r)
        if self.store.pending:  # interrupted while node was starting (`--timeout`, Ctrl-C)
            self.store.pending = False
            self.process.send_signal(signal.SIGINT)
        self._channel = Channel(events_r, replies_w, on_hook=self._on_hook)
        self.memory, self.table = NodeMemory(self._channel), NodeTable(self._channel, self)
        channel = self._channel
        self.stack_pointer = NodeGlobal(lambda: self.stopped("$sp").request("sp"),
                                        lambda v: self.stopped("set $sp").request("setsp", value=v & 0xFFFFFFFF))
        try:
            for msg in self._channel.hooks():
                try:
                    self._on_hook(msg)
                except (LoadError, CallError) as exc:  # `abort` at a stop: the hooked function fails in the glue
                    self._channel.fail_next = str(exc)
                finally:
                    self._channel.resume()
            return self.process.wait()
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            channel.close()
            self._channel = None
            self.memory = self.table = self.stack_pointer = None

    def _read_main(self, name: str) -> None:
        """Take `name` (a file in the glue's folder) as the main module, parsed for GOT kinds
        and function types when it can be read (else without its parse)."""
        self.main_name = name
        try:
            self.main_wasm = read_module_file(os.path.join(self._glue_folder, name), self.limits)
        except DldbgError:
            self.main_wasm = None

    def _launch(self, path: str, argv: list[str]) -> tuple:
        """The instrumented glue, node's command line and the main module's file."""
        glue = instrument(path, self.cache_dir)
        return glue, [self.node, "--no-experimental-fetch", glue.path, *argv[1:]], os.path.splitext(path)[0] + ".wasm"

    # -- hooks -> events ----------------------------------------------------------------
    def _current(self) -> NodeModule | None:
        """The module a hook without a module id concerns: the one instantiating, else the
        latest still loading."""
        if self._instantiating is not None:
            return self._instantiating
        return next((m for m in reversed(self.modules) if m.state == "loading"), None)

    def _on_hook(self, msg: dict) -> None:
        point, fn, data = msg["hook"], msg["fn"], msg.get("data") or {}
        if msg.get("main") and msg["main"] != self.main_name:
            self._read_main(msg["main"])
        got = msg.get("got") or []
        if not (point == "enter" and fn == "postInstantiation"):
            self._got_changes(got, fn)
        handler = getattr(self, f"_{point}_{fn}", None)
        if handler is not None:
            handler(msg, data, got)
        if point in ("leave", "throw"):
            self._calls.pop(msg.get("call"), None)

    def _parent(self, lib: str) -> tuple[NodeModule | None, str]:
        """The module loading `lib` as a NEEDED library, and the NEEDED entry: the latest module
        read but not yet instantiated whose dylink.0 lists `lib`, or its file name (emscripten 4/5
        resolve a NEEDED entry through the RUNTIME_PATH, `$ORIGIN`, to a path: findLibraryFS), as
        emscripten loads NEEDED between the two."""
        for mod in reversed(self.modules):
            if mod.state == "loading" and mod.wasm is not None and mod.wasm.dylink is not None:
                for name in (lib, os.path.basename(lib)):
                    if name in mod.wasm.dylink.needed:
                        return mod, name
        return None, lib

    def _enter_loadDynamicLibrary(self, msg, data, got) -> None:
        lib = data["lib"]
        if lib == "__main__":  # dlopen(NULL): the main module's own record, no load
            return
        parent, needed = self._parent(lib)
        if parent is not None:
            found = lib if self.guest_paths or os.path.exists(lib) else None
            self.emit(NeededResolved(parent.name, needed, found, (lib,), data["already_loaded"]))
        if data["already_loaded"]:
            return
        flags = RTLD_NOW | (RTLD_GLOBAL if data["flags"]["global"] else 0) | \
            (RTLD_NODELETE if data["flags"]["nodelete"] else 0)
        if parent is None:
            self._next_request += 1
        mod = NodeModule(self._next_id, os.path.basename(lib), lib, flags,
                         parent.request if parent else self._next_request, is_global=data["flags"]["global"])
        self._next_id += 1
        if parent is not None:
            parent.deps.append(mod)
        self.modules.append(mod)
        self._calls[msg.get("call")] = mod
        self.emit(LoadStarted(mod.name, lib, describe_flags(flags), parent.name if parent else None, mod.request))

    def _leave_loadDynamicLibrary(self, msg, data, got) -> None:
        mod = self._calls.get(msg.get("call"))
        if mod is None:
            return
        mod.state, mod.stage = "ready", "done"
        mod.refcount = data.get("refcount", 1)
        mod.handle = self._next_handle
        self._next_handle += 1
        self.by_handle[mod.handle] = mod
        self.emit(Loaded(mod.name, mod.path, mod.handle, mod.refcount, mod.request))

    def _throw_loadDynamicLibrary(self, msg, data, got) -> None:
        mod = self._calls.get(msg.get("call"))
        if mod is None:
            return
        mod.state = "failed"
        stage = mod.stage
        if stage == "read" and mod.wasm is not None and "Import #" in data["error"]:
            stage = "imports"  # V8's LinkError: instantiation refused an import (before postInstantiation)
        self.emit(LoadFailed(mod.name, mod.path, stage, data["error"], (),
                             ("emscripten's loader does not roll back: what it changed stays",), mod.request))

    def _reading(self, raw: bytes, lib: str | None = None) -> NodeModule | None:
        """The loading module these bytes are the file of: the one named `lib` (emscripten 4/5
        pass the name), else the one whose file has these bytes, else the latest one not read yet
        (emscripten 3.1.6 reads a library's bytes in a promise, no name)."""
        unread = [m for m in self.modules if m.state == "loading" and m.wasm is None]
        named = [m for m in unread if lib is not None and os.path.normpath(m.path) == os.path.normpath(lib)]
        if named:
            return named[-1]
        for mod in reversed(unread) if not self.guest_paths else ():
            try:
                with open(mod.path, "rb") as f:
                    if f.read() == raw:
                        return mod
            except OSError:
                continue
        return unread[-1] if unread else None

    def _enter_loadWebAssemblyModule(self, msg, data, got) -> None:
        if data.get("bytes") is None:
            return
        raw = base64.b64decode(data["bytes"])
        mod = self._reading(raw, data.get("lib"))
        if mod is None:
            return
        self._by_mid[data["module"]] = mod
        over = None
        try:
            mod.wasm = read_module(raw, mod.path, self.limits)
        except WasmParseError as exc:  # V8 may run what dldbg cannot read; not what is above a limit
            mod.wasm = None
            if "--limit" in exc.message:
                over = f"{mod.path}: read: {exc.message} at byte offset {exc.offset:#x}"
        over = over or self._over_limits(mod, raw)
        if over is not None:  # the glue's load fails with dldbg's message, as dldbg's own loader's would
            self._channel.fail_next = over
        if mod.wasm is not None:
            self.got.promote(imp.field for imp in mod.wasm.imports if imp.module in ("GOT.mem", "GOT.func"))
        dylink = mod.wasm.dylink.to_json() if mod.wasm is not None and mod.wasm.dylink else None
        eh = mod.wasm.eh.encoding if mod.wasm is not None else "unknown"
        self.emit(ModuleRead(mod.name, mod.path, len(raw), hashlib.sha256(raw).hexdigest(), dylink, None, eh))

    def _over_limits(self, mod: NodeModule, raw: bytes) -> str | None:
        """The resource limit (dldbg.limits) the module's bytes or MEM_INFO exceed, or None."""
        limits = self.limits
        if len(raw) > limits.file_size:
            return (f"{mod.path}: read: the module is {len(raw)} bytes, larger than the file_size limit of "
                    f"{limits.file_size} bytes (raise it with --limit file_size=N or DLDBG_LIMITS)")
        dylink = mod.wasm.dylink if mod.wasm is not None else None
        if dylink is None:
            return None
        for field, value, limit, name in (("memorysize", dylink.mem_size, limits.memory_size, "memory_size"),
                                          ("memoryalignment", dylink.mem_align, limits.memory_alignment,
                                           "memory_alignment"),
                                          ("tablesize", dylink.table_size, limits.table_size, "table_size")):
            if value > limit:
                shown = f"2^{value}" if field == "memoryalignment" else str(value)
                return f"{mod.path}: read: {dylink.format} MEM_INFO {field} {shown} is above {limits.describe(name)}"
        return None

    def _enter_postInstantiation(self, msg, data, got) -> None:
        mod = self._by_mid.get(data.get("module"))
        self._instantiating = mod
        if mod is None:
            self._got_changes(got, "postInstantiation")
            return
        mod.memory_base, mod.memory_size = data["memoryBase"], data["memorySize"]
        mod.table_base, mod.table_size = data["tableBase"], data["tableSize"]
        if mod.memory_size:
            mod.stage = "memory"
            self.emit(MemoryAllocated(module=mod.name, stage="memory", memory_base=mod.memory_base,
                                      size=mod.memory_size, alignment=2 ** data["memoryAlign"],
                                      allocator="getMemory (emscripten glue)", purpose="static data (MEM_INFO)"))
        if mod.table_size:
            mod.stage = "table"
            self.emit(TableGrown(module=mod.name, stage="table", table_base=mod.table_base, size_before=mod.table_base,
                                 size_after=mod.table_base + mod.table_size, reason="MEM_INFO tablesize"))
        mod.stage = "imports"
        self._got_changes(got, "postInstantiation")
        mod.state, mod.stage = "instantiated", "instantiate"
        mod.exports = module_exports(mod)
        self._note_importers(mod)
        mod.bindings = self._bindings(mod)
        start = None
        if mod.wasm is not None and mod.wasm.start is not None:
            start = mod.wasm.function_name(mod.wasm.start) or f"func[{mod.wasm.start}]"
        self.emit(Instantiated(mod.name, start, round(msg.get("since", 0.0), 3)))
        if start is not None and mod.memory_size:
            changes = _word_changes(_initial_image(mod), self.read_memory(mod.memory_base, mod.memory_size),
                                    mod.memory_base)
            if changes:
                self.emit(StartRelocationsApplied(mod.name, start, "start function", changes))
        mod.stage = "got"

    def _leave_postInstantiation(self, msg, data, got) -> None:
        self._instantiating = None

    def _enter_mergeLibSymbols(self, msg, data, got) -> None:
        lib = os.path.basename(data["lib"])
        name = self.main_name if lib == "main" else lib
        mod = self._add_main() if lib == "main" else self.module_named(name)
        if mod is not None:
            if mod is not self.main:
                mod.stage = "publish"
            # a shadowed name is one the glue's asmLibraryArg has already: a JS stub that calls
            # Module['_NAME'], which mergeLibSymbols sets to the first module's export; so the
            # first module publishing a name is the one that binds it, as in dldbg's engine
            names = [n for n in (*data["symbols"], *data["shadowed"]) if n in mod.exports]
            added, _ = self.global_scope.publish({n: mod.exports[n] for n in names})
            mod.published += added
        self.emit(SymbolsPublished(name, "global", tuple(data["symbols"]), tuple(data["shadowed"])))

    def _bindings(self, mod: NodeModule) -> list:
        """How the glue bound the module's function imports (`info imports`), asked at its
        instantiation: `global-scope` (a loaded module's export in asmLibraryArg), `glue-stub`
        (the glue's JavaScript stub that calls a module's export), `host` (a JavaScript
        function of the glue), `lazy` (a stub that binds on the first call; unbound when
        nothing defines the name now)."""
        from ..module import ImportBinding, LazyStub

        imports = [imp for imp in (mod.wasm.imports if mod.wasm is not None else ())
                   if imp.module in ("env", "wasi_snapshot_preview1")]
        imps = [imp for imp in imports if imp.kind == "func"]
        # memory, table, __stack_pointer, __memory_base, __table_base: the glue's own
        out = [ImportBinding(imp, "host", "(glue)", imp.field) for imp in imports if imp.kind != "func"]
        if not imps:
            return out
        try:
            found = self._channel.request("bindings", names=[imp.field for imp in imps])
        except DldbgError:  # a glue that has neither asmLibraryArg nor wasmImports: not shown
            return out
        weak = mod.wasm.dylink.weak_imports if mod.wasm.dylink else frozenset()
        for imp, where in zip(imps, found):
            provider = None
            if where is not None:
                lib = where.get("lib")
                provider = "(glue)" if where.get("glue") else (self.main_name if lib is None else
                                                                os.path.basename(lib))
            if where is not None and where.get("direct"):
                how = "host" if where.get("glue") else ("glue-stub" if where.get("via") else "global-scope")
                out.append(ImportBinding(imp, how, provider, imp.field))
                continue
            stub = LazyStub(mod, imp.field, mod.wasm.types[imp.desc], imp.field in weak,
                            target=NodeFunc(provider, imp.field) if provider else None, provider=provider)
            out.append(ImportBinding(imp, "lazy", provider, imp.field, stub=stub))
        return out

    def _note_importers(self, mod: NodeModule) -> None:
        """The module is an importer of each GOT entry its binary imports (GotEntry.importers)."""
        for imp in mod.wasm.imports if mod.wasm is not None else ():
            entry = self.got.get(imp.field) if imp.module in ("GOT.mem", "GOT.func") else None
            if entry is not None and mod.name not in entry.importers:
                entry.importers.append(mod.name)

    def _add_main(self) -> NodeModule | None:
        """The main module, once the glue has instantiated it (its `mergeLibSymbols(exports,
        'main')`): its binary as dldbg's reader parsed it, its `__memory_base` and
        `__table_base` as the glue set them, its static data and table slots from its dylink.0."""
        if self.main is not None or self.main_wasm is None:
            return self.main
        bases = {"memory": 0, "table": 0}
        for which in bases:
            try:
                bases[which] = int(self._channel.request("eval", scope="top", expr=(
                    f"typeof ___{which}_base != 'undefined' ? Number(___{which}_base.value) : 0")))
            except (DldbgError, ValueError):
                pass
        dylink = self.main_wasm.dylink
        mod = NodeModule(0, self.main_name, os.path.join(self._glue_folder, self.main_name),
                         RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE, 0, state="ready", wasm=self.main_wasm,
                         memory_base=bases["memory"], memory_size=dylink.mem_size if dylink else 0,
                         table_base=bases["table"], table_size=dylink.table_size if dylink else 0,
                         nodelete=True, stage="done")
        mod.exports = module_exports(mod)
        self._note_importers(mod)
        self.main = mod
        self.modules.insert(0, mod)
        return mod

    def _relocs___wasm_apply_data_relocs(self, msg, data, got) -> None:
        mod = self._by_mid.get(data.get("module"))
        if mod is not None:
            mod.stage = "reloc"
            self.emit(RelocationsApplied(mod.name, "__wasm_apply_data_relocs", "loader",
                                         tuple(tuple(c) for c in data.get("changes") or ())))

    def _ctor___wasm_call_ctors(self, msg, data, got) -> None:
        mod = self._by_mid.get(data.get("module"))
        if mod is not None:
            mod.stage = "ctors"
        self.emit(ConstructorCalled(mod.name if mod is not None else self.main_name, "__wasm_call_ctors",
                                    data["seconds"]))

    def _got_changes(self, changes: list, fn: str) -> None:
        """GOT entries created or changed since the previous hook (the glue's `GOT` object)."""
        mod = self._current()
        name = mod.name if mod is not None else self.main_name
        quiet = not self.startup_got_events and all(m is self.main for m in self.modules)
        for symbol, old, new in changes:
            kind = self._got_kind.get(symbol) or self._classify_got(symbol)
            entry = self.got.entry(symbol, kind, new, startup=quiet)
            entry.value = new
            if fn in ("relocateExports", "updateGOT"):
                entry.provider = name
            if quiet:
                continue
            if old is None:
                self.emit(GotCreated(name, kind, symbol, new, "(glue)" if new else None,
                                     new if kind == "GOT.func" and new else None))
            else:
                self.emit(GotUpdated(name, kind, symbol, old, new,
                                     name if fn in ("relocateExports", "updateGOT") else "(glue)", fn))

    def _classify_got(self, symbol: str) -> str:
        """GOT.mem or GOT.func: as a module imports it, else as a module exports it (emscripten's
        updateGOT makes entries for every export; the glue's GOT does not say which kind)."""
        wasms = [m.wasm for m in reversed(self.modules) if m.wasm is not None and m.wasm is not self.main_wasm]
        kinds = [self._kinds(wasm) for wasm in [*wasms, self.main_wasm]]
        for imports, _ in kinds:
            if symbol in imports:
                self._got_kind[symbol] = imports[symbol]
                return imports[symbol]
        for _, exports in kinds:
            if symbol in exports:
                self._got_kind[symbol] = exports[symbol]
                return exports[symbol]
        return "GOT.mem"

    def _kinds(self, wasm: WasmModule | None) -> tuple[dict[str, str], dict[str, str]]:
        """`_got_kinds(wasm)`, computed once per binary (Pyodide's main exports ~9,000 symbols)."""
        if wasm is None:
            return {}, {}
        found = self._kinds_of.get(id(wasm))
        if found is None or found[0] is not wasm:
            found = self._kinds_of[id(wasm)] = (wasm, _got_kinds(wasm))
        return found[1]


def _got_kinds(wasm: WasmModule | None) -> tuple[dict[str, str], dict[str, str]]:
    """The GOT kind of each symbol the module imports from GOT.mem/GOT.func, and of each
    function (GOT.func) or global (GOT.mem) it exports."""
    if wasm is None:
        return {}, {}
    imports = {imp.field: imp.module for imp in wasm.imports if imp.module in ("GOT.mem", "GOT.func")}
    exports = {exp.name: "GOT.func" if exp.kind == "func" else "GOT.mem" for exp in wasm.exports
               if exp.kind in ("func", "global")}
    return imports, exports


def _initial_image(mod: NodeModule) -> bytes:
    """The module's memory region as its active data segments alone leave it (what
    instantiation writes before the start function runs)."""
    image = bytearray(mod.memory_size)
    values = {}
    for index, imp in enumerate(mod.wasm.imports_of("global")):
        if imp.module == "env" and imp.field == "__memory_base":
            values[index] = mod.memory_base
        elif imp.module == "env" and imp.field == "__table_base":
            values[index] = mod.table_base
    for seg in mod.wasm.data:
        if seg.mode != "active" or seg.memory != 0:
            continue
        at = seg.offset_expr.evaluate(values)
        if isinstance(at, int) and 0 <= at - mod.memory_base <= len(image) - len(seg.data):
            image[at - mod.memory_base : at - mod.memory_base + len(seg.data)] = seg.data
    return bytes(image)


def _word_changes(before: bytes, after: bytes, base: int) -> tuple[tuple[int, int, int], ...]:
    """(address, old, new) of each 4-byte word that differs."""
    return tuple((base + off, int.from_bytes(before[off:off + 4], "little"), int.from_bytes(after[off:off + 4], "little"))
                 for off in range(0, min(len(before), len(after)) - 3, 4) if before[off:off + 4] != after[off:off + 4])


def _number(arg, name: str):
    """A call argument of a function of unknown type: an int (any base) or a float."""
    if not isinstance(arg, str):
        return arg
    try:
        return int(arg, 0)
    except ValueError:
        try:
            return float(arg)
        except ValueError:
            raise CallError(f"{name}: bad argument {arg!r}: not a number") from None


def _missing(names) -> list[tuple[str, str]]:
    from .instrument import HOOKED

    return [(n, HOOKED[n]) for n in names]
