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


_IMPORT_SECTION, _TABLE_SECTION, _MEMORY_SECTION = 2, 4, 5
_TABLE_KIND = 1


def import_memory_and_table(data: bytes, wasm: WasmModule | None = None, module: str = "env",
                            memory: str = "memory", table: str = "__indirect_function_table") -> bytes:
    """`data` with its defined memory and its table 0 turned into imports `module.memory` and
    `module.table`, with the same limits (and element type).

    An emscripten 4/5 main module defines and exports its memory and function table; its JS
    glue takes them from the instance (`wasmMemory = wasmExports['memory']`).  Importing them
    instead gives the loader the memory and table before the main is instantiated, which is
    when its GOT.func entries need table slots.  Index spaces do not move: the memory and the
    table stay index 0 (other defined tables, such as Pyodide's externref tables, keep 1, 2...),
    exports keep pointing at them.  The import section gets two entries (one is inserted if the
    module has none).  Raises ValueError if the module imports a memory or a table, or does not
    define exactly one memory and at least one table.
    """
    wasm = wasm or read_module(data)
    if wasm.imports_of("memory") or wasm.imports_of("table"):
        raise ValueError("the module already imports a memory or a table")
    if len(wasm.memories) != 1 or not wasm.tables:
        raise ValueError(f"the module defines {len(wasm.memories)} memories and {len(wasm.tables)} tables")
    sections = {s.id: s for s in wasm.sections if s.id in (_IMPORT_SECTION, _TABLE_SECTION, _MEMORY_SECTION)}
    tables, memories = sections[_TABLE_SECTION], sections[_MEMORY_SECTION]
    body = Cursor(data, tables.payload_offset, tables.end)
    count = body.uleb()
    first_end = wasm.tables[1].offset if len(wasm.tables) > 1 else tables.end
    table_entry = data[body.pos : first_end]
    if table_entry[:1] == b"\x40":  # a table with an initialiser expression cannot be an import
        raise ValueError("table 0 has an initialiser expression")
    rest_tables = data[first_end : tables.end]
    body = Cursor(data, memories.payload_offset, memories.end)
    body.uleb()
    memory_entry = data[body.pos : memories.end]
    entries = (encode_name(module) + encode_name(table) + bytes([_TABLE_KIND]) + table_entry
               + encode_name(module) + encode_name(memory) + bytes([_MEMORY_KIND]) + memory_entry)
    imports = sections.get(_IMPORT_SECTION)
    if imports is not None:
        body = Cursor(data, imports.payload_offset, imports.end)
        old = body.uleb()
        new_imports = encode_section(_IMPORT_SECTION, encode_uleb(old + 2) + data[body.pos : imports.end] + entries)
        head, at = data[: imports.offset] + new_imports, imports.end
    else:  # the import section goes where the table section was (after the type section)
        head, at = data[: tables.offset] + encode_section(_IMPORT_SECTION, encode_uleb(2) + entries), tables.offset
    new_tables = encode_section(_TABLE_SECTION, encode_uleb(count - 1) + rest_tables) if count > 1 else b""
    return (head + data[at : tables.offset] + new_tables + data[tables.end : memories.offset]
            + data[memories.end :])
