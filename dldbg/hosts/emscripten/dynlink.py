"""The JavaScript half of emscripten 3.1.6's dlopen/dlsym (`library_dylink.js`), over the engine.

The C half (`system/lib/libc/dynlink.c`, compiled into the main module) keeps the list of
`struct dso` handles, finds already-opened names, checks the mode and formats dlerror; it calls:

    _dlopen_js(dso*)               load the file named in the dso; 1 on success, 0 on failure
                                   (with `__dl_seterr("Could not load dynamic lib: NAME\\nERROR")`)
    _dlsym_js(dso*, symbol)        an address or a table slot; 0 with `__dl_seterr(...)` if unknown
    _emscripten_dlopen_js(dso*, onsuccess, onerror)
                                   the asynchronous dlopen: the load and the callback happen
                                   after the current call returns to the event loop

`struct dso` (wasm32): flags at +20, mem_allocated +24, mem_addr +28, mem_size +32,
table_addr +36, table_size +40, name (inline, NUL-terminated) at +44.  The dso named
`__main__` (dynlink.c's `ensure_init`) is the main program: dlsym on it searches the main
module's exports; RTLD_DEFAULT (handle 0) searches the global scope.
"""

from __future__ import annotations

import posixpath

from ...errors import DlError, LoadError, UndefinedSymbolError
from ...linker.flags import RTLD_GLOBAL, RTLD_LAZY, RTLD_NODELETE, RTLD_NOW
from .registry import js
from .runtime import JsError

DSO_FLAGS, DSO_MEM_ALLOCATED, DSO_MEM_ADDR, DSO_MEM_SIZE, DSO_TABLE_ADDR, DSO_TABLE_SIZE, DSO_NAME = 20, 24, 28, 32, 36, 40, 44
MAIN = "__main__"


def normalize(path: str) -> str:
    """emscripten `PATH.normalize`."""
    absolute = path.startswith("/")
    trailing = path.endswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not absolute:
                parts.append("..")
            continue
        parts.append(part)
    out = "/".join(parts)
    if not out and not absolute:
        out = "."
    if out and trailing:
        out += "/"
    return ("/" if absolute else "") + out


def set_error(rt, message: str) -> None:
    """emscripten `dlSetError`: the message goes to the program's `__dl_seterr` (a printf format)."""
    func = rt.export("__dl_seterr")
    if func is None:
        return
    sp = rt.call("stackSave")
    try:
        ptr = rt.alloc_utf8_on_stack(message)
        params = len(rt.engine.func_type_of(func).params)
        func(rt.engine.store, *([ptr, 0][:params]))
    finally:
        rt.call("stackRestore", sp)


def loader_error_text(rt, exc: Exception) -> str:
    """What emscripten's exception would say (`String(e)`) for a failed load.

    An undefined symbol is the ASSERTIONS abort of `reportUndefinedSymbols` (which also prints
    `Aborted(...)`), or without ASSERTIONS the TypeError of its `bad export type` check."""
    if isinstance(exc, UndefinedSymbolError):
        if rt.layout.assertions:
            what = (f"Assertion failed: undefined symbol `{exc.symbol}`. perhaps a side module was not linked in? if "
                    "this global was expected to arrive from a system library, try to build the MAIN_MODULE with "
                    "EMCC_FORCE_STDLIBS=1 in the environment")
            try:
                rt.abort(what)
            except JsError as error:
                return f"{error.js_type}: {error.message}"
        return f"Error: bad export type for `{exc.symbol}`: undefined"
    if isinstance(exc, LoadError) and exc.stage == "read" and "No such file" in exc.reason:
        return f"Error: ENOENT: no such file or directory, open '{exc.path}'"
    if isinstance(exc, JsError):
        return f"{exc.js_type}: {exc.message}"
    return f"Error: {exc}"


def load_library(rt, filename: str, flags: int) -> object:
    """Find and load `filename` (a guest path); returns the engine module.  Raises JsError with
    the text emscripten's exception would have."""
    fs = rt.fs
    guest = fs.absolute(filename)
    host = fs.find_file(guest)
    if host is None:
        for folder in (rt.getenv("LD_LIBRARY_PATH") or "").split(":"):
            if folder:
                candidate = fs.find_file(fs.absolute(posixpath.join(folder, filename)))
                if candidate is not None:
                    host = candidate
                    break
    if host is None:
        # node's readBinary(filename) failing: the error names the file as given
        raise JsError("Error", f"ENOENT: no such file or directory, open '{filename}'")
    # emscripten's dlopen keeps only RTLD_GLOBAL and RTLD_NODELETE ("We don't care about
    # RTLD_NOW and RTLD_LAZY"): functions bind lazily whatever the mode; the events show the
    # mode the program gave
    engine_flags = (flags & (RTLD_LAZY | RTLD_NOW) or RTLD_LAZY) | (flags & (RTLD_GLOBAL | RTLD_NODELETE))
    try:
        with rt.guest_loads():  # its NEEDED search stays in the program's view (host.visible)
            handle = rt.engine.dlopen(host, engine_flags, bind_now=rt.engine.bind_now)
    except DlError as exc:
        cause = exc.__cause__ or exc
        text = loader_error_text(rt, cause)
        js_type, _, message = text.partition(": ")
        raise JsError(js_type, message) from None
    return rt.engine.by_handle[handle]


