"""An instrumented copy of an emscripten program's JavaScript glue, for the node backend.

The glue keeps its loader's function names (emscripten's libdylink.js: `loadDynamicLibrary`,
`loadWebAssemblyModule`, its inner `postInstantiation`, ...), even minified.  Right before each
such function's declaration, in the same scope, dldbg inserts one statement that rebinds the
name to a wrapper (`hooks.js` `__dldbg.wrap`) reporting the call's start and end to dldbg; the
wrapper is handed a closure that evaluates expressions in that scope (`memoryBase`, `GOT`,
`wasmMemory`).  A prologue (hooks.js, then `__dirname`, `__filename`, `require` and
`process.argv[1]` as they are for the program's own file) goes first.  The copy lives in
`<cache folder>/node/`, named by the SHA-256 of the glue and of hooks.js; the user's files are
never written.  Protocol and what each glue generation exposes: docs/node.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from importlib import resources

from ...errors import DldbgError

#: functions wrapped when the glue has them (emscripten libdylink.js names), and the stages
#: their hooks report (dldbg.events.STAGES)
HOOKED = {
    "loadDynamicLibrary": "load start, NEEDED, load done/failed",
    "loadWebAssemblyModule": "module read",
    "getDylinkMetadata": "dylink.0 as the glue parsed it",
    "postInstantiation": "memory, table, GOT entries created, instantiation",
    "relocateExports": "GOT updates of the module's own exports, constructor timing",
    "updateGOT": "GOT updates",
    "reportUndefinedSymbols": "GOT updates of the undefined-symbol pass",
    "mergeLibSymbols": "symbols published",
    "newDSO": "the DSO record",
}
#: the glue cannot be debugged without these
REQUIRED = ("loadDynamicLibrary", "loadWebAssemblyModule")
#: stages of dldbg's engine that emscripten's loader performs inside code no hook reaches
#: (always named once, in the glue.hooks event)
NOT_EXPOSED = (
    "imports: emscripten resolves imports lazily in a JS Proxy (no function to hook): no import.resolve events",
    "tls: no TLS init hook in the glue: no tls.init events",
    "reloc: emscripten calls no relocation function itself; relocations run inside V8 in the module's start "
    "function (reloc.start: the words it changed, from the data segments and memory after instantiation) or in "
    "__wasm_call_ctors: no reloc.apply events",
    "compile: V8 compiles inside WebAssembly.Module/instantiate: no module.compile events",
)


class GlueError(DldbgError):
    """The glue cannot be instrumented (not an emscripten glue with a dynamic loader)."""


@dataclass(frozen=True)
class Instrumented:
    """An instrumented glue: `path` of the copy, the `hooked` functions, the `missing` ones
    (with the stages they would report), and stages never exposed."""

    original: str
    path: str
    hooked: tuple[str, ...]
    missing: tuple[str, ...]
    not_exposed: tuple[str, ...]


def hooks_source() -> str:
    return resources.files(__package__).joinpath("hooks.js").read_text()


def _declaration(name: str) -> re.Pattern:
    # a declaration at the start of a line: `  function NAME(`
    return re.compile(rf"^([ \t]*)function {re.escape(name)}\s*\(", re.MULTILINE)


def instrument_text(source: str, glue_path: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The instrumented text, the hooked names and the missing ones.  Raises GlueError when a
    name of REQUIRED is missing or a hooked name is declared more than once."""
    if glue_path.endswith(".mjs") or "import.meta" in source:
        raise GlueError(f"{glue_path}: instrument: an ES module glue (MODULARIZE/EXPORT_ES6, e.g. Pyodide's "
                        f"pyodide.asm.mjs) is not supported by the node backend yet (docs/node.md)")
    inserts: list[tuple[int, str]] = []
    hooked, missing = [], []
    for name in HOOKED:
        found = list(_declaration(name).finditer(source))
        if not found:
            missing.append(name)
            continue
        if len(found) > 1:
            raise GlueError(f"{glue_path}: instrument: `function {name}(` is declared {len(found)} times "
                            f"(at byte offsets {', '.join(hex(m.start()) for m in found)}); dldbg hooks one")
        m = found[0]
        inserts.append((m.start(), f"{m.group(1)};{name} = __dldbg.wrap({json.dumps(name)}, {name}, "
                                   f"function (__dldbg_expr) {{ return eval(__dldbg_expr); }});\n"))
        hooked.append(name)
    absent = [n for n in REQUIRED if n in missing]
    if absent:
        raise GlueError(f"{glue_path}: instrument: not an emscripten glue with a dynamic loader: no "
                        f"{' or '.join(f'`function {n}(`' for n in absent)} (build the main module with "
                        f"-sMAIN_MODULE)")
    out = source
    for at, text in sorted(inserts, reverse=True):
        out = out[:at] + text + out[at:]
    folder = os.path.dirname(os.path.abspath(glue_path))
    original = json.dumps(os.path.abspath(glue_path))
    # node's CommonJS wrapper passes __dirname, __filename and require as parameters; the
    # copy's own are rebound to the glue's, and process.argv[1] (the glue's `thisProgram`)
    # too, so that the program and its --pre-js code see their files as under `node MAIN.js`
    # (Module is left alone: a --pre-js may assign a new one)
    prologue = (hooks_source() + f"var __filename = {original}, __dirname = {json.dumps(folder)};\n"
                f"var require = require('module').createRequire({original});\n"
                f"process.argv[1] = {original};\n")
    shebang = ""
    if out.startswith("#!"):
        shebang, _, out = out.partition("\n")
        shebang += "\n"
    return shebang + prologue + out, tuple(hooked), tuple(missing)


def instrument(glue_path: str, cache_dir: str | None) -> Instrumented:
    """Write (or reuse) the instrumented copy of `glue_path` under `cache_dir`/node (a
    temporary folder when `cache_dir` is None).  Raises GlueError, or DldbgError when the glue
    cannot be read."""
    try:
        with open(glue_path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise DldbgError(f"{glue_path}: read: {exc.strerror or exc}") from None
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GlueError(f"{glue_path}: read: not UTF-8 JavaScript at byte offset {exc.start:#x}") from None
    text, hooked, missing = instrument_text(source, glue_path)
    if cache_dir is None:
        import tempfile

        cache_dir = os.path.join(tempfile.gettempdir(), f"dldbg-{os.getuid()}")
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    folder = os.path.join(cache_dir, "node")
    os.makedirs(folder, exist_ok=True)
    base, ext = os.path.splitext(os.path.basename(glue_path))
    path = os.path.join(folder, f"{base}.{key}{ext if ext in ('.js', '.mjs', '.cjs') else '.js'}")
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    return Instrumented(os.path.abspath(glue_path), path, hooked, missing, NOT_EXPOSED)
