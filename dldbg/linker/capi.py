"""wasmtime's C API called directly where the loader does something once per symbol.

wasmtime-py's wrappers convert every value through `Val`, look the object's type up again
(`Table.set` builds a `TableType` per call) and allocate several ctypes objects per call, and
its C functions check each argument against a declared pointer type (`argtypes`), which costs
more than the call itself: a GOT entry made with `wasmtime.Global(...)` took about 19
microseconds, a `Table.set` about 23, on the project's machine.  The helpers here call the
same C functions through pointers without declared argument types (every argument is a
pointer made with `byref`, or a `c_uint64`), with one reused value buffer: 1 to 3 microseconds.
The helpers take wasmtime-py's objects (`wasmtime.Func`, `wasmtime.Table`, ...); the GOT's
globals are handed out as their C structs (`I32Globals`), which `instantiate` takes as imports
and `as_global` wraps.  The public API is used when the private names (`wasmtime._bindings.dll`,
`Global._from_raw`, `Store._context`) are missing in another wasmtime-py version.  wasmtime's
errors are raised as `wasmtime.WasmtimeError`, as the public API does.  C signatures:
wasmtime's `global.h`, `table.h`, `instance.h`.
"""

from __future__ import annotations

import ctypes

import wasmtime

try:
    from wasmtime import _bindings
    from wasmtime import _ffi as ffi

    def _untyped(name: str, restype=ctypes.c_void_p):
        """A pointer of its own to C function `name`, without argument types (wasmtime-py's,
        shared, keeps its own); returns an error pointer as an int, or None."""
        func = _bindings.dll[name]  # a new function pointer object on each lookup
        func.restype = restype
        return func

    _GLOBAL_NEW = _untyped("wasmtime_global_new")
    _GLOBAL_GET = _untyped("wasmtime_global_get", None)
    _GLOBAL_SET = _untyped("wasmtime_global_set")
    _TABLE_SET = _untyped("wasmtime_table_set")
    _EXPORT_GET = _untyped("wasmtime_instance_export_get", ctypes.c_bool)
    _FUNC_KIND = ffi.WASMTIME_EXTERN_FUNC.value
    _U64 = ctypes.c_uint64
    _ERROR_P = ctypes.POINTER(ffi.wasmtime_error_t)
    _I32, _I64, _FUNCREF = ffi.WASMTIME_I32.value, ffi.WASMTIME_I64.value, ffi.WASMTIME_FUNCREF.value
    _VAL_FROM_RAW = wasmtime.Val._from_raw
    _GLOBAL_T, _VAL_T = ffi.wasmtime_global_t, ffi.wasmtime_val_t
    _EXTERN_T, _INSTANCE_T = ffi.wasmtime_extern_t, ffi.wasmtime_instance_t
    _INSTANCE_NEW = _untyped("wasmtime_instance_new")
    _SIZE = ctypes.c_size_t
    _TRAP_P = ctypes.POINTER(ffi.wasm_trap_t)
    _FUNC_CALL = _untyped("wasmtime_func_call")
    _VALTYPE_NEW = _untyped("wasm_valtype_new")
    _GLOBALTYPE_NEW = _untyped("wasm_globaltype_new")
    _WASM_I32, _WASM_CONST, _WASM_VAR = ffi.WASM_I32.value, ffi.WASM_CONST.value, ffi.WASM_VAR.value
    _trap_from = wasmtime.Trap._from_ptr
    _from_raw = wasmtime.Global._from_raw
    _from_error = wasmtime.WasmtimeError._from_ptr
    from wasmtime._func import maybe_raise_last_exn as _raise_host_exception

    _NULL_FUNC = ffi.wasmtime_func_t()  # store_id 0: a null funcref (wasmtime's C API, val.h)
    _GLOBAL_HEAD = bytes([ffi.WASMTIME_EXTERN_GLOBAL.value]) + bytes(_EXTERN_T.of.offset - 1)
    _GLOBAL_TAIL = bytes(ctypes.sizeof(_EXTERN_T) - _EXTERN_T.of.offset - ctypes.sizeof(_GLOBAL_T))
    #: whether a function extern and a funcref value lie at the same place in one buffer
    _SHARED_FUNC = (ctypes.sizeof(_VAL_T) == ctypes.sizeof(_EXTERN_T) and _EXTERN_T.kind.offset == _VAL_T.kind.offset
                    and _EXTERN_T.of.offset == _VAL_T.of.offset
                    and ffi.wasmtime_extern_union_t.func.offset == ffi.wasmtime_valunion_t.funcref.offset == 0
                    and dict(ffi.wasmtime_extern_union_t._fields_)["func"] is dict(ffi.wasmtime_valunion_t._fields_)["funcref"])
    FAST = True
