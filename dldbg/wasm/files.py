"""Module files read and parsed once: the command line, the program host and the loader all
need the main module's parse; `ModuleFiles` keeps it while the file is unchanged."""

from __future__ import annotations

import os

from ..errors import ModuleFileError
from ..limits import ResourceLimits
from .reader import WasmModule, read_module, read_wasm_bytes


class ModuleFiles:
    """Bytes and parse of module files, by real path, checked against the file's size and
    modification time.  `get` keeps what it read; `take` hands it over and forgets it, so a
    module the loader has taken is not kept twice."""

    def __init__(self, limits: ResourceLimits | None = None) -> None:
        #: the file-size and count limits files are read with
        self.limits = limits or ResourceLimits()
        self._files: dict[str, tuple[tuple[int, int], bytes, WasmModule]] = {}

    def get(self, path: str) -> tuple[bytes, WasmModule]:
        """(bytes, parse) of `path`.  Raises ModuleFileError (not a regular wasm file within the
        file_size limit: see `read_wasm_bytes`), or WasmParseError carrying `path`."""
        real = os.path.realpath(path)
        try:
            stat = os.stat(real)
        except OSError as exc:
            raise ModuleFileError(os.fspath(path), exc.strerror or str(exc)) from None
        key = (stat.st_size, stat.st_mtime_ns)
        known = self._files.get(real)
        if known is not None and known[0] == key:
            return known[1], known[2]
        data = read_wasm_bytes(path, self.limits.file_size)
        wasm = read_module(data, os.fspath(path), self.limits)
        self._files[real] = (key, data, wasm)
        return data, wasm

    def take(self, path: str) -> tuple[bytes, WasmModule]:
        """As `get`, and forget the file."""
        try:
            return self.get(path)
        finally:
            self._files.pop(os.path.realpath(path), None)
