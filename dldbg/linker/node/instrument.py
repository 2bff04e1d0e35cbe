"""An instrumented copy of an emscripten program's JavaScript glue, for the node backend.

The glue keeps its loader's function names (emscripten's libdylink.js: `loadDynamicLibrary`,
`loadWebAssemblyModule`, its inner `postInstantiation`, ...), even minified.  In the same scope
as each such function, dldbg inserts one statement that rebinds the name to a wrapper
(`hooks.js` `__dldbg.wrap`) reporting the call's start and end to dldbg: right before a
declaration `function NAME(` (emscripten 3.1.6; `postInstantiation` in every version), right
after a definition `var NAME=...;` (emscripten 4 and 5 write most loader functions as arrow
functions).  The wrapper is handed a closure that evaluates expressions in that scope
(`memoryBase`, `GOT`, `wasmMemory`).  A prologue goes first, on the glue's first line:
hooks.js, then, for a program's glue, `__dirname`, `__filename`, `require` and `process.argv[1]`
as they are for the program's own file (a MODULARIZE factory such as Pyodide's, loaded from its
own folder: hooks.js alone).  Nothing the instrumenter adds is a new line, and the copy is
`<cache folder>/node/<key>/<the glue's file name>` (the key a SHA-256 of the instrumented
text): node's stack traces of the copy name the glue's file name and line numbers.  The user's
files are never written.  Protocol and what each glue generation exposes: docs/node.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from importlib import resources

from ...errors import DldbgError
from . import copies

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
#: emscripten 4/5's postInstantiation calls the module's `__wasm_apply_data_relocs` itself; the
#: hooks wrap it (reloc.apply, as the wasmtime engine's loader reports it)
CALLS_RELOCS = 'moduleExports["__wasm_apply_data_relocs"]'


def not_exposed(source: str) -> tuple[str, ...]:
    """The stages no hook reaches in this glue (the reloc stage is exposed when the glue calls
    `__wasm_apply_data_relocs` itself)."""
    if CALLS_RELOCS in source:
        return tuple(line for line in NOT_EXPOSED if not line.startswith("reloc:"))
    return NOT_EXPOSED


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


def _in_statement_position(source: str, pattern: str) -> list[tuple[int, str, int]]:
    """(start, indentation, end) of each match of `pattern` (which starts with a keyword) in
    statement position: at the start of a line after spaces or tabs, or right after `;`, `{` or
    `}` (minified glue).  `pattern` starts with literal text, which the regex engine searches
    fast (a leading `^|(?<=...)` alternation made it try every offset of a 1 MB glue)."""
    found = []
    for m in re.finditer(pattern, source):
        i = m.start()
        while i > 0 and source[i - 1] in " \t":
            i -= 1
        if i == 0 or source[i - 1] in "\n;{}":
            found.append((i, source[i:m.start()], m.end()))
    return found


def _declarations(source: str, name: str) -> list[tuple[int, str, int]]:
    # `  function NAME(` (emscripten 3.1.6; `postInstantiation` in every version)
    return _in_statement_position(source, rf"function {re.escape(name)}\s*\(")


def _definitions(source: str, name: str) -> list[tuple[int, str, int]]:
    # `var NAME=` (emscripten 4/5: `var loadWebAssemblyModule=(binary,...)=>{`)
    return _in_statement_position(source, rf"var {re.escape(name)}\s*=(?!=)")


_REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^")
_REGEX_WORDS = {"return", "typeof", "case", "do", "else", "in", "of", "void", "throw", "new", "delete", "yield",
                "await"}


def statement_end(src: str, i: int) -> int:
    """The offset just after the `;` that ends the statement in which offset `i` stands (at
    bracket depth 0), skipping strings, template literals, comments and regular expression
    literals; the offset of the `}` closing the enclosing block when the statement has no `;`.
    Raises GlueError when the text ends first."""
    n, depth, templates, prev, word = len(src), 0, [], ";", ""
    while i < n:
        c = src[i]
        if c in " \t\r\n":
            i += 1
            continue
        if c == "/" and src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "/" and src.startswith("/*", i):
            j = src.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if c in "'\"":
            i += 1
            while i < n and src[i] != c:
                i += 2 if src[i] == "\\" else 1
            i, prev = i + 1, "a"
            continue
        if c == "`" or (c == "}" and templates and templates[-1] == depth):
            if c == "}":
                templates.pop()
            i += 1
            while i < n and src[i] != "`" and not src.startswith("${", i):
                i += 2 if src[i] == "\\" else 1
            if src.startswith("${", i):
                templates.append(depth)
                i += 2
                prev = "{"
            else:
                i, prev = i + 1, "a"
            continue
        if c == "/" and (prev in _REGEX_BEFORE or (prev == "a" and word in _REGEX_WORDS)):
            i += 1
            in_class = False
            while i < n and (src[i] != "/" or in_class):
                if src[i] == "\\":
                    i += 1
                elif src[i] == "[":
                    in_class = True
                elif src[i] == "]":
                    in_class = False
                i += 1
            i += 1
            while i < n and (src[i].isalnum() or src[i] in "_$"):
                i += 1
            prev = "a"
            word = ""
            continue
        if c.isalnum() or c in "_$":
            j = i
            while j < n and (src[j].isalnum() or src[j] in "_$"):
                j += 1
            word, prev, i = src[i:j], "a", j
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth < 0:
                return i
        elif c == ";" and depth == 0:
            return i + 1
        prev = c
        i += 1
    raise GlueError("instrument: the statement does not end (unbalanced brackets or an unterminated literal)")


def instrument_text(source: str, glue_path: str, *, program_lines: bool = True
                     ) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The instrumented text, the hooked names and the missing ones.  `program_lines`: the
    prologue gives the copy the glue's own `__dirname`, `__filename`, `require` and argv[1] (a
    program's glue; not a MODULARIZE factory such as Pyodide's).  Raises GlueError when a name
    of REQUIRED is missing or a hooked name is defined more than once."""
    inserts: list[tuple[int, str]] = []
    hooked, missing = [], []
    for name in HOOKED:
        declared, defined = _declarations(source, name), _definitions(source, name)
        if not declared and not defined:
            missing.append(name)
            continue
        if len(declared) + len(defined) > 1:
            at = sorted(start for start, _indent, _end in declared + defined)
            raise GlueError(f"{glue_path}: instrument: `{name}` is defined {len(at)} times "
                            f"(at byte offsets {', '.join(hex(a) for a in at)}); dldbg hooks one")
        rebind = (f"{name} = __dldbg.wrap({json.dumps(name)}, {name}, "
                  f"function (__dldbg_expr) {{ return eval(__dldbg_expr); }});")
        if declared:  # on the declaration's line: no line of the glue moves
            start, indent, _end = declared[0]
            inserts.append((start, f"{indent};{rebind} "))
        else:
            start, _indent, after = defined[0]
            try:
                end = statement_end(source, after)
            except GlueError as exc:
                raise GlueError(f"{glue_path}: {exc} (`var {name}=` at byte offset {start:#x})") from None
            inserts.append((end, f";{rebind}"))
        hooked.append(name)
    absent = [n for n in REQUIRED if n in missing]
    if absent:
        raise GlueError(f"{glue_path}: instrument: not an emscripten glue with a dynamic loader: no "
                        f"{' or '.join(f'`function {n}(`' for n in absent)} (build the main module with "
                        f"-sMAIN_MODULE)")
    out = source
    for at, text in sorted(inserts, reverse=True):
        out = out[:at] + text + out[at:]
    return _with_prologue(out, glue_path, program_lines), tuple(hooked), tuple(missing)


