"""Trace files: the session's event log as JSON lines, or in the Chrome trace event format.

`export jsonl FILE` writes one event per line (`LoggedEvent.to_json()`: index, time in seconds
since the session started, load depth, kind, stage, module and the event's fields).

`export chrome FILE` writes `{"traceEvents": [...]}` (the Trace Event Format that Perfetto and
chrome://tracing open): one track (thread) per module, named after it; a complete event ("X")
spanning each module's load from its `load.start` to its `load.done`/`load.fail`, containing a
complete event per loader stage (from the stage's first event to the module's next event in
another stage), the instantiation and each constructor with the durations the engine measured,
and an instant event ("i") per linker event with its fields as args.  Times are microseconds.
"""

from __future__ import annotations

import json

from dldbg.commands import parser
from dldbg.plugins import hookimpl
from dldbg.session.errors import CommandError
from dldbg.session.output import Reply

NAME = "export"
PID = 1


def jsonl_lines(entries) -> list[str]:
    return [json.dumps(e.to_json()) for e in entries]


def chrome_trace(entries) -> dict:
    """The Chrome trace event document for `entries` (LoggedEvents, in log order)."""
    events: list[dict] = []
    tids: dict[str, int] = {}

    def tid(module: str) -> int:
        if module not in tids:
            tids[module] = len(tids) + 1
            events.append({"name": "thread_name", "ph": "M", "pid": PID, "tid": tids[module], "args": {"name": module}})
            events.append({"name": "thread_sort_index", "ph": "M", "pid": PID, "tid": tids[module],
                           "args": {"sort_index": tids[module]}})
        return tids[module]

    def us(seconds: float) -> float:
        return round(seconds * 1e6, 3)

    end_time = entries[-1].time if entries else 0.0
    open_loads: dict[str, float] = {}
    stage_of: dict[str, tuple[str, float]] = {}
    events.append({"name": "process_name", "ph": "M", "pid": PID, "tid": 0, "args": {"name": "dldbg linker"}})

    def close_stage(module: str, at: float) -> None:
        if module in stage_of:
            stage, began = stage_of.pop(module)
            events.append({"name": stage, "cat": "stage", "ph": "X", "pid": PID, "tid": tid(module),
                           "ts": us(began), "dur": max(us(at) - us(began), 0.0)})

    for entry in entries:
        e = entry.event
        module, t = e.module, entry.time
        track = tid(module)
        if e.kind == "load.start":
            open_loads[module] = t
        if module in open_loads and e.kind not in ("load.done", "load.fail"):
            current = stage_of.get(module)
            if current is None or current[0] != e.stage:
                close_stage(module, t)
                stage_of[module] = (e.stage, t)
        if e.kind in ("instantiate", "ctor.call"):
            seconds = getattr(e, "seconds", 0.0) or 0.0
            name = "instantiate" if e.kind == "instantiate" else e.function
            events.append({"name": name, "cat": e.kind, "ph": "X", "pid": PID, "tid": track,
                           "ts": us(max(t - seconds, open_loads.get(module, t))), "dur": us(seconds)})
        events.append({"name": e.kind, "cat": e.category, "ph": "i", "s": "t", "pid": PID, "tid": track,
                       "ts": us(t), "args": {"index": entry.index, **e.to_json()}})
        if e.kind in ("load.done", "load.fail"):
            close_stage(module, t)
            began = open_loads.pop(module, None)
            if began is not None:
                events.append({"name": f"load {module}", "cat": "load", "ph": "X", "pid": PID, "tid": track,
                               "ts": us(began), "dur": us(t) - us(began),
                               "args": {"result": "done" if e.kind == "load.done" else "fail"}})
            if e.kind == "load.fail":  # the whole request failed: every open load ends here
                for other, began in list(open_loads.items()):
                    close_stage(other, t)
                    events.append({"name": f"load {other}", "cat": "load", "ph": "X", "pid": PID, "tid": tid(other),
                                   "ts": us(began), "dur": us(t) - us(began), "args": {"result": "rolled back"}})
                    del open_loads[other]
    for module, began in list(open_loads.items()):  # still loading (stopped inside it)
        close_stage(module, end_time)
        events.append({"name": f"load {module}", "cat": "load", "ph": "X", "pid": PID, "tid": tid(module),
                       "ts": us(began), "dur": us(end_time) - us(began), "args": {"result": "in progress"}})
    return {"traceEvents": events, "displayTimeUnit": "ms", "otherData": {"producer": "dldbg"}}


@hookimpl
def dldbg_register_commands(registry):
    p = parser("export", "Write the event log to FILE: jsonl (one JSON object per event) or chrome (the Chrome "
               "trace event format: one track per module, load and stage spans, an instant per event; open it "
               "in https://ui.perfetto.dev or chrome://tracing).  RANGE and a filter select events, as for "
               "`events`.",
               ["export chrome load-trace.json", "export jsonl events.jsonl", "export jsonl got.jsonl got"])
    p.add_argument("format", choices=("jsonl", "chrome"), help="file format")
    p.add_argument("file", help="output file")
    p.add_argument("spec", nargs="*", metavar="RANGE|FILTER", help="which events (default: all)")

    @registry.command(p, category="tracing", plugin=NAME, complete=("words", "path", "filter"))
    def export(session, format, file, spec):
        entries = session.log.select(spec)
        try:
            with open(file, "w", encoding="utf-8") as fh:
                if format == "jsonl":
                    for line in jsonl_lines(entries):
                        fh.write(line + "\n")
                else:
                    json.dump(chrome_trace(entries), fh)
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror or exc}") from None
        return Reply({"file": file, "format": format, "events": len(entries)},
                     f"wrote {len(entries)} events to {file} ({format})")
