"""What the reader produces: frozen descriptions of a module's sections and entries.

Every entry keeps the byte offset where it starts in the file, so that a loader error can point
at the bytes involved.  The entries a module has thousands of (imports, exports, globals and
their constant expressions, function bodies) are named tuples, cheaper to create (a
10,000-export module is parsed, or read back from the parse cache `dldbg.wasm.parsecache`, on
every load); the others are `Frozen` classes (dldbg.frozen), which compare, hash and print as
frozen dataclasses do without their start-up time.  Names of kinds and value types follow the
core spec's text format (`func`, `table`, `memory`, `global`, `tag`; `i32`, `i64`, `f32`, `f64`,
`v128`, `funcref`, `externref`).
"""

from __future__ import annotations

from collections import namedtuple

from ..frozen import Frozen, set_field

SECTION_NAMES = {
    0: "custom",
    1: "type",
    2: "import",
    3: "function",
    4: "table",
    5: "memory",
    6: "global",
    7: "export",
    8: "start",
    9: "elem",
    10: "code",
    11: "data",
    12: "datacount",
    13: "tag",
}

EXTERNAL_KINDS = ("func", "table", "memory", "global", "tag")

#: Wasm page size in bytes (core spec 2.5.5, "Memory Types"); the custom-page-sizes proposal
#: may change it per memory, see `Limits.page_size`.
WASM_PAGE_SIZE = 65536


class FuncType(Frozen):
    __slots__ = ("params", "results")

    def __init__(self, params: tuple[str, ...], results: tuple[str, ...]):
        set_field(self, "params", params)
        set_field(self, "results", results)

    # a load compares one per function import: written out, faster than Frozen's (as the dataclass's)
    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return self.params == other.params and self.results == other.results
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.params, self.results))

    def __str__(self) -> str:
        return f"({', '.join(self.params)}) -> ({', '.join(self.results)})"


class Limits(Frozen):
    """Table limits in slots, memory limits in pages."""

    __slots__ = ("min", "max", "shared", "is64", "page_size_log2")

    def __init__(self, min: int, max: int | None = None, shared: bool = False, is64: bool = False,
                 page_size_log2: int | None = None):
        set_field(self, "min", min)
        set_field(self, "max", max)
        set_field(self, "shared", shared)
        set_field(self, "is64", is64)
        set_field(self, "page_size_log2", page_size_log2)

    @property
    def page_size(self) -> int:
        return WASM_PAGE_SIZE if self.page_size_log2 is None else 1 << self.page_size_log2


class TableType(Frozen):
    __slots__ = ("elem_type", "limits")

    def __init__(self, elem_type: str, limits: Limits):
        set_field(self, "elem_type", elem_type)
        set_field(self, "limits", limits)


class MemoryType(Frozen):
    __slots__ = ("limits",)

    def __init__(self, limits: Limits):
        set_field(self, "limits", limits)


class GlobalType(Frozen):
    __slots__ = ("val_type", "mutable")

    def __init__(self, val_type: str, mutable: bool):
        set_field(self, "val_type", val_type)
        set_field(self, "mutable", mutable)


class ConstExpr(namedtuple("ConstExpr", "ops offset")):
    """A constant expression: `ops` is a tuple of (mnemonic, immediate) up to, not including,
    `end`; `offset` is where it starts in the file."""

    __slots__ = ()

    def evaluate(self, global_values: dict[int, int] | None = None) -> int | float | None:
        """Value of the expression, reading `global.get N` from `global_values`.

        Returns None when the expression needs a global that is not given or is not numeric.
        """
        stack: list = []
        for op, imm in self.ops:
            if op in ("i32.const", "i64.const", "f32.const", "f64.const"):
                stack.append(imm)
            elif op == "global.get":
                if not global_values or imm not in global_values:
                    return None
                stack.append(global_values[imm])
            elif op in ("i32.add", "i32.sub", "i32.mul", "i64.add", "i64.sub", "i64.mul"):
                if len(stack) < 2:
                    return None
                b, a = stack.pop(), stack.pop()
                value = a + b if op.endswith("add") else a - b if op.endswith("sub") else a * b
                bits = 32 if op.startswith("i32") else 64
                value &= (1 << bits) - 1
                if value >> (bits - 1):
                    value -= 1 << bits
                stack.append(value)
            else:
                return None
        return stack[-1] if len(stack) == 1 else None

    @property
    def global_refs(self) -> tuple[int, ...]:
        return tuple(imm for op, imm in self.ops if op == "global.get")

    def __str__(self) -> str:
        return " ".join(op if imm is None else f"{op} {imm}" for op, imm in self.ops)