def dlopen_js(rt, handle: int) -> int:
    # wasm code calling dlopen runs after initRuntime (a constructor at the earliest): from now
    # on library memory comes from malloc, which may already have taken memory above __heap_base
    rt.runtime_initialized = True
    name = rt.cstr(handle + DSO_NAME)
    if name == MAIN:
        rt.dso[handle] = (MAIN, None)
        return 1
    filename = normalize(name)
    flags = rt.i32(handle + DSO_FLAGS)
    try:
        mod = load_library(rt, filename, flags)
    except JsError as exc:
        text = f"{exc.js_type}: {exc.message}" if exc.js_type else exc.message
        rt.err(f"Error in loading dynamic library {filename}: {text}")
        set_error(rt, f"Could not load dynamic lib: {filename}\n{text}")
        return 0
    rt.dso[handle] = (filename, mod)
    _record(rt, handle, mod)
    return 1


def _record(rt, handle: int, mod) -> None:
    """Fill the dso's memory/table fields as library_dylink.js does (threads read them)."""
    rt.set_i8(handle + DSO_MEM_ALLOCATED, 1)
    rt.set_i32(handle + DSO_MEM_ADDR, mod.memory_base)
    rt.set_i32(handle + DSO_MEM_SIZE, mod.memory_size)
    rt.set_i32(handle + DSO_TABLE_ADDR, mod.table_base)
    rt.set_i32(handle + DSO_TABLE_SIZE, mod.table_size)


@js("_dlopen_js", "ii")
def _dlopen_js(rt, handle, *_rest):
    return dlopen_js(rt, handle)


@js("_dlinit", "vi")
def _dlinit(rt, main_dso):
    rt.dso[main_dso] = (MAIN, None)


def lookup_global(rt, name: str):
    """emscripten `resolveGlobalSymbol(name, direct=true)`: `orig$NAME` first."""
    scope = rt.engine.global_scope
    return scope.lookup("orig$" + name) or scope.lookup(name)


@js("_dlsym_js", "iii")
def _dlsym_js(rt, handle, symbol, *_rest):
    name = rt.cstr(symbol)
    if handle == 0:
        sym = lookup_global(rt, name)
        if sym is None:
            set_error(rt, f'Tried to lookup unknown symbol "{name}" in dynamic lib: RTLD_DEFAULT')
            return 0
    else:
        if handle not in rt.dso:
            rt.abort(f"Assertion failed: Tried to dlsym() from an unopened handle: {handle}")
        libname, mod = rt.dso[handle]
        exports = (rt.main_module() if mod is None else mod).exports
        if name not in exports:
            set_error(rt, f'Tried to lookup unknown symbol "{name}" in dynamic lib: {libname}')
            return 0
        sym = exports.get("orig$" + name) or exports[name]
    value = rt.engine.symbol_value(sym, f"dlsym {name}", None)
    if value is None:
        set_error(rt, f'Tried to lookup unknown symbol "{name}" in dynamic lib: {handle}')
        return 0
    return value


@js("_emscripten_dlopen_js", "viii")
def _emscripten_dlopen_js(rt, handle, onsuccess, onerror, *_rest):
    """Queue the load and the callback for when the current call has returned (a promise).

    In node a file that does not exist fails at the first I/O completion, before any load that
    has to read and compile a module: such requests are queued one turn earlier."""
    rt.keepalive += 1
    name = normalize(rt.cstr(handle + DSO_NAME))
    exists = rt.fs.find_file(rt.fs.absolute(name)) is not None

    def task():
        rt.keepalive -= 1
        try:
            mod = load_library(rt, name, rt.i32(handle + DSO_FLAGS))
        except JsError as exc:
            text = f"{exc.js_type}: {exc.message}" if exc.js_type else exc.message
            # 3.1.6 reads the name as `UTF8ToString(HEAP32[dso + 44])`, the name's first four
            # bytes taken as a pointer: past the end of memory that is the empty string
            pointer = rt.u32(handle + DSO_NAME)
            shown = rt.cstr(pointer) if pointer < rt.mem.data_len else ""
            set_error(rt, f"Could not load dynamic lib: {shown}\n{text}")
            rt.call_user_callback(lambda: rt.call_slot(onerror, handle))
            return
        rt.dso[handle] = (name, mod)
        _record(rt, handle, mod)
        rt.call_user_callback(lambda: rt.call_slot(onsuccess, handle))

    rt.queue_task(task, turn=1 if exists else 0)

