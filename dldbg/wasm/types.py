"""What the reader produces: frozen descriptions of a module's sections and entries.

Every entry keeps the byte offset where it starts in the file, so that a loader error can point
at the bytes involved.  The entries a module has thousands of (imports, exports, globals and
their constant expressions, function bodies) are named tuples, which cost a fifth of a frozen
dataclass to create (a 10,000-export module is parsed, or read back from the parse cache
`dldbg.wasm.parsecache`, on every load).  Names of kinds and value types follow the core spec's text format
(`func`, `table`, `memory`, `global`, `tag`; `i32`, `i64`, `f32`, `f64`, `v128`, `funcref`,
`externref`).
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class FuncType:
    params: tuple[str, ...]
    results: tuple[str, ...]

    def __str__(self) -> str:
        return f"({', '.join(self.params)}) -> ({', '.join(self.results)})"


@dataclass(frozen=True)
class Limits:
    """Table limits in slots, memory limits in pages."""

    min: int
    max: int | None = None
    shared: bool = False
    is64: bool = False
    page_size_log2: int | None = None

    @property
    def page_size(self) -> int:
        return WASM_PAGE_SIZE if self.page_size_log2 is None else 1 << self.page_size_log2


@dataclass(frozen=True)
class TableType:
    elem_type: str
    limits: Limits


@dataclass(frozen=True)
class MemoryType:
    limits: Limits


@dataclass(frozen=True)
class GlobalType:
    val_type: str
    mutable: bool


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


@dataclass(frozen=True)
class Table:
    type: TableType
    init: ConstExpr | None
    offset: int


@dataclass(frozen=True)
class ElemSegment:
    """An element segment; `items` holds function indices, None for ref.null, or a ConstExpr."""

    mode: str  # "active" | "passive" | "declarative"
    table: int
    offset_expr: ConstExpr | None
    elem_type: str
    items: tuple[int | ConstExpr | None, ...]
    offset: int


@dataclass(frozen=True)
class DataSegment:
    mode: str  # "active" | "passive"
    memory: int
    offset_expr: ConstExpr | None
    data: bytes
    #: byte offset of the segment's first data byte in the file
    data_offset: int
    offset: int


class FunctionBody(namedtuple("FunctionBody", "offset size")):
    __slots__ = ()


@dataclass(frozen=True)
class Section:
    id: int
    name: str  # section kind, or the custom section's own name
    offset: int  # offset of the section id byte
    payload_offset: int
    size: int
    count: int | None = None

    @property
    def end(self) -> int:
        return self.payload_offset + self.size


@dataclass(frozen=True)
class CustomSection:
    name: str
    offset: int
    payload_offset: int
    payload: bytes


@dataclass(frozen=True)
class NameMap:
    """The `name` custom section: function, global and data segment names by index."""

    module: str | None = None
    functions: dict[int, str] = field(default_factory=dict)
    globals: dict[int, str] = field(default_factory=dict)
    data_segments: dict[int, str] = field(default_factory=dict)
