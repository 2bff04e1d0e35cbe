"""Breakpoints on linker events (gdb's breakpoints and catchpoints, for the loader's events).

A breakpoint has a number (from 1, never reused), an EventFilter, and flags: enabled,
temporary (deleted after its first stop), an ignore count (stops skipped before it stops).
"""

from __future__ import annotations

from dataclasses import dataclass

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

    def describe(self) -> str:
        flags = [] if self.enabled else ["disabled"]
        if self.temporary:
            flags.append("temporary")
        if self.ignore:
            flags.append(f"ignore next {self.ignore}")
        hits = f", hit {self.hits} time{'s' if self.hits != 1 else ''}" if self.hits else ""
        extra = f" ({', '.join(flags)})" if flags else ""
        return f"{self.number}: {self.origin} {self.filter}{extra}{hits}"

    def to_json(self) -> dict:
        return {"number": self.number, "origin": self.origin, "enabled": self.enabled, "temporary": self.temporary,
                "ignore": self.ignore, "hits": self.hits, "filter": self.filter.to_json()}


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

    def hit(self, event: Event) -> Breakpoint | None:
        """The first enabled breakpoint that stops at `event` (counting hits and ignores);
        a temporary one is deleted when it stops."""
        stop = None
        for bp in list(self._items.values()):
            if not bp.enabled or not bp.filter.matches(event):
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
