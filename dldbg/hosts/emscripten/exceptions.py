"""`invoke_*`, JavaScript-side C++ exceptions and setjmp/longjmp (emscripten 3.1.6).

Without wasm exception handling, emscripten compiles every call that may throw (or longjmp)
into a call of the JS import `invoke_SIG(slot, args...)`, which calls table slot `slot` and,
if a C++ exception or a longjmp unwinds out of it, restores the stack pointer, records the
throw with the program's `setThrew(1, 0)` and returns normally; the wasm code then asks
`__cxa_find_matching_catch_N` (C++) or its setjmp table (longjmp) where to continue.

`__cxa_throw` writes the `__cxa_exception` header (16 bytes before the thrown object: refcount,
type, destructor, caught, rethrown) and throws the object's address; `_emscripten_throw_longjmp`
throws `Infinity`.  Here both are Python exceptions (`CxxException`, `LongjmpThrow`) that
wasmtime carries through the wasm frames up to `invoke_*`.  Everything else (abort, exit, a
trap) passes through `invoke_*` untouched, as in JS.

Ported from `src/library_exceptions.js`, `src/library_dylink.js` (`createInvokeFunction`) and
the `invoke_*` functions emcc generates.
"""

from __future__ import annotations

from .registry import js
from .runtime import CxxException, JsError, LongjmpThrow, WasmThrow

HEADER = 16  # sizeof(__cxa_exception) in emscripten 3.1.6 (wasm32)


class ExceptionInfo:
    """The `__cxa_exception` header of the thrown object at `exc_ptr`."""

    def __init__(self, rt, exc_ptr: int):
        self.rt = rt
        self.exc_ptr = exc_ptr
        self.ptr = exc_ptr - HEADER

    def init(self, type_: int, destructor: int) -> None:
        rt = self.rt
        rt.set_i32(self.ptr + 4, type_)
        rt.set_i32(self.ptr + 8, destructor)
        rt.set_i32(self.ptr, 0)
        rt.set_i8(self.ptr + 12, 0)
        rt.set_i8(self.ptr + 13, 0)

    @property
    def type(self) -> int:
        return self.rt.i32(self.ptr + 4)

    @property
    def destructor(self) -> int:
        return self.rt.i32(self.ptr + 8)

    @property
    def caught(self) -> bool:
        return self.rt.i8(self.ptr + 12) != 0

    @caught.setter
    def caught(self, value: bool) -> None:
        self.rt.set_i8(self.ptr + 12, int(value))

    @property
    def rethrown(self) -> bool:
        return self.rt.i8(self.ptr + 13) != 0

    @rethrown.setter
    def rethrown(self, value: bool) -> None:
        self.rt.set_i8(self.ptr + 13, int(value))

    def add_ref(self) -> None:
        self.rt.set_i32(self.ptr, self.rt.i32(self.ptr) + 1)

    def release_ref(self) -> bool:
        prev = self.rt.i32(self.ptr)
        self.rt.set_i32(self.ptr, prev - 1)
        return prev == 1


class CatchInfo:
    """What `__cxa_find_matching_catch` hands to the catch block: 8 malloc'd bytes holding the
    thrown object's base pointer and the pointer adjusted to the caught type."""

    def __init__(self, rt, ptr: int | None = None):
        self.rt = rt
        if ptr is None:
            self.ptr = rt.call("malloc", 8)
            self.adjusted_ptr = 0
        else:
            self.ptr = ptr

    def free(self) -> None:
        self.rt.call("free", self.ptr)
        self.ptr = 0

    @property
    def base_ptr(self) -> int:
        return self.rt.i32(self.ptr)

    @base_ptr.setter
    def base_ptr(self, value: int) -> None:
        self.rt.set_i32(self.ptr, value)

    @property
    def adjusted_ptr(self) -> int:
        return self.rt.i32(self.ptr + 4)

    @adjusted_ptr.setter
    def adjusted_ptr(self, value: int) -> None:
        self.rt.set_i32(self.ptr + 4, value)

    def exception_info(self) -> ExceptionInfo:
        return ExceptionInfo(self.rt, self.base_ptr)

    def exception_ptr(self) -> int:
        if self.rt.call("__cxa_is_pointer_type", self.exception_info().type):
            return self.rt.i32(self.base_ptr)
        return self.adjusted_ptr or self.base_ptr


class ExceptionState:
    def __init__(self):
        self.last = 0
        self.uncaught = 0
        self.caught: list[CatchInfo] = []


def _state(rt) -> ExceptionState:
    state = getattr(rt, "_exceptions", None)
    if state is None:
        state = rt._exceptions = ExceptionState()
    return state


def _dec_ref(rt, info: ExceptionInfo) -> None:
    if info.release_ref() and not info.rethrown:
        destructor = info.destructor
        if destructor:
            rt.call_slot(destructor, info.exc_ptr)
        _cxa_free_exception(rt, info.exc_ptr)


# -- invoke_* ---------------------------------------------------------------------------------

def invoke(rt, sig: str, legalized: bool, index: int, *args):
    """`invoke_SIG(index, ...)`: call table slot `index`; a C++ throw or a longjmp becomes
    `setThrew(1, 0)` and a normal return (of 0)."""
    sp = rt.call("stackSave")
    try:
        if legalized:
            # i64 in the signature and no WASM_BIGINT: the main's `dynCall_SIG` legalizes
            func = rt.export(f"dynCall_{sig}")
            if func is None:
                raise JsError("Error", f"bad function pointer type - no table for sig '{sig}'")
            return rt.call_js(func, f"dynCall_{sig}", index, *args)
        return rt.call_slot(index, *args)
    except WasmThrow:
        rt.call("stackRestore", sp)
        rt.call("setThrew", 1, 0)
        return None