except (AttributeError, ImportError):  # another wasmtime-py: the public API below
    FAST = _SHARED_FUNC = False

_byref = ctypes.byref


def _error(address: int) -> wasmtime.WasmtimeError:
    """The WasmtimeError of a `wasmtime_error_t *` returned as an int (it is freed)."""
    return _from_error(ctypes.cast(address, _ERROR_P))


def as_global(handle) -> wasmtime.Global:
    """An `I32Globals` handle as a `wasmtime.Global` (a wrapper over the same global)."""
    return _from_raw(handle) if FAST and type(handle) is _GLOBAL_T else handle


def global_value(store: wasmtime.Store, glob: wasmtime.Global) -> object:
    """`glob.value(store)`, an i32 or i64 without wasmtime-py's `Val` (the loader reads
    `__stack_pointer` around every call into wasm: about 10 microseconds through wasmtime-py,
    30 the first time in a process; 1 to 2 here).  Other kinds go through wasmtime-py's
    conversion, which also unroots a reference."""
    if not FAST or type(glob) is not wasmtime.Global:
        return glob.value(store)
    raw = _VAL_T()
    _GLOBAL_GET(store._context(), _byref(glob._global), _byref(raw))
    kind = raw.kind
    if kind == _I32:
        return raw.of.i32
    if kind == _I64:
        return raw.of.i64
    val = _VAL_FROM_RAW(store, raw)
    return val.value if val.value is not None else val


#: the C API's `wasm_globaltype_t *` of an i32 global, by mutability: made once per process
#: (`_i32_global_type`; a type belongs to no engine or store, and is never freed)
_I32_GLOBAL_TYPES: dict[bool, ctypes.c_void_p] = {}


def _i32_global_type(mutable: bool) -> ctypes.c_void_p:
    """The `wasm_globaltype_t *` of an i32 global (`wasm_globaltype_new` takes the
    `wasm_valtype_t *` it is given): wasmtime-py's `GlobalType(ValType.i32(), mutable)` makes
    three wrapper objects and converts every argument through declared types (some 20
    microseconds the first time in a process, per engine: the GOT's and the base globals')."""
    made = _I32_GLOBAL_TYPES.get(mutable)
    if made is None:
        valtype = _VALTYPE_NEW(ctypes.c_uint8(_WASM_I32))
        pointer = valtype and _GLOBALTYPE_NEW(ctypes.c_void_p(valtype), ctypes.c_uint8(_WASM_VAR if mutable else _WASM_CONST))
        if not pointer:
            raise wasmtime.WasmtimeError("failed to allocate an i32 global type")
        made = _I32_GLOBAL_TYPES[mutable] = ctypes.c_void_p(pointer)
    return made


