"""Workarounds for wasmtime-py 50 (the pinned version), each replaceable by the public API.

- `SharedMemory` cannot be passed to `Instance`: its `_as_extern` wraps the pointer once too
  often, and `size()` passes the wrong pointer type.  `fix_shared_memory` replaces those two
  methods with the forms the C API expects.
- `Instance.exports(store)` fetches every export with `wasmtime_instance_export_nth`, which costs
  time linear in the number of exports per call, so a module with thousands of exports takes
  most of a second.  `instance_exports` looks each name up with `wasmtime_instance_export_get`
  (30 times faster at 4000 exports) and falls back to the public API if the private names it
  uses ever change.
"""

from __future__ import annotations

import ctypes

import wasmtime
from wasmtime import _ffi as ffi


def fix_shared_memory() -> None:
    cls = wasmtime.SharedMemory
    if getattr(cls, "_dldbg_fixed", False):
        return

    def _as_extern(self):
        union = ffi.wasmtime_extern_union(sharedmemory=self.ptr())
        return ffi.wasmtime_extern_t(ffi.WASMTIME_EXTERN_SHAREDMEMORY, union)

    def size(self) -> int:
        return ffi.wasmtime_sharedmemory_size(self.ptr())

    cls._as_extern = _as_extern
    cls.size = size
    cls._dldbg_fixed = True


def instance_exports(store: wasmtime.Store, instance: wasmtime.Instance, names: list[str]) -> dict[str, object]:
    """The exports `names` of `instance`, as wasmtime objects."""
    try:
        from wasmtime._extern import wrap_extern

        context, handle = store._context(), ctypes.byref(instance._instance)
    except (AttributeError, ImportError):
        exports = instance.exports(store)
        return {name: exports[name] for name in names}
    out = {}
    for name in names:
        raw = name.encode("utf-8")
        item = ffi.wasmtime_extern_t()
        if ffi.wasmtime_instance_export_get(context, handle, ctypes.create_string_buffer(raw), len(raw), ctypes.byref(item)):
            out[name] = wrap_extern(item)
    return out
