"""The dl APIs a WASI program can import, as host functions over the engine's dl API.

Two import conventions exist without emscripten:

* `env.dlopen/dlsym/dlerror/dlclose` with C signatures (sagemathinc's `dylink`, CoWasm): the
  guest passes NUL-terminated strings and wasi-libc's `<dlfcn.h>` mode values, and gets a
  handle, a data address or a table slot back (0 on failure, the reason from `dlerror()`).
* `dyld.load_object(name, len, mode, *handle) -> err` and
  `dyld.resolve_symbol(handle, symtype, name, len, *addr) -> err` (toywasm's libdyld with
  `--dyld-dlfcn`; `symtype` 1 = function, 2 = memory; `err` 0 = success, 1 = failure).

Every call goes through `Engine.dlopen`/`dlsym`/`dlclose`, so a dlopen made by wasm runs the
same stages and emits the same events as one typed by the user; a library already loaded gives
its handle again (toywasm instantiates it a second time: peer-loaders §1.5 defect 4).

Names are the program's: the host's `locate` maps each one to a host file (the WASI host: a
name with a `/` through the program's `--dir` folders only, a bare name in the folders the host
chose; see `dldbg.hosts.guestpaths`) or refuses it with a DlError, which `dlerror()` returns.
"""

from __future__ import annotations

import contextlib
from typing import Callable

import wasmtime

from ..errors import DlError, LoadError
from ..linker.wasmtypes import functype
from ..linker.flags import RTLD_DEFAULT, RTLD_GLOBAL, RTLD_LAZY, RTLD_NODELETE, RTLD_NOLOAD, RTLD_NOW
from ..wasm.types import FuncType

#: wasi-libc `<dlfcn.h>` (libc-top-half/musl/include/dlfcn.h as patched by wasi-libc): the same
#: values as musl's except RTLD_LOCAL, which is 8 instead of 0.
WASI_RTLD_LAZY = 1
WASI_RTLD_NOW = 2
WASI_RTLD_NOLOAD = 4
WASI_RTLD_NODELETE = 0x1000
WASI_RTLD_GLOBAL = 0x100
WASI_RTLD_LOCAL = 8

#: toywasm `dyld_dlfcn_abi.h`
DYLD_SYMBOL_TYPE_FUNC = 1
DYLD_SYMBOL_TYPE_MEMORY = 2

I32 = "i32"
DLFCN_TYPES = {
    "dlopen": FuncType((I32, I32), (I32,)),
    "dlsym": FuncType((I32, I32), (I32,)),
    "dlerror": FuncType((), (I32,)),
    "dlclose": FuncType((I32,), (I32,)),
}
DYLD_TYPES = {
    "load_object": FuncType((I32, I32, I32, I32), (I32,)),
    "resolve_symbol": FuncType((I32, I32, I32, I32, I32), (I32,)),
}


def engine_flags(wasi_flags: int) -> int:
    """wasi-libc dlopen mode bits -> the engine's (musl/emscripten) bits."""
    out = 0
    for wasi_bit, bit in ((WASI_RTLD_LAZY, RTLD_LAZY), (WASI_RTLD_NOW, RTLD_NOW), (WASI_RTLD_NOLOAD, RTLD_NOLOAD),
                          (WASI_RTLD_NODELETE, RTLD_NODELETE), (WASI_RTLD_GLOBAL, RTLD_GLOBAL)):
        if wasi_flags & wasi_bit:
            out |= bit
    return out


