"""The emscripten runtime state the JS-library functions share, and the general functions.

`Runtime` is the base of `EmscriptenHost`: linear-memory access, the console (emscripten's
TTYs: stdout and stderr are line buffered, each line goes out as `console.log`/`console.warn`
would write it, NUL bytes are dropped), the JavaScript exceptions that unwind through wasm
(`JsThrow` and subclasses) and exit/abort as `src/postamble.js` and `src/preamble.js` of
emscripten 3.1.6 do them.

JavaScript exceptions are Python exceptions here: a host function raises one, wasmtime carries
it through the wasm frames to the nearest Python caller (`invoke_*` for C++ exceptions and
longjmp, `EmscriptenHost.run` for everything else).
"""

from __future__ import annotations

import os
import struct
import sys

ERRNO_EINVAL = 28


#: what JavaScript's `undefined` becomes for a wasm parameter of each type (ToInt32, ToNumber)
_UNDEFINED = {"i32": 0, "i64": 0, "f32": float("nan"), "f64": float("nan")}


class JsThrow(Exception):
    """A JavaScript exception in flight (control flow of the emscripten runtime)."""


class ExitStatus(JsThrow):
    """`exit()`/`proc_exit()`: the program ends with `status`.

    `final` is True when the runtime really exits (EXIT_RUNTIME: node's `process.exit`), so
    nothing more runs; else node keeps running the event loop (queued callbacks) first.
    """

    def __init__(self, status: int, final: bool = False):
        self.status = status
        self.final = final
        super().__init__(f"Program terminated with exit({status})")


class WasmThrow(JsThrow):
    """A JavaScript number thrown: what `invoke_*` catches (emscripten's `e !== e+0` test)."""


class CxxException(WasmThrow):
    """A C++ exception (`__cxa_throw` throws the exception object's address)."""

    def __init__(self, ptr: int):
        self.ptr = ptr
        super().__init__(str(ptr))


class LongjmpThrow(WasmThrow):
    """`longjmp` unwinding to the `invoke_*` that called setjmp's function (JS: `throw Infinity`)."""

    def __init__(self):
        super().__init__("Infinity")


class JsError(JsThrow):
    """A JavaScript Error (`RuntimeError` for abort, `Error` for loader failures, ...)."""

    def __init__(self, js_type: str, message: str, backtrace: tuple[str, ...] = ()):
        self.js_type = js_type
        self.message = message
        self.backtrace = backtrace
        super().__init__(f"{js_type}: {message}")


def to_i32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >> 31 else value