class I32Globals:
    """i32 globals of one store, mutable (the GOT's entries) or not (`__memory_base`,
    `__table_base`): create, read, write.

    A global is handed out as a handle: its C struct (`wasmtime_global_t`), which `instantiate`
    takes as an import, without a `wasmtime.Global` wrapper per entry (`as_global` makes one);
    a `wasmtime.Global` when the public API is used.  Values are Python ints, stored as i32
    (callers wrap them to the signed range first).
    """

    def __init__(self, store: wasmtime.Store, mutable: bool = True):
        self.store = store
        self._fast = FAST and hasattr(store, "_context")
        if not self._fast:
            self.type = wasmtime.GlobalType(wasmtime.ValType.i32(), mutable)
        else:
            self._context = store._context()
            self._type_ptr = _i32_global_type(mutable)
            self._val = _VAL_T(kind=_I32)  # one value buffer, reused (an i32 needs no unrooting)
            self._val_ref = _byref(self._val)

    def new(self, value: int) -> object:
        """A new global holding `value`; returns its handle."""
        if not self._fast:
            return wasmtime.Global(self.store, self.type, wasmtime.Val.i32(value))
        self._val.of.i32 = value
        raw = _GLOBAL_T()
        error = _GLOBAL_NEW(self._context, self._type_ptr, self._val_ref, _byref(raw))
        if error:
            raise _error(error)
        return raw

    def get(self, handle) -> int:
        if not self._fast:
            return handle.value(self.store)
        _GLOBAL_GET(self._context, _byref(handle), self._val_ref)
        return self._val.of.i32

    def each(self, handles):
        """The value of each handle, read when the iteration reaches it (a caller may change
        the next ones meanwhile): `get` without a call per global."""
        if not self._fast:
            for handle in handles:
                yield handle.value(self.store)
            return
        global_get, context, val, val_ref = _GLOBAL_GET, self._context, self._val, self._val_ref
        for handle in handles:
            global_get(context, _byref(handle), val_ref)
            yield val.of.i32

    def set(self, handle, value: int) -> None:
        if not self._fast:
            handle.set_value(self.store, wasmtime.Val.i32(value))
            return
        self._val.of.i32 = value
        error = _GLOBAL_SET(self._context, _byref(handle), self._val_ref)
        if error:
            raise _error(error)


class FuncrefSlots:
    """Writes of functions (or null) into the slots of one funcref table."""

    def __init__(self, store: wasmtime.Store, table: wasmtime.Table):
        self.store = store
        self.table = table
        self._fast = FAST and hasattr(store, "_context") and hasattr(table, "_table")
        if self._fast:
            self._context = store._context()
            self._table = _byref(table._table)
            self._val = _VAL_T(kind=_FUNCREF)
            self._val_ref = _byref(self._val)
            self._item = _EXTERN_T()  # `set_exports`'s lookups, reused
            self._item_ref = _byref(self._item)

    def set_exports(self, base: int, targets: list[tuple[wasmtime.Instance, str]]) -> list[int]:
        """Put the function that `targets[k]`'s instance exports under its name in slot
        `base + k`, each fetched by name (`wasmtime_instance_export_get`) into one reused buffer
        that is then handed to `wasmtime_table_set` as the funcref value (a `wasmtime_extern_t`
        holding a function and a `wasmtime_val_t` holding a funcref share their layout: checked
        at import, `_SHARED_FUNC`), without a `wasmtime.Func` wrapper: a GOT.func load places
        thousands of other modules' functions.  Returns the offsets `k` it wrote nothing at (the
        instance exports no function of that name).  Raises wasmtime.WasmtimeError outside the
        table."""
        missed: list[int] = []
        if not self._fast:
            for offset, (instance, name) in enumerate(targets):
                func = instance.exports(self.store).get(name)
                if isinstance(func, wasmtime.Func):
                    self.table.set(self.store, base + offset, func)
                else:
                    missed.append(offset)
            return missed
        context, table, item, item_ref = self._context, self._table, self._item, self._item_ref
        val, val_ref = self._val, self._val_ref
        export_get, table_set, u64, func_kind, funcref = _EXPORT_GET, _TABLE_SET, _U64, _FUNC_KIND, _FUNCREF
        last, instance_ref = None, None
        for offset, (instance, name) in enumerate(targets):
            if instance is not last:  # targets come grouped by defining module
                last, instance_ref = instance, _byref(instance._instance)
            raw = name.encode("utf-8")
            if not export_get(context, instance_ref, raw, u64(len(raw)), item_ref) or item.kind != func_kind:
                missed.append(offset)
                continue
            if _SHARED_FUNC:
                item.kind = funcref  # the buffer is now the funcref value
                error = table_set(context, table, u64(base + offset), item_ref)
            else:
                val.of.funcref = item.of.func
                error = table_set(context, table, u64(base + offset), val_ref)
            if error:
                raise _error(error)
        return missed

    def set(self, slot: int, func: wasmtime.Func | None) -> None:
        """Put `func` (None: null) in `slot`.  Raises wasmtime.WasmtimeError outside the table."""
        if not self._fast:
            self.table.set(self.store, slot, func)
            return
        val = self._val
        if func is None:
            val.of.funcref = _NULL_FUNC
        else:
            val.of.funcref = func._func
        error = _TABLE_SET(self._context, self._table, _U64(slot), self._val_ref)
        if error:
            raise _error(error)