class GuestDl:
    """The dl API as a guest sees it.

    :param engine: the linker.
    :param locate: a dlopen'd name -> the path given to `Engine.dlopen`; raises DlError when
        the program cannot see it.
    :param allocate: `allocate(size) -> address` of guest memory (for `dlerror` strings).
    :param provider: the name shown as the provider of these imports.
    :param mode_bits: the guest libc's dlopen mode bits -> the engine's; wasi-libc's by default,
        `lambda m: m` for musl/emscripten (whose values the engine uses).
    :param confine: a context manager factory entered around each load the guest starts (the
        WASI host confines the NEEDED search to the program's view while it is active).
    """

    def __init__(self, engine, locate: Callable[[str], str], allocate: Callable[[int], int], provider: str,
                 mode_bits: Callable[[int], int] = engine_flags, confine=contextlib.nullcontext):
        self.engine = engine
        self.locate = locate
        self.allocate = allocate
        self.provider = provider
        self.mode_bits = mode_bits
        self.confine = confine
        self.error: str | None = None
        self._buffer = (0, 0)  # (address, size) of the dlerror string buffer
        self._funcs: dict[tuple[str, str], wasmtime.Func] = {}

    # -- the import hook ----------------------------------------------------------------
    def resolve(self, module, imp) -> tuple[object, str] | None:
        """(Func, provider) for `env.dl*` and `dyld.*` imports, else None."""
        if imp.kind != "func":
            return None
        if imp.module == "env" and imp.field in DLFCN_TYPES:
            want, impl = DLFCN_TYPES[imp.field], getattr(self, imp.field)
        elif imp.module == "dyld" and imp.field in DYLD_TYPES:
            want, impl = DYLD_TYPES[imp.field], getattr(self, imp.field)
        else:
            return None
        have = module.wasm.types[imp.desc]
        if have != want:
            raise LoadError(module.path, "imports", f"{imp.qualified} has type {have}, but the dl API function is {want}", imp.offset)
        key = (imp.module, imp.field)
        if key not in self._funcs:
            self._funcs[key] = wasmtime.Func(self.engine.store, functype(want), impl)
        return self._funcs[key], self.provider

    # -- the engine side ----------------------------------------------------------------
    def open(self, name: str, flags: int) -> int:
        """Load `name` (a guest path or a bare library name); the handle, or 0 with `error` set."""
        try:
            path = self.locate(name)
            with self.confine():
                return self.engine.dlopen(path, flags)
        except DlError as exc:
            self.error = str(exc)
            return 0

    def symbol(self, handle: int, name: str, kind: str | None = None) -> int | None:
        """A symbol's address or table slot; None with `error` set.  The main program's handle
        searches the global scope, as a `dlopen(NULL)` handle does (POSIX)."""
        engine = self.engine
        main = engine.main
        if main is not None and handle == main.handle:
            handle = RTLD_DEFAULT
        try:
            if kind is not None:
                mod = engine.by_handle.get(handle)
                sym = engine.global_scope.lookup(name) if handle == RTLD_DEFAULT else mod and mod.exports.get(name)
                if sym is not None and sym.kind != kind:
                    raise DlError(f'symbol "{name}" is a {sym.kind} symbol, not {kind}')
            return engine.dlsym(handle, name)
        except DlError as exc:
            self.error = str(exc)
            return None

    def cstring(self, address: int) -> str:
        return self.engine.read_cstring(address & 0xFFFFFFFF).decode("utf-8", "replace")

    # -- env.dl* (C signatures, the guest libc's mode values) ----------------------------
    def dlopen(self, path_ptr: int, flags: int) -> int:
        if path_ptr == 0:  # dlopen(NULL): the main program
            main = self.engine.main
            if main is None or main.handle is None:
                self.error = "dlopen(NULL): no main program"
                return 0
            return main.handle
        return self.open(self.cstring(path_ptr), self.mode_bits(flags & 0xFFFFFFFF))

    def dlsym(self, handle: int, name_ptr: int) -> int:
        value = self.symbol(handle & 0xFFFFFFFF, self.cstring(name_ptr))
        return 0 if value is None else value

    def dlerror(self) -> int:
        message, self.error = self.error, None
        if message is None:
            return 0
        data = message.encode("utf-8") + b"\0"
        address, size = self._buffer
        if size < len(data):
            address, size = self.allocate(max(len(data), 256)), max(len(data), 256)
            self._buffer = (address, size)
        self.engine.write_memory(address, data)
        return address

    def dlclose(self, handle: int) -> int:
        main = self.engine.main
        if main is not None and handle == main.handle:
            return 0
        try:
            return self.engine.dlclose(handle)
        except DlError as exc:
            self.error = str(exc)
            return -1

    # -- dyld.* (toywasm) -----------------------------------------------------------------
    def load_object(self, name_ptr: int, name_len: int, mode: int, handle_ptr: int) -> int:
        name = self.engine.read_memory(name_ptr, name_len).decode("utf-8", "replace")
        # toywasm accepts only mode 0 (its libdl passes 0 whatever the caller asked); dldbg
        # reads 0 as toywasm's behaviour (lazy, one flat namespace) and anything else as
        # wasi-libc mode bits.
        flags = RTLD_LAZY | RTLD_GLOBAL if mode == 0 else self.mode_bits(mode)
        handle = self.open(name, flags)
        if not handle:
            return 1
        self.engine.write_memory(handle_ptr, handle.to_bytes(4, "little"))
        return 0

    def resolve_symbol(self, handle: int, symtype: int, name_ptr: int, name_len: int, addr_ptr: int) -> int:
        kind = {DYLD_SYMBOL_TYPE_FUNC: "func", DYLD_SYMBOL_TYPE_MEMORY: "data"}.get(symtype)
        if kind is None:
            self.error = f"resolve_symbol: unknown symbol type {symtype}"
            return 1
        name = self.engine.read_memory(name_ptr, name_len).decode("utf-8", "replace")
        value = self.symbol(handle, name, kind)
        if value is None:
            return 1
        self.engine.write_memory(addr_ptr, (value & 0xFFFFFFFF).to_bytes(4, "little"))
        return 0
