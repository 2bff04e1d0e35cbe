"""Which host runs a program: each program host says whether it recognizes a main module.

A program host (emscripten, WASI, CoWasm) implements, besides the `Host` protocol of
`dldbg.linker.engine`:

    @classmethod
    recognizes(cls, wasm: WasmModule, path: str) -> bool
        whether this host runs that main module (by its imports, or files beside it)
    __init__(self, options: ProgramOptions)
    run(self, engine, path: str, argv: list[str]) -> int
        load the program with `engine.load_program(...)`, run it, return its exit status;
        raise DldbgError subclasses for failures (the CLI prints them as one line)

`dldbg run MAIN.wasm [-- ARGS]` picks the first host in PROGRAM_HOSTS that recognizes the file.
Hosts are listed by import path so that `dldbg run --invoke` and `dldbg inspect` do not import
them.
"""

from __future__ import annotations

import os

from ..errors import DldbgError
from ..wasm.reader import WasmModule

#: "module:Class" of each program host, most specific first.
PROGRAM_HOSTS: list[str] = [
    "dldbg.hosts.emscripten:EmscriptenHost",
    "dldbg.hosts.cowasm:CowasmHost",
    "dldbg.hosts.wasi:WasiHost",
]


class ProgramOptions:
    """What the command line says about the program's environment (a plain class: `dldbg
    inspect` imports this module, and a dataclass costs start-up time, see dldbg.frozen).

    :ivar dirs: (host folder, guest path) pairs to make visible (`--dir HOST[::GUEST]`).
    :ivar env: environment variables for the program (`--env K=V`).
    :ivar preload: side modules to load after the main module's NEEDED libraries.
    :ivar library_path: folders searched for NEEDED and dlopen'd libraries (`-L`).
    """

    def __init__(self, dirs: list[tuple[str, str]] | None = None, env: dict[str, str] | None = None,
                 preload: list[str] | None = None, library_path: list[str] | None = None):
        self.dirs = [] if dirs is None else dirs
        self.env = {} if env is None else env
        self.preload = [] if preload is None else preload
        self.library_path = [] if library_path is None else library_path


def parse_dir(spec: str) -> tuple[str, str]:
    """`HOST[::GUEST]` -> (host, guest); GUEST defaults to HOST."""
    host, _, guest = spec.partition("::")
    return host, guest or host


WASI_MODULES = ("wasi_snapshot_preview1", "wasi_unstable")
#: `env` imports that only emscripten's JS glue provides (a WASI host does not run such a main)
EMSCRIPTEN_IMPORT_PREFIXES = ("emscripten_", "_emscripten_", "__syscall_", "invoke_", "_dlopen_js", "_dlsym_js")
#: exports of emscripten's stack helpers, which only a main module carries (for its JS glue):
#: emscripten up to 3.1.5x exports `stackSave`/`stackRestore`, later ones (4.x, 5.x)
#: `_emscripten_stack_restore` and `emscripten_stack_get_current` (emscripten src/lib/libcore.js)
EMSCRIPTEN_OLD_STACK_EXPORTS = frozenset({"stackSave", "stackRestore"})
EMSCRIPTEN_NEW_STACK_EXPORTS = frozenset({"_emscripten_stack_restore", "emscripten_stack_get_current"})


def emscripten_main_style(wasm: WasmModule) -> str | None:
    """"3" for an emscripten main module of the 3.1.6 kind (exports `stackSave` and
    `stackRestore`: what dldbg's emscripten host runs), "4+" for one of a later emscripten
    (exports `_emscripten_stack_restore` or `emscripten_stack_get_current`: emscripten 4.x and
    5.x, Pyodide's and php-wasm's mains; it may export its own memory and have no `main`), None
    for anything else.  Either way it imports from `env` (its JS glue)."""
    if not any(imp.module == "env" for imp in wasm.imports):
        return None
    exports = wasm.export_map.keys()
    if EMSCRIPTEN_OLD_STACK_EXPORTS <= exports:
        return "3"
    if EMSCRIPTEN_NEW_STACK_EXPORTS & exports:
        return "4+"
    return None


