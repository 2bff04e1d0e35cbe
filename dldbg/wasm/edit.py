"""Small, checked rewrites of a wasm binary (no wasmtime), for hosts that must adapt a module.

Source of the layout: the WebAssembly core specification, 5.5 "Modules" (section order: type,
import, function, table, memory, tag, global, export, start, element, data count, code, data;
custom sections anywhere).  Every function takes the module's bytes and returns new bytes; the
input is parsed with `dldbg.wasm.reader` first, so malformed input raises WasmParseError.
"""

from __future__ import annotations

from .binary import Cursor, encode_name, encode_section, encode_uleb
from .reader import WasmModule, read_module

#: Position of each known section id in the order the specification requires.
_SECTION_ORDER = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}
_EXPORT_SECTION = 7
_MEMORY_KIND = 2


def add_memory_export(data: bytes, name: str = "memory", wasm: WasmModule | None = None) -> bytes:
    """`data` with an export `name` of memory 0 added (an imported or a defined memory).

    wasmtime's WASI implementation finds linear memory through the *calling instance's*
    `memory` export, so a module that imports its memory and calls WASI functions needs one.
    The export is appended to the export section (one is inserted at its place in the section
    order if the module has none); nothing else moves relative to its section.  Raises
    ValueError if the module has no memory or already exports `name`.
    """
    wasm = wasm or read_module(data)
    if not wasm.memories and not wasm.imports_of("memory"):
        raise ValueError("the module has no memory to export")
    if name in wasm.export_map:
        raise ValueError(f"the module already exports {name!r}")
    entry = encode_name(name) + bytes([_MEMORY_KIND]) + encode_uleb(0)
    section = next((s for s in wasm.sections if s.id == _EXPORT_SECTION), None)
    if section is not None:
        body = Cursor(data, section.payload_offset, section.end)
        count = body.uleb()
        payload = encode_uleb(count + 1) + data[body.pos : section.end] + entry
        return data[: section.offset] + encode_section(_EXPORT_SECTION, payload) + data[section.end :]
    # No export section: insert one before the first section that must follow it.
    at = wasm.size
    for sec in wasm.sections:
        if sec.id and _SECTION_ORDER[sec.id] > _SECTION_ORDER[_EXPORT_SECTION]:
            at = sec.offset
            break
    return data[:at] + encode_section(_EXPORT_SECTION, encode_uleb(1) + entry) + data[at:]
