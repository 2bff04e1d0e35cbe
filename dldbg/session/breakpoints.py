"""Breakpoints on linker events (gdb's breakpoints, catchpoints and watchpoints, for the
loader's events).

A breakpoint has a number (from 1, never reused), an EventFilter, and flags: enabled,
temporary (deleted after its first stop), an ignore count (stops skipped before it stops), a
condition (an expression of dldbg.session.expr that must be non-zero: `condition N EXPR`) and
commands run when it stops (`commands N`).  A Watchpoint stops at the event after which the
value of its expression (memory, a GOT entry, a global) differs from the value it had: the
relocation, constructor, data segment or debugger `set` that changed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from ..events import Event
from .errors import CommandError
from .filters import EventFilter


@dataclass
class Breakpoint:
    """:ivar origin: the command that made it (`break`, `tbreak`, `catch load`), for listings."""

    number: int
    filter: EventFilter
    origin: str = "break"
    enabled: bool = True
    temporary: bool = False
    ignore: int = 0
    hits: int = 0
    #: an expression that must be non-zero for a stop (None: always)
    condition: str | None = None
    #: command lines run when it stops
    commands: list[str] = field(default_factory=list)

    #: what a stop says: Breakpoint, Watchpoint
    word = "Breakpoint"

    def what(self) -> str:
        return f"{self.origin} {self.filter}"

    def selects(self, event: Event) -> bool:
        """Whether `event` is one this breakpoint looks at (its filter)."""
        return self.filter.matches(event)

    def describe(self) -> str:
        text = self._describe()
        if self.condition:
            text += f"\n    stop only if {self.condition}"
        text += "".join(f"\n    > {line}" for line in self.commands)
        return text

    def _describe(self) -> str:
        flags = [] if self.enabled else ["disabled"]
        if self.temporary:
            flags.append("temporary")
        if self.ignore:
            flags.append(f"ignore next {self.ignore}")
        hits = f", hit {self.hits} time{'s' if self.hits != 1 else ''}" if self.hits else ""
        extra = f" ({', '.join(flags)})" if flags else ""
        return f"{self.number}: {self.what()}{extra}{hits}"

    def to_json(self) -> dict:
        return {"number": self.number, "origin": self.origin, "enabled": self.enabled, "temporary": self.temporary,
                "ignore": self.ignore, "hits": self.hits, "filter": self.filter.to_json(),
                "condition": self.condition, "commands": list(self.commands)}


@dataclass
class Watchpoint(Breakpoint):
    """Stops when the value of `expression` changes (see the module docstring).

    :ivar value: the value last seen (None: not evaluable yet, e.g. the symbol's module is not
        loaded); :ivar location: what the expression denotes, once known.
    """

    expression: str = ""
    value: object = None
    location: str | None = None
    #: the last change: (old, new)
    change: tuple | None = None

    word = "Watchpoint"

    def selects(self, event: Event) -> bool:
        return True  # every event may be the one that changed the value

    def what(self) -> str:
        where = f" ({self.location})" if self.location else " (not yet in memory)"
        return f"watch {self.expression}{where}"

    def observe(self, value, location: str | None) -> bool:
        """Note the current value; True if it changed from a known earlier value."""
        changed = self.value is not None and value is not None and value != self.value
        if changed:
            self.change = (self.value, value)
        if value is not None:
            self.value, self.location = value, location
        return changed

    def to_json(self) -> dict:
        return {**super().to_json(), "watch": self.expression, "location": self.location, "value": self.value}


class BreakpointTable:
    """The session's breakpoints, by number."""

    def __init__(self) -> None:
        self._items: dict[int, Breakpoint] = {}
        self._next = 1

    def __iter__(self):
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def add(self, filter: EventFilter, *, origin: str = "break", temporary: bool = False,
            enabled: bool = True, ignore: int = 0) -> Breakpoint:
        bp = Breakpoint(self._next, filter, origin, enabled, temporary, ignore)
        self._items[bp.number] = bp
        self._next += 1
        return bp

    def add_watch(self, expression: str, *, enabled: bool = True, ignore: int = 0) -> Watchpoint:
        # its filter selects no event kind: front ends that mark the events a breakpoint's
        # filter matches mark none for a watchpoint
        wp = Watchpoint(self._next, EventFilter("watch", ()), "watch", enabled, False, ignore, expression=expression)
        self._items[wp.number] = wp
        self._next += 1
        return wp

    def get(self, number: int) -> Breakpoint:
        """Raises CommandError for an unknown number."""
        try:
            return self._items[number]
        except KeyError:
            raise CommandError(f"no breakpoint number {number}") from None

    def select(self, numbers: list[int]) -> list[Breakpoint]:
        """The breakpoints with these numbers, or all of them when `numbers` is empty."""
        return [self.get(n) for n in numbers] if numbers else list(self._items.values())

    def delete(self, number: int) -> None:
        self.get(number)
        del self._items[number]

    def hit(self, event: Event, test: Callable[[Breakpoint, Event], bool] | None = None) -> Breakpoint | None:
        """The first enabled breakpoint that stops at `event` (counting hits and ignores);
        a temporary one is deleted when it stops.  `test(bp, event)` decides what the filter
        cannot: a watchpoint's change, a condition (every enabled one is asked, in order)."""
        stop = None
        for bp in list(self._items.values()):
            if not bp.enabled or not bp.selects(event):
                continue
            if test is not None and not test(bp, event):
                continue
            bp.hits += 1
            if bp.ignore:
                bp.ignore -= 1
                continue
            if stop is None:
                stop = bp
        if stop is not None and stop.temporary:
            del self._items[stop.number]
        return stop
