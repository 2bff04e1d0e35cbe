"""Stepping: `step`, `next`, `finish`, `continue`, `abort`, `where`."""

from __future__ import annotations

from ..session.output import Reply
from . import command, parser


def _resumed(pause, how: str) -> Reply:
    return Reply({"resumed": how, "from": pause.entry.index}, "")


p = parser("step", "Go on to the next linker event (the N-th with a count).",
           ["step", "step 5", "s"])
p.add_argument("count", nargs="?", type=int, default=1, help="events to go (default 1)")


@command(p, category="stepping", aliases=("s",), resumes=True, repeatable=True)
def step(session, count):
    return _resumed(session.resume("step", max(count, 1)), "step")


p = parser("next", "Go on to the end of the current stage: the next event of the stopped load in another "
           "stage (loads of its NEEDED libraries are stepped over), or where that load ends.",
           ["next", "n"])


@command(p, category="stepping", aliases=("n",), resumes=True, repeatable=True)
def next_(session):
    return _resumed(session.resume("next"), "next")


p = parser("finish", "Go on to the end of the current load: its load.done, or the load.fail of its request.",
           ["finish"])


@command(p, category="stepping", resumes=True)
def finish(session):
    return _resumed(session.resume("finish"), "finish")


p = parser("continue", "Go on until a breakpoint stops the engine again, or the operation ends.",
           ["continue", "c"])


@command(p, category="stepping", aliases=("c", "cont"), resumes=True)
def continue_(session):
    return _resumed(session.resume("continue"), "continue")


p = parser("abort", "Make the stopped load fail here (the engine rolls it back, as for any failed load) and go on; "
           "stopped outside a load, the running call fails.",
           ["abort"])


@command(p, category="stepping", resumes=True, repeatable=False)
def abort(session):
    pause = session.resume("continue")
    pause.abort = True
    return Reply({"aborted": pause.entry.index}, f"aborting at event #{pause.entry.index}")


p = parser("where", "Where the engine is stopped: each stop (innermost last), the loads in progress and the "
           "command that was running.",
           ["where", "bt"])


@command(p, category="stepping", aliases=("bt", "backtrace", "info stop"))
def where(session):
    if not session.pauses:
        return Reply({"stopped": False, "events": len(session.log)},
                     f"not stopped; {len(session.log)} events logged")
    lines, data = [], []
    for pause in session.pauses:
        lines.append(f"[{pause.level}] {pause.headline()}")
        if pause.command:
            lines.append(f"    while running: {pause.command}")
        data.append(pause.to_json())
    frames = session.pauses[-1].frames
    if frames:
        lines.append("loads in progress (outermost first):")
        lines += [f"  {i + 1}. {name}" for i, name in enumerate(frames)]
    return Reply({"stopped": True, "stops": data}, "\n".join(lines))
