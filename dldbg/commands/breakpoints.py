"""Breakpoints: `break`, `tbreak`, `catch`, `delete`, `enable`, `disable`, `info breakpoints`."""

from __future__ import annotations

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


@command(p, category="breakpoints", aliases=("b",), complete=("filter",))
def break_(session, filter, temporary, disabled, ignore):
    return _add(session, filter, "break", temporary, disabled, ignore)


p = parser("tbreak", "Stop once at linker events (a breakpoint deleted after its first stop).\n\n" + FILTER_HELP,
           ["tbreak load.start", "tbreak got symbol=missing_data"])
p.add_argument("filter", nargs="+", metavar="KIND [KEY=REGEX]", help="event kind and conditions")
p.add_argument("-d", "--disabled", action="store_true", help="create it disabled")
p.add_argument("-i", "--ignore", type=int, metavar="N", help="do not stop the first N times it matches")


@command(p, category="breakpoints", complete=("filter",))
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


@command(p, category="breakpoints", complete=("words",))
def catch(session, what, regex, temporary, disabled, ignore):
    kind, key, _doc = CATCH[what]
    extra = (Condition(key, regex, search=True),) if regex else ()
    return _add(session, [kind], f"catch {what}", temporary, disabled, ignore, extra)


def _numbers(p, what):
    p.add_argument("numbers", nargs="*", type=int, metavar="N", help=f"breakpoint numbers (default: all) to {what}")


p = parser("delete", "Delete breakpoints (all of them without numbers).", ["delete 2", "delete 1 3", "delete"])
_numbers(p, "delete")


@command(p, category="breakpoints", aliases=("d",), complete=("breakpoint",))
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
