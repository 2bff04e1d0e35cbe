"""The wasm binary reader: bytes in, a `WasmModule` description out.  No wasmtime here."""

from .dylink import DylinkInfo
from .reader import WasmModule, read_module, read_module_file

__all__ = ["DylinkInfo", "WasmModule", "read_module", "read_module_file"]