def prologue(glue_path: str, source: str, program_lines: bool) -> str:
    """The statements that go first, on one line (no newline: every line of the glue keeps its
    number in node's stack traces): hooks.js, evaluated by `new Function` (its own scope; node
    >= 20.16's process.getBuiltinModule gives it `fs`, else the `require` handed to it), then, for
    a program's glue, `__filename`, `__dirname`, `require` and `process.argv[1]` rebound to the
    glue's own (node's CommonJS wrapper passes them as parameters: the program and its --pre-js
    code see their files as under `node MAIN.js`; Module is left alone: a --pre-js may assign a
    new one; an ES module has no require)."""
    body = hooks_source() + "\nreturn __dldbg;"
    line = (f"var __dldbg = new Function('require', {json.dumps(body)})"
            "(typeof require === 'function' ? require : undefined);")
    if program_lines:
        original = json.dumps(os.path.abspath(glue_path))
        folder = json.dumps(os.path.dirname(os.path.abspath(glue_path)))
        esm = glue_path.endswith(".mjs") or "import.meta" in source
        modules = "process.getBuiltinModule('module')" if esm else "require('module')"
        line += (f" var __filename = {original}, __dirname = {folder};"
                 f" var require = {modules}.createRequire({original});"
                 f" process.argv[1] = {original};")
    return line + " "


def _with_prologue(out: str, glue_path: str, program_lines: bool) -> str:
    """`out` with the prologue at the start of its first line of code (after a `#!` line and a
    "use strict" directive, which stay first)."""
    pro = prologue(glue_path, out, program_lines)
    head = ""
    if out.startswith("#!"):
        head, _, out = out.partition("\n")
        head += "\n"
    if out.startswith(('"use strict";', "'use strict';")):  # the directive stays first
        head += out[:13]
        out = out[13:]
    return head + pro + out


def read_glue(glue_path: str) -> str:
    """The glue's text.  Raises GlueError (not UTF-8) or DldbgError (cannot be read)."""
    try:
        with open(glue_path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise DldbgError(f"{glue_path}: read: {exc.strerror or exc}") from None
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise GlueError(f"{glue_path}: read: not UTF-8 JavaScript at byte offset {exc.start:#x}") from None
    return source


def write_once(path: str, text: str) -> None:
    """Write `text` to `path` unless it exists (atomically: a concurrent run sees all or nothing)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)


def instrument(glue_path: str, cache_dir: str | None) -> Instrumented:
    """Write (or reuse) the instrumented copy of `glue_path` under `cache_dir`/node (a
    temporary folder when `cache_dir` is None).  Raises GlueError, or DldbgError when the glue
    cannot be read."""
    source = read_glue(glue_path)
    text, hooked, missing = instrument_text(source, glue_path)
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    name = os.path.basename(glue_path)
    if os.path.splitext(name)[1] not in (".js", ".mjs", ".cjs"):
        name += ".js"  # node runs it as JavaScript
    # the glue's own name, in a folder of its own: node's stack traces name the same file
    folder = os.path.join(node_cache(cache_dir), "node")
    path = os.path.join(folder, key, name)
    if os.path.exists(path):
        copies.touch(os.path.dirname(path))
    else:
        write_once(path, text)
        copies.prune(folder, keep=key)
    return Instrumented(os.path.abspath(glue_path), path, hooked, missing, not_exposed(source))


def node_cache(cache_dir: str | None) -> str:
    """dldbg's cache folder, or a temporary one for this user when `cache_dir` is None."""
    if cache_dir is None:
        import tempfile

        cache_dir = os.path.join(tempfile.gettempdir(), f"dldbg-{os.getuid()}")
    return cache_dir
