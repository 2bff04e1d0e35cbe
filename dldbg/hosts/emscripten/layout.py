"""An emscripten program's layout and build settings, read from the main.js beside main.wasm.

emcc bakes the memory layout of a `-sMAIN_MODULE` program into its JavaScript (emscripten
3.1.6, `src/preamble.js`, `library_dylink.js`):

    [0, GLOBAL_BASE = 1024)            nothing (NULL)
    [1024, 1024 + data)                the main module's static data (`__memory_base` 1024)
    [stack end, __heap_base)           the C stack, STACK_SIZE bytes (5 MiB by default); the
                                       initial `__stack_pointer` is its top, `__heap_base`
    [__heap_base, INITIAL_MEMORY)      side modules loaded at start-up (bump allocation,
                                       `getMemory`), then malloc's heap

and the function table (`new WebAssembly.Table({initial: 1 + main's table size})`, slot 0 the
null pointer, the main's element segment at `__table_base` 1).  Without a main.js these are
computed the same way from the main module's dylink.0 and its memory import.

The settings that change what the glue does (ASSERTIONS, EXIT_RUNTIME, AUTOLOAD_DYLIBS,
NODERAWFS, ALLOW_MEMORY_GROWTH) are recognised by the code emcc emits for them; the JS-library
functions the main imports are the keys of `asmLibraryArg`, with their `.sig` annotations.
Nothing of the JavaScript is executed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ...wasm.reader import WasmModule
from ...wasm.types import WASM_PAGE_SIZE

GLOBAL_BASE = 1024
TABLE_BASE = 1
DEFAULT_STACK_SIZE = 5 * 1024 * 1024  # TOTAL_STACK in emscripten 3.1.6
STACK_ALIGN = 16


def align_up(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment


@dataclass
class Layout:
    """Addresses are bytes; `table_initial` is slots.

    :ivar js_path: the main.js the values come from, or None when computed.
    :ivar stack_high: initial `__stack_pointer` (the stack's top) = `__heap_base`.
    :ivar stack_low: the stack's lowest address (`emscripten_stack_get_end`).
    :ivar maximum_memory: bytes, None when the memory cannot grow.
    :ivar library_functions: C name -> emscripten signature ('' when unknown) of every
        function the glue passes in `asmLibraryArg`.
    :ivar external_symbols: imports the glue only forwards to a side module's export
        (`external symbol 'X' is missing`): these are the linker's to bind, not the host's.
    :ivar module_functions: JS functions the glue puts on `Module` as `_NAME` (emscripten's
        `resolveGlobalSymbol` finds them: side modules and dlsym can use them).
    :ivar js_sigs: C name -> `.sig` of every JS function the glue defines (for `GOT.func`
        entries that take the address of a JS-library function).
    :ivar asm_consts: EM_ASM code by address (kept for messages; never run).
    """

    wasm_path: str
    js_path: str | None = None
    memory_base: int = GLOBAL_BASE
    table_base: int = TABLE_BASE
    stack_high: int = 0
    stack_low: int = 0
    heap_base: int = 0
    initial_memory: int = 16 * 1024 * 1024
    maximum_memory: int | None = None
    table_initial: int = 1
    autoload_dylibs: bool = True
    assertions: bool = True
    exit_runtime: bool = False
    check_unflushed: bool = True
    stack_cookie: bool = True
    stack_limits: bool = False
    noderawfs: bool = False
    library_functions: dict[str, str] = field(default_factory=dict)
    external_symbols: frozenset[str] = frozenset()
    module_functions: frozenset[str] = frozenset()
    js_sigs: dict[str, str] = field(default_factory=dict)
    asm_consts: dict[int, str] = field(default_factory=dict)

    @property
    def can_grow(self) -> bool:
        return self.maximum_memory is not None and self.maximum_memory > self.initial_memory


def find_js(wasm_path: str) -> str | None:
    """The main.js that loads `wasm_path`: `<stem>.js` beside it, if it names the wasm file."""
    stem, _ = os.path.splitext(wasm_path)
    js = stem + ".js"
    if not os.path.isfile(js):
        return None
    text = _read(js)
    names = re.findall(r"wasmBinaryFile = '([^']+)'", text)
    if names and os.path.basename(wasm_path) not in names:
        return None
    return js


def wasm_of_js(js_path: str) -> str | None:
    """The wasm file a main.js loads (`wasmBinaryFile = 'NAME'`), beside the js, or None."""
    match = re.search(r"wasmBinaryFile = '([^']+)'", _read(js_path))
    if not match:
        return None
    return os.path.join(os.path.dirname(os.path.abspath(js_path)), match.group(1))


_last_read: tuple[tuple[str, int, int], str] | None = None


def _read(path: str) -> str:
    """The text of `path`; the last file read is kept while unchanged (`find_js` and
    `read_layout` both read the main.js, a few MB at -O0)."""
    global _last_read
    stat = os.stat(path)
    key = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns)
    if _last_read is not None and _last_read[0] == key:
        return _last_read[1]
    with open(path, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    _last_read = (key, text)
    return text


def computed_layout(wasm_path: str, wasm: WasmModule) -> Layout:
    """The layout emcc would have chosen, from the binary alone (defaults of emscripten 3.1.6)."""
    data = wasm.dylink.mem_size if wasm.dylink else 0
    table = wasm.dylink.table_size if wasm.dylink else 0
    stack_low = align_up(GLOBAL_BASE + data, STACK_ALIGN)
    heap_base = stack_low + DEFAULT_STACK_SIZE
    layout = Layout(wasm_path=wasm_path, stack_high=heap_base, stack_low=stack_low, heap_base=heap_base,
                    table_initial=TABLE_BASE + table)
    memory = next((imp for imp in wasm.imports if imp.kind == "memory"), None)
    if memory is not None:
        limits = memory.desc.limits
        layout.initial_memory = max(limits.min * WASM_PAGE_SIZE, layout.initial_memory if limits.min == 0 else 0)
        layout.maximum_memory = limits.max * WASM_PAGE_SIZE if limits.max is not None else None
    return layout


def read_layout(wasm_path: str, wasm: WasmModule, js_path: str | None = None) -> Layout:
    """The layout of the program `wasm_path`: from its main.js when there is one."""
    layout = computed_layout(wasm_path, wasm)
    js_path = js_path or find_js(wasm_path)
    if js_path is None:
        return layout
    text = _read(js_path)
    layout.js_path = js_path

    def number(pattern: str) -> int | None:
        match = re.search(pattern, text)
        return int(match.group(1)) if match else None

    layout.memory_base = number(r"var ___memory_base = new WebAssembly\.Global\(\{[^}]*\}, (\d+)\)") or GLOBAL_BASE
    layout.table_base = number(r"var ___table_base = new WebAssembly\.Global\(\{[^}]*\}, (\d+)\)") or TABLE_BASE
    heap_base = number(r"var ___heap_base = (\d+);")
    stack_pointer = number(r"var ___stack_pointer = new WebAssembly\.Global\(\{[^}]*\}, (\d+)\)")
    if heap_base is not None:
        layout.heap_base = heap_base
    if stack_pointer is not None:
        layout.stack_high = stack_pointer
    limits = re.search(r"_emscripten_stack_set_limits\((\d+), (\d+)\)", text)
    if limits:
        layout.stack_high, layout.stack_low = int(limits.group(1)), int(limits.group(2))
        layout.stack_limits = True
    initial = number(r"var INITIAL_MEMORY = Module\['INITIAL_MEMORY'\] \|\| (\d+);")
    if initial is not None:
        layout.initial_memory = initial
    maximum = re.search(r"'maximum': (\d+) / 65536", text)
    if maximum:
        layout.maximum_memory = int(maximum.group(1))
    elif re.search(r"'maximum': INITIAL_MEMORY / 65536", text):
        layout.maximum_memory = layout.initial_memory
    table = number(r"var wasmTable = new WebAssembly\.Table\(\{\s*'initial': (\d+),")
    if table is not None:
        layout.table_initial = table
    layout.autoload_dylibs = "neededDynlibs.concat(dynamicLibraries)" in text
    layout.assertions = "Build with -s ASSERTIONS=1 for more info" not in text
    runtime = re.search(r"var noExitRuntime = Module\['noExitRuntime'\] \|\| (true|false);", text)
    layout.exit_runtime = bool(runtime) and runtime.group(1) == "false"
    layout.check_unflushed = "function checkUnflushedContent()" in text
    layout.stack_cookie = "function writeStackCookie()" in text
    layout.noderawfs = "for (var _key in NODERAWFS)" in text
    layout.external_symbols = frozenset(re.findall(r"abort\(\"external symbol '([^']+)' is missing", text))
    sigs = _sig_assignments(text)
    layout.library_functions = _library_functions(text, sigs)
    layout.module_functions = _module_functions(text)
    layout.js_sigs = {name[1:]: sig for name, sig in sigs.items() if name.startswith("_")}
    layout.asm_consts = _asm_consts(text)
    return layout


_IDENTIFIER = re.compile(r"[\w$]+")
_SIG = re.compile(r"[a-z]*")


def _module_functions(text: str) -> frozenset[str]:
    """Names NAME of the glue's `Module["_NAME"] = _NAME;` lines.  The search is anchored on
    the literal text `Module["_` (a pattern starting with `\\b` or a backreference makes the
    regex engine try every position of a 200 KB file: six times slower)."""
    names = set()
    for match in re.finditer(r'Module\["_([\w$]+)"\] = _([\w$]+);', text):
        start = match.start()
        if match.group(1) == match.group(2) and (start == 0 or not _IDENTIFIER.fullmatch(text[start - 1])):
            names.add(match.group(1))
    return frozenset(names)


def _sig_assignments(text: str) -> dict[str, str]:
    """`NAME.sig = 'SIG';` statements that start a line: NAME -> SIG (the last one wins).
    Found by the literal `.sig = '`, then the name read back to the line's start."""
    out: dict[str, str] = {}
    marker = ".sig = '"
    at = text.find(marker)
    while at != -1:
        value_start = at + len(marker)
        end = text.find("';", value_start)
        if end == -1:
            break
        name = text[text.rfind("\n", 0, at) + 1 : at].strip()
        sig = text[value_start:end]
        if name and re.fullmatch(r"\w+", name) and _SIG.fullmatch(sig):
            out[name] = sig
        at = text.find(marker, value_start)
    return out


def _library_functions(text: str, sigs: dict[str, str]) -> dict[str, str]:
    """`asmLibraryArg`'s functions: C name -> `.sig` of the JS function ('' if none)."""
    block = re.search(r"var asmLibraryArg = \{(.*?)\n\};", text, re.S)
    if not block:
        return {}
    out = {}
    for name, value in re.findall(r'"([^"]+)": ([\w$]+)', block.group(1)):
        if value in ("wasmTable", "wasmMemory") or value.startswith("___") and value[3:] in (
            "heap_base", "memory_base", "table_base", "stack_pointer"
        ):
            continue
        out[name] = sigs.get(value, "")
    return out


def _asm_consts(text: str) -> dict[int, str]:
    block = re.search(r"var ASM_CONSTS = \{(.*?)\n\};", text, re.S)
    if not block:
        return {}
    return {int(addr): code.strip() for addr, code in re.findall(r"(\d+): (function\(.*?\)\s*\{.*?\}),?\s*(?=\n\s*\d+:|\Z)", block.group(1), re.S)}