class Runtime:
    """Memory, console and process state of one emscripten program run."""

    def _init_runtime(self, stdout=None, stderr=None) -> None:
        self.engine = None
        self.layout = None
        self.temp_ret0 = 0
        self.this_program = "./this.program"
        self.env_overrides: dict[str, str] = {}
        self.runtime_initialized = False
        self.aborted = False
        self.exit_status = 0
        self.keepalive = 0
        self._stdout = stdout
        self._stderr = stderr
        self._capture: list | None = None
        self._tty: dict[int, bytearray] = {1: bytearray(), 2: bytearray()}
        self._warned: set[str] = set()
        self._env_strings: list[str] | None = None
        self.dso: dict[int, tuple] = {}
        self.mmaps: dict[int, tuple] = {}
        self.tasks: list = []
        self._func_types: dict[int, tuple] = {}

    # -- linear memory -----------------------------------------------------------------
    @property
    def mem(self):
        return self.engine.memory

    def read(self, addr: int, size: int) -> bytes:
        return self.mem.read(addr & 0xFFFFFFFF, size) if size > 0 else b""

    def write(self, addr: int, data: bytes) -> None:
        if data:
            self.mem.write(addr & 0xFFFFFFFF, bytes(data))

    def i32(self, addr: int) -> int:
        return struct.unpack("<i", self.read(addr, 4))[0]

    def u32(self, addr: int) -> int:
        return struct.unpack("<I", self.read(addr, 4))[0]

    def u16(self, addr: int) -> int:
        return struct.unpack("<H", self.read(addr, 2))[0]

    def i8(self, addr: int) -> int:
        return struct.unpack("<b", self.read(addr, 1))[0]

    def set_i32(self, addr: int, value: int) -> None:
        self.write(addr, struct.pack("<I", value & 0xFFFFFFFF))

    def set_i64(self, addr: int, value: int) -> None:
        self.write(addr, struct.pack("<Q", value & 0xFFFFFFFFFFFFFFFF))

    def set_i16(self, addr: int, value: int) -> None:
        self.write(addr, struct.pack("<H", value & 0xFFFF))

    def set_i8(self, addr: int, value: int) -> None:
        self.write(addr, bytes([value & 0xFF]))

    def cbytes(self, addr: int, limit: int | None = None) -> bytes:
        """The NUL-terminated bytes at `addr` (at most `limit`)."""
        out = bytearray()
        addr &= 0xFFFFFFFF
        end = self.mem.data_len
        while addr < end and (limit is None or len(out) < limit):
            chunk = self.read(addr, min(256, end - addr))
            nul = chunk.find(b"\0")
            if nul >= 0:
                out += chunk[:nul]
                break
            out += chunk
            addr += len(chunk)
        return bytes(out if limit is None else out[:limit])

    def cstr(self, addr: int) -> str:
        """emscripten `UTF8ToString`."""
        return self.cbytes(addr).decode("utf-8", errors="replace") if addr else ""

    def write_cstr(self, addr: int, text: str | bytes, max_bytes: int | None = None) -> int:
        """emscripten `stringToUTF8(str, ptr, maxBytesToWrite)`: at most max_bytes including the
        NUL; returns the bytes written without the NUL."""
        data = text.encode("utf-8") if isinstance(text, str) else text
        if max_bytes is not None:
            if max_bytes <= 0:
                return 0
            data = _cut_utf8(data, max_bytes - 1)
        self.write(addr, data + b"\0")
        return len(data)

    # -- exports of the program ----------------------------------------------------------
    def export(self, name: str):
        """A function the program defines: the main module's export, else the global scope."""
        main = self.main_module()
        if main is not None:
            func = main.externs.get(name)
            if func is not None:
                return func
        sym = self.engine.global_scope.lookup(name)
        return sym.func if sym is not None and sym.kind == "func" else None

    def call(self, name: str, *args):
        func = self.export(name)
        if func is None:
            raise JsError("TypeError", f"Module['_{name}'] is not a function (the program does not export {name})")
        return self.call_js(func, name, *args)

    def call_slot(self, slot: int, *args):
        """Call table slot `slot` (emscripten `getWasmTableEntry(slot)(...)`)."""
        table = self.engine.table
        func = table.get(slot) if 0 <= slot < table.size else None
        if func is None:
            raise JsError("TypeError", f"table slot {slot} holds no function (getWasmTableEntry(...) is not a function)")
        return self.call_js(func, f"table slot {slot}", *args)

    def call_js(self, func, name: str, *args):
        """Call a wasm function as the glue's JavaScript would: missing arguments are
        `undefined` (0, NaN for floats), extra ones are dropped; a type JavaScript cannot pass or
        receive (v128, several results where one number is expected) is JS's TypeError."""
        ftype = self._func_types.get(id(func))
        if ftype is None or ftype[0] is not func:
            ftype = (func, self.engine.func_type_of(func))
            self._func_types[id(func)] = ftype
        params, results = ftype[1].params, ftype[1].results
        if "v128" in params or "v128" in results or len(results) > 1:
            raise JsError("TypeError", f"{name} has type {ftype[1]}, which JavaScript cannot call this way")
        if len(args) != len(params):
            args = args[: len(params)] + tuple(_UNDEFINED.get(t) for t in params[len(args):])
        return func(self.engine.store, *args)

    def main_module(self):
        engine = self.engine
        if engine.main is not None:
            return engine.main
        return next((m for m in engine.modules if m.path == getattr(self, "main_path", None)), None)

    def stack_alloc(self, size: int) -> int:
        return self.call("stackAlloc", size)

    def alloc_utf8(self, text: str) -> int:
        """emscripten `allocateUTF8`: a malloc'd copy."""
        data = text.encode("utf-8") + b"\0"
        ptr = self.call("malloc", len(data))
        if ptr:
            self.write(ptr, data)
        return ptr

    def alloc_utf8_on_stack(self, text: str) -> int:
        data = text.encode("utf-8")
        ptr = self.stack_alloc(len(data) + 1)
        self.write(ptr, data + b"\0")
        return ptr

    # -- console -------------------------------------------------------------------------
    def _stream(self, fd: int):
        stream = self._stdout if fd == 1 else self._stderr
        if stream is None:
            text = sys.stdout if fd == 1 else sys.stderr
            stream = getattr(text, "buffer", None) or _TextAdapter(text)
        return stream

    def write_raw(self, fd: int, data: bytes) -> None:
        """Bytes to the real stdout/stderr (node's `fs.writeSync(fd)`, NODERAWFS)."""
        stream = self._stream(fd)
        stream.write(data)
        stream.flush()

    def _console(self, fd: int, text: str) -> None:
        if self._capture is not None:  # checkUnflushedContent replaces out() and err()
            self._capture.append((fd, text))
            return
        self.write_raw(fd, text.encode("utf-8", errors="replace") + b"\n")

    def out(self, text: str) -> None:
        """`out()` = console.log: the text and a newline on stdout."""
        self._console(1, text)

    def err(self, text: str) -> None:
        """`err()` = console.warn: the text and a newline on stderr."""
        self._console(2, text)

    def warn_once(self, text: str) -> None:
        if text not in self._warned:
            self._warned.add(text)
            self.err(text)

    def tty_write(self, fd: int, data: bytes) -> None:
        """emscripten's TTY `put_char`: a line goes out at each newline; NUL bytes vanish."""
        buf = self._tty[fd]
        parts = data.split(b"\n")
        for part in parts[:-1]:
            buf += part.replace(b"\0", b"")
            line = buf.decode("utf-8", errors="replace")
            buf.clear()
            (self.out if fd == 1 else self.err)(line)
        buf += parts[-1].replace(b"\0", b"")

    def tty_flush(self, fd: int) -> None:
        buf = self._tty[fd]
        if buf:
            line = buf.decode("utf-8", errors="replace")
            buf.clear()
            (self.out if fd == 1 else self.err)(line)

    def read_stdin(self, size: int) -> bytes:
        try:
            return os.read(0, size)
        except OSError:
            return b""

    # -- the event loop ------------------------------------------------------------------
    def queue_task(self, task, turn: int = 0) -> None:
        """Run `task` when the current call has returned to the event loop; tasks of an
        earlier `turn` (I/O that completes sooner) run first, in the order queued."""
        self.tasks.append((turn, len(self.tasks), task))
        self.tasks.sort(key=lambda t: t[:2])

    def next_task(self):
        return self.tasks.pop(0)[2]

    def call_user_callback(self, func) -> None:
        """emscripten `callUserCallback`: nothing runs after the runtime exited or aborted."""
        if self.aborted:
            self.err("user callback triggered after runtime exited or application aborted.  Ignoring.")
            return
        func()

    # -- environment ---------------------------------------------------------------------
    def env_strings(self) -> list[str]:
        """emscripten `getEnvStrings`: its defaults, then `--env` values."""
        if self._env_strings is None:
            env = {"USER": "web_user", "LOGNAME": "web_user", "PATH": "/", "PWD": "/", "HOME": "/home/web_user",
                   "LANG": "C.UTF-8", "_": self.this_program}
            env.update(self.env_overrides)
            self._env_strings = [f"{k}={v}" for k, v in env.items()]
        return self._env_strings

    def getenv(self, name: str) -> str | None:
        for item in self.env_strings():
            key, _, value = item.partition("=")
            if key == name:
                return value
        return None

    # -- exit and abort ------------------------------------------------------------------
    def keep_runtime_alive(self) -> bool:
        return not self.layout.exit_runtime or self.keepalive > 0

    def abort(self, what: str = ""):
        """emscripten `abort(what)`: print `Aborted(what)`, throw a RuntimeError."""
        message = f"Aborted({what})"
        self.err(message)
        self.aborted = True
        self.exit_status = 1
        if not self.layout.assertions:
            message += ". Build with -s ASSERTIONS=1 for more info."
        raise JsError("RuntimeError", message)

    def check_unflushed(self) -> None:
        """ASSERTIONS without EXIT_RUNTIME: stdio left in buffers is lost; say so (postamble.js)."""
        self._capture = []
        try:
            if self.export("__stdio_exit") is not None:
                try:
                    self.call("__stdio_exit")
                except Exception:  # "it doesn't matter if it fails"
                    pass
            has = bool(self._capture) or any(self._tty.values())
        finally:
            self._capture = None
        if has:
            self.warn_once("stdio streams had content in them that was not flushed. you should set EXIT_RUNTIME to 1 "
                           "(see the FAQ), or make sure to emit a newline when you printf etc.")

    def exit_runtime(self) -> None:
        """EXIT_RUNTIME: atexit functions, then musl's stdio flush, then the TTYs (FS.quit)."""
        for name in ("__funcs_on_exit", "__stdio_exit"):
            if self.export(name) is not None:
                self.call(name)
        self.tty_flush(1)
        self.tty_flush(2)

    def exit(self, status: int, implicit: bool = False):
        """emscripten `exit(status, implicit)` (postamble.js); always raises ExitStatus."""
        self.exit_status = status
        if not self.keepalive and self.layout.check_unflushed and not self.layout.exit_runtime:
            self.check_unflushed()
        if self.keep_runtime_alive():
            if not implicit and self.layout.assertions:
                if self.keepalive:
                    self.err(f"program exited (with status: {status}), but keepRuntimeAlive() is set (counter="
                             f"{self.keepalive}) due to an async operation, so halting execution but not exiting the "
                             "runtime or preventing further async execution (you can use emscripten_force_exit, if "
                             "you want to force a true shutdown)")
                else:
                    self.err(f"program exited (with status: {status}), but EXIT_RUNTIME is not set, so halting "
                             "execution but not exiting the runtime or preventing further async execution (build "
                             "with EXIT_RUNTIME=1, if you want a true shutdown)")
        else:
            self.exit_runtime()
        self.proc_exit(status)

    def proc_exit(self, status: int):
        self.exit_status = status
        raise ExitStatus(status, final=not self.keep_runtime_alive())


class _TextAdapter:
    """Bytes onto a text stream that has no `.buffer` (a StringIO in tests)."""

    def __init__(self, text):
        self.text = text

    def write(self, data: bytes) -> None:
        self.text.write(data.decode("utf-8", errors="replace"))

    def flush(self) -> None:
        self.text.flush()


def _cut_utf8(data: bytes, limit: int) -> bytes:
    """At most `limit` bytes, not splitting a UTF-8 sequence (stringToUTF8 stops before it)."""
    if len(data) <= limit:
        return data
    cut = data[:limit]
    i = len(cut)
    while i > 0 and (cut[i - 1] & 0xC0) == 0x80:
        i -= 1
    if i > 0 and cut[i - 1] >= 0xC0:
        lead = cut[i - 1]
        need = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
        if len(cut) - (i - 1) < need:
            return cut[: i - 1]
    return cut
