"""The debugger's standalone host: `StandaloneHost` plus the dl API for side modules.

Side modules that call `dlopen`, `dlsym`, `dlclose` or `dlerror` import them from `env` (a
program's libc provides them).  Under the debugger they are served by `dldbg.hosts.dlfcn.GuestDl`
with emscripten's musl ABI (the engine's own RTLD values, NULL on failure, `dlerror` a C string
in guest memory), so a dlopen started by wasm code loads through the same engine, and its events
reach the session from inside the host import, with the caller's wasm frames live.
"""

from __future__ import annotations

from ..hosts.dlfcn import GuestDl
from ..hosts.standalone import StandaloneHost
from .guest import allocate


class DebuggerHost(StandaloneHost):
    """StandaloneHost whose `resolve_import` also serves `env.dlopen/dlsym/dlclose/dlerror`
    (and toywasm's `dyld.*`).

    It never calls into wasm itself: every call goes through the engine (`Engine.call_func`, or
    an instantiation running a start function), which calls `Engine.before_wasm` first, so the
    session starts its SIGINT watcher only when wasm is about to run (`watches_wasm_entry`).
    """

    watches_wasm_entry = True

    def attach(self, engine) -> None:
        super().attach(engine)
        self._engine = engine
        self.dl = GuestDl(engine, locate=lambda path: path, allocate=lambda size: allocate(engine, size)[0],
                          provider="debugger host (dl API)", mode_bits=lambda mode: mode)

    def resolve_import(self, module, imp):
        return self.dl.resolve(module, imp) or super().resolve_import(module, imp)
