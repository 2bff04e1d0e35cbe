"""Running: `run`, `start`, `dlopen`, `dlsym`, `dlclose`, `dlerror`, `call`."""

from __future__ import annotations

import argparse

from ..linker.flags import RTLD_DEFAULT, RTLD_GLOBAL, RTLD_LAZY, describe_flags, parse_flags
from ..session.addresses import evaluate, parse_int, place, slot_info
from ..session.errors import CommandError
from ..session.guest import copy_in
from ..session.output import Reply
from . import command, parser
from .common import module_arg

p = parser("run", "Start the program given on the command line.\n\n"
           "A side module is loaded as a program's start-up loads it (after the --preload libraries: "
           "all RTLD_GLOBAL, every module's relocations, then every constructor); a main module is run "
           "by the program host that recognizes it, with ARGS as its arguments.  Running again starts a "
           "fresh engine; breakpoints and the event log stay.",
           ["run", "run input.txt -v"])
p.add_argument("args", nargs=argparse.REMAINDER, help="the program's arguments (main programs)")


@command(p, category="running", aliases=("r",), complete=("path",), repeatable=False)
def run(session, args):
    return session.run_program(list(args) if args else None)


p = parser("start", "Start the program as `run` does, stopping at its first linker event (a temporary "
           "breakpoint on every event, as gdb's start stops at main).",
           ["start", "start input.txt -v"])
p.add_argument("args", nargs=argparse.REMAINDER, help="the program's arguments (main programs)")


@command(p, category="running", complete=("path",), repeatable=False)
def start(session, args):
    from ..session.filters import parse_filter

    bp = session.breakpoints.add(parse_filter(["*"]), origin="start", temporary=True)
    session.printer.message(f"Temporary breakpoint {bp.number}: the first event of the program")
    try:
        return session.run_program(list(args) if args else None)
    finally:
        if any(b is bp for b in session.breakpoints):  # the program emitted no event
            session.breakpoints.delete(bp.number)


p = parser("dlopen", "Load a library and its NEEDED libraries, as dlopen(PATH, FLAGS) does; prints its handle.\n\n"
           "A name without / is searched in the -L folders, the program's folder, LD_LIBRARY_PATH and the "
           "current folder.  FLAGS: RTLD_NOW|RTLD_GLOBAL, now,local, or a number (default "
           "RTLD_LAZY|RTLD_GLOBAL).  A failure prints dlerror's message; `why` explains it.",
           ["dlopen libfoo.so", "dlopen deps/libbar.so RTLD_NOW|RTLD_LOCAL", "dlopen libz.so now,global"])
p.add_argument("path", help="library file or name")
p.add_argument("flags", nargs="?", help="dlopen mode")


@command(p, category="running", complete=("library", "flags"), repeatable=False)
def dlopen(session, path, flags):
    mode = parse_flags(flags) if flags else RTLD_LAZY | RTLD_GLOBAL
    handle = session.engine.dlopen(path, mode)
    mod = session.engine.by_handle[handle]
    described = describe_flags(mode)
    return Reply({"handle": handle, "module": mod.name, "path": mod.path, "refcount": mod.refcount,
                  "flags": described},
                 f"handle {handle}: {mod.name} ({mod.path}), {described}, references {mod.refcount}")


def handle_arg(session, text: str | None) -> int:
    """A handle: a number, RTLD_DEFAULT, or a module's name.  Raises CommandError."""
    if text is None or text.upper() == "RTLD_DEFAULT":
        return RTLD_DEFAULT
    number = parse_int(text)
    if number is not None:
        return number
    mod = module_arg(session, text)
    if mod.handle is None:
        raise CommandError(f"{mod.name} has no handle yet (its load is in progress)")
    return mod.handle


p = parser("dlsym", "Look up a symbol as dlsym(HANDLE, NAME) does: a data symbol's address, or a function's "
           "table slot (one slot per function; dlsym gives one to a function that has none).\n\n"
           "Without HANDLE (or with RTLD_DEFAULT / 0) the global scope is searched; with a handle or a "
           "module name, only that library's exports.",
           ["dlsym add", "dlsym 1 own_data", "dlsym libfoo.so get_answer"])
p.add_argument("handle", nargs="?", help="library handle, module name or RTLD_DEFAULT")
p.add_argument("name", help="symbol name")


