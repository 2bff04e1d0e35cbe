"""The node backend: emscripten's own loader, in the program's own glue under node, behind the
engine interface the session uses (docs/node.md).

`NodeEngine.run_program` instruments the glue (`instrument`), starts node on the copy with two
extra pipes, and turns each hook line into the events dldbg's wasmtime engine emits for the same
stage (dldbg.events: same kinds, same fields) for the listeners.  While a listener runs (a
session stopped at a breakpoint), node is blocked in its hook, and `read_memory`,
`write_memory`, `memory` and `table` ask it through the pipes.  What this backend has of the
engine interface: `listeners`, `emit`, `modules` (NodeModule), `module_named`, `memory`
(`pages`, `data_len`), `table` (`size`, `get`, `key_by_slot`), `got` (a mirror of the glue's
GOT), `global_scope` (empty), `read_memory`, `read_cstring`, `write_memory`, `poke_memory`,
`func_type_of`, `interrupt`, `host.name`, `run_program`; `call`, `dlopen`, `dlsym`, `dlclose`,
`dlerror`, `set_slot` and `resolve_function` raise DldbgError (not available yet).
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field

from ...errors import DldbgError, WasmParseError
from ...events import (ConstructorCalled, Event, GlueHooked, GotCreated, GotUpdated, Instantiated, LoadFailed,
                       LoadStarted, Loaded, MemoryAllocated, MemorySet, ModuleRead, NeededResolved, StartRelocationsApplied,
                       SymbolsPublished, TableGrown)
from ...wasm.reader import WasmModule, read_module, read_module_file
from ..flags import RTLD_GLOBAL, RTLD_NODELETE, RTLD_NOW, describe_flags
from .instrument import instrument
from .protocol import Channel

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


@dataclass(frozen=True)
class NodeFunc:
    """What a table slot holds, as the glue knows it: `module` and export `name` (None: a
    function no loaded module exports; `index` is then V8's name for it, its function index)."""

    module: str | None
    name: str | None
    index: str | None = None


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
        return NodeFunc(module, found.get("name"), found.get("index"))

    def slot_of(self, key) -> int | None:
        return None


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
    stop: node is stopped in the hook that sent them)."""

    def __init__(self):
        self.entries: dict[str, NodeGotEntry] = {}

    def get(self, symbol: str) -> NodeGotEntry | None:
        return self.entries.get(symbol)

    def value(self, symbol: str) -> int:
        return self.entries[symbol].value

    def set(self, symbol: str, value: int, provider: str) -> int:
        raise DldbgError(f"set got {symbol}: not available with the node backend yet (docs/node.md)")


class _Rearm:
    """What the session re-arms interrupts through before each top-level command (the wasmtime
    engine's `store.set_epoch_deadline`): a Ctrl-C that came while nothing ran is dropped."""

    pending = False

    def set_epoch_deadline(self, ticks: int) -> None:
        self.pending = False


class NoSymbols:
    """The global scope as this backend knows it: empty (emscripten's `asmLibraryArg` is not
    mirrored yet); dldbg.linker.scope.Scope's reading side, without importing wasmtime."""

    name = "global"
    symbols: dict = {}

    def lookup(self, name: str):
        return None


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

    def __init__(self, glue: str, *, cache_dir: str | None = None, node: str | None = None, environ=None):
        self.glue = glue
        self.cache_dir = cache_dir
        self.node = node or shutil.which("node")
        self.environ = dict(os.environ if environ is None else environ)
        self.listeners: list = []
        self.modules: list[NodeModule] = []
        self.main = None
        self.global_scope = NoSymbols()
        self.got = NodeGot()
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
        return next((m for m in reversed(self.modules) if m.name == name and m.state != "failed"), None)

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

    def _not_yet(self, what: str):
        raise DldbgError(f"{what}: not available with the node backend yet (docs/node.md)")

    def call(self, target, args):
        self._not_yet("call")

    def resolve_function(self, target):
        self._not_yet("calling or naming a function")

    def dlopen(self, path: str, flags: int = 0, **_):
        self._not_yet("dlopen")

    def dlsym(self, handle: int, name: str):
        self._not_yet("dlsym")

    def dlclose(self, handle: int):
        self._not_yet("dlclose")

    def dlerror(self):
        self._not_yet("dlerror")

    def set_slot(self, slot, func, key, old, new, module, command):
        self._not_yet("set table")

    def func_type_of(self, func: NodeFunc):
        """The function's type from its module's binary (a FuncType), or `?` when unknown."""
        wasm = self.main_wasm if func.module == self.main_name else getattr(self.module_named(func.module or ""),
                                                                              "wasm", None)
        if wasm is not None and func.name is not None:
            for exp in wasm.exports:
                if exp.kind == "func" and exp.name == func.name:
                    return wasm.func_type(exp.index)
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
        glue = instrument(path, self.cache_dir)
        self._glue_folder = os.path.dirname(os.path.abspath(path))
        # the glue's wasmBinaryFile, until its first hook names it (main.js.strict.js: main.wasm)
        self._read_main(os.path.basename(os.path.splitext(path)[0] + ".wasm"))
        self.emit(GlueHooked(os.path.basename(path), glue.original, glue.path, glue.hooked,
                             tuple(f"{name} ({what})" for name, what in _missing(glue.missing)), glue.not_exposed))
        events_r, events_w = os.pipe()
        replies_r, replies_w = os.pipe()
        env = dict(self.environ, DLDBG_NODE_OUT=str(events_w), DLDBG_NODE_IN=str(replies_r))
        try:
            self.process = subprocess.Popen([self.node, "--no-experimental-fetch", glue.path, *argv[1:]], env=env,
                                            pass_fds=(events_w, replies_r))
        except OSError as exc:
            for fd in (events_r, events_w, replies_r, replies_w):
                os.close(fd)
            raise DldbgError(f"{self.node}: {exc.strerror or exc}") from None
        os.close(events_w)
        os.close(replies_r)
        if self.store.pending:  # interrupted while node was starting (`--timeout`, Ctrl-C)
            self.store.pending = False
            self.process.send_signal(signal.SIGINT)
        self._channel = Channel(events_r, replies_w)
        self.memory, self.table = NodeMemory(self._channel), NodeTable(self._channel, self)
        try:
            for msg in self._channel.hooks():
                try:
                    self._on_hook(msg)
                finally:
                    self._channel.resume()
            return self.process.wait()
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._channel.close()
            self._channel = None
            self.memory = self.table = None

    def _read_main(self, name: str) -> None:
        """Take `name` (a file in the glue's folder) as the main module, parsed for GOT kinds
        and function types when it can be read (else without its parse)."""
        self.main_name = name
        try:
            self.main_wasm = read_module_file(os.path.join(self._glue_folder, name))
        except DldbgError:
            self.main_wasm = None

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

    def _parent(self, lib: str) -> NodeModule | None:
        """The module loading `lib` as a NEEDED library: the latest module read but not yet
        instantiated whose dylink.0 lists it (emscripten loads NEEDED between the two)."""
        for mod in reversed(self.modules):
            if mod.state == "loading" and mod.wasm is not None and mod.wasm.dylink is not None \
                    and lib in mod.wasm.dylink.needed:
                return mod
        return None

    def _enter_loadDynamicLibrary(self, msg, data, got) -> None:
        lib = data["lib"]
        if lib == "__main__":  # dlopen(NULL): the main module's own record, no load
            return
        parent = self._parent(lib)
        if parent is not None:
            self.emit(NeededResolved(parent.name, lib, lib if os.path.exists(lib) else None, (lib,),
                                     data["already_loaded"]))
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
        self.emit(Loaded(mod.name, mod.path, mod.handle, mod.refcount, mod.request))

    def _throw_loadDynamicLibrary(self, msg, data, got) -> None:
        mod = self._calls.get(msg.get("call"))
        if mod is None:
            return
        mod.state = "failed"
        self.emit(LoadFailed(mod.name, mod.path, mod.stage, data["error"], (),
                             ("emscripten's loader does not roll back: what it changed stays",), mod.request))

    def _reading(self, raw: bytes) -> NodeModule | None:
        """The loading module these bytes are the file of (its file's content, else the
        latest one not read yet: emscripten reads a library's bytes in a promise, no name)."""
        unread = [m for m in self.modules if m.state == "loading" and m.wasm is None]
        for mod in reversed(unread):
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
        mod = self._reading(raw)
        if mod is None:
            return
        self._by_mid[data["module"]] = mod
        try:
            mod.wasm = read_module(raw, mod.path)
        except WasmParseError:
            mod.wasm = None
        dylink = mod.wasm.dylink.to_json() if mod.wasm is not None and mod.wasm.dylink else None
        eh = mod.wasm.eh.encoding if mod.wasm is not None else "unknown"
        self.emit(ModuleRead(mod.name, mod.path, len(raw), hashlib.sha256(raw).hexdigest(), dylink, None, eh))

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
        mod = self.module_named(name)
        if mod is not None:
            mod.stage = "publish"
        self.emit(SymbolsPublished(name, "global", tuple(data["symbols"]), tuple(data["shadowed"])))

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
        for symbol, old, new in changes:
            kind = self._got_kind.get(symbol) or self._classify_got(symbol)
            entry = self.got.entries.setdefault(symbol, NodeGotEntry(symbol, kind, new, required=True))
            entry.value = new
            if fn in ("relocateExports", "updateGOT"):
                entry.provider = name
            if old is None:
                self.emit(GotCreated(name, kind, symbol, new, "(glue)" if new else None,
                                     new if kind == "GOT.func" and new else None))
            else:
                self.emit(GotUpdated(name, kind, symbol, old, new,
                                     name if fn in ("relocateExports", "updateGOT") else "(glue)", fn))

    def _classify_got(self, symbol: str) -> str:
        """GOT.mem or GOT.func: as a module imports it, else as a module exports it (emscripten's
        updateGOT makes entries for every export; the glue's GOT does not say which kind)."""
        wasms = [m.wasm for m in reversed(self.modules)] + [self.main_wasm]
        for wasm in wasms:
            for imp in wasm.imports if wasm is not None else ():
                if imp.module in ("GOT.mem", "GOT.func") and imp.field == symbol:
                    self._got_kind[symbol] = imp.module
                    return imp.module
        for wasm in wasms:
            for exp in wasm.exports if wasm is not None else ():
                if exp.name == symbol and exp.kind in ("func", "global"):
                    self._got_kind[symbol] = "GOT.func" if exp.kind == "func" else "GOT.mem"
                    return self._got_kind[symbol]
        return "GOT.mem"


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


def _missing(names) -> list[tuple[str, str]]:
    from .instrument import HOOKED

    return [(n, HOOKED[n]) for n in names]