# -- C++ exceptions ------------------------------------------------------------------------

@js("__cxa_allocate_exception", "ii")
def _cxa_allocate_exception(rt, size):
    return rt.call("malloc", size + HEADER) + HEADER


@js("__cxa_free_exception", "vi")
def _cxa_free_exception(rt, ptr):
    try:
        rt.call("free", ExceptionInfo(rt, ptr).ptr)
    except Exception as exc:  # emscripten logs and goes on
        if rt.layout.assertions:
            rt.err(f"exception during cxa_free_exception: {exc}")


@js("__cxa_increment_exception_refcount", "vi")
def _cxa_increment(rt, ptr):
    if ptr:
        ExceptionInfo(rt, ptr).add_ref()


@js("__cxa_decrement_exception_refcount", "vi")
def _cxa_decrement(rt, ptr):
    if ptr:
        _dec_ref(rt, ExceptionInfo(rt, ptr))


@js("__cxa_throw", "viii")
def _cxa_throw(rt, ptr, type_, destructor):
    ExceptionInfo(rt, ptr).init(type_, destructor)
    state = _state(rt)
    state.last = ptr
    state.uncaught += 1
    raise CxxException(ptr)


@js("__cxa_rethrow", "v")
def _cxa_rethrow(rt):
    state = _state(rt)
    if not state.caught:
        rt.abort("no exception to throw")
    catch = state.caught.pop()
    info = catch.exception_info()
    ptr = catch.base_ptr
    if not info.rethrown:
        state.caught.append(catch)
        info.rethrown = True
        info.caught = False
        state.uncaught += 1
    else:
        catch.free()
    state.last = ptr
    raise CxxException(ptr)


@js("llvm_eh_typeid_for", "ii")
def _typeid_for(rt, type_):
    return type_


@js("__cxa_begin_catch", "ii")
def _cxa_begin_catch(rt, ptr):
    state = _state(rt)
    catch = CatchInfo(rt, ptr)
    info = catch.exception_info()
    if not info.caught:
        info.caught = True
        state.uncaught -= 1
    info.rethrown = False
    state.caught.append(catch)
    info.add_ref()
    return catch.exception_ptr()


@js("__cxa_end_catch", "v")
def _cxa_end_catch(rt):
    rt.call("setThrew", 0, 0)
    state = _state(rt)
    catch = state.caught.pop()
    _dec_ref(rt, catch.exception_info())
    catch.free()
    state.last = 0


@js("__cxa_get_exception_ptr", "ii")
def _cxa_get_exception_ptr(rt, ptr):
    return CatchInfo(rt, ptr).exception_ptr()


@js("__cxa_uncaught_exceptions", "i")
def _cxa_uncaught_exceptions(rt):
    return _state(rt).uncaught


@js("__cxa_call_unexpected", "vi")
def _cxa_call_unexpected(rt, exception):
    rt.err("Unexpected exception thrown, this is not properly supported - aborting")
    rt.aborted = True
    raise CxxException(exception)


@js("__cxa_current_primary_exception", "i")
def _cxa_current_primary_exception(rt):
    state = _state(rt)
    if not state.caught:
        return 0
    catch = state.caught[-1]
    catch.exception_info().add_ref()
    return catch.base_ptr


@js("__cxa_rethrow_primary_exception", "vi")
def _cxa_rethrow_primary_exception(rt, ptr):
    if not ptr:
        return
    catch = CatchInfo(rt)
    catch.base_ptr = ptr
    _state(rt).caught.append(catch)
    catch.exception_info().rethrown = True
    _cxa_rethrow(rt)


def find_matching_catch(rt, *types):
    """`__cxa_find_matching_catch_N(types...)`: a CatchInfo for the thrown exception; the
    matched type goes to tempRet0."""
    state = _state(rt)
    thrown = state.last
    if not thrown:
        rt.temp_ret0 = 0
        return 0
    info = ExceptionInfo(rt, thrown)
    thrown_type = info.type
    catch = CatchInfo(rt)
    catch.base_ptr = thrown
    catch.adjusted_ptr = thrown
    if not thrown_type:
        rt.temp_ret0 = 0
        return catch.ptr
    for caught_type in types:
        if caught_type == 0 or caught_type == thrown_type:
            break
        if rt.call("__cxa_can_catch", caught_type, thrown_type, catch.ptr + 4):
            rt.temp_ret0 = caught_type
            return catch.ptr
    rt.temp_ret0 = thrown_type
    return catch.ptr


@js("__resumeException", "vi")
def _resume_exception(rt, catch_ptr):
    catch = CatchInfo(rt, catch_ptr)
    ptr = catch.base_ptr
    state = _state(rt)
    if not state.last:
        state.last = ptr
    catch.free()
    raise CxxException(ptr)


# -- setjmp/longjmp ------------------------------------------------------------------------

@js("_emscripten_throw_longjmp", "v")
def _throw_longjmp(rt):
    raise LongjmpThrow()


@js("emscripten_longjmp", "vii")
def _emscripten_longjmp(rt, env, value):
    rt.call("setThrew", env, value or 1)
    raise LongjmpThrow()
