"""The `dylink.0` custom section and the legacy `dylink` section.

Source: tool-conventions DynamicLinking.md ("The "dylink.0" Section"; the legacy flat layout is
in the text at commit 0230aae), checked against emscripten's `getDylinkMetadata`.
"""

from __future__ import annotations

from ..frozen import Frozen, cached_property, set_field
from .binary import Cursor

WASM_DYLINK_MEM_INFO = 1
WASM_DYLINK_NEEDED = 2
WASM_DYLINK_EXPORT_INFO = 3
WASM_DYLINK_IMPORT_INFO = 4
WASM_DYLINK_RUNTIME_PATH = 5

SUBSECTION_NAMES = {
    WASM_DYLINK_MEM_INFO: "MEM_INFO",
    WASM_DYLINK_NEEDED: "NEEDED",
    WASM_DYLINK_EXPORT_INFO: "EXPORT_INFO",
    WASM_DYLINK_IMPORT_INFO: "IMPORT_INFO",
    WASM_DYLINK_RUNTIME_PATH: "RUNTIME_PATH",
}

# Symbol flags (tool-conventions Linking.md, "Symbol Table Subsection").
WASM_SYM_BINDING_WEAK = 0x1
WASM_SYM_BINDING_LOCAL = 0x2
WASM_SYM_BINDING_MASK = 0x3
WASM_SYM_VISIBILITY_HIDDEN = 0x4
WASM_SYM_UNDEFINED = 0x10
WASM_SYM_EXPORTED = 0x20
WASM_SYM_EXPLICIT_NAME = 0x40
WASM_SYM_NO_STRIP = 0x80
WASM_SYM_TLS = 0x100
WASM_SYM_ABSOLUTE = 0x200


def describe_symbol_flags(flags: int) -> str:
    """wasm-objdump's rendering, e.g. `undefined binding=weak vis=default`.

    Same order as wabt's `PrintSymbolFlags`: the flag words first, binding and visibility last
    (`tls binding=global vis=default`).
    """
    parts = []
    for bit, word in (
        (WASM_SYM_UNDEFINED, "undefined"),
        (WASM_SYM_EXPORTED, "exported"),
        (WASM_SYM_EXPLICIT_NAME, "explicit_name"),
        (WASM_SYM_NO_STRIP, "no_strip"),
        (WASM_SYM_TLS, "tls"),
        (WASM_SYM_ABSOLUTE, "absolute"),
    ):
        if flags & bit:
            parts.append(word)
    binding = flags & WASM_SYM_BINDING_MASK
    parts.append("binding=" + {0: "global", 1: "weak", 2: "local"}.get(binding, "unknown"))
    parts.append("vis=" + ("hidden" if flags & WASM_SYM_VISIBILITY_HIDDEN else "default"))
    return " ".join(parts)


class UnknownSubsection(Frozen):
    __slots__ = ("id", "offset", "payload")

    def __init__(self, id: int, offset: int, payload: bytes):
        set_field(self, "id", id)
        set_field(self, "offset", offset)
        set_field(self, "payload", payload)


