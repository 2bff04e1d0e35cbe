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
"""

from __future__ import annotations

import gc
from contextlib import contextmanager

#: paused regions that turned the collector off and have not ended (0 or 1, or more when a
#: stop inside one resumed the collector and a new region paused it again)
_paused = 0


@contextmanager
def collector_paused():
    """Disable the cyclic collector for the block (if it is enabled), enable it after.
    Usable as a decorator (`@collector_paused()`)."""
    global _paused
    if not gc.isenabled():
        yield
        return
    gc.disable()
    _paused += 1
    try:
        yield
    finally:
        _paused -= 1
        gc.enable()


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
