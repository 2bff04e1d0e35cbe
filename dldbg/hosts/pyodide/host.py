"""PyodideHost: Pyodide's main module under wasmtime, and wheels' libraries loaded as Pyodide loads them.

What node does with Pyodide's glue, and what dldbg does instead (sources: emscripten 4/5
`src/lib/libdylink.js` as built into `pyodide.asm.mjs`, Pyodide `src/js/dynload.ts`):

1. The main module (`pyodide.asm.wasm`) defines its memory and function table and exports them
   (emscripten 4+, 314.x); dldbg turns those two into imports with the same limits
   (`dldbg.wasm.edit.import_memory_and_table`) so that the loader owns them from the start.
   An older, relocatable main (0.29.x) imports them already; its layout (`__memory_base`,
   `__stack_pointer`, `__heap_base`) comes from the values the glue bakes in.
2. Every JavaScript function of the glue (`wasmImports`: EM_JS, functions on `externref`, GL,
   SDL, syscalls, ...) is a stub that traps naming the function when called
   (`pyodide: JavaScript function env.NAME is not available under wasmtime`); a few that only
   touch memory or the clock run (emscripten's own `emscripten_resize_heap`,
   `emscripten_get_heap_max`, `emscripten_get_now`, `emscripten_date_now`).  WASI functions are
   wasmtime's.  They are published before the main's exports, as `wasmImports` holds them
   before `mergeLibSymbols` adds the main's.
3. The main is instantiated, its relocations and constructors run (`__wasm_call_ctors`), Python
   is not started.  Its exports are the global scope (emscripten `LDSO.init`:
   `newDSO("__main__", 0, wasmImports)`); its `__stack_pointer` and exception tags are the ones
   side modules import.
4. A wheel's libraries load as `loadDynlib` loads them: one `emscripten_dlopen_promise(path,
   RTLD_NOW | RTLD_LOCAL)` per library, in the order of the wheel's file list (Pyodide
   `_package_loader.get_dynlibs`), each with its own local scope; NEEDED libraries load with the
   same flags into the same local scope, searched in the library's RUNTIME_PATH (`$ORIGIN`),
   then the `-L` folders, then `LD_LIBRARY_PATH` (Pyodide: `/usr/lib`, the distribution's
   shared libraries, and site-packages).  emscripten binds function imports lazily even for
   RTLD_NOW (a missing function fails when called: `cannot resolve symbol NAME`), so the
   engine's dlopen is RTLD_LAZY | RTLD_LOCAL; data symbols (GOT) must resolve at load.
   Memory for a library comes from the main's `calloc` (the runtime is initialised).
"""

from __future__ import annotations

import os

import wasmtime

from ...errors import DldbgError, DlError, LoadError
from ...linker.flags import RTLD_LAZY, RTLD_LOCAL
from ...linker.functable import FunctionTable
from ...linker.memory import LinearMemory
from ...linker.scope import Symbol
from ...linker.wasmtypes import functype
from ...wasm.edit import add_memory_export, import_memory_and_table
from ...wasm.reader import WasmModule
from ...wasm.types import FuncType
from ..emscripten.heap import EmscriptenHeap
from ..emscripten.registry import IMPORTS, WASI_MODULES, load_all, sig_to_types
from ..emscripten.runtime import Runtime
from ..programs import ProgramOptions
from .dist import Distribution
from .inputs import Inputs
from .jsstubs import MODULE as STUB_MODULE, JsStubs

STUB_PREFIX = STUB_MODULE + "!"
#: JavaScript functions of the glue that dldbg runs (emscripten's own, memory and clocks only)
RUNNABLE = ("emscripten_resize_heap", "emscripten_get_heap_max", "emscripten_get_now", "emscripten_date_now",
            "_emscripten_get_now_is_monotonic")
#: the dlopen mode of Pyodide's loadDynlib (dynload.ts: `RTLD_NOW (2) | RTLD_LOCAL (0)`), as the
#: engine applies it: emscripten's loader binds function imports lazily whatever the mode
LOAD_DYNLIB_FLAGS = RTLD_LAZY | RTLD_LOCAL


