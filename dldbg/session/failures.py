"""The last failure of the session, kept for `why`.

Recorded from a `load.fail` event (with the range of events of the failed request), and from
errors of commands: a dl API error (`dlopen`, `dlsym`), a failed call (a trap, a lazy binding
that found no definition, a signature mismatch).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Failure:
    """:ivar source: `load` (a load.fail event), `dl` (a dl API error), `call` (a call failed).
    :ivar message: what went wrong, one line.
    :ivar command: the command line that was running, if any.
    :ivar events: indices of the events of the failed request (`load`), first to last.
    :ivar error: the exception, for sources that raise one.
    """

    source: str
    message: str
    command: str | None = None
    events: tuple[int, ...] = ()
    error: BaseException | None = field(default=None, repr=False)
    #: the command went on and succeeded: the program handled it (a dlopen the wasm code made
    #: returned NULL and the program carried on), so it is no failure of the command
    handled: bool = False

    def to_json(self) -> dict:
        return {"source": self.source, "message": self.message, "command": self.command,
                "events": [self.events[0], self.events[-1]] if self.events else None, "handled": self.handled}
