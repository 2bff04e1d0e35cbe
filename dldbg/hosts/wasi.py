"""The WASI host: WASI command programs that load side modules, on wasmtime's own WASI.

Main modules it runs (`dldbg run MAIN.wasm [-- ARGS]`):

* a **PIE main** with dylink.0 (`wasm-ld --experimental-pic -pie --import-memory
  --import-table`, from clang or zig): it is placed at `__memory_base` 1024, never at 0
  (toywasm puts it at 0, so its first datum is NULL: peer-loaders §1.5 defect 1), its table
  slots start at 1, and its NEEDED libraries load after it;
* a **non-PIC main** that imports memory and table (the `dylink` style): its data stays at the
  addresses it was linked for.

Memory layout of a PIE main, in bytes (`L` = the main's MEM_INFO memorysize):

    [0, 1024)                       reserved: nothing lives at NULL (emscripten GLOBAL_BASE)
    [1024, 1024 + L)                the main's static data (`__memory_base` = 1024)
    [__stack_low, __stack_high)     the C stack (16-byte aligned; `__stack_pointer` starts high)
    [__heap_base, __heap_end)       the program's own heap (its malloc), up to the initial end
    [__heap_end, ...)               side modules: memory.grow at the *current* end, so memory
                                    the program grew itself is never handed out again
                                    (peer-loaders §1.5 defect 2)

`__heap_base`, `__heap_end`, `__stack_low` and `__stack_high` are published as data symbols
(toywasm serves them as `GOT.mem` imports).  For a non-PIC main, side modules get a stack of
their own from the heap unless the main exports `__stack_pointer`, which they then share.

What the host provides to every module: wasmtime's WASI preview 1 (`wasi_snapshot_preview1`;
argv, `--env K=V` variables, inherited stdin/stdout/stderr, host folders only with
`--dir HOST[::GUEST]`), the dl APIs of `dldbg.hosts.dlfcn` (`env.dlopen`..., `dyld.*`; a name
the program dlopens is found in its view only: `locate`, `dldbg.hosts.guestpaths`), and a
`memory` export added to every module that imports memory and calls WASI (wasmtime's WASI
finds memory through the calling instance's `memory` export).
"""

from __future__ import annotations

import os

import wasmtime

from ..errors import CallError, DldbgError, LoadError
from ..linker.loader import check_import_limits, check_mem_info, first_line
from ..linker.allocator import HeapAllocator, align_up
from ..linker.functable import FunctionTable
from ..linker.memory import LinearMemory
from ..linker.scope import Symbol
from ..wasm.edit import add_memory_export
from ..wasm.reader import WasmModule
from ..wasm.types import WASM_PAGE_SIZE
from .dlfcn import GuestDl
from .guestpaths import GuestLoads, GuestPaths, beneath
from .programs import NotAProgram, ProgramOptions, is_wasi_main

WASI_MODULES = ("wasi_snapshot_preview1", "wasi_unstable")
GLOBAL_BASE = 1024
DEFAULT_STACK_SIZE = 1 << 20
#: data symbols the host publishes for a PIE main (toywasm's layout globals)
LAYOUT_SYMBOLS = ("__heap_base", "__heap_end", "__stack_low", "__stack_high")


