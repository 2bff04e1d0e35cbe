"""Compiled-module cache: wasmtime's serialised machine code, keyed by what determines it.

Key: sha256 of the module bytes, the wasmtime package version and a digest of the engine
settings.  Files live in `$DLDBG_CACHE_DIR`, else `$XDG_CACHE_HOME/dldbg`, else
`~/.cache/dldbg`, under `compiled/`.  A file that fails to deserialise (another wasmtime, a
truncated write) is recompiled and replaced.  `Module.deserialize` trusts its input, so only
files this cache wrote are read, from the user's own cache folder.

The cache also learns how fast this machine compiles (bytes of module per second, from the
compiles of modules of at least `SPEED_MIN_BYTES`, kept in `compiled/speed.json`), so that a
front end can show how far a long compile has got (`expected_seconds`).

A compile can run on a worker thread (`start`): wasmtime compiles without Python's GIL, so the
caller goes on (the host sets up, the program runs) while it does, and `get` of the same module
waits for it; the worker then writes the machine code to the cache while the module is used.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import time

import wasmtime

from ..fetch import default_cache_dir  # noqa: F401  (the cache folder; re-exported)
from ..wasm.eh import EhUse
from .tiers import TIER_UP_FOLDER

#: smaller modules say little about compile speed (fixed costs dominate)
SPEED_MIN_BYTES = 32 * 1024
#: weight of the newest compile in the running speed
SPEED_WEIGHT = 0.5


def wasmtime_version() -> str:
    """The installed wasmtime package's version, from its `.dist-info` folder name (reading it
    with importlib.metadata costs tens of milliseconds of start-up)."""
    site = os.path.dirname(os.path.dirname(os.path.abspath(wasmtime.__file__)))
    try:
        infos = [n for n in os.listdir(site) if n.startswith("wasmtime-") and n.endswith(".dist-info")]
    except OSError:
        infos = []
    if len(infos) == 1:
        return infos[0][len("wasmtime-"):-len(".dist-info")]
    from importlib.metadata import version

    return version("wasmtime")


class CompileCache:
    """Compile or fetch modules for one wasmtime engine.

    :param folder: where serialised modules go; None keeps only the in-process cache.
    :param settings: a stable description of the engine configuration (part of the key).
    :param tier_up: queue the bytes of every module compiled here for the Cranelift tier-up
        (`dldbg.linker.tiers`): set for a Winch engine.
    """

    def __init__(self, engine: wasmtime.Engine, settings: str, folder: str | None, *, tier_up: bool = False):
        self.engine = engine
        self.folder = os.path.join(folder, "compiled") if folder else None
        self.tier_up = tier_up
        self._tag = hashlib.sha256(f"wasmtime={wasmtime_version()};{settings}".encode()).hexdigest()[:16]
        #: `path_for` is this + sha256 + `_suffix` (`os.path.join` per call, twice per load, cost more)
        self._prefix = os.path.join(self.folder, "") if self.folder else None
        self._suffix = f"-{self._tag}.cwasm"
        self._memory: dict[str, wasmtime.Module] = {}
        #: compiles running on worker threads (`start`), by sha256
        self._pending: dict[str, _Pending] = {}
        self._workers: list[threading.Thread] = []
        self._speed_lock = threading.Lock()
        #: bytes of module compiled per second on this machine (None until measured)
        self.speed: float | None = self._read_speed()

    def path_for(self, sha256: str) -> str | None:
        return self._prefix + sha256 + self._suffix if self._prefix else None

    def get(self, data: bytes, sha256: str) -> tuple[wasmtime.Module, str, float]:
        """(module, source, seconds); source is `memory-cache`, `disk-cache` or `compiled`.

        Raises wasmtime.WasmtimeError when the module does not compile.
        """
        started = time.perf_counter()
        pending = self._pending.pop(sha256, None)
        if pending is not None:  # compiling on a worker thread (`start`): wait for it
            pending.done.wait()
            if pending.error is not None:
                raise pending.error
            self._memory[sha256] = pending.module
            return pending.module, "compiled", pending.seconds
        found = self.cached(sha256, started)
        if found is not None:
            return found
        module = wasmtime.Module(self.engine, data)
        self._keep(module, data, sha256, time.perf_counter() - started)
        self._memory[sha256] = module
        return module, "compiled", time.perf_counter() - started

    def cached(self, sha256: str, started: float | None = None) -> tuple[wasmtime.Module, str, float] | None:
        """`get` of a module whose machine code is cached: (module, `memory-cache` or
        `disk-cache`, seconds since `started`, default now); None when it must be compiled
        (a file wasmtime cannot deserialise is compiled again and replaced by `get`) or is
        being compiled (`start`).  A missing file is an error of wasmtime's, as a damaged one:
        no `stat` first (the loader asks this before its `module.read` event instead of
        whether the file exists, which `get` asked again)."""
        if started is None:
            started = time.perf_counter()
        module = self._memory.get(sha256)
        if module is not None:
            return module, "memory-cache", time.perf_counter() - started
        path = self.path_for(sha256)
        if not path or sha256 in self._pending:
            return None
        try:
            module = wasmtime.Module.deserialize_file(self.engine, path)
        except (wasmtime.WasmtimeError, OSError):
            return None
        self._memory[sha256] = module
        return module, "disk-cache", time.perf_counter() - started

    def start(self, data: bytes, sha256: str) -> bool:
        """Begin compiling `data` (whose sha256 is `sha256`) on a worker thread, unless its
        machine code is cached or already being compiled; `get(data, sha256)` waits for it and
        raises its error, if any (wasmtime.WasmtimeError), as a compile of its own would.
        Returns whether a compile was started.  The worker writes the code to the cache folder
        after `get` has it; `wait` waits for that."""
        if self.has(sha256) or sha256 in self._pending:
            return False
        pending = self._pending[sha256] = _Pending()
        # not a daemon: the process waits for the cache file to be written before it ends
        worker = threading.Thread(target=self._compile_on_worker, args=(data, sha256, pending),
                                  name="dldbg-compile")
        self._workers.append(worker)
        worker.start()
        return True

    def wait(self) -> None:
        """Wait for the compiles begun by `start`, and for their machine code to be written
        to the cache folder (the tier-up reads the queue they add to)."""
        while self._workers:
            self._workers.pop().join()

    def _compile_on_worker(self, data: bytes, sha256: str, pending: "_Pending") -> None:
        started = time.perf_counter()
        try:
            pending.module = wasmtime.Module(self.engine, data)
        except BaseException as exc:  # noqa: BLE001  (raised again by `get`, on the caller's thread)
            pending.error = exc
        pending.seconds = time.perf_counter() - started
        pending.done.set()
        if pending.module is not None:
            try:
                self._keep(pending.module, data, sha256, pending.seconds)
            except Exception:  # noqa: BLE001  (no traceback from a thread: an unwritten cache costs a compile)
                pass

    def _keep(self, module: wasmtime.Module, data: bytes, sha256: str, seconds: float) -> None:
        """A module compiled here: learn the speed, write its code to the cache folder and
        queue it for the tier-up."""
        self._learn_speed(len(data), seconds)
        path = self.path_for(sha256)
        if path:
            self._store(path, module.serialize())
            if self.tier_up:
                self._store(os.path.join(self.folder, TIER_UP_FOLDER, f"{sha256}.wasm"), data)

    def eh_use(self, wasm, sha256: str) -> EhUse:
        """`wasm.eh` (the exception-handling scan, which walks every function body: a fifth of
        a second for a 1 MB module), remembered in the cache folder by the bytes' sha256."""
        if "eh" in wasm.__dict__ or not self.folder:
            return wasm.eh
        path = os.path.join(self.folder, "eh", f"{sha256}.json")
        try:
            with open(path, encoding="utf-8") as fh:
                fields = json.load(fh)
            wasm.eh = EhUse(fields["encoding"], fields["offset"], fields["instruction"])  # fills the cached_property
        except (OSError, ValueError, KeyError, TypeError):
            self._store(path, json.dumps(wasm.eh.to_json()).encode())
        return wasm.eh

    def has(self, sha256: str) -> bool:
        """The machine code of the module `sha256` is cached (in memory or on disk); False
        while it is being compiled (`start`)."""
        path = self.path_for(sha256)
        return sha256 in self._memory or bool(path and os.path.exists(path))

    def expected_seconds(self, size: int, sha256: str) -> float | None:
        """Seconds compiling `size` bytes (sha256 `sha256`) is expected to take: 0.0 when the
        machine code is cached, else from the speed of earlier compiles on this machine; None
        before any module of `SPEED_MIN_BYTES` or more was compiled."""
        if self.has(sha256):
            return 0.0
        return size / self.speed if self.speed else None

    def _speed_path(self) -> str | None:
        return os.path.join(self.folder, "speed.json") if self.folder else None

    def _read_speed_table(self) -> dict:
        try:
            with open(self._speed_path() or "", encoding="utf-8") as fh:
                table = json.load(fh)
        except (OSError, ValueError):
            return {}
        return table if isinstance(table, dict) else {}

    def _read_speed(self) -> float | None:
        speed = self._read_speed_table().get(self._tag)
        return float(speed) if isinstance(speed, (int, float)) and speed > 0 else None

    def _learn_speed(self, size: int, seconds: float) -> None:
        if size < SPEED_MIN_BYTES or seconds <= 0:
            return
        speed = size / seconds
        with self._speed_lock:  # compiles on worker threads learn too
            self.speed = speed if self.speed is None else SPEED_WEIGHT * speed + (1 - SPEED_WEIGHT) * self.speed
            path = self._speed_path()
            if path:
                table = self._read_speed_table()
                table[self._tag] = round(self.speed)
                self._store(path, json.dumps(table).encode())

    def _store(self, path: str, blob: bytes) -> None:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only or full cache folder only costs a recompile next time


class _Pending:
    """A compile running on a worker thread (`CompileCache.start`): `done` is set once `module`
    or `error` is, with the compile's `seconds`."""

    __slots__ = ("done", "module", "error", "seconds")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.module: wasmtime.Module | None = None
        self.error: BaseException | None = None
        self.seconds = 0.0