@command(p, category="running", complete=("handle", "symbol"))
def dlsym(session, handle, name):
    engine = session.engine
    h = handle_arg(session, handle)
    value = engine.dlsym(h, name)
    sym = engine.global_scope.lookup(name) if h == RTLD_DEFAULT else engine.by_handle[h].exports.get(name)
    if sym is not None and sym.kind == "func":
        info = slot_info(engine, value)
        what, text = "function", f"{name} = slot {value} ({info.module}!{info.function} {info.type})"
    else:
        what, text = "data", f"{name} = {value:#x} ({place(engine, value).short() or 'no known region'})"
    return Reply({"handle": h, "symbol": name, "kind": what, "value": value, "module": sym.module if sym else None}, text)


p = parser("dlclose", "Drop a reference to a library, as dlclose(HANDLE) does; at zero it leaves the scopes "
           "(its memory and table slots stay).",
           ["dlclose 2", "dlclose libfoo.so"])
p.add_argument("handle", help="library handle or module name")


@command(p, category="running", complete=("handle",), repeatable=False)
def dlclose(session, handle):
    h = handle_arg(session, handle)
    mod = session.engine.by_handle.get(h)
    session.engine.dlclose(h)
    state = "released" if mod is not None and mod.state == "released" else f"references {mod.refcount if mod else '?'}"
    return Reply({"handle": h, "module": mod.name if mod else None, "state": state}, f"dlclose({h}): {state}")


p = parser("dlerror", "Show (and clear) the last dl API error, as dlerror() does.", ["dlerror"])


@command(p, category="running")
def dlerror(session):
    message = session.engine.dlerror()
    return Reply({"error": message}, message if message is not None else "(no dl error)")


def call_value(session, token) -> object:
    """A `call` argument: a quoted string is copied into guest memory (its address is passed);
    integers and floats pass as they are; anything else is an address expression."""
    if getattr(token, "quoted", False):
        address, how = copy_in(session.engine, str(token).encode() + b"\0")
        session.guest_strings.append((address, str(token)))
        return address, f"{_c_string(str(token))} at {address:#x} ({how})"
    if parse_int(token) is not None:
        return token, None
    try:
        float(token)
        return token, None
    except ValueError:
        pass
    return evaluate(session.engine, token), None


p = parser("call", "Call a wasm function with arguments; prints its result.\n\n"
           "FUNC is a name (global scope first, then any module), MODULE!NAME, or a table slot number.  "
           "Arguments are integers (42, 0x2a, -1), floats (2.5), quoted strings (\"text\", copied into "
           "guest memory with the program's malloc when there is one, else the host heap, NUL-terminated; "
           "the address is passed) or address expressions (own_data, tbl+8).  A trap prints its wasm "
           "backtrace; the session goes on.  Ctrl-C stops a call that runs too long.",
           ["call add 2 40", "call libfoo.so!get_answer", "call strlen \"hello\"", "call 5 7", "call scale 2.5"])
p.add_argument("function", help="name, MODULE!NAME or table slot")
p.add_argument("args", nargs=argparse.REMAINDER, help="arguments")


@command(p, category="running", complete=("function", "symbol"), repeatable=False)
def call(session, function, args):
    engine = session.engine
    values, notes = [], []
    for token in args:
        value, note = call_value(session, token)
        values.append(value)
        if note:
            notes.append(note)
    result = engine.call(function, values)
    shown = _show_result(result)
    shown_args = ", ".join(_c_string(str(a)) if getattr(a, "quoted", False) else str(a) for a in args)
    lines = [f"  argument {n}" for n in notes] + [f"{function}({shown_args}) = {shown}"]
    data = {"function": function, "args": [str(a) for a in args], "result": result,
            "strings": [{"address": a, "text": t} for a, t in session.guest_strings[-len(notes):]] if notes else []}
    return Reply(data, "\n".join(lines))


def _c_string(text: str) -> str:
    return '"' + text.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'


def _show_result(result) -> str:
    if result is None:
        return "(no result)"
    values = result if isinstance(result, (list, tuple)) else [result]
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int):
            out.append(repr(v))
        else:
            out.append(f"{v} ({v & 0xFFFFFFFF:#x})" if -(1 << 31) <= v < (1 << 32) and abs(v) > 9 else str(v))
    return ", ".join(out)
