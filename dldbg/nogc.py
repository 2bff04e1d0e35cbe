"""The cyclic garbage collector paused around code that makes thousands of long-lived objects.

A load of N symbols makes several tracked objects per symbol (its parse, GOT entries, symbols,
events, undo steps) that live as long as the module and hold no garbage cycles; every batch of
allocations makes the collector walk the young objects, and a full collection walks every
object of the process.  At 90 000 GOT imports per module the collector took a third of a `dldbg
run`'s CPU time (tests/test_symbol_scaling.py counts its runs).  Reference counting frees
what these regions drop; the collector runs again when they end.

A paused region may call listeners (the loader's stages emit events): a debugger stop inside
it waits for the user with `collector_resumed()` (Session), so the collector runs while the
user works.  Guest code that runs long (constructors, relocations, calls) is outside the
loader's paused stages.

A process that keeps what its loads make until it ends (`dldbg run`: the program's libraries
are never garbage) sets `freeze_at_resume`: the end of a paused region then freezes
(`gc.freeze`) what the region made instead of letting the next young collection walk it all
(at 100,000 data exports that collection took 72 of a load's 390 ms of CPU).  A region that
raised freezes nothing.  Frozen objects are still freed by reference counting; only cycles
among them (a failed load's module made by an earlier stage) stay until the process ends.
"""

from __future__ import annotations

import functools
import gc
from contextlib import contextmanager

#: paused regions that turned the collector off and have not ended (0 or 1, or more when a
#: stop inside one resumed the collector and a new region paused it again)
_paused = 0

#: freeze what a paused region made when it ends (set by `dldbg run`, which freezes each
#: load's objects anyway at its `load.done`; see the module's docstring)
freeze_at_resume = False


class _Paused:
    """What `collector_paused()` returns: a context manager, or a decorator whose wrapper pauses
    the collector itself (a `contextlib.contextmanager` makes a generator and a manager object
    per call: the loader's paused stages run once per module load)."""

    __slots__ = ("_paused_here",)

    def __enter__(self) -> "_Paused":
        global _paused
        self._paused_here = gc.isenabled()
        if self._paused_here:
            gc.disable()
            _paused += 1
        return self

    def __exit__(self, exc_type, *exc) -> None:
        global _paused
        if self._paused_here:
            _paused -= 1
            _resume(exc_type is None)

    def __call__(self, func):
        @functools.wraps(func)
        def paused(*args, **kwargs):
            global _paused
            if not gc.isenabled():
                return func(*args, **kwargs)
            gc.disable()
            _paused += 1
            try:
                result = func(*args, **kwargs)
            except BaseException:
                _paused -= 1
                _resume(False)
                raise
            _paused -= 1
            _resume(True)
            return result

        return paused


def _resume(completed: bool) -> None:
    """Enable the collector at the end of a paused region; freeze what the region made first
    if it `completed` and the process asked for it (what a failed load made is garbage)."""
    if freeze_at_resume and completed:
        gc.freeze()
    gc.enable()


def collector_paused() -> _Paused:
    """Disable the cyclic collector for the block (if it is enabled), enable it after.
    Usable as a decorator (`@collector_paused()`)."""
    return _Paused()


@contextmanager
def collector_resumed():
    """Enable the collector for the block if a paused region turned it off (a debugger stop
    inside a load); off again after.  A collector the program or the user turned off stays off."""
    global _paused
    if not _paused or gc.isenabled():
        yield
        return
    outer, _paused = _paused, 0
    gc.enable()
    try:
        yield
    finally:
        gc.disable()
        _paused = outer