class DylinkInfo(Frozen):
    """Parsed dynamic-linking metadata.

    :ivar format: `dylink.0` or the legacy `dylink`.
    :ivar mem_size: bytes of static data (data + bss) the module needs (MEM_INFO memorysize).
    :ivar mem_align: log2 of the alignment in bytes of that region (MEM_INFO memoryalignment).
    :ivar table_size: table slots the module's element segment needs (MEM_INFO tablesize).
    :ivar table_align: log2 of the table alignment in slots (always 0 from lld).
    :ivar needed: NEEDED library names, in link order.
    :ivar export_info: (export name, symbol flags) pairs from EXPORT_INFO.
    :ivar import_info: (module, field, symbol flags) triples from IMPORT_INFO.
    :ivar runtime_path: RUNTIME_PATH entries (`$ORIGIN` / `${ORIGIN}` unexpanded).
    :ivar unknown: subsections with ids this reader does not know, kept raw.
    :ivar offset: byte offset of the custom section in the file.
    """

    __slots__ = ("format", "mem_size", "mem_align", "table_size", "table_align", "needed", "export_info",
                 "import_info", "runtime_path", "unknown", "offset", "__dict__")

    def __init__(self, format: str, mem_size: int, mem_align: int, table_size: int, table_align: int,
                 needed: tuple[str, ...], export_info: tuple[tuple[str, int], ...],
                 import_info: tuple[tuple[str, str, int], ...], runtime_path: tuple[str, ...],
                 unknown: tuple[UnknownSubsection, ...], offset: int):
        set_field(self, "format", format)
        set_field(self, "mem_size", mem_size)
        set_field(self, "mem_align", mem_align)
        set_field(self, "table_size", table_size)
        set_field(self, "table_align", table_align)
        set_field(self, "needed", needed)
        set_field(self, "export_info", export_info)
        set_field(self, "import_info", import_info)
        set_field(self, "runtime_path", runtime_path)
        set_field(self, "unknown", unknown)
        set_field(self, "offset", offset)

    @cached_property
    def weak_imports(self) -> frozenset[str]:
        """Fields whose binding is weak (emscripten: `(flags & 3) == 1`)."""
        return frozenset(
            f for _m, f, flags in self.import_info if flags & WASM_SYM_BINDING_MASK == WASM_SYM_BINDING_WEAK
        )

    @cached_property
    def tls_exports(self) -> frozenset[str]:
        return frozenset(name for name, flags in self.export_info if flags & WASM_SYM_TLS)

    @property
    def mem_alignment_bytes(self) -> int:
        """2^memoryalignment bytes; at most 2^64 (the loader refuses anything above its
        memory_alignment limit, dldbg.limits, before using it)."""
        return 1 << min(self.mem_align, 64)

    def to_json(self) -> dict:
        return {
            "format": self.format,
            "mem_size": self.mem_size,
            "mem_p2align": self.mem_align,
            "table_size": self.table_size,
            "table_p2align": self.table_align,
            "needed": list(self.needed),
            "export_info": [{"name": n, "flags": f} for n, f in self.export_info],
            "import_info": [{"module": m, "field": n, "flags": f} for m, n, f in self.import_info],
            "runtime_path": list(self.runtime_path),
            "unknown_subsections": [u.id for u in self.unknown],
        }


def _strings(cur: Cursor) -> tuple[str, ...]:
    return tuple(cur.name() for _ in range(cur.uleb()))


def parse_dylink0(cur: Cursor, section_offset: int) -> DylinkInfo:
    """Parse the body of a `dylink.0` section (the bytes after its name).

    Raises WasmParseError on a subsection that runs past the section or has bytes left over.
    """
    mem = (0, 0, 0, 0)
    needed: tuple[str, ...] = ()
    export_info: list[tuple[str, int]] = []
    import_info: list[tuple[str, str, int]] = []
    runtime_path: tuple[str, ...] = ()
    unknown: list[UnknownSubsection] = []
    while not cur.at_end():
        sub_offset = cur.pos
        sub_id = cur.u8()
        body = cur.sub(cur.uleb())
        if sub_id == WASM_DYLINK_MEM_INFO:
            mem = (body.uleb(), body.uleb(), body.uleb(), body.uleb())
        elif sub_id == WASM_DYLINK_NEEDED:
            needed = _strings(body)
        elif sub_id == WASM_DYLINK_EXPORT_INFO:
            export_info.extend((body.name(), body.uleb()) for _ in range(body.uleb()))
        elif sub_id == WASM_DYLINK_IMPORT_INFO:
            import_info.extend((body.name(), body.name(), body.uleb()) for _ in range(body.uleb()))
        elif sub_id == WASM_DYLINK_RUNTIME_PATH:
            runtime_path = _strings(body)
        else:
            unknown.append(UnknownSubsection(sub_id, sub_offset, body.bytes(body.remaining)))
        if not body.at_end():
            name = SUBSECTION_NAMES.get(sub_id, str(sub_id))
            raise body.fail(f"dylink.0 subsection {name} has {body.remaining} bytes left over")
    return DylinkInfo(
        "dylink.0", *mem, needed, tuple(export_info), tuple(import_info), runtime_path, tuple(unknown),
        section_offset,
    )


def parse_legacy_dylink(cur: Cursor, section_offset: int) -> DylinkInfo:
    """Parse the body of the legacy flat `dylink` section."""
    mem = (cur.uleb(), cur.uleb(), cur.uleb(), cur.uleb())
    needed = _strings(cur)
    if not cur.at_end():
        raise cur.fail(f"dylink section has {cur.remaining} bytes left over")
    return DylinkInfo("dylink", *mem, needed, (), (), (), (), section_offset)
