"""The session's event log: every linker event, numbered from 0 in the order it happened.

`events [RANGE] [FILTER]` selects from it: RANGE is `N`, `N-M` (inclusive), `N-` (N to the end)
or `-N` (the last N events); FILTER is the syntax of `dldbg.session.filters`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..events import Event
from .errors import CommandError
from .filters import parse_filter

_RANGE = re.compile(r"^(?:(\d+)|(\d+)-(\d*)|-(\d+))$")


@dataclass(frozen=True)
class LoggedEvent:
    """:ivar index: position in the log, from 0.
    :ivar time: seconds since the session started.
    :ivar depth: how many loads were in progress (1 = a load not started by another load's
        NEEDED list; 0 = outside any load, e.g. a lazy binding during a call)."""

    index: int
    event: Event
    time: float
    depth: int

    def to_json(self) -> dict:
        return {"index": self.index, "time": round(self.time, 6), "depth": self.depth, **self.event.to_json()}


class EventLog:
    def __init__(self) -> None:
        self.entries: list[LoggedEvent] = []

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, index: int) -> LoggedEvent:
        return self.entries[index]

    def append(self, event: Event, time: float, depth: int) -> LoggedEvent:
        entry = LoggedEvent(len(self.entries), event, time, depth)
        self.entries.append(entry)
        return entry

    def get(self, index: int) -> LoggedEvent:
        """Raises CommandError when there is no event `index`."""
        if not 0 <= index < len(self.entries):
            raise CommandError(f"no event #{index} (the log has {len(self.entries)} events)")
        return self.entries[index]

    def select(self, words: list[str]) -> list[LoggedEvent]:
        """Events chosen by `[RANGE] [PATTERN] [KEY=REGEX ...]`.  Raises CommandError."""
        words = list(words)
        entries = self.entries
        if words:
            m = _RANGE.match(words[0])
            if m:
                words.pop(0)
                single, start, end, last = m.groups()
                if single is not None:
                    entries = entries[int(single) : int(single) + 1]
                elif last is not None:
                    entries = entries[-int(last) :] if int(last) else []
                else:
                    stop = int(end) + 1 if end else len(entries)
                    entries = entries[int(start) : stop]
        if words:
            flt = parse_filter(words)
            entries = [e for e in entries if flt.matches(e.event)]
        return list(entries)
