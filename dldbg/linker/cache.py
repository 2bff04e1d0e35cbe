"""Compiled-module cache: wasmtime's serialised machine code, keyed by what determines it.

Key: sha256 of the module bytes, the wasmtime package version and a digest of the engine
settings.  Files live in `$DLDBG_CACHE_DIR`, else `$XDG_CACHE_HOME/dldbg`, else
`~/.cache/dldbg`, under `compiled/`.  A file that fails to deserialise (another wasmtime, a
truncated write) is recompiled and replaced.  `Module.deserialize` trusts its input, so only
files this cache wrote are read, from the user's own cache folder.

The cache also learns how fast this machine compiles (bytes of module per second, from the
compiles of modules of at least `SPEED_MIN_BYTES`, kept in `compiled/speed.json`), so that a
front end can show how far a long compile has got (`expected_seconds`).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
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
        self._memory: dict[str, wasmtime.Module] = {}
        #: bytes of module compiled per second on this machine (None until measured)
        self.speed: float | None = self._read_speed()

    def path_for(self, sha256: str) -> str | None:
        return os.path.join(self.folder, f"{sha256}-{self._tag}.cwasm") if self.folder else None

    def get(self, data: bytes, sha256: str) -> tuple[wasmtime.Module, str, float]:
        """(module, source, seconds); source is `memory-cache`, `disk-cache` or `compiled`.

        Raises wasmtime.WasmtimeError when the module does not compile.
        """
        started = time.perf_counter()
        if sha256 in self._memory:
            return self._memory[sha256], "memory-cache", time.perf_counter() - started
        path = self.path_for(sha256)
        module, source = None, "compiled"
        if path and os.path.exists(path):
            try:
                module = wasmtime.Module.deserialize_file(self.engine, path)
                source = "disk-cache"
            except (wasmtime.WasmtimeError, OSError):
                module = None
        if module is None:
            module = wasmtime.Module(self.engine, data)
            self._learn_speed(len(data), time.perf_counter() - started)
            if path:
                self._store(path, module.serialize())
                if self.tier_up:
                    self._store(os.path.join(self.folder, TIER_UP_FOLDER, f"{sha256}.wasm"), data)
        self._memory[sha256] = module
        return module, source, time.perf_counter() - started

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
        """The machine code of the module `sha256` is cached (in memory or on disk)."""
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