class WasiHost:
    """Runs a WASI main program; see the module docstring.

    :param options: the program's environment (`--dir`, `--env`, `--preload`, `-L`).
    :param stack_size: bytes of C stack for a PIE main (and for side modules of a non-PIC main).
    """

    name = "wasi"

    def __init__(self, options: ProgramOptions | None = None, *, stack_size: int = DEFAULT_STACK_SIZE):
        self.options = options or ProgramOptions()
        self.stack_size = stack_size
        self.paths = GuestPaths(self.options.dirs)
        #: the layout chosen for the main program (`plan`), in bytes
        self.layout: dict[str, int] = {}
        self.engine = None

    # -- which programs -----------------------------------------------------------------
    @classmethod
    def recognizes(cls, wasm: WasmModule, path: str) -> bool:
        """A WASI command (`_start`) or reactor (`_initialize`) that is not a `.so` library
        and not an emscripten main (`programs.is_wasi_main`)."""
        return is_wasi_main(wasm, path)

    # -- Host protocol ------------------------------------------------------------------
    def attach(self, engine) -> None:
        self.engine = engine
        store = engine.store
        self.linker = wasmtime.Linker(engine.wasm_engine)
        self.linker.define_wasi()
        self.configure_wasi([])
        table = wasmtime.Table(store, wasmtime.TableType(wasmtime.ValType.funcref(), wasmtime.Limits(1, None)), None)
        engine.table = FunctionTable(store, table, engine.table_grown)
        engine.stack_pointer = wasmtime.Global(store, wasmtime.GlobalType(wasmtime.ValType.i32(), True), wasmtime.Val.i32(0))
        self.guest_loads = GuestLoads()
        self.dl = GuestDl(engine, self.locate, self.allocate, f"{self.name} host dl API", confine=self.guest_loads)
        self._wasi_funcs: dict[str, object] = {}

    def configure_wasi(self, argv: list[str]) -> None:
        """wasmtime's WASI context: argv, `--env` variables, inherited stdio, `--dir` folders."""
        config = wasmtime.WasiConfig()
        config.argv = list(argv)
        config.env = list(self.options.env.items())
        config.inherit_stdin()
        config.inherit_stdout()
        config.inherit_stderr()
        for host, guest in self.options.dirs:
            if not os.path.isdir(host):
                raise DldbgError(f"--dir {host}: no such folder")
            config.preopen_dir(host, guest)
        self.engine.store.set_wasi(config)

    def create_memory(self, engine, limits) -> None:
        main = engine.modules[0].wasm if engine.modules else None
        if main is not None and main.memories and not main.imports_of("memory") and engine.modules[0].instance:
            raise DldbgError(f"{engine.modules[0].name} defines its own memory instead of importing it, so no "
                             "side module can share it (link the main with --import-memory)")
        if not self.layout:  # side modules only, no main program
            self.layout = self.plan(None)
        layout = self.layout
        pages = max(limits.min if limits else 0, layout["pages"])
        shared = bool(limits and limits.shared)
        maximum = limits.max if limits and limits.max is not None else None
        engine.memory = LinearMemory(engine.store, pages, maximum if maximum is not None or not shared else 65536, shared)
        engine.allocator = HeapAllocator(lambda n: engine.grow_memory(n, "side modules and host data"))
        engine.allocator.name = f"{self.name} heap (memory.grow at the current end)"
        if "stack_high" in layout:
            engine.stack_pointer.set_value(engine.store, wasmtime.Val.i32(layout["stack_high"]))
        if "heap_base" in layout:
            layout["heap_end"] = max(layout["heap_end"], pages * WASM_PAGE_SIZE)
            engine.define_symbols(self.layout_symbols())

    def prepare(self, wasm: WasmModule, data: bytes) -> bytes | None:
        """Add a `memory` export to a module that imports memory and calls WASI."""
        if "memory" in wasm.export_map or not wasm.imports_of("memory"):
            return None
        if not any(imp.kind == "func" and imp.module in WASI_MODULES for imp in wasm.imports):
            return None
        return add_memory_export(data, wasm=wasm)

    def resolve_import(self, module, imp):
        if imp.kind == "func" and imp.module in WASI_MODULES:
            return self.wasi_import(imp)
        return self.dl.resolve(module, imp)

    def wasi_import(self, imp):
        """wasmtime's WASI preview 1 function for `imp`, or None (then the engine's stub names
        it when called): the older `wasi_unstable` has other struct layouts and is not served."""
        if imp.module != "wasi_snapshot_preview1":
            return None
        if imp.field not in self._wasi_funcs:
            try:
                self._wasi_funcs[imp.field] = self.linker.get(self.engine.store, imp.module, imp.field)
            except wasmtime.WasmtimeError:
                return None  # not a WASI preview 1 function
        return self._wasi_funcs[imp.field], "wasmtime WASI"

    def locate(self, name: str) -> str:
        """The host file a name the program dlopens stands for, in the program's view only.

        A name with a `/` is a guest path: through the `--dir` folders, symbolic links resolved
        beneath them (`GuestPaths.locate`); never against the host's current folder.  A bare
        name is searched in the folders the host chose: `-L`, `LD_LIBRARY_PATH`, the program's
        own folder.  Raises DlError, with one message for every name the program cannot see.
        """
        if "/" in name:
            return self.paths.locate(name)
        env = os.environ if self.engine.environ is None else self.engine.environ
        folders = [*self.engine.library_path, *[p for p in env.get("LD_LIBRARY_PATH", "").split(":") if p]]
        for folder in folders:
            path = os.path.join(os.path.abspath(folder), name)
            if os.path.isfile(path):
                return path
        if not folders or name in ("", ".", ".."):
            raise self.paths.not_visible(name)
        # Not found: the engine reports the failed read of the last folder's candidate (a
        # `load.fail` event, as for any dlopen of a missing library).
        return os.path.join(os.path.abspath(folders[-1]), name)

    def visible(self, path: str) -> bool:
        """Whether a NEEDED candidate may be looked at (the engine's `find_library` hook).
        During a load the program started (a library it dlopens may come from a `--dir`
        folder it can write), only files beneath the `--dir` folders and the folders the host
        chose (-L, LD_LIBRARY_PATH, the program's own) count, symbolic links resolved; others
        are never touched, so a RUNTIME_PATH or NEEDED entry cannot probe the host either."""
        if not self.guest_loads.depth:
            return True
        env = os.environ if self.engine.environ is None else self.engine.environ
        return beneath(path, [*(host for host, _ in self.paths.dirs), *self.engine.library_path,
                              *(p for p in env.get("LD_LIBRARY_PATH", "").split(":") if p)])

    # -- memory for the host's own data --------------------------------------------------
    def allocate(self, size: int) -> int:
        """Guest memory for host data (dlerror strings)."""
        return self.engine.allocator.allocate(size, 8)

    # -- layout -------------------------------------------------------------------------
    def plan(self, wasm: WasmModule | None) -> dict[str, int]:
        """The memory layout for main module `wasm` (None: no main, side modules only)."""
        dylink = wasm.dylink if wasm is not None else None
        if wasm is not None and dylink is None:  # fixed addresses: the main decides
            return {"pages": 0, "memory_base": 0, "table_base": 0}
        memory_base = align_up(GLOBAL_BASE, dylink.mem_alignment_bytes if dylink else 1)
        data_end = memory_base + (dylink.mem_size if dylink else 0)
        stack_low = align_up(data_end, 16)
        stack_high = stack_low + self.stack_size
        pages = align_up(stack_high, WASM_PAGE_SIZE) // WASM_PAGE_SIZE
        return {"pages": pages, "memory_base": memory_base, "table_base": 1, "stack_low": stack_low,
                "stack_high": stack_high, "heap_base": stack_high, "heap_end": pages * WASM_PAGE_SIZE}

    def layout_symbols(self) -> dict[str, Symbol]:
        values = {"__heap_base": self.layout["heap_base"], "__heap_end": self.layout["heap_end"],
                  "__stack_low": self.layout["stack_low"], "__stack_high": self.layout["stack_high"]}
        return {name: Symbol(name, "data", f"{self.name} host", 0, address=value) for name, value in values.items()}

    # -- running ------------------------------------------------------------------------
    def run(self, engine, path: str, argv: list[str]) -> int:
        """Load the program (NEEDED libraries, `--preload`), then call `_start` (or
        `_initialize`); the exit status is `proc_exit`'s code, else 0."""
        wasm = engine.files.get(path)[1]
        self.load(engine, path, argv, wasm)
        entry = "_start" if "_start" in engine.main.externs else "_initialize"
        if entry not in engine.main.externs:
            raise NotAProgram(f"{path}: exports neither _start nor _initialize")
        return self.call_entry(engine, engine.main.externs[entry], f"{engine.main.name}!{entry}")

    def load(self, engine, path: str, argv: list[str], wasm: WasmModule):
        """Everything up to the entry point: WASI, the layout, the main and its libraries."""
        self.configure_wasi(argv)
        if wasm.dylink is not None:
            check_mem_info(engine, path, wasm.dylink)
        self.layout = self.plan(wasm)
        # Bare names given to dlopen are also looked for beside the program (toywasm's
        # default `--dyld-path .`, dylink's folder-relative reads).
        engine.library_path = (*engine.library_path, os.path.dirname(os.path.abspath(path)))
        table_import = next((i for i in wasm.imports if i.kind == "table"), None)
        slots = max(table_import.desc.limits.min if table_import else 0,
                    self.layout["table_base"] + (wasm.dylink.table_size if wasm.dylink else 0))
        if table_import is not None:
            check_import_limits(engine, path, table_import)
        if wasm.dylink is not None and wasm.dylink.table_size > engine.limits.table_size:
            raise LoadError(path, "table", f"MEM_INFO tablesize {wasm.dylink.table_size} is above "
                            f"{engine.limits.describe('table_size')}", wasm.dylink.offset)
        if slots > engine.table.size:
            # The main's own slots first, so that slots handed out while its imports are
            # resolved (GOT.func) come after them.
            try:
                engine.table.grow(slots - engine.table.size, f"{os.path.basename(path)} table (slot 0 stays null)")
            except wasmtime.WasmtimeError as exc:
                raise LoadError(path, "table", f"the table cannot grow to {slots} slots: {first_line(exc)}") from None
        if wasm.dylink is None:
            engine.listeners.append(self._non_pic_stack)
        main = engine.load_program(path, memory_base=self.layout["memory_base"], table_base=self.layout["table_base"],
                                   preload=self.options.preload)
        return main

    def _non_pic_stack(self, event) -> None:
        """A non-PIC main keeps its stack pointer to itself unless it exports it: side modules
        then share it, else they get a stack of their own from the heap."""
        if event.kind != "instantiate" or not self.engine.modules:
            return
        engine = self.engine
        engine.listeners.remove(self._non_pic_stack)
        main = engine.modules[0]
        exported = main.externs.get("__stack_pointer")
        if isinstance(exported, wasmtime.Global) and exported.type(engine.store).mutable \
                and str(exported.type(engine.store).content) == "i32":
            engine.stack_pointer = exported
            return
        if engine.allocator is None:  # the main defines its own memory: no side module can share it
            return
        low = engine.allocator.allocate(self.stack_size, 16)
        engine.stack_pointer.set_value(engine.store, wasmtime.Val.i32(low + self.stack_size))

    def call_entry(self, engine, func, name: str, args=()) -> int:
        """Call a program entry point: 0, or the code given to `proc_exit`."""
        if not callable(func):  # a Func, or a host's closure over one (CoWasm's exec)
            kind = type(func).__name__.lower()
            raise CallError(f"{name} failed: the export is a {kind}, not a function to call as the entry point")
        engine.store.set_epoch_deadline(1)
        try:
            func(engine.store, *args)
            return 0
        except wasmtime.ExitTrap as exc:
            return exc.code
        except wasmtime.Trap as trap:
            frames = tuple(engine.describe_frame(f) for f in (trap.frames or []))
            raise CallError(f"{name} trapped: {first_line(trap)}", trap=first_line(trap), backtrace=frames) from None
        except wasmtime.WasmtimeError as exc:
            raise CallError(f"{name} failed: {first_line(exc)}") from None
