"""EmscriptenHost: runs an emscripten 3.1.6 `-sMAIN_MODULE` program on the linker engine.

`dldbg run main.wasm [-- ARGS]` does what `node main.js ARGS` does with the glue emcc wrote:

1. the layout (layout.py) gives the memory, the table, `__stack_pointer`, `__heap_base`;
2. the JS-library functions the main imports are provided (registry.py and the modules it
   names); one that is not implemented becomes a wasm function that traps, so the trap names
   it (`emscripten import env.NAME is not implemented`) with the program's backtrace;
3. `engine.load_program` instantiates the main at `__memory_base` 1024 / `__table_base` 1,
   then (unless built with NO_AUTOLOAD_DYLIBS) its NEEDED libraries, found beside it or on
   `-L`, with `getMemory` from `__heap_base`; the undefined-symbol check runs once, then the
   constructors, main's first (emscripten's `__ATINIT__` order);
4. `main(argc, argv)` runs with argv[0] = the main.js path (node's `thisProgram`), the strings
   on the wasm stack as `callMain` puts them there;
5. exit as `postamble.js` does it: `exit(ret, implicit)`, the ASSERTIONS check for unflushed
   stdio, EXIT_RUNTIME's flush; work queued for the event loop (`emscripten_dlopen`
   callbacks) runs after main returns; the exit status is node's: main's return value or
   exit()'s status, 7 for an uncaught exception (node's exit code when the glue's
   uncaughtException handler rethrows), 1 for one with EXIT_RUNTIME.

What node would print for an uncaught exception is its JavaScript stack; dldbg prints
`RuntimeError: MESSAGE` and the wasm backtrace (module!function, from the name sections).
"""

from __future__ import annotations

import inspect
import os
import weakref

import wasmtime

from ...errors import CallError, DldbgError, LoadError, UndefinedSymbolError
from ...linker.engine import UnresolvedCallError
from ...linker.functable import FunctionTable
from ...linker.loader import check_mem_info
from ...linker.memory import LinearMemory
from ...linker.scope import ExternWhenUsed, Symbol
from ...linker.wasmtypes import functype
from ...textsafe import printable
from ...wasm.reader import WasmModule
from ...wasm.types import WASM_PAGE_SIZE, FuncType
from ..guestpaths import GuestLoads, beneath
from ..programs import ProgramOptions, emscripten_main_style
from . import exceptions
from .dynlink import loader_error_text
from .fs import SandboxFS
from .heap import EmscriptenHeap
from .layout import read_layout
from .registry import FAMILIES, IMPORTS, WASI_MODULES, load_all, sig_to_types
from .runtime import CxxException, ExitStatus, JsError, JsThrow, LongjmpThrow, Runtime, to_i32
from .traps import (ABORT_MODULE, ABORTING, STUB_MODULE, UNCAUGHT_EXIT, aborting_function, stub_functions, stub_message,
                    v8_message)

