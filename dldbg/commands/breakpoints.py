"""Breakpoints: `break`, `tbreak`, `catch`, `delete`, `enable`, `disable`, `info breakpoints`."""

from __future__ import annotations

import argparse

from ..session.addresses import parse_int
from ..session.errors import CommandError
from ..session.filters import Condition, parse_filter
from ..session.output import Reply
from . import command, parser

FILTER_HELP = ("KIND is an event kind (got.update), a group (got, load, reloc, import, ...), a trace category "
               "(libs, symbols, ...), a glob (import.*) or * for every event.  Conditions KEY=REGEX must all "
               "hold; REGEX matches the whole value: module=, stage=, kind=, symbol= (any symbol the event "
               "names), or any event field (how=lazy, action=error; numbers compare by value).")


def _add(session, words, origin, temporary, disabled, ignore, extra=(), default_pattern="*"):
    flt = parse_filter(list(words), default_pattern=default_pattern, extra=tuple(extra))
    bp = session.breakpoints.add(flt, origin=origin, temporary=temporary, enabled=not disabled, ignore=ignore or 0)
    kinds = ", ".join(flt.kinds) if len(flt.kinds) <= 4 else f"{len(flt.kinds)} event kinds"
    what = "Temporary breakpoint" if temporary else "Breakpoint"
    return Reply(bp.to_json(), f"{what} {bp.number}: {origin} {flt} ({kinds})" + ("" if not disabled else " [disabled]"))


def _flags(p):
    p.add_argument("-t", "--temporary", action="store_true", help="delete it after its first stop")
    p.add_argument("-d", "--disabled", action="store_true", help="create it disabled")
    p.add_argument("-i", "--ignore", type=int, metavar="N", help="do not stop the first N times it matches")


p = parser("break", "Stop at linker events: break KIND [KEY=REGEX ...].\n\n" + FILTER_HELP,
           ["break got symbol=PyList_New", "break reloc module=libz.so", "break import.unresolved action=error",
            "break got.update new=0", "break * stage=ctors", "break -t load.done"])
p.add_argument("filter", nargs="+", metavar="KIND [KEY=REGEX]", help="event kind and conditions")
_flags(p)


@command(p, category="breakpoints", aliases=("b",), complete=("filter",), repeatable=False)
def break_(session, filter, temporary, disabled, ignore):
    return _add(session, filter, "break", temporary, disabled, ignore)


p = parser("tbreak", "Stop once at linker events (a breakpoint deleted after its first stop).\n\n" + FILTER_HELP,
           ["tbreak load.start", "tbreak got symbol=missing_data"])
p.add_argument("filter", nargs="+", metavar="KIND [KEY=REGEX]", help="event kind and conditions")
p.add_argument("-d", "--disabled", action="store_true", help="create it disabled")
p.add_argument("-i", "--ignore", type=int, metavar="N", help="do not stop the first N times it matches")


@command(p, category="breakpoints", complete=("filter",), repeatable=False)
def tbreak(session, filter, disabled, ignore):
    return _add(session, filter, "tbreak", True, disabled, ignore)


CATCH = {
    "load": ("load.start", "path", "a library load starts (REGEX is searched in its path)"),
    "unload": ("module.release", "module", "dlclose releases a library"),
    "fail": ("load.fail", "path", "a load fails (before its rollback is reported)"),
}

p = parser("catch", "Catchpoints, as gdb's `catch load`: stop when a library whose path contains REGEX starts "
           "loading (load), is released by dlclose (unload), or fails to load (fail).  Without REGEX, any.",
           ["catch load", "catch load 'libz.*'", "catch fail", "catch unload libfoo", "catch load -t missing"])
p.add_argument("what", choices=sorted(CATCH), help="load, unload or fail")
p.add_argument("regex", nargs="?", help="searched in the library's path (or name)")
_flags(p)


@command(p, category="breakpoints", complete=("words",), repeatable=False)
def catch(session, what, regex, temporary, disabled, ignore):
    kind, key, _doc = CATCH[what]
    extra = (Condition(key, regex, search=True),) if regex else ()
    return _add(session, [kind], f"catch {what}", temporary, disabled, ignore, extra)


def _numbers(p, what):
    p.add_argument("numbers", nargs="*", type=int, metavar="N", help=f"breakpoint numbers (default: all) to {what}")


p = parser("delete", "Delete breakpoints (all of them without numbers).", ["delete 2", "delete 1 3", "delete"])
_numbers(p, "delete")


@command(p, category="breakpoints", aliases=("d",), complete=("breakpoint",), repeatable=False)
def delete(session, numbers):
    chosen = session.breakpoints.select(numbers)
    for bp in chosen:
        session.breakpoints.delete(bp.number)
    return Reply({"deleted": [bp.number for bp in chosen]},
                 f"deleted {', '.join(str(bp.number) for bp in chosen)}" if chosen else "no breakpoints")


