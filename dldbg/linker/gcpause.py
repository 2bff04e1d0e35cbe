"""Python's cyclic garbage collector paused while the loader builds its per-symbol objects.

A load of N symbols allocates several tracked objects per symbol (the parsed imports and
exports, GOT entries, symbols, bindings, events, undo steps).  None is garbage, but every 700
allocations start a collection, and the collections of the older generations walk every live
object of the process: before this, the collector took a third of the time of a load of 10 000
GOT.mem imports (`tests/test_symbol_scaling.py` counts its runs), and more at 100 000, where
the heap left by the earlier loads is larger.  Reference counting frees what is not cyclic as
before; cycles made during a paused stage are collected after it.
"""

from __future__ import annotations

import functools
import gc


def gc_paused(method):
    """Decorate a loader stage: the collector does not run during it (unless it was off already)."""

    @functools.wraps(method)
    def paused(*args, **kwargs):
        if not gc.isenabled():  # off already, or a stage inside another paused one
            return method(*args, **kwargs)
        gc.disable()
        try:
            return method(*args, **kwargs)
        finally:
            gc.enable()

    return paused
