"""LD_DEBUG-style tracing: `trace libs,got` prints one line per linker event of those categories.

The lines are dldbg.trace's (`dldbg[CATEGORY]: MODULE: message`), the same as `dldbg run
--trace`, and go to the session's trace stream (stderr in text mode, `{"type": "trace"}`
objects with --json).
"""

from __future__ import annotations

from dldbg.commands import parser
from dldbg.plugins import hookimpl
from dldbg.session.errors import CommandError
from dldbg.session.output import Reply
from dldbg.trace import CATEGORY_HELP, describe, help_text, parse_categories

NAME = "ldtrace"


def categories(session) -> frozenset[str]:
    return session.plugin_data.get(NAME, frozenset())


@hookimpl
def dldbg_event(session, entry):
    if entry.event.category in categories(session):
        session.printer.trace(describe(entry.event))


@hookimpl
def dldbg_register_commands(registry):
    p = parser("trace", "Print an LD_DEBUG-style line for every linker event of the chosen categories "
               "(comma separated; all for every one, off to stop, help to list them).  Without an argument, "
               "show the categories traced.",
               ["trace all", "trace libs,got,reloc", "trace off", "trace help"])
    p.add_argument("categories", nargs="?", help="CATEGORY[,CATEGORY...], all, off or help")

    @registry.command(p, category="tracing", plugin=NAME, complete=("words",))
    def trace(session, categories):
        if categories is None:
            chosen = sorted(session.plugin_data.get(NAME, ()))
            return Reply({"categories": chosen}, f"tracing: {', '.join(chosen) or 'off'}")
        if categories == "help":
            return Reply({"categories": CATEGORY_HELP}, help_text())
        if categories == "off":
            session.plugin_data[NAME] = frozenset()
            return Reply({"categories": []}, "tracing: off")
        try:
            chosen = parse_categories(categories)
        except Exception as exc:
            raise CommandError(str(exc)) from None
        session.plugin_data[NAME] = chosen
        return Reply({"categories": sorted(chosen)}, f"tracing: {', '.join(sorted(chosen))}")
