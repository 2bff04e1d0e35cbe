"""Module files read and parsed once: the command line, the program host and the loader all
need the main module's parse; `ModuleFiles` keeps it while the file is unchanged, and with a
cache folder keeps the parse on disk for the next run (`dldbg.wasm.parsecache`)."""

from __future__ import annotations

import hashlib
import os

from ..errors import ModuleFileError
from ..limits import ResourceLimits
from ..nogc import collector_paused
from .parsecache import ParseCache
from .reader import WasmModule, read_module, read_wasm_bytes


class ModuleFiles:
    """Bytes and parse of module files, by real path, checked against the file's size and
    modification time.  `get` keeps what it read; `take` hands it over and forgets it, so a
    module the loader has taken is not kept twice.  Every parse carries the bytes' sha256
    (`WasmModule.sha256`).

    :param cache_dir: dldbg's cache folder: parses are kept in its `parsed/` folder; None (the
        default) parses every file read.
    """

    def __init__(self, limits: ResourceLimits | None = None, cache_dir: str | None = None) -> None:
        #: the file-size and count limits files are read with
        self.limits = limits or ResourceLimits()
        #: parses kept on disk by sha256, or None
        self.parse_cache: ParseCache | None = None
        if cache_dir:
            self.use_cache(cache_dir)
        self._files: dict[str, tuple[tuple[int, int], bytes, WasmModule]] = {}

    def use_cache(self, cache_dir: str) -> None:
        """Keep parses in `cache_dir`'s `parsed/` folder from now on."""
        self.parse_cache = ParseCache(os.path.join(cache_dir, "parsed"))

    def get(self, path: str, real: str | None = None) -> tuple[bytes, WasmModule]:
        """(bytes, parse) of `path` (`real`: its `os.path.realpath`, when the caller has it).
        Raises ModuleFileError (not a regular wasm file within the file_size limit: see
        `read_wasm_bytes`), or WasmParseError carrying `path`."""
        real = real or os.path.realpath(path)
        key = _key(path, real)
        known = self._files.get(real)
        if known is not None and known[0] == key:
            return known[1], known[2]
        data, wasm = self._read(path)
        self._files[real] = (key, data, wasm)
        return data, wasm

    def take(self, path: str, real: str | None = None) -> tuple[bytes, WasmModule]:
        """As `get`, and forget the file (a file not kept is read without a `stat` first:
        its size and modification time would only be compared with nothing)."""
        real = real or os.path.realpath(path)
        known = self._files.pop(real, None)
        if known is not None and known[0] == _key(path, real):
            return known[1], known[2]
        return self._read(path)

    def _read(self, path: str) -> tuple[bytes, WasmModule]:
        data = read_wasm_bytes(path, self.limits.file_size)
        sha = hashlib.sha256(data).hexdigest()
        if self.parse_cache is not None:
            wasm = self.parse_cache.module(data, sha, os.fspath(path), self.limits)
        else:
            with collector_paused():  # the parse's entries live as long as the module (dldbg.nogc)
                wasm = read_module(data, os.fspath(path), self.limits)
        wasm.sha256 = sha
        return data, wasm


def _key(path: str, real: str) -> tuple[int, int]:
    """What tells a kept file from a changed one: its size and modification time.  Raises
    ModuleFileError."""
    try:
        stat = os.stat(real)
    except OSError as exc:
        raise ModuleFileError(os.fspath(path), exc.strerror or str(exc)) from None
    return stat.st_size, stat.st_mtime_ns