class Import(namedtuple("Import", "module field kind desc offset")):
    """`desc`: the type index for func and tag; TableType, MemoryType or GlobalType otherwise."""

    __slots__ = ()

    @property
    def qualified(self) -> str:
        return f"{self.module}.{self.field}"


class Export(namedtuple("Export", "name kind index offset")):
    __slots__ = ()


class Global(namedtuple("Global", "type init offset")):
    """`type`: a GlobalType; `init`: its ConstExpr."""

    __slots__ = ()


class Table(Frozen):
    __slots__ = ("type", "init", "offset")

    def __init__(self, type: TableType, init: ConstExpr | None, offset: int):
        set_field(self, "type", type)
        set_field(self, "init", init)
        set_field(self, "offset", offset)


class ElemSegment(Frozen):
    """An element segment; `mode` is "active", "passive" or "declarative"; `items` holds
    function indices, None for ref.null, or a ConstExpr."""

    __slots__ = ("mode", "table", "offset_expr", "elem_type", "items", "offset")

    def __init__(self, mode: str, table: int, offset_expr: ConstExpr | None, elem_type: str,
                 items: tuple[int | ConstExpr | None, ...], offset: int):
        set_field(self, "mode", mode)
        set_field(self, "table", table)
        set_field(self, "offset_expr", offset_expr)
        set_field(self, "elem_type", elem_type)
        set_field(self, "items", items)
        set_field(self, "offset", offset)


class DataSegment(Frozen):
    """A data segment; `mode` is "active" or "passive"; `data_offset` is the byte offset of
    its first data byte in the file."""

    __slots__ = ("mode", "memory", "offset_expr", "data", "data_offset", "offset")

    def __init__(self, mode: str, memory: int, offset_expr: ConstExpr | None, data: bytes, data_offset: int,
                 offset: int):
        set_field(self, "mode", mode)
        set_field(self, "memory", memory)
        set_field(self, "offset_expr", offset_expr)
        set_field(self, "data", data)
        set_field(self, "data_offset", data_offset)
        set_field(self, "offset", offset)


class FunctionBody(namedtuple("FunctionBody", "offset size")):
    __slots__ = ()


class Section(Frozen):
    """`name`: the section kind, or the custom section's own name; `offset`: of the section id
    byte; `count`: the entries of a vector section, else None."""

    __slots__ = ("id", "name", "offset", "payload_offset", "size", "count")

    def __init__(self, id: int, name: str, offset: int, payload_offset: int, size: int, count: int | None = None):
        set_field(self, "id", id)
        set_field(self, "name", name)
        set_field(self, "offset", offset)
        set_field(self, "payload_offset", payload_offset)
        set_field(self, "size", size)
        set_field(self, "count", count)

    @property
    def end(self) -> int:
        return self.payload_offset + self.size


class CustomSection(Frozen):
    __slots__ = ("name", "offset", "payload_offset", "payload")

    def __init__(self, name: str, offset: int, payload_offset: int, payload: bytes):
        set_field(self, "name", name)
        set_field(self, "offset", offset)
        set_field(self, "payload_offset", payload_offset)
        set_field(self, "payload", payload)


class NameMap(Frozen):
    """The `name` custom section: function, global and data segment names by index."""

    __slots__ = ("module", "functions", "globals", "data_segments")

    def __init__(self, module: str | None = None, functions: dict[int, str] | None = None,
                 globals: dict[int, str] | None = None, data_segments: dict[int, str] | None = None):
        set_field(self, "module", module)
        set_field(self, "functions", {} if functions is None else functions)
        set_field(self, "globals", {} if globals is None else globals)
        set_field(self, "data_segments", {} if data_segments is None else data_segments)
