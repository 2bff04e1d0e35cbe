"""An example scripted session, written against the plugin API: `audit LIB`.

`audit LIB` loads LIB with dlopen under a temporary breakpoint on every GOT event of the load,
records each stop from Python (the pause strategy is swapped for one that records and
continues), then reports the GOT entries the load created or changed, the ones left
unresolved, and, if the load failed, the doctor's explanation.  The same can be written as a
command file (see plugins/examples/failing-dlopen.dldbg); this shows how a plugin drives a
Session: breakpoints, `execute`, the pause strategy, the event log.
"""

from __future__ import annotations

from dldbg.commands import parser
from dldbg.plugins import hookimpl
from dldbg.session.output import Reply
from dldbg.session.tokens import quote

NAME = "example_session"


@hookimpl
def dldbg_register_commands(registry):
    p = parser("audit", "Load LIB and report every GOT entry its load created or updated, those still unresolved, "
               "and the doctor's explanation if it failed (an example of a plugin scripting a session).",
               ["audit libfoo.so", "audit deps/libbar.so"])
    p.add_argument("library", help="library to dlopen")

    @registry.command(p, category="diagnosis", plugin=NAME, complete=("path",))
    def audit(session, library):
        seen = []
        quiet = session.printer

        class Recorder:
            """The pause strategy while auditing: note the stop, continue."""

            def __call__(self, pause):
                seen.append(pause.entry)
                pause.resume = None  # continue (a None resume means continue)

        bp = session.breakpoints.add(_got_filter(), origin="audit", temporary=False)
        old_wait, old_printer = session.wait, session.printer
        session.wait = Recorder()
        session.printer = _Silent(quiet)
        try:
            result = session.execute(f"dlopen {quote(library)}")
        finally:
            session.wait, session.printer = old_wait, old_printer
            session.breakpoints.delete(bp.number)
        lines = [f"audit of {library}: {'loaded' if result.ok else 'FAILED'}"]
        for entry in seen:
            e = entry.event
            value = e.value if e.kind == "got.create" else e.new
            lines.append(f"  #{entry.index} {e.kind} {e.got}.{e.symbol} = {value} ({e.module})")
        unresolved = [e.symbol for e in session.engine.got.unresolved()]
        lines.append(f"  unresolved now: {', '.join(unresolved) or 'none'}")
        data = {"library": library, "ok": result.ok, "got_events": [e.to_json() for e in seen],
                "unresolved": unresolved}
        if not result.ok:
            from dldbg_plugins.doctor import analyse, render

            report = analyse(session)
            data["why"] = report
            lines.append(render(report))
        return Reply(data, "\n".join(lines))


def _got_filter():
    from dldbg.session.filters import parse_filter

    return parse_filter(["got"])


class _Silent:
    """A printer that drops what the scripted steps would print, but keeps warnings."""

    def __init__(self, inner):
        self.inner = inner
        self.json = inner.json

    def echo(self, *a, **k):
        pass

    def result(self, result):
        pass

    def event(self, entry):
        self.inner.event(entry)

    def stop(self, pause):
        pass

    def message(self, text):
        pass

    def trace(self, line):
        self.inner.trace(line)

    def warning(self, text):
        self.inner.warning(text)