def is_cowasm_kernel(wasm: WasmModule) -> bool:
    """CoWasm's kernel: no dylink.0, exports `cowasm_exec`, `c_malloc` and `__WASM_EXPORT__` getters."""
    names = wasm.export_map
    return (wasm.dylink is None and "cowasm_exec" in names and "c_malloc" in names
            and any(name.startswith("__WASM_EXPORT__") for name in names))


def is_wasi_main(wasm: WasmModule, path: str) -> bool:
    """A WASI command (`_start`) or reactor (`_initialize`) that is not a `.so` library and not
    an emscripten main (whose JS glue provides `env` functions wasmtime lacks)."""
    if path.endswith(".so") or ".so." in os.path.basename(path):
        return False
    if "_start" not in wasm.export_map and "_initialize" not in wasm.export_map:
        return False
    if any(imp.module == "env" and imp.field.startswith(EMSCRIPTEN_IMPORT_PREFIXES) for imp in wasm.imports):
        return False
    return any(imp.module in WASI_MODULES or imp.module == "dyld" for imp in wasm.imports)


def program_kind(wasm: WasmModule, path: str) -> str | None:
    """What kind of main program `wasm` is: "emscripten main", "CoWasm kernel", "WASI main", or
    None (a side module or a library), from its imports and exports alone (`dldbg inspect`)."""
    if emscripten_main_style(wasm) is not None:
        return "emscripten main"
    if is_cowasm_kernel(wasm):
        return "CoWasm kernel"
    if is_wasi_main(wasm, path):
        return "WASI main"
    return None


def unrunnable_reason(wasm: WasmModule, path: str) -> str | None:
    """Why no host runs `wasm` although it is a main program (an emscripten main of another
    emscripten than 3.1.6), or None.  Says what it is and what is missing."""
    if emscripten_main_style(wasm) != "4+":
        return None
    from .emscripten.registry import implemented

    env = [imp for imp in wasm.imports if imp.kind == "func" and imp.module == "env"]
    missing = [imp for imp in env if not implemented(imp.field)]
    externref = [imp for imp in missing if "externref" in str(wasm.types[imp.desc])]
    shown = ", ".join(imp.field for imp in missing[:5]) + (", ..." if len(missing) > 5 else "")
    what = "exports its own memory" if any(e.kind == "memory" for e in wasm.exports) else "imports its memory"
    has_main = "main" in wasm.export_map or "__main_argc_argv" in wasm.export_map
    return (f"{path}: an emscripten main module of an emscripten newer than 3.1.6 (it exports "
            f"{', '.join(sorted(EMSCRIPTEN_NEW_STACK_EXPORTS & wasm.export_map.keys()))}, not stackSave/stackRestore; "
            f"it {what}{'' if has_main else ' and has no main'}); dldbg's emscripten host runs emscripten 3.1.6 mains "
            f"only: this one needs the JS glue of its own emscripten, whose {len(missing)} of {len(env)} env "
            f"function imports dldbg does not implement"
            + (f" ({len(externref)} of them take or return JavaScript values, externref)" if externref else "")
            + (f": {shown}" if missing else "")
            + pyodide_hint(path))


def pyodide_hint(path: str) -> str:
    """A hint for Pyodide's main (a `pyodide-lock.json` beside it): wheels load into it with
    `--pyodide FOLDER` (dldbg.hosts.pyodide), which runs its loader but not Python."""
    folder = os.path.dirname(path) or "."
    if not os.path.isfile(os.path.join(folder, "pyodide-lock.json")):
        return ""
    return (f"; it is Pyodide's main: load wheels into it with `dldbg run --pyodide {folder} WHEEL` "
            f"or `dldbg check --pyodide {folder} WHEEL`")


def find_program_host(wasm: WasmModule, path: str):
    """The class of the first program host that recognizes `wasm`, or None."""
    from importlib import import_module

    for spec in PROGRAM_HOSTS:
        module_name, _, class_name = spec.partition(":")
        cls = getattr(import_module(module_name), class_name)
        if cls.recognizes(wasm, path):
            return cls
    return None


class NotAProgram(DldbgError):
    """`dldbg run FILE` without --invoke on a file that no program host runs."""


class UnsupportedProgram(NotAProgram):
    """A main program that no host of dldbg runs (an emscripten main of a later emscripten);
    the message says what it is and what is missing (`unrunnable_reason`)."""