def _extern_bytes(extern) -> bytes:
    """The `wasmtime_extern_t` of an import: a wasmtime object, or an `I32Globals` handle."""
    kind = type(extern)
    if kind is _GLOBAL_T:
        return _GLOBAL_HEAD + bytes(extern) + _GLOBAL_TAIL
    if kind is wasmtime.Global:
        return _GLOBAL_HEAD + bytes(extern._global) + _GLOBAL_TAIL
    return bytes(extern._as_extern())  # every wasmtime extern class has it


def _raise_failure(error, trap) -> None:
    """Raise what wasmtime-py's `enter_wasm` raises for a failed call into wasm: a host
    function's own Python exception first (kept by wasmtime-py while wasm unwound), else the
    `wasmtime.WasmtimeError` of `error` or the `wasmtime.Trap` of `trap`."""
    exc = _error(error) if error else _trap_from(trap)
    _raise_host_exception()
    raise exc


def instantiate(store: wasmtime.Store, module: wasmtime.Module, externs: list) -> wasmtime.Instance:
    """`wasmtime.Instance(store, module, externs)` without its per-import type dispatch (it
    imports six classes and tests each against every import); `externs` may hold
    `I32Globals` handles.  Raises what it raises: a
    `wasmtime.Trap` from the start function, `wasmtime.WasmtimeError` for a bad import."""
    if not FAST:
        return wasmtime.Instance(store, module, externs)
    # the array's bytes, made at once: a global's `wasmtime_extern_t` is its kind, padding and
    # its `wasmtime_global_t` (a GOT import each: a ctypes struct apiece costs 5 times more);
    # passed as the bytes object itself (ctypes hands a C function without argument types a
    # pointer to its data, which CPython aligns to 16 bytes): a ctypes array type made for each
    # number of imports costs some 40 microseconds the first time
    items = b"".join([_extern_bytes(extern) for extern in externs])
    instance, trap = _INSTANCE_T(), _TRAP_P()
    # wasmtime-py's `enter_wasm`, without its generator: a host function's Python exception
    # (which wasmtime-py keeps while the start function unwinds) is raised first
    error = _INSTANCE_NEW(store._context(), module.ptr(), items, _SIZE(len(externs)), _byref(instance), _byref(trap))
    if error or trap:
        _raise_failure(error, trap)
    return wasmtime.Instance._from_raw(instance)


def call_nullary(store: wasmtime.Store, func: wasmtime.Func) -> None:
    """`func(store)` for a function the caller knows to be of type [] -> [] (the loader's
    `__wasm_apply_data_relocs` and `__wasm_call_ctors`, by the module's parse), without
    wasmtime-py's `Func.__call__`: it asks wasmtime for the function's type and makes a
    ctypes array type for its parameters and one for its results (some 0.1 ms for the first
    call into wasm of a process).  Raises what that raises: `wasmtime.Trap`, a host
    function's own exception, `wasmtime.WasmtimeError`."""
    if not FAST:
        func(store)
        return
    trap = _TRAP_P()
    error = _FUNC_CALL(store._context(), _byref(func._func), None, _SIZE(0), None, _SIZE(0), _byref(trap))
    if error or trap:
        _raise_failure(error, trap)
