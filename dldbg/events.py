"""Linker events: one frozen dataclass per event kind, each serialisable to JSON.

The engine emits these in load order; the session records, filters and stops on them; the
tracer renders them as LD_DEBUG-style lines.  `kind` names are stable: front ends, plugins and
JSON consumers match on them.  Addresses are byte offsets in linear memory, table positions are
slot numbers, sizes are bytes unless a field name says pages or slots.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

#: Loader stages in pipeline order (a load may skip stages it does not need).
STAGES = (
    "read",
    "needed",
    "memory",
    "table",
    "imports",
    "instantiate",
    "got",
    "tls",
    "reloc",
    "ctors",
    "publish",
    "done",
    "call",
    "dlclose",
)

#: Trace categories (`--trace=CATEGORIES`), as LD_DEBUG keywords.
CATEGORIES = ("libs", "memory", "table", "symbols", "got", "reloc", "tls", "ctors", "calls")


@dataclass(frozen=True)
class Event:
    """Base of every event.  `module` is the display name (file name) of the module concerned."""

    kind: ClassVar[str] = "event"
    #: a class constant, except for events of shared resources (memory, table), whose stage
    #: is the one in progress when they happen
    stage: ClassVar[str]
    category: ClassVar[str] = "libs"

    module: str

    def to_json(self) -> dict:
        """A JSON-ready dict: `kind`, `stage`, then the fields; tuples become lists."""
        out = {"kind": self.kind, "stage": self.stage}
        for f in dataclasses.fields(self):
            out[f.name] = _jsonable(getattr(self, f.name))
        return out


def _jsonable(value):
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class LoadStarted(Event):
    """A load of `path` begins (a dlopen, a preload, or a NEEDED dependency of `requested_by`)."""

    kind: ClassVar[str] = "load.start"
    stage: ClassVar[str] = "read"
    path: str
    flags: str
    requested_by: str | None
    #: the load request (a dlopen, a start-up, a program) this load belongs to
    request: int


@dataclass(frozen=True)
class ModuleRead(Event):
    """The file was read and parsed; `dylink` is `DylinkInfo.to_json()`, None for a main
    program without dylink.0.  `compile_estimate`: seconds compiling it is expected to take
    (0.0 when its machine code is cached; None when this machine's compile speed is not known
    yet; None for a module translated next: module.translate carries it then), so that a front
    end can show a long compile's progress.  `size`, `sha256` and `dylink` are the file's."""

    kind: ClassVar[str] = "module.read"
    stage: ClassVar[str] = "read"
    path: str
    size: int
    sha256: str
    dylink: dict | None
    compile_estimate: float | None = None
    #: the exception-handling encoding of the file's code: "none", "legacy" (translated to
    #: exnref next, see module.translate), "exnref" or "unknown" (dldbg.wasm.eh)
    eh_encoding: str = "none"


@dataclass(frozen=True)
class ModuleTranslated(Event):
    """The module's legacy exception handling (`try`/`catch`/`delegate`/`rethrow`, which
    wasmtime rejects) was translated to exnref (`try_table`/`throw_ref`) by binaryen's
    `wasm-opt --translate-to-exnref`; the translated bytes (`size`, `sha256`) are what is
    compiled and run, so byte offsets of this module's functions, imports and exports in later
    events, traps and errors are offsets in them, not in the file (dylink.0 is the file's).
    `cached`: the translation came from the cache (`seconds` is then the lookup's); `tool`: the
    wasm-opt that made it; `compile_estimate`: as in module.read, for the translated bytes."""

    kind: ClassVar[str] = "module.translate"
    stage: ClassVar[str] = "read"
    path: str
    from_encoding: str
    to_encoding: str
    seconds: float
    cached: bool
    tool: str
    size: int
    sha256: str
    compile_estimate: float | None = None


@dataclass(frozen=True)
class ModuleCompiled(Event):
    """Machine code for the module is ready; `source` is `compiled`, `memory-cache` or `disk-cache`."""

    kind: ClassVar[str] = "module.compile"
    stage: ClassVar[str] = "read"
    path: str
    source: str
    seconds: float


@dataclass(frozen=True)
class NeededResolved(Event):
    """A NEEDED entry of `module` was looked up; `path` is None when no candidate exists."""

    kind: ClassVar[str] = "needed.resolved"
    stage: ClassVar[str] = "needed"
    name: str
    path: str | None
    tried: tuple[str, ...]
    already_loaded: bool


@dataclass(frozen=True)
class MemoryAllocated(Event):
    """`size` bytes at `memory_base` (aligned to `alignment` bytes) were reserved for the module."""

    kind: ClassVar[str] = "memory.alloc"
    category: ClassVar[str] = "memory"
    #: the stage in progress when this happened (growth serves whichever stage needs it)
    stage: str
    memory_base: int
    size: int
    alignment: int
    allocator: str
    purpose: str


@dataclass(frozen=True)
class MemoryGrown(Event):
    kind: ClassVar[str] = "memory.grow"
    category: ClassVar[str] = "memory"
    #: the stage in progress when this happened (growth serves whichever stage needs it)
    stage: str
    pages_before: int
    pages_after: int
    reason: str


@dataclass(frozen=True)
class TableGrown(Event):
    """The shared table grew from `size_before` to `size_after` slots; new slots start at `table_base`."""

    kind: ClassVar[str] = "table.grow"
    category: ClassVar[str] = "table"
    #: the stage in progress when this happened (growth serves whichever stage needs it)
    stage: str
    table_base: int
    size_before: int
    size_after: int
    reason: str


@dataclass(frozen=True)
class ImportResolved(Event):
    """Import `import_module.field` of `module` is satisfied by `provider`'s `symbol`.

    `how` says which rule applied: `host`, `memory-base`, `table-base`, `global-scope`,
    `local-scope`, `got` (a GOT global) or `lazy` (bound on first call).
    """

    kind: ClassVar[str] = "import.resolve"
    stage: ClassVar[str] = "imports"
    category: ClassVar[str] = "symbols"
    import_module: str
    field: str
    import_kind: str
    provider: str
    symbol: str
    how: str


@dataclass(frozen=True)
class ImportUnresolved(Event):
    """Nothing defines the import (yet); `action` is `lazy-stub`, `weak-zero` or `error`."""

    kind: ClassVar[str] = "import.unresolved"
    stage: ClassVar[str] = "imports"
    category: ClassVar[str] = "symbols"
    import_module: str
    field: str
    import_kind: str
    weak: bool
    action: str


@dataclass(frozen=True)
class GotCreated(Event):
    """A GOT global was created; `value` is -1 while unresolved (emscripten's UNDEFINED_ADDR)."""

    kind: ClassVar[str] = "got.create"
    stage: ClassVar[str] = "imports"
    category: ClassVar[str] = "got"
    got: str  # "GOT.mem" or "GOT.func"
    symbol: str
    value: int
    provider: str | None
    slot: int | None


@dataclass(frozen=True)
class GotUpdated(Event):
    """A GOT global changed value (for GOT.func the value is a table slot)."""

    kind: ClassVar[str] = "got.update"
    stage: ClassVar[str] = "got"
    category: ClassVar[str] = "got"
    got: str
    symbol: str
    old: int
    new: int
    provider: str | None
    reason: str


@dataclass(frozen=True)
class Instantiated(Event):
    """wasmtime instantiated the module; `start_function` ran inside instantiation when not None."""

    kind: ClassVar[str] = "instantiate"
    stage: ClassVar[str] = "instantiate"
    start_function: str | None
    seconds: float


@dataclass(frozen=True)
class RelocationsApplied(Event):
    """`function` ran and changed these 4-byte words of the module's memory: (address, old, new)."""

    kind: ClassVar[str] = "reloc.apply"
    stage: ClassVar[str] = "reloc"
    category: ClassVar[str] = "reloc"
    function: str
    where: str  # "loader" or "start function"
    changes: tuple[tuple[int, int, int], ...]


@dataclass(frozen=True)
class StartRelocationsApplied(RelocationsApplied):
    """The start function changed words of the module's memory during instantiation (LLD 14
    runs `__wasm_apply_data_relocs` as the start function); `changes` is relative to what the
    data segments alone wrote."""

    kind: ClassVar[str] = "reloc.start"
    stage: ClassVar[str] = "instantiate"


@dataclass(frozen=True)
class TlsInitialized(Event):
    kind: ClassVar[str] = "tls.init"
    stage: ClassVar[str] = "tls"
    category: ClassVar[str] = "tls"
    tls_base: int
    size: int
    alignment: int
    symbols: tuple[str, ...]


@dataclass(frozen=True)
class ConstructorCalled(Event):
    kind: ClassVar[str] = "ctor.call"
    stage: ClassVar[str] = "ctors"
    category: ClassVar[str] = "ctors"
    function: str
    seconds: float


@dataclass(frozen=True)
class SymbolsPublished(Event):
    """The module's exports entered the `global` scope or an RTLD_LOCAL group's `local` scope.

    `shadowed` lists names already defined there (first definition wins, emscripten's
    mergeLibSymbols), which this module therefore does not provide.
    """

    kind: ClassVar[str] = "symbols.publish"
    stage: ClassVar[str] = "publish"
    category: ClassVar[str] = "symbols"
    scope: str
    symbols: tuple[str, ...]
    shadowed: tuple[str, ...]


@dataclass(frozen=True)
class Loaded(Event):
    kind: ClassVar[str] = "load.done"
    stage: ClassVar[str] = "done"
    path: str
    handle: int
    refcount: int
    request: int


@dataclass(frozen=True)
class LoadFailed(Event):
    """The load failed at `stage`; `rolled_back` says what was undone, `leaked` what could not be."""

    kind: ClassVar[str] = "load.fail"
    stage: ClassVar[str] = "done"
    path: str
    failed_stage: str
    reason: str
    rolled_back: tuple[str, ...]
    leaked: tuple[str, ...]
    request: int


@dataclass(frozen=True)
class LazyBound(Event):
    """A lazy import stub of `module` was called and bound to `provider` (or failed to)."""

    kind: ClassVar[str] = "import.bind"
    stage: ClassVar[str] = "call"
    category: ClassVar[str] = "symbols"
    symbol: str
    provider: str | None


@dataclass(frozen=True)
class ModuleReleased(Event):
    """dlclose dropped the last reference; `released` says what was given up, `kept` what stays."""

    kind: ClassVar[str] = "module.release"
    stage: ClassVar[str] = "dlclose"
    handle: int
    released: tuple[str, ...]
    kept: tuple[str, ...]


@dataclass(frozen=True)
class CallTrapped(Event):
    """A call into wasm (`function`, e.g. `main.wasm!main`) ended in a trap.

    `trap` says why (wasmtime's message, or the host's explanation, e.g. an unimplemented
    import); `backtrace` is the wasm stack at the trap, innermost first, as `module!function`
    from the name sections.  `module` is the module of the innermost frame.
    """

    kind: ClassVar[str] = "call.trap"
    stage: ClassVar[str] = "call"
    category: ClassVar[str] = "calls"
    function: str
    trap: str
    backtrace: tuple[str, ...]


@dataclass(frozen=True)
class MemorySet(Event):
    """The debugger wrote `size` bytes of linear memory at `address` (`set var`, `set mem`);
    `old` and `new` are the bytes as hex.  `module` owns the address's static data ("(memory)"
    elsewhere); `command` is the command line that wrote."""

    kind: ClassVar[str] = "memory.set"
    category: ClassVar[str] = "memory"
    #: the stage in progress when this happened (the debugger writes wherever it is stopped)
    stage: str
    address: int
    size: int
    old: str
    new: str
    command: str


@dataclass(frozen=True)
class TableSlotSet(Event):
    """The debugger put `new` (`module!function`) in table slot `slot`, which held `old` (None:
    empty), by `set table` or `set var table[N] = F`.  Calls through the slot (function pointers,
    GOT.func entries, and `call` of the function the slot belonged to) reach `new`: an
    interposition.  `module` is the module of the new function."""

    kind: ClassVar[str] = "table.set"
    category: ClassVar[str] = "table"
    #: the stage in progress when this happened (the debugger writes wherever it is stopped)
    stage: str
    slot: int
    old: str | None
    new: str
    command: str


@dataclass(frozen=True)
class GlueHooked(Event):
    """The node backend instrumented a program's JavaScript glue (`path`, the copy it runs:
    `instrumented`): `hooked` are the loader functions it wraps, `missing` the ones this glue
    does not have (with the stages they would have reported), `not_exposed` the engine stages
    that emscripten's loader performs where no hook reaches (no events of them come).  Emitted
    once, before the program starts (docs/node.md)."""

    kind: ClassVar[str] = "glue.hooks"
    stage: ClassVar[str] = "read"
    path: str
    instrumented: str
    hooked: tuple[str, ...]
    missing: tuple[str, ...]
    not_exposed: tuple[str, ...]


EVENT_TYPES: tuple[type[Event], ...] = (
    LoadStarted,
    ModuleRead,
    ModuleTranslated,
    ModuleCompiled,
    NeededResolved,
    MemoryAllocated,
    MemoryGrown,
    TableGrown,
    ImportResolved,
    ImportUnresolved,
    GotCreated,
    GotUpdated,
    Instantiated,
    RelocationsApplied,
    StartRelocationsApplied,
    TlsInitialized,
    ConstructorCalled,
    SymbolsPublished,
    Loaded,
    LoadFailed,
    LazyBound,
    ModuleReleased,
    CallTrapped,
    MemorySet,
    TableSlotSet,
    GlueHooked,
)

EVENT_KINDS = {cls.kind: cls for cls in EVENT_TYPES}


def _fast_init(cls: type[Event]) -> None:
    """Give `cls` an `__init__` that fills the instance's `__dict__` directly.

    A frozen dataclass's own `__init__` sets each field through `object.__setattr__` (the
    class forbids plain assignment), several times the cost of the stores; the loader emits an
    event per import and per GOT entry, tens of thousands in one load.  Same parameters, same
    defaults, same instances (equality, hashing, `to_json` and `dataclasses.replace` are the
    dataclass's); only classes whose fields have plain defaults are changed.
    """
    fields = dataclasses.fields(cls)
    if any(f.default_factory is not dataclasses.MISSING for f in fields):
        return
    defaults = {f"_default_{f.name}": f.default for f in fields if f.default is not dataclasses.MISSING}
    params = ", ".join(f.name + (f"=_default_{f.name}" if f"_default_{f.name}" in defaults else "") for f in fields)
    stores = "".join(f"    fields[{f.name!r}] = {f.name}\n" for f in fields)
    namespace = dict(defaults)
    exec(f"def __init__(self, {params}):\n    fields = self.__dict__\n{stores}", namespace)  # noqa: S102
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init


for _cls in EVENT_TYPES:
    _fast_init(_cls)