class EmscriptenHost(Runtime):
    name = "emscripten"
    #: JavaScript exceptions (exit(), a C++ throw, abort) pass through a failed load unchanged
    passthrough_exceptions = (JsThrow,)

    @classmethod
    def recognizes(cls, wasm: WasmModule, path: str) -> bool:
        """An emscripten 3.1.6-style main: it imports from `env` and exports emscripten's stack
        helpers `stackSave`/`stackRestore` (`emscripten_main_style`; mains of later emscriptens
        get `unrunnable_reason` instead)."""
        return emscripten_main_style(wasm) == "3"

    def __init__(self, options: ProgramOptions | None = None, *, stdout=None, stderr=None):
        self.options = options or ProgramOptions()
        self._init_runtime(stdout, stderr)
        self.fs: SandboxFS | None = None
        self.main_path: str | None = None
        self.published: set[str] = set()
        #: the trap stubs published (`_publish`), made when first used
        self.published_stubs = _PublishedStubs(self)
        self._funcs: dict[tuple, wasmtime.Func] = {}
        self._stubs: dict[tuple, wasmtime.Func] = {}
        self._abort_message: str | None = None
        self.guest_loads = GuestLoads()
        load_all()

    # -- Host protocol -----------------------------------------------------------------
    def visible(self, path: str) -> bool:
        """Whether a NEEDED candidate may be looked at (the engine's `find_library` hook).
        During a dlopen the program made (`dynlink.load_library`), only files in its file
        system's host folders (its folder, `--dir` folders, the private layers), the `-L`
        folders and the program's folder count: a library it wrote to `/tmp` or a `--dir`
        folder cannot reach or probe a host file through RUNTIME_PATH or NEEDED entries."""
        if not self.guest_loads.depth or self.fs is None:
            return True
        folders = [host for _, host, _ in self.fs.mounts]
        folders += [overlay.upper for _, _, overlay in self.fs.mounts if overlay is not None]
        return beneath(path, [*folders, *self.engine.library_path, os.path.dirname(self.main_path or "/")])

    def attach(self, engine) -> None:
        self.engine = engine
        store = engine.store
        table = wasmtime.Table(store, wasmtime.TableType(wasmtime.ValType.funcref(), wasmtime.Limits(1, None)), None)
        engine.table = FunctionTable(store, table, engine.table_grown)
        engine.stack_pointer = wasmtime.Global(store, wasmtime.GlobalType(wasmtime.ValType.i32(), True),
                                               wasmtime.Val.i32(0))

    def create_memory(self, engine, limits) -> None:
        layout = self.layout
        if layout is None:
            raise DldbgError("the emscripten program has not started: its memory is laid out by `run` "
                             "(emscripten's glue), so run the program before loading libraries")
        pages = max(limits.min if limits else 0, layout.initial_memory // WASM_PAGE_SIZE)
        if limits is not None and limits.max is not None:
            maximum = limits.max
        elif layout.maximum_memory is not None:
            maximum = layout.maximum_memory // WASM_PAGE_SIZE
        else:
            maximum = None
        shared = bool(limits and limits.shared)
        engine.memory = LinearMemory(engine.store, pages, maximum, shared)
        engine.allocator = EmscriptenHeap(self, layout.heap_base)

    def resolve_import(self, module, imp):
        how = self._provides(module.wasm, imp, module.path == self.main_path)
        if how is None:
            return None
        name, ftype = imp.field, module.wasm.types[imp.desc]
        if how == "family":
            return self._family_func(name, ftype), "emscripten host"
        if how == "abort":
            return self._aborting_func(name, ftype), "emscripten host"
        if how == "impl":
            return self._impl_func(name, ftype), "emscripten host"
        key = (imp.module, name, ftype)
        if key not in self._stubs:  # the module's first stub: all its stubs, from one wasm module
            self._make_stubs(self._stub_keys(module))
        return self._stubs[key], "emscripten host (not implemented: traps when called)"

    def _provides(self, wasm: WasmModule, imp, is_main: bool) -> str | None:
        """How the host provides the import `imp` of `wasm` (the main's if `is_main`): `family`
        (invoke_*, __cxa_find_matching_catch_*), `abort`, `impl` (a JS-library function dldbg
        implements), `stub` (one it does not: a trap stub), or None (not the host's)."""
        if imp.kind != "func" or imp.module not in ("env", *WASI_MODULES):
            return None
        name = imp.field
        if name.startswith(FAMILIES):
            return "family"
        if name in ABORTING and not wasm.types[imp.desc].results and (is_main or name in self.published) \
                and _takes(IMPORTS[name].func, wasm.types[imp.desc]):
            return "abort"
        if name in IMPORTS and (is_main or name in self.published):
            return "impl"
        if (name in self.layout.library_functions or name in self.published) and name not in self.layout.external_symbols:
            return "stub"
        return None

    def _stub_keys(self, module) -> list[tuple]:
        """The (import module, name, type) of every trap stub the module `module` (a
        LoadedModule) binds: its function imports the host does not implement, and its
        `GOT.func` imports of the JS-library functions published as stubs."""
        wasm, is_main = module.wasm, module.path == self.main_path
        published = self.published_stubs.types
        keys = [("env", imp.field, published[imp.field]) for imp in wasm.imports
                if imp.module == "GOT.func" and imp.field in published]
        keys += [(imp.module, imp.field, wasm.types[imp.desc]) for imp in wasm.imports
                 if self._provides(wasm, imp, is_main) == "stub"]
        return keys

    def explain_trap(self, message: str, frames: tuple[str, ...]) -> str | None:
        """The trap of an unimplemented import's stub names the import; the trap that ends an
        abort is the abort's message."""
        if frames and frames[0].startswith(STUB_MODULE + "!"):
            return stub_message(frames[0].split("!", 1)[1])
        if frames and frames[0].startswith(ABORT_MODULE + "!") and self._abort_message:
            return self._abort_message
        return None

    def _aborting_func(self, name: str, ftype: FuncType) -> wasmtime.Func:
        """`abort`, `__assert_fail`: the JS function runs (it prints `Aborted(...)`), then a wasm
        `unreachable` ends the program with a real trap, so the abort has a wasm backtrace."""
        key = ("abort", name, ftype)
        if key not in self._funcs:
            impl = IMPORTS[name].func

            def record(*args):
                try:
                    impl(self, *args)
                except JsError as exc:
                    self._abort_message = exc.message
                    return None
                raise JsError("Error", f"{name} returned")  # cannot happen: these always abort

            self._funcs[key] = aborting_function(self.engine, name, ftype, record)
        return self._funcs[key]

    # -- functions ----------------------------------------------------------------------
    def _wrap(self, impl, ftype: FuncType):
        rt = self
        result = ftype.results[0] if ftype.results else None

        def call(*args):
            value = impl(rt, *args)
            if result is None:
                return None
            if value is None or value is False:
                value = 0
            if result == "i32":
                return to_i32(int(value))
            if result == "i64":
                value = int(value) & 0xFFFFFFFFFFFFFFFF
                return value - (1 << 64) if value >> 63 else value
            return float(value)

        return wasmtime.Func(self.engine.store, functype(ftype), call)

    def _impl_func(self, name: str, ftype: FuncType) -> wasmtime.Func:
        key = ("impl", name, ftype)
        if key not in self._funcs:
            impl = IMPORTS[name].func
            if not _takes(impl, ftype):
                impl = _wrong_type(name, ftype)
            self._funcs[key] = self._wrap(impl, ftype)
        return self._funcs[key]

    def _family_func(self, name: str, ftype: FuncType) -> wasmtime.Func:
        key = ("family", name, ftype)
        if key not in self._funcs:
            if name.startswith("invoke_"):
                sig = name.split("_", 1)[1]
                legalized = "j" in sig and "i64" not in ftype.params + ftype.results

                def impl(rt, index, *args, sig=sig, legalized=legalized):
                    return exceptions.invoke(rt, sig, legalized, index, *args)
            else:
                impl = exceptions.find_matching_catch
            self._funcs[key] = self._wrap(impl if _takes(impl, ftype) else _wrong_type(name, ftype), ftype)
        return self._funcs[key]

    def _stub(self, module: str, name: str, ftype: FuncType) -> wasmtime.Func:
        key = (module, name, ftype)
        if key not in self._stubs:
            self._make_stubs([key])
        return self._stubs[key]

    def _make_stubs(self, keys: list[tuple]) -> None:
        keys = [k for k in dict.fromkeys(keys) if k not in self._stubs]
        self._stubs.update(zip(keys, stub_functions(self.engine, keys)))

    def _publish(self, wasm: WasmModule) -> None:
        """The glue's `asmLibraryArg`: what side modules, GOT.func entries and dlsym(RTLD_DEFAULT)
        find by name, ahead of every module's exports (emscripten's mergeLibSymbols keeps them)."""
        layout = self.layout
        main_exports = set(wasm.export_names)  # (no `Export` made per export of a parse read back)
        if layout.js_path is not None:
            names = set(layout.library_functions) | set(layout.module_functions)
        else:
            names = {imp.field for imp in wasm.imports if imp.kind == "func" and imp.module in ("env", *WASI_MODULES)
                     and imp.field in IMPORTS}
        names |= {imp.field for imp in wasm.imports
                  if imp.module == "GOT.func" and imp.field not in main_exports and imp.field in layout.js_sigs}
        names -= layout.external_symbols
        names = {n for n in names if not n.startswith(FAMILIES)}
        self.published = names
        symbols: dict[str, Symbol] = {
            "__heap_base": Symbol("__heap_base", "data", "emscripten", 0, address=layout.heap_base),
        }
        stubs = self.published_stubs
        for name in sorted(names):
            sig = layout.js_sigs.get(name) or layout.library_functions.get(name) or (
                IMPORTS[name].sig if name in IMPORTS else "")
            if not sig:
                continue  # a JS function without `.sig` cannot enter the table in emscripten either
            try:
                params, results = sig_to_types(sig)
            except KeyError:
                continue
            ftype = FuncType(params, results)
            if name in IMPORTS:
                symbols[name] = Symbol(name, "func", "emscripten", 0, extern=self._impl_func(name, ftype),
                                       key=("host", name), func_type=ftype)
            else:
                stubs.types[name] = ftype
                # a trap stub, made when first used (a side module's import, a GOT.func entry,
                # dlsym): a MAIN_MODULE program publishes hundreds, and compiling them all
                # (with a host-call trampoline each) cost a cold run a tenth of a second
                symbols[name] = _stub_symbol(name, ftype, stubs)
        self.engine.define_symbols(symbols)

    # -- running ------------------------------------------------------------------------
    def run(self, engine, path: str, argv: list[str]) -> int:
        """Run the program; returns node's exit status for it."""
        wasm = engine.files.get(path)[1]
        self.main_path = os.path.abspath(path)
        layout = self.layout = read_layout(path, wasm)
        self.this_program = os.path.abspath(layout.js_path) if layout.js_path else "./this.program"
        self.env_overrides = dict(self.options.env)
        self.fs = SandboxFS(os.path.dirname(self.main_path), self.options.dirs, raw_stdio=layout.noderawfs)
        if wasm.dylink is not None:
            check_mem_info(engine, path, wasm.dylink)
        if layout.table_initial > engine.limits.table_size:
            raise LoadError(path, "table", f"the glue's table of {layout.table_initial} slots is above "
                            f"{engine.limits.describe('table_size')}")
        if not 0 <= layout.stack_low <= layout.stack_high < 1 << 32:
            raise LoadError(path, "memory", f"the stack [{layout.stack_low:#x}, {layout.stack_high:#x}) does not fit "
                            "in a 32-bit memory")
        engine.stack_pointer.set_value(engine.store, wasmtime.Val.i32(to_i32(layout.stack_high)))
        if engine.table.size < layout.table_initial:
            engine.table.grow(layout.table_initial - engine.table.size, "the glue's WebAssembly.Table (initial size)")
        self._publish(wasm)
        engine.listeners.append(self._on_event)
        self.crashed = False
        try:
            if self._guard(lambda: self._start(path, argv[1:])):
                while self.tasks and not self.crashed:
                    task = self.next_task()
                    if not self._guard(task):
                        break
        finally:
            self.fs.close_all()
        if self.crashed:
            return UNCAUGHT_EXIT if self.crash_keepalive else 1
        return self.exit_status & 0xFF if self.exit_status >= 0 else self.exit_status & 0xFF

    def _start(self, path: str, args: list[str]) -> None:
        engine = self.engine
        try:
            engine.load_program(path, memory_base=self.layout.memory_base, table_base=self.layout.table_base,
                                preload=self.options.preload, needed=self.layout.autoload_dylibs)
        except LoadError as exc:
            if exc.stage == "ctors" and isinstance(exc.__context__, CallError):
                raise exc.__context__ from None
            if not _node_reports(exc):
                raise  # no JavaScript error of emscripten's loader says this: dldbg's own error line
            js_type, _, message = loader_error_text(self, exc).partition(": ")
            raise JsError(js_type, message) from None
        self.runtime_initialized = True
        self._call_main(args)

    def _on_event(self, event) -> None:
        """Right after a module is instantiated: the main gets its stack limits and cookie
        (`stackCheckInit`), each module with `__set_stack_limits` the main's limits
        (STACK_OVERFLOW_CHECK=2: `initRuntime` and `postInstantiation`)."""
        if event.kind != "instantiate":
            return
        mod = next((m for m in reversed(self.engine.modules) if m.name == event.module and m.instance), None)
        if mod is None:
            return
        if mod.path == self.main_path:
            limits = mod.externs.get("emscripten_stack_set_limits")
            if self.layout.stack_limits and isinstance(limits, wasmtime.Func):
                self.call_js(limits, "emscripten_stack_set_limits", self.layout.stack_high, self.layout.stack_low)
                get_end = mod.externs.get("emscripten_stack_get_end")
                if self.layout.stack_cookie and isinstance(get_end, wasmtime.Func):
                    end = self.call_js(get_end, "emscripten_stack_get_end") & 0xFFFFFFFF
                    self.set_i32(end + 4, 0x2135467)
                    self.set_i32(end + 8, 0x89BACDFE)
                    self.set_i32(0, 0x63736D65)
        setter = mod.externs.get("__set_stack_limits")
        if isinstance(setter, wasmtime.Func) and self.export("emscripten_stack_get_base") is not None \
                and self.export("emscripten_stack_get_end") is not None:
            self.call_js(setter, "__set_stack_limits", self.call("emscripten_stack_get_base"),
                         self.call("emscripten_stack_get_end"))

    def _call_main(self, args: list[str]) -> None:
        """emscripten `callMain`."""
        entry = self.export("main") or self.export("__main_argc_argv")
        if entry is None:
            return
        argc = len(args) + 1
        argv = self.stack_alloc((argc + 1) * 4)
        self.set_i32(argv, self.alloc_utf8_on_stack(self.this_program))
        for i, arg in enumerate(args, 1):
            self.set_i32(argv + 4 * i, self.alloc_utf8_on_stack(arg))
        self.set_i32(argv + 4 * argc, 0)
        params = len(self.engine.func_type_of(entry).params)
        ret = self.engine.call_func(entry, "main", [argc, argv][:params])
        self.exit(ret if isinstance(ret, int) else 0, implicit=True)

    def _guard(self, step) -> bool:
        """Run a step of the program as the JS event loop would; False once the process ended."""
        try:
            step()
            return True
        except ExitStatus as exc:
            return not exc.final
        except (JsThrow, CallError) as exc:
            self._uncaught(exc)
            return False

    def _uncaught(self, exc: Exception) -> None:
        """An exception escaped to the top: what node's report of it says, without the JS stack."""
        self.crashed = True
        self.crash_keepalive = self.keep_runtime_alive()
        frames: tuple[str, ...] = ()
        if isinstance(exc, UnresolvedCallError):
            if exc.importer == os.path.basename(self.main_path) and exc.symbol in self.layout.external_symbols:
                what = (f"external symbol '{exc.symbol}' is missing. perhaps a side module was not linked in? if "
                        "this function was expected to arrive from a system library, try to build the MAIN_MODULE "
                        "with EMCC_FORCE_STDLIBS=1 in the environment")
            else:
                what = (f"Assertion failed: undefined symbol `{exc.symbol}`. perhaps a side module was not linked in? "
                        "if this global was expected to arrive from a system library, try to build the MAIN_MODULE "
                        "with EMCC_FORCE_STDLIBS=1 in the environment")
            try:
                self.abort(what)
            except JsError as error:
                exc = error
        if isinstance(exc, CallError):
            text = v8_message(exc.trap) if exc.trap else f"Error: {exc}"
            frames = exc.backtrace
        elif isinstance(exc, JsError):
            text = f"{exc.js_type}: {exc.message}" if exc.js_type else exc.message
            frames = exc.backtrace
        elif isinstance(exc, CxxException):
            text = str(exc.ptr)  # JS threw the exception object's address, a number
        elif isinstance(exc, LongjmpThrow):
            text = "Infinity"
        else:
            text = str(exc)
        is_error = isinstance(exc, (CallError, JsError))
        if not self.crash_keepalive:  # postamble's logExceptionOnExit: `[e, e.stack]` for an Error
            text = f"exiting due to exception: {text},{text}" if is_error else f"exiting due to exception: {text}"
        self.err(printable(text, keep="\n") + "".join(f"\n    at {printable(frame)}" for frame in frames))


class _PublishedStubs:
    """The trap stubs of the JS-library functions the host publishes without implementing
    them (`EmscriptenHost._publish`), by name, made when first looked up (`_StubSymbol.extern`)
    rather than all at start-up: with those of every module being loaded (its `GOT.func`
    entries reach them, one by one, before its imports are resolved) in one wasm module."""

    def __init__(self, host: EmscriptenHost):
        self.host = host
        #: name -> the type of its JS-library function (`.sig`)
        self.types: dict[str, FuncType] = {}

    def __getitem__(self, name: str) -> wasmtime.Func:
        host, key = self.host, ("env", name, self.types[name])
        if key not in host._stubs:
            loading = [m for m in host.engine.modules if m.state == "loading"]
            host._make_stubs([key] + [k for m in loading for k in host._stub_keys(m)])
        return host._stubs[key]


class _StubSymbol(Symbol):
    """A published trap stub (`_PublishedStubs`): its function is made when first used."""

    extern = ExternWhenUsed("_published")  # the stub, made when first used


def _stub_symbol(name: str, ftype: FuncType, stubs: _PublishedStubs) -> Symbol:
    sym = object.__new__(_StubSymbol)
    sym.__dict__.update(name=name, kind="func", module="emscripten", module_id=0, address=None, key=("host", name),
                        func_type=ftype, _published=stubs)
    return sym


def _node_reports(exc: LoadError) -> bool:
    """A start-up load failure that emscripten's glue reports itself, as an uncaught JavaScript
    error (an undefined symbol, a NEEDED library that is not there); any other failure (a
    malformed module, a resource limit, a bug) is dldbg's own `dldbg: error:` line."""
    return (isinstance(exc, UndefinedSymbolError) or (exc.stage == "read" and "No such file" in exc.reason)
            or (exc.stage == "needed" and "not found" in exc.reason))


def _takes(impl, ftype: FuncType) -> bool:
    """Whether the JS-library function `impl(rt, *args)` can be called with `ftype`'s parameters
    and give its result (numbers only: JavaScript has no v128, and one result at most)."""
    numbers = ("i32", "i64", "f32", "f64")
    if len(ftype.results) > 1 or not all(t in numbers for t in ftype.params + ftype.results):
        return False
    # closures of one `def` (the invoke_* family's) bind alike: keyed by their code
    known = _TAKES.setdefault(getattr(impl, "__code__", impl), {})
    shape = (len(ftype.params), len(getattr(impl, "__defaults__", None) or ()),
             len(getattr(impl, "__kwdefaults__", None) or ()))
    if shape not in known:
        try:
            inspect.signature(impl).bind(None, *range(len(ftype.params)))
            known[shape] = True
        except TypeError:
            known[shape] = False
        except ValueError:  # no signature to inspect: trust it
            known[shape] = True
    return known[shape]


#: JS-library function's code -> {(parameters, defaults, keyword defaults): `_takes`}:
#: inspect.signature is slow, and a MAIN_MODULE program binds a hundred of them on every run
_TAKES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _wrong_type(name: str, ftype: FuncType):
    """Stands for a JS-library function imported with a type it cannot take: calling it is the
    TypeError JavaScript would raise."""
    def impl(rt, *args):
        raise JsError("TypeError", f"the program imports env.{name} as {ftype}, which emscripten's {name} cannot take")

    return impl
