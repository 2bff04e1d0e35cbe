"""Workarounds for wasmtime-py 50 (the pinned version), each replaceable by the public API.

- `SharedMemory` cannot be passed to `Instance`: its `_as_extern` wraps the pointer once too
  often, and `size()` passes the wrong pointer type.  `fix_shared_memory` replaces those two
  methods with the forms the C API expects.
- `Instance.exports(store)` fetches every export with `wasmtime_instance_export_nth`, which costs
  time linear in the number of exports per call, so a module with thousands of exports takes
  most of a second.  `instance_exports` looks a name up with `wasmtime_instance_export_get`
  (30 times faster at 4000 exports) when it is first used, and falls back to the public API
  if the private names it uses ever change.
"""

from __future__ import annotations

import ctypes
from collections.abc import Mapping

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


class InstanceExports(Mapping):
    """An instance's exports by name, fetched from wasmtime when first asked for (each fetch is
    one C call, about 50 microseconds: a module with thousands of exports pays for the few it
    uses, not for all of them).  Iterating or `in` uses the export names given, without fetching.
    """

    def __init__(self, store: wasmtime.Store, instance: wasmtime.Instance, names) -> None:
        self._store, self._instance = store, instance
        self.instance = instance
        self._names = names if isinstance(names, (dict, frozenset, set, Mapping)) else dict.fromkeys(names)
        self._cache: dict[str, object] = {}

    def __getitem__(self, name: str) -> object:
        try:
            return self._cache[name]
        except KeyError:
            pass
        if name not in self._names:
            raise KeyError(name)
        value = _fetch(self._store, self._instance, name)
        if value is None:
            raise KeyError(name)
        self._cache[name] = value
        return value

    def get(self, name: str, default=None):
        found = self._cache.get(name)
        if found is not None:
            return found
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name) -> bool:
        return name in self._names

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _fetch(store: wasmtime.Store, instance: wasmtime.Instance, name: str) -> object | None:
    """One export of `instance` by name through the C API (`wasmtime_instance_export_get`), or
    None when there is none; the public API when its private names have changed."""
    if _EXPORT_GET is None:
        exports = instance.exports(store)
        return exports[name] if name in exports else None
    raw = name.encode("utf-8")
    item = ffi.wasmtime_extern_t()  # one per export: the wrapper keeps pointing into it
    if not _EXPORT_GET(store._context(), ctypes.byref(instance._instance), raw, _SIZE(len(raw)), ctypes.byref(item)):
        return None
    kind = item.kind
    # wrap_extern's two commonest cases inline (it imports six classes per call)
    if kind == _FUNC_KIND:
        return wasmtime.Func._from_raw(item.of.func)
    if kind == _GLOBAL_KIND:
        return wasmtime.Global._from_raw(item.of.global_)
    return _wrap_extern(item)


try:
    from wasmtime._extern import wrap_extern as _wrap_extern

    # the C function through a pointer of its own without declared argument types: ctypes'
    # checks of wasmtime-py's declared pointer types cost more than the call (a GOT.func load
    # fetches every function it takes the address of); wasmtime-py's own pointer keeps them
    _EXPORT_GET = _bindings.dll["wasmtime_instance_export_get"]
    _EXPORT_GET.restype = ctypes.c_bool
    _SIZE = ctypes.c_size_t
    _FUNC_KIND, _GLOBAL_KIND = ffi.WASMTIME_EXTERN_FUNC.value, ffi.WASMTIME_EXTERN_GLOBAL.value
    wasmtime.Func._from_raw, wasmtime.Global._from_raw, wasmtime.Store._context  # noqa: B018
except (AttributeError, ImportError):
    _EXPORT_GET = None


def instance_exports(store: wasmtime.Store, instance: wasmtime.Instance, names) -> InstanceExports:
    """The exports `names` of `instance`, as wasmtime objects fetched on first use."""
    return InstanceExports(store, instance, names)
