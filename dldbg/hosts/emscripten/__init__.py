"""The emscripten host: runs emscripten 3.1.6 main modules (`-sMAIN_MODULE`) in Python.

An emscripten main module expects the JavaScript glue that emcc writes beside it (`main.js`);
this package provides the JS-library functions it imports, over dldbg's linker engine:

    layout.py        the program's memory and table layout, read from main.js (or computed)
    registry.py      which imports are implemented (no wasmtime import: `dldbg inspect` uses it)
    runtime.py       memory access, stdout/stderr as emscripten's TTYs, exit, abort, environment
    library.py       the general JS-library functions (exit, abort, memory, environment, console)
    heap.py          side-module memory: `__heap_base` bump before the runtime starts, then malloc
    fs.py            the sandboxed file system (program folder as `/`, `--dir HOST[::GUEST]`)
    syscalls.py      __syscall_*, the WASI fd_* functions and _mmap_js & co. over fs.py
    time.py          clocks, localtime/gmtime/mktime/timegm, tzset, strftime
    formatstring.py  the glue's JavaScript printf and puts
    exceptions.py    invoke_*, C++ exceptions (__cxa_*), setjmp/longjmp (_emscripten_throw_longjmp)
    dynlink.py       _dlopen_js, _dlsym_js, _emscripten_dlopen_js, _dlinit (dynlink.c's JS half)
    traps.py         unimplemented imports and aborts as wasm traps; V8's words for traps
    host.py          EmscriptenHost: the engine Host protocol and `run`

Only `EmscriptenHost` is exported, lazily, so that importing the package for its registry does
not import wasmtime.
"""

from __future__ import annotations

__all__ = ["EmscriptenHost"]


def __getattr__(name: str):
    if name == "EmscriptenHost":
        from .host import EmscriptenHost

        return EmscriptenHost
    raise AttributeError(name)
