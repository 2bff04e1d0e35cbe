"""The shared funcref table and function identity: one slot per function.

wasmtime hands out a new Python wrapper for every lookup of the same function, so identity is
keyed by what the function is: `("module", module_id, func_index)` for a wasm function,
`("host", name)` for a host function, `("stub", module_id, field)` for a lazy import stub.
A function that already has a slot (its module's element segment put it there, or an earlier
GOT.func entry or dlsym gave it one) keeps it, so function pointers compare equal across modules
(emscripten `functionsInTableMap` / `addFunction`, libaddfunction.js).
"""

from __future__ import annotations

from typing import Callable, Hashable

import wasmtime

from .capi import FuncrefSlots

FuncKey = Hashable


class FunctionTable:
    """Owns slot assignment on one wasmtime table.

    :param on_grow: called as `on_grow(base, size_before, size_after, reason)` after each growth.
    """

    def __init__(self, store: wasmtime.Store, table: wasmtime.Table, on_grow: Callable[[int, int, int, str], None]):
        self.store = store
        self.table = table
        #: slot writes through the C API (a GOT.func load writes one slot per function)
        self._slots = FuncrefSlots(store, table)
        self._on_grow = on_grow
        self._slot_by_key: dict[FuncKey, int] = {}
        self.key_by_slot: dict[int, FuncKey] = {}
        #: free slots as sorted, disjoint [start, end) ranges (a rolled-back 1M-slot table is one range)
        self._free: list[tuple[int, int]] = []
        self._pending: dict[FuncKey, int] = {}
        #: slots whose function the debugger replaced: slot -> the key the loader had put there
        self.interposed: dict[int, FuncKey] = {}

    @property
    def size(self) -> int:
        return self.table.size(self.store)

    def grow(self, count: int, reason: str) -> int:
        """Append `count` null slots; return the first new slot.  Raises wasmtime errors unchanged."""
        before = self.table.grow(self.store, count, None)
        self._on_grow(before, before, before + count, reason)
        return before

    def slot_of(self, key: FuncKey) -> int | None:
        return self._slot_by_key.get(key)

    def record(self, key: FuncKey, slot: int) -> bool:
        """Note that `slot` holds the function `key` (an element segment put it there).

        The first slot recorded for a function stays its identity.  Returns True if recorded.
        """
        self.key_by_slot.setdefault(slot, key)
        if key in self._slot_by_key:
            return False
        self._slot_by_key[key] = slot
        return True

    def assign(self, key: FuncKey, func: wasmtime.Func, reason: str) -> tuple[int, bool]:
        """The slot of `key`, placing `func` in a free or new slot if it has none.

        Returns (slot, newly_assigned).
        """
        slot = self._slot_by_key.get(key)
        if slot is not None:
            return slot, False
        slot = self._take_free() if self._free else self.grow(1, reason)
        self._slots.set(slot, func)
        self._slot_by_key[key] = slot
        self.key_by_slot[slot] = key
        return slot, True

    def place(self, key: FuncKey, func: wasmtime.Func, slot: int) -> None:
        """Put `func`, which has no slot yet, in the (null, unassigned) `slot`."""
        self._slots.set(slot, func)
        self._slot_by_key[key] = slot
        self.key_by_slot[slot] = key

    def place_exports(self, base: int, keys: list[FuncKey], targets: list[tuple[wasmtime.Instance, str]]) -> list[int]:
        """`place` for the functions `targets` name (instance, export name), `keys[k]` in slot
        `base + k`, written without a `wasmtime.Func` wrapper (`capi.FuncrefSlots.set_exports`).
        Returns the offsets `k` where nothing was placed (the instance exports no function of
        that name): those slots stay null and unassigned."""
        missed = self._slots.set_exports(base, targets)
        slots = range(base, base + len(keys))
        if missed:
            skip = set(missed)
            pairs = [(key, slot) for k, (key, slot) in enumerate(zip(keys, slots)) if k not in skip]
        else:
            pairs = zip(keys, slots)
        slot_by_key, key_by_slot = self._slot_by_key, self.key_by_slot
        for key, slot in pairs:
            slot_by_key[key] = slot
            key_by_slot[slot] = key
        return missed

    def reserve(self, key: FuncKey, reason: str) -> int:
        """A slot for `key` whose function is not available yet (it is placed by `fill`)."""
        slot = self._slot_by_key.get(key)
        if slot is None:
            slot = self._take_free() if self._free else self.grow(1, reason)
            self.reserve_at(key, slot)
        return slot

    def reserve_at(self, key: FuncKey, slot: int) -> None:
        """Reserve the (null, unassigned) `slot` for `key`; its function comes with `fill`."""
        self._slot_by_key[key] = slot
        self.key_by_slot[slot] = key
        self._pending[key] = slot

    def pending_for_module(self, module_id: int) -> list[tuple[FuncKey, int]]:
        """Reserved, unfilled slots of `("module", module_id, ...)` keys."""
        return [(k, s) for k, s in self._pending.items() if k[0] == "module" and k[1] == module_id]

    def fill(self, slot: int, func: wasmtime.Func) -> None:
        self._slots.set(slot, func)
        key = self.key_by_slot.get(slot)
        self._pending.pop(key, None)

    def forget(self, key: FuncKey) -> None:
        slot = self._slot_by_key.pop(key, None)
        if slot is not None and self.key_by_slot.get(slot) == key:
            del self.key_by_slot[slot]

    def release(self, start: int, end: int, written=()) -> None:
        """Null the slots of [start, end) that hold something and free the whole range.

        Slots hold something when a function was placed, reserved or recorded in them, or when
        they lie in one of the `written` [start, end) ranges (element segments that wasmtime
        wrote at instantiation); the other slots are still null from the growth.  The cost
        scales with what was written, not with the range (a 1M-slot table rolls back at once).
        """
        touched = {slot for slot in self.key_by_slot if start <= slot < end}
        for lo, hi in written:
            touched.update(range(max(lo, start), min(hi, end, self.size)))
        for slot in sorted(touched):
            self._slots.set(slot, None)
            key = self.key_by_slot.pop(slot, None)
            self.interposed.pop(slot, None)
            if key is not None and self._slot_by_key.get(key) == slot:
                del self._slot_by_key[key]
                self._pending.pop(key, None)
        self._add_free(start, end)

    def _take_free(self) -> int:
        start, end = self._free[0]
        if start + 1 == end:
            self._free.pop(0)
        else:
            self._free[0] = (start + 1, end)
        return start

    def _add_free(self, start: int, end: int) -> None:
        if end <= start:
            return
        ranges = sorted(self._free + [(start, end)])
        merged: list[tuple[int, int]] = []
        for lo, hi in ranges:
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
            else:
                merged.append((lo, hi))
        self._free = merged

    def interpose(self, slot: int, func: wasmtime.Func, key: FuncKey) -> None:
        """Put `func` (identity `key`) in `slot` without moving any function's identity: the
        function the slot belonged to keeps it as its slot, so calls through it reach `func`."""
        old = self.key_by_slot.get(slot)
        self._slots.set(slot, func)
        original = self.interposed.get(slot, old)
        if key == original:
            self.interposed.pop(slot, None)
        else:
            self.interposed[slot] = original
        if key is None:
            self.key_by_slot.pop(slot, None)
        else:
            self.key_by_slot[slot] = key

    def get(self, slot: int) -> wasmtime.Func | None:
        value = self.table.get(self.store, slot)
        return value if isinstance(value, wasmtime.Func) else None
