"""Module files read and parsed once: the command line, the program host and the loader all
need the main module's parse; `ModuleFiles` keeps it while the file is unchanged."""

from __future__ import annotations

import os

from .reader import WasmModule, read_module


class ModuleFiles:
    """Bytes and parse of module files, by real path, checked against the file's size and
    modification time.  `get` keeps what it read; `take` hands it over and forgets it, so a
    module the loader has taken is not kept twice."""

    def __init__(self) -> None:
        self._files: dict[str, tuple[tuple[int, int], bytes, WasmModule]] = {}

    def get(self, path: str) -> tuple[bytes, WasmModule]:
        """(bytes, parse) of `path`.  Raises OSError, or WasmParseError carrying `path`."""
        real = os.path.realpath(path)
        stat = os.stat(real)
        key = (stat.st_size, stat.st_mtime_ns)
        known = self._files.get(real)
        if known is not None and known[0] == key:
            return known[1], known[2]
        with open(path, "rb") as fh:
            data = fh.read()
        wasm = read_module(data, os.fspath(path))
        self._files[real] = (key, data, wasm)
        return data, wasm

    def take(self, path: str) -> tuple[bytes, WasmModule]:
        """As `get`, and forget the file."""
        try:
            return self.get(path)
        finally:
            self._files.pop(os.path.realpath(path), None)