def _toggle(session, numbers, enabled: bool):
    chosen = session.breakpoints.select(numbers)
    for bp in chosen:
        bp.enabled = enabled
    word = "enabled" if enabled else "disabled"
    return Reply({word: [bp.number for bp in chosen]},
                 f"{word} {', '.join(str(bp.number) for bp in chosen)}" if chosen else "no breakpoints")


p = parser("enable", "Enable breakpoints (all of them without numbers).", ["enable 2", "enable"])
_numbers(p, "enable")


@command(p, category="breakpoints", complete=("breakpoint",))
def enable(session, numbers):
    return _toggle(session, numbers, True)


p = parser("disable", "Disable breakpoints (all of them without numbers); they stay listed.", ["disable 1", "disable"])
_numbers(p, "disable")


@command(p, category="breakpoints", complete=("breakpoint",))
def disable(session, numbers):
    return _toggle(session, numbers, False)


p = parser("info breakpoints", "List breakpoints: number, what they stop at, flags and hit counts.",
           ["info breakpoints", "info break"])


@command(p, category="breakpoints", aliases=("info break",))
def info_breakpoints(session):
    items = list(session.breakpoints)
    if not items:
        return Reply([], "no breakpoints")
    return Reply([bp.to_json() for bp in items], "\n".join(bp.describe() for bp in items))


p = parser("watch", "Stop when the value at ADDR or of SYMBOL changes: at the linker event after which it differs "
           "(a data segment written at instantiate, a relocation, a constructor, a GOT update, a debugger `set`), "
           "as gdb's software watchpoints.\n\nWHAT is an expression of `print`: a data symbol (its 4 bytes, "
           "watched from the moment its module has an address, even before it is loaded), a number (the 4 "
           "bytes at that address), *ADDR or {TYPE} ADDR, GOT.mem.NAME / GOT.func.NAME, a global.  The stop "
           "shows the old and the new value.",
           ["watch own_data", "watch 0x100400", "watch {u8} 0x100404", "watch GOT.mem.dep_data",
            "watch libreloc.so!tbl"])
p.add_argument("what", nargs=argparse.REMAINDER, metavar="ADDR|SYMBOL", help="what to watch")


@command(p, category="breakpoints", complete=("symbol",), repeatable=False)
def watch(session, what):
    from .data import expression_text

    if not what:
        raise CommandError("watch: give an address or a symbol")
    text = expression_text(what)
    if parse_int(text) is not None:
        text = f"*{text}"
    wp = session.breakpoints.add_watch(text)
    value, location = session._watch_value(wp)
    wp.observe(value, location)
    now = f": {location} = {value}" if location is not None else ": not in memory yet (watched once its module has an address)"
    return Reply(wp.to_json(), f"Watchpoint {wp.number}: {text}{now}")


p = parser("condition", "Stop at breakpoint N only when EXPR is non-zero (gdb's condition); without EXPR the "
           "breakpoint is unconditional again.\n\nEXPR is an expression of `print`, evaluated at the event: "
           "memory, GOT entries, globals, and the event's fields as $_event.FIELD (strings compare with "
           "==).  An expression that cannot be evaluated stops the engine with a warning.",
           ["condition 1 own_data == 7", "condition 2 $_event.new == 0", "condition 1 $_event.symbol == \"dep_data\"",
            "condition 1"])
p.add_argument("number", type=int, help="breakpoint number")
p.add_argument("expression", nargs=argparse.REMAINDER, metavar="EXPR", help="the condition")


@command(p, category="breakpoints", complete=("breakpoint", "symbol"), repeatable=False)
def condition(session, number, expression):
    from ..session.expr import tokens
    from .data import expression_text

    bp = session.breakpoints.get(number)
    if not expression:
        bp.condition = None
        return Reply(bp.to_json(), f"Breakpoint {number} now unconditional.")
    text = expression_text(expression)
    tokens(text)  # a syntax error is reported now, not at the first stop
    bp.condition = text
    return Reply(bp.to_json(), f"Breakpoint {number}: stop only if {text}")


p = parser("commands", "Give breakpoint N (default: the last one made) command lines to run when it stops, as "
           "gdb's commands: the lines that follow, up to a line `end`.  A first line `silent` keeps the stop "
           "from being printed; a `continue` among them resumes the engine.  An empty block removes them.",
           ["commands 1", "commands"])
p.add_argument("number", nargs="?", type=int, help="breakpoint number")


@command(p, category="breakpoints", complete=("breakpoint",), repeatable=False)
def commands(session, number):
    items = list(session.breakpoints)
    if number is None:
        if not items:
            raise CommandError("commands: no breakpoints")
        bp = max(items, key=lambda b: b.number)
    else:
        bp = session.breakpoints.get(number)
    session.collecting = (bp, [])
    return Reply({"breakpoint": bp.number}, f"Type commands for breakpoint {bp.number}, one per line; end with a line "
                                            f"saying just \"end\".")