class PyodideLoadError(DldbgError):
    """`loadDynlib` failed for a library: `message` is what Pyodide's error would say;
    `cause` is the engine's LoadError."""

    def __init__(self, library: str, cause: LoadError):
        self.library = library
        self.cause = cause
        same = os.path.realpath(cause.path) == os.path.realpath(library)
        at = f" at byte offset {cause.offset:#x}" if cause.offset is not None else ""
        where = "" if same else f"{cause.path}: "
        super().__init__(f"Failed to load dynamic library {library}: {where}{cause.stage}: {cause.reason}{at}")


class PyodideHost(Runtime):
    """The Host protocol of `dldbg.linker.engine` for Pyodide's main module.

    :param dist: the distribution (`dist.open_distribution`).
    :param inputs: the wheel, folders or `.so` files to load (`inputs.open_inputs`), or None.
    :param options: `-L` folders (`library_path`) are searched for NEEDED libraries.
    """

    name = "pyodide"

    @classmethod
    def recognizes(cls, wasm: WasmModule, path: str) -> bool:
        """Chosen by `--pyodide`, never by the main module alone."""
        return False

    def __init__(self, dist: Distribution, inputs: Inputs | None = None, options: ProgramOptions | None = None,
                 *, stdout=None, stderr=None):
        self.dist = dist
        self.inputs = inputs
        self.options = options or ProgramOptions()
        self._init_runtime(stdout, stderr)
        self.main_path = str(dist.main)
        self.heap_base = 0
        self.table_base = 0
        #: the exception-handling encoding of the main's file (dldbg.wasm.eh), once it is read
        self.main_eh: str | None = None
        self.js = dict(dist.js_functions)
        self._funcs: dict[tuple, wasmtime.Func] = {}
        self._wasi: dict[str, object] = {}
        load_all()

    # -- Host protocol -----------------------------------------------------------------
    def attach(self, engine) -> None:
        self.engine = engine
        store = engine.store
        table = wasmtime.Table(store, wasmtime.TableType(wasmtime.ValType.funcref(), wasmtime.Limits(0, None)), None)
        engine.table = FunctionTable(store, table, engine.table_grown)
        engine.stack_pointer = wasmtime.Global(store, wasmtime.GlobalType(wasmtime.ValType.i32(), True),
                                               wasmtime.Val.i32(0))
        self.stubs = JsStubs(engine)
        self.linker = wasmtime.Linker(engine.wasm_engine)
        self.linker.define_wasi()
        config = wasmtime.WasiConfig()
        config.inherit_stdout()
        config.inherit_stderr()
        store.set_wasi(config)
        folders = [*self.options.library_path]
        if self.inputs is not None:
            folders += [str(root) for root in self.inputs.roots]
        folders.append(str(self.dist.folder))  # /usr/lib of Pyodide: where loadPackage puts shared libraries
        engine.library_path = tuple(dict.fromkeys([*engine.library_path, *folders]))

    def create_memory(self, engine, limits) -> None:
        minimum = limits.min if limits else 0
        engine.memory = LinearMemory(engine.store, minimum, limits.max if limits else None, bool(limits and limits.shared))
        engine.allocator = EmscriptenHeap(self, self.heap_base)
        engine.allocator.name = "emscripten getMemory (the main's calloc)"

    def prepare(self, wasm: WasmModule, data: bytes) -> bytes | None:
        """The main: the JS functions are published, its memory and table become imports.  A
        module that calls WASI and imports its memory gets a `memory` export (wasmtime's WASI
        finds memory through it)."""
        if os.path.realpath(wasm.path or "") == os.path.realpath(self.main_path):
            self._reserve_main_table(wasm)
            self._publish_js(wasm)
            if wasm.memories and not wasm.imports_of("memory"):
                self.engine.ensure_memory(wasm.memories[0].limits)
                return import_memory_and_table(data, wasm)
        if "memory" not in wasm.export_map and wasm.imports_of("memory") and any(
                imp.kind == "func" and imp.module in WASI_MODULES for imp in wasm.imports):
            return add_memory_export(data, wasm=wasm)
        return None

    def _reserve_main_table(self, wasm: WasmModule) -> None:
        """The glue's table holds the main's elements before anything else gets a slot
        (`new WebAssembly.Table({initial: ...})`; the main's GOT.func entries for JavaScript
        functions get theirs after instantiation, `reportUndefinedSymbols` -> `addFunction`)."""
        table = self.engine.table
        tables = [imp.desc for imp in wasm.imports_of("table")] + [t.type for t in wasm.tables]
        need = tables[0].limits.min if tables else 0
        if wasm.dylink is not None:
            need = max(need, self.table_base + wasm.dylink.table_size)
        if table.size < need:
            table.grow(need - table.size, f"the main's table ({need} slots, as the glue creates it)")

    def resolve_import(self, module, imp):
        if imp.kind != "func":
            return None
        ftype = module.wasm.types[imp.desc]
        if imp.module in WASI_MODULES:
            return self._wasi_func(imp, ftype)
        if imp.module != "env":
            return None
        is_main = os.path.realpath(module.path) == os.path.realpath(self.main_path)
        if is_main or imp.field in self.js:
            # the proxy of libdylink.js: a name in wasmImports is the JavaScript function itself
            return self._js_func(imp.field, ftype), "Pyodide JS glue (wasmImports)"
        return None

    def explain_trap(self, message: str, frames: tuple[str, ...]) -> str | None:
        if frames and frames[0].startswith(STUB_PREFIX):
            name = frames[0][len(STUB_PREFIX):]
            return (f"pyodide: JavaScript function {name} is not available under wasmtime "
                    "(it is part of Pyodide's JS glue)")
        return None

    # -- functions ----------------------------------------------------------------------
    def _wasi_func(self, imp, ftype: FuncType):
        if imp.module == "wasi_snapshot_preview1":
            try:
                func = self._wasi.get(imp.field) or self.linker.get(self.engine.store, imp.module, imp.field)
                self._wasi[imp.field] = func
                if self.engine.func_type_of(func) == ftype:
                    return func, "wasmtime WASI"
            except wasmtime.WasmtimeError:
                pass
        return self._stub("env" if imp.module not in WASI_MODULES else imp.module, imp.field, ftype), \
            "Pyodide JS glue (not available: traps when called)"

    def _js_func(self, name: str, ftype: FuncType) -> wasmtime.Func:
        if name in RUNNABLE and name in IMPORTS:
            key = ("impl", name, ftype)
            if key not in self._funcs:
                impl = IMPORTS[name].func
                rt = self

                def call(*args, impl=impl):
                    value = impl(rt, *args)
                    if not ftype.results:
                        return None
                    return float(value) if ftype.results[0] in ("f32", "f64") else int(value or 0)

                self._funcs[key] = wasmtime.Func(self.engine.store, functype(ftype), call)
            return self._funcs[key]
        return self._stub("env", name, ftype)

    def _stub(self, module: str, name: str, ftype: FuncType) -> wasmtime.Func:
        return self.stubs.get(module, name, ftype)

    def _publish_js(self, wasm: WasmModule) -> None:
        """`wasmImports` before the main's exports: the JS functions with a `.sig` (a GOT.func
        entry or dlsym of one needs a table slot of a known type)."""
        keys, names = [], []
        for name, sig in sorted(self.js.items()):
            if not sig:
                continue
            try:
                params, results = sig_to_types(sig)
            except KeyError:
                continue
            keys.append(("env", name, FuncType(params, results)))
            names.append(name)
        # the main's own env imports, with their real types, in the same stub module
        keys += [("env", imp.field, wasm.types[imp.desc]) for imp in wasm.imports
                 if imp.kind == "func" and imp.module == "env" and imp.field not in RUNNABLE]
        self.stubs.make(keys)
        symbols = {}
        for (module, name, ftype) in keys[: len(names)]:
            func = self._js_func(name, ftype)
            symbols[name] = Symbol(name, "func", "Pyodide JS glue", 0, extern=func, key=("host", name), func_type=ftype)
        self.engine.define_symbols(symbols)

    # -- the main -----------------------------------------------------------------------
    def load_main(self) -> object:
        """Instantiate the main, run its relocations and constructors; returns its LoadedModule.
        Raises LoadError."""
        engine = self.engine
        layout = self._layout()
        self.table_base = layout.get("table_base", 0)
        self.heap_base = layout.get("heap_base", 0)
        if "stack_pointer" in layout:
            engine.stack_pointer.set_value(engine.store, wasmtime.Val.i32(layout["stack_pointer"]))
        if layout.get("symbols"):
            engine.define_symbols(layout["symbols"])

        def note_encoding(event) -> None:
            if event.kind == "module.read" and os.path.realpath(event.path) == os.path.realpath(self.main_path):
                self.main_eh = event.eh_encoding

        engine.listeners.append(note_encoding)
        self.stubs.set_lenient(True)  # see jsstubs: the constructors' JavaScript calls return zero
        try:
            main = engine.load_program(self.main_path, memory_base=layout.get("memory_base", 0),
                                       table_base=layout.get("table_base", 0), needed=False)
        finally:
            self.stubs.set_lenient(False)
            engine.listeners.remove(note_encoding)
        stack = main.externs.get("__stack_pointer")
        if isinstance(stack, wasmtime.Global):
            engine.stack_pointer = stack  # the main's own: side modules import it
        heap = main.exports.get("__heap_base")
        if heap is not None and heap.kind == "data":
            self.heap_base = heap.address
        if engine.allocator is not None:
            engine.allocator.heap_base = self.heap_base
        self.runtime_initialized = True  # getMemory is calloc from now on
        return main

    def _layout(self) -> dict:
        """A relocatable main (0.29.x: it imports its memory) gets the addresses its glue bakes
        in (`var ___memory_base=new WebAssembly.Global(..., 1024)`, `___stack_pointer`,
        `___heap_base`, ...); a main with its own memory (314.x) has fixed addresses (memory
        base 0) and exports `__heap_base` and `__stack_pointer`: nothing to do."""
        import re

        glue = self.dist.glue
        text = glue.read_text(encoding="utf-8", errors="replace") if glue else ""
        if "var ___memory_base=" not in text:
            return {}

        def number(name: str) -> int | None:
            match = re.search(rf"var ___{name}=(?:new WebAssembly\.Global\(\{{[^}}]*\}},)?(\d+)", text)
            return int(match.group(1)) if match else None

        out: dict = {"memory_base": number("memory_base") or 1024, "table_base": number("table_base") or 1}
        for name in ("stack_pointer", "heap_base"):
            if number(name) is not None:
                out[name] = number(name)
        out["symbols"] = {f"__{name}": Symbol(f"__{name}", "data", "Pyodide JS glue", 0, address=number(name))
                          for name in ("heap_base", "stack_low", "stack_high") if number(name) is not None}
        return out

    # -- wheels -------------------------------------------------------------------------
    def load_dynlib(self, path: str) -> object:
        """Pyodide `loadDynlib(path)`: dlopen RTLD_NOW | RTLD_LOCAL through the engine; returns
        the LoadedModule.  Raises PyodideLoadError (the engine's LoadError is its `cause`)."""
        try:
            handle = self.engine.dlopen(path, LOAD_DYNLIB_FLAGS)
        except DlError as exc:
            cause = exc.__cause__
            if not isinstance(cause, LoadError):
                cause = LoadError(path, "read", str(exc))
            raise PyodideLoadError(path, cause) from None
        return self.engine.by_handle[handle]

    def run(self, engine, path: str, argv: list[str]) -> int:
        """`run`: the main, then every library of the inputs as Pyodide's installer loads a
        wheel (`loadDynlibsFromPackage`: in order, stopping at the first failure).  Returns 0;
        raises PyodideLoadError or LoadError."""
        if engine.main is None:
            self.load_main()
        for library in (self.inputs.libraries if self.inputs is not None else []):
            if library.pyodide_loads:
                self.load_dynlib(str(library.path))
        return 0


def program_host(dist: Distribution, inputs: Inputs | None):
    """A program-host factory for the debugger's Session (`program_host(ProgramOptions) -> Host`):
    a fresh PyodideHost on `dist` and `inputs` for every engine (`run` again starts anew)."""

    def make(options: ProgramOptions) -> PyodideHost:
        return PyodideHost(dist, inputs, options)

    make.__name__ = PyodideHost.__name__  # what front ends call the program's host
    return make
