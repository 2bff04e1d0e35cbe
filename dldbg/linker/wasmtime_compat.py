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
from wasmtime import _bindings
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
        # the C function itself (no Python wrapper frame), else the wrapper
        export_get = getattr(_bindings, "_wasmtime_instance_export_get", ffi.wasmtime_instance_export_get)
        func_kind, global_kind = ffi.WASMTIME_EXTERN_FUNC.value, ffi.WASMTIME_EXTERN_GLOBAL.value
        func_from_raw, global_from_raw = wasmtime.Func._from_raw, wasmtime.Global._from_raw
    except (AttributeError, ImportError):
        exports = instance.exports(store)
        return {name: exports[name] for name in names}
    out = {}
    new_extern, byref = ffi.wasmtime_extern_t, ctypes.byref
    for name in names:
        raw = name.encode("utf-8")
        item = new_extern()  # one per export: the wrapper keeps pointing into it
        if export_get(context, handle, raw, len(raw), byref(item)):
            kind = item.kind
            # wrap_extern's two commonest cases inline (it imports six classes per call)
            if kind == func_kind:
                out[name] = func_from_raw(item.of.func)
            elif kind == global_kind:
                out[name] = global_from_raw(item.of.global_)
            else:
                out[name] = wrap_extern(item)
    return out
