"""Compiled-module cache: wasmtime's serialised machine code, keyed by what determines it.

Key: sha256 of the module bytes, the wasmtime package version and a digest of the engine
settings.  Files live in `$DLDBG_CACHE_DIR`, else `$XDG_CACHE_HOME/dldbg`, else
`~/.cache/dldbg`, under `compiled/`.  A file that fails to deserialise (another wasmtime, a
truncated write) is recompiled and replaced.  `Module.deserialize` trusts its input, so only
files this cache wrote are read, from the user's own cache folder.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from importlib.metadata import version

import wasmtime


def default_cache_dir() -> str:
    if os.environ.get("DLDBG_CACHE_DIR"):
        return os.environ["DLDBG_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "dldbg")


class CompileCache:
    """Compile or fetch modules for one wasmtime engine.

    :param folder: where serialised modules go; None keeps only the in-process cache.
    :param settings: a stable description of the engine configuration (part of the key).
    """

    def __init__(self, engine: wasmtime.Engine, settings: str, folder: str | None):
        self.engine = engine
        self.folder = os.path.join(folder, "compiled") if folder else None
        self._tag = hashlib.sha256(f"wasmtime={version('wasmtime')};{settings}".encode()).hexdigest()[:16]
        self._memory: dict[str, wasmtime.Module] = {}

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
            if path:
                self._store(path, module.serialize())
        self._memory[sha256] = module
        return module, source, time.perf_counter() - started

    def _store(self, path: str, blob: bytes) -> None:
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only or full cache folder only costs a recompile next time
