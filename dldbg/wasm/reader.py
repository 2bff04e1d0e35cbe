"""Read a wasm binary into a `WasmModule`: every section with its byte offset.

Source: WebAssembly core specification, chapter 5 "Binary Format" (with the bulk-memory,
reference-types, extended-const, multi-memory, memory64, exception-handling and
custom-page-sizes extensions); custom sections: tool-conventions DynamicLinking.md (`dylink.0`)
and the extended name section (function, global and data segment names).

The reader checks structure, not validity: a module this reader accepts may still be rejected by
wasmtime's validator, which the engine runs next.  Function bodies are located, not decoded,
except by the exception-handling scan (`WasmModule.eh`, dldbg/wasm/eh.py), on first use.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from operator import attrgetter

from ..errors import ModuleFileError, WasmParseError
from ..frozen import cached_property
from ..limits import ResourceLimits
from .binary import Cursor
from .eh import EhUse, scan_module
from .dylink import WASM_SYM_ABSOLUTE, DylinkInfo, parse_dylink0, parse_legacy_dylink
from .types import (
    EXTERNAL_KINDS,
    SECTION_NAMES,
    ConstExpr,
    CustomSection,
    DataSegment,
    ElemSegment,
    Export,
    FuncType,
    FunctionBody,
    Global,
    GlobalType,
    Import,
    Limits,
    MemoryType,
    NameMap,
    Section,
    Table,
    TableType,
)

WASM_MAGIC = b"\0asm"
WASM_VERSION = b"\x01\x00\x00\x00"

_VAL_TYPES = {
    0x7F: "i32",
    0x7E: "i64",
    0x7D: "f32",
    0x7C: "f64",
    0x7B: "v128",
    0x70: "funcref",
    0x6F: "externref",
    0x69: "exnref",
    0x6E: "anyref",
    0x6D: "eqref",
    0x6A: "i31ref",
    0x6B: "structref",
    0x6C: "arrayref",
    0x71: "nullref",
    0x72: "nullexternref",
    0x73: "nullfuncref",
    0x74: "nullexnref",
}


class WasmModule:
    """A parsed module.  Index spaces (functions, tables, memories, globals, tags) count imports first.

    :ivar functions: the type index of each defined function.
    :ivar tags: the type index of each defined tag.
    :ivar name_section_error: why the `name` section was not read: a malformed one does not
        make the module unusable.
    :ivar raw: the file's bytes (function bodies are located, not copied).
    :ivar sha256: sha256 of `raw` in hex, when the reader's caller computed it (`dldbg.wasm.files`).

    Modules compare equal when every field but `raw` and `sha256` does (a plain class, not a
    dataclass: see dldbg.frozen).
    """

    def __init__(self, path: str | None, size: int, sections: list[Section] | None = None,
                 types: list[FuncType] | None = None, imports: list[Import] | None = None,
                 functions: list[int] | None = None, tables: list[Table] | None = None,
                 memories: list[MemoryType] | None = None, globals: list[Global] | None = None,
                 exports: list[Export] | None = None, start: int | None = None,
                 elements: list[ElemSegment] | None = None, data: list[DataSegment] | None = None,
                 data_count: int | None = None, tags: list[int] | None = None,
                 bodies: list[FunctionBody] | None = None, customs: list[CustomSection] | None = None,
                 dylink: DylinkInfo | None = None, dylink_first: bool = False, names: NameMap | None = None,
                 name_section_error: str | None = None, raw: bytes = b"", sha256: str | None = None):
        self.path = path
        self.size = size
        self.sections = [] if sections is None else sections
        self.types = [] if types is None else types
        self.imports = [] if imports is None else imports
        self.functions = [] if functions is None else functions
        self.tables = [] if tables is None else tables
        self.memories = [] if memories is None else memories
        self.globals = [] if globals is None else globals
        self.exports = [] if exports is None else exports
        self.start = start
        self.elements = [] if elements is None else elements
        self.data = [] if data is None else data
        self.data_count = data_count
        self.tags = [] if tags is None else tags
        self.bodies = [] if bodies is None else bodies
        self.customs = [] if customs is None else customs
        self.dylink = dylink
        self.dylink_first = dylink_first
        self.names = NameMap() if names is None else names
        self.name_section_error = name_section_error
        self.raw = raw
        self.sha256 = sha256

    def __getattr__(self, name: str):
        """A field the parse cache left encoded (`dldbg.wasm.parsecache`, fields a load does
        not read: function bodies, sections, custom sections...): decoded on first access and
        kept, so that it is the same value a parse gives.  AttributeError for any other name.
        (`globals` read back is a sequence that builds each global on first access.)"""
        lazy = self.__dict__.get("_lazy")
        decode = None if lazy is None else lazy.get(name)
        if decode is None:
            raise AttributeError(f"'WasmModule' object has no attribute {name!r}")
        value = self.__dict__[name] = decode()
        return value

    def __getstate__(self) -> dict:
        """What copy and pickle keep: every field, decoded."""
        for name in self.__dict__.get("_lazy", ()):
            getattr(self, name)
        state = dict(self.__dict__)
        state.pop("_lazy", None)
        if type(state.get("globals")) is not list:  # read back, built on first use (parsecache.ReadBackGlobals)
            state["globals"] = list(state["globals"])
        if type(state.get("export_map", {})) is not dict:  # read back (exporttable.ExportTable): made again
            del state["export_map"]
        return state

    #: the fields equality compares and the repr shows (all but `raw` and `sha256`)
    _COMPARED = ("path", "size", "sections", "types", "imports", "functions", "tables", "memories", "globals",
                 "exports", "start", "elements", "data", "data_count", "tags", "bodies", "customs", "dylink",
                 "dylink_first", "names", "name_section_error")
    _compared = attrgetter(*_COMPARED)

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return self._compared(self) == other._compared(other)
        return NotImplemented

    __hash__ = None  # mutable

    def __repr__(self) -> str:
        return f"WasmModule({', '.join(f'{name}={getattr(self, name)!r}' for name in self._COMPARED)})"

    # -- index spaces -------------------------------------------------------------------
    def imports_of(self, kind: str) -> list[Import]:
        """The imports of one kind, in index-space order (computed once per module: callers
        must not change the list)."""
        return self._imports_by_kind.get(kind, [])

    @cached_property
    def _imports_by_kind(self) -> dict[str, list[Import]]:
        by_kind: dict[str, list[Import]] = {}
        for imp in self.imports:
            by_kind.setdefault(imp.kind, []).append(imp)
        return by_kind

    @cached_property
    def num_imported_funcs(self) -> int:
        return len(self.imports_of("func"))

    @cached_property
    def num_imported_globals(self) -> int:
        return len(self.imports_of("global"))

    def func_type(self, func_index: int) -> FuncType:
        """Type of function `func_index` (imports first).  Raises IndexError if out of range."""
        imported = self.num_imported_funcs
        if func_index < imported:
            type_index = self.imports_of("func")[func_index].desc
        else:
            type_index = self.functions[func_index - imported]
        return self.types[type_index]

    def global_type(self, global_index: int) -> GlobalType:
        """Type of global `global_index` (imports first).  Raises IndexError if out of range."""
        imported = self.imports_of("global")
        if global_index < len(imported):
            return imported[global_index].desc
        return self.globals[global_index - len(imported)].type

    def import_type(self, imp: Import) -> object:
        """FuncType for a function import; the descriptor otherwise."""
        return self.types[imp.desc] if imp.kind in ("func", "tag") else imp.desc

    def function_name(self, func_index: int) -> str | None:
        """The name section's name, else an export's name, else the import's field."""
        if func_index in self.names.functions:
            return self.names.functions[func_index]
        exported = self._func_export_names.get(func_index)
        if exported is not None:
            return exported
        funcs = self.imports_of("func")
        if func_index < len(funcs):
            return funcs[func_index].qualified
        return None

    @cached_property
    def _func_export_names(self) -> dict[int, str]:
        """Function index -> the name of its first export."""
        names: dict[int, str] = {}
        for exp in self.exports:
            if exp.kind == "func":
                names.setdefault(exp.index, exp.name)
        return names

    @cached_property
    def export_map(self) -> Mapping[str, Export]:
        """Export name -> Export (the last export of a name): a dict, or for a parse read back
        from the cache a mapping that makes each Export when looked up (`dldbg.wasm.exporttable`).
        Computed once: callers must not change it."""
        return {exp.name: exp for exp in self.exports}

    @cached_property
    def export_names(self) -> list[str]:
        """The export names in the binary's order (what a load publishes), without an Export
        each for a parse read back.  Computed once: callers must not change the list."""
        return [exp.name for exp in self.exports]

    # -- dynamic-linking metadata, empty for a module without dylink.0 ------------------
    @property
    def weak_imports(self) -> frozenset[str]:
        return self.dylink.weak_imports if self.dylink else frozenset()

    @property
    def tls_exports(self) -> frozenset[str]:
        return self.dylink.tls_exports if self.dylink else frozenset()

    @cached_property
    def absolute_exports(self) -> frozenset[str]:
        """Exports flagged WASM_SYM_ABSOLUTE in EXPORT_INFO: not relative to `__memory_base`."""
        if not self.dylink:
            return frozenset()
        return frozenset(name for name, flags in self.dylink.export_info if flags & WASM_SYM_ABSOLUTE)

    @property
    def start_name(self) -> str | None:
        return None if self.start is None else self.function_name(self.start)

    def section(self, name: str) -> Section | None:
        return next((s for s in self.sections if s.name == name), None)

    @cached_property
    def eh(self) -> EhUse:
        """The exception-handling encoding of the code (`dldbg.wasm.eh`): found by walking the
        function bodies on first use, only for a module with a tag."""
        return scan_module(self, self.raw)


def read_module_file(path: str | os.PathLike, limits: ResourceLimits | None = None) -> WasmModule:
    """Read and parse the file at `path`.  Raises ModuleFileError (see `read_wasm_bytes`) or
    WasmParseError (with the path)."""
    limits = limits or ResourceLimits()
    return read_module(read_wasm_bytes(path, limits.file_size), os.fspath(path), limits)


_FILE_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
               (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"))


def read_wasm_bytes(path: str | os.PathLike, max_size: int) -> bytes:
    """The bytes of the module file at `path`.

    Only a regular file of at most `max_size` bytes is read, and only after its first 8 bytes
    are the wasm magic number and version: `/dev/zero`, a FIFO (opened without blocking), a
    folder, or a large non-wasm file (`/proc/self/exe`) are refused before their content is read.
    Raises ModuleFileError.
    """
    name = os.fspath(path)
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ModuleFileError(name, exc.strerror or str(exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            what = next((label for test, label in _FILE_KINDS if test(info.st_mode)), "not a regular file")
            raise ModuleFileError(name, f"not a regular file ({what}): only regular files are read as modules")
        if info.st_size > max_size:
            raise ModuleFileError(name, f"the file is {info.st_size} bytes, larger than the file_size limit of "
                                        f"{max_size} bytes (raise it with --limit file_size=N or DLDBG_LIMITS)")
        head = _read_exactly(fd, 8)
        if len(head) >= 4 and head[:4] != WASM_MAGIC:
            raise ModuleFileError(name, "not a wasm module: need to see wasm magic number (\\0asm)", 0)
        # a read of N bytes allocates N bytes first: ask for the size fstat gave (and one
        # more, to see a file that grew), not for the limit (512 MiB by default)
        want = min(info.st_size, max_size) - len(head) + 1
        rest = _read_exactly(fd, want)
        if len(rest) == want:  # the file grew since fstat: read on, up to the limit
            rest += _read_exactly(fd, max_size - len(head) + 1 - len(rest))
    except OSError as exc:
        raise ModuleFileError(name, exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    if len(head) + len(rest) > max_size:
        raise ModuleFileError(name, f"the file grew past the file_size limit of {max_size} bytes while it was read")
    return head + rest


def _read_exactly(fd: int, size: int) -> bytes:
    """`size` bytes from `fd`, fewer at the end of the file: `os.read` until then (a buffered
    file object over a `dup` of the descriptor cost a small module's load some 20 microseconds;
    one `os.read` returns at most about 2 GiB)."""
    data = os.read(fd, size)
    if len(data) == size or not data:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        chunk = os.read(fd, size - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def read_module(data: bytes, path: str | None = None, limits: ResourceLimits | None = None) -> WasmModule:
    """Parse `data`.  Raises WasmParseError carrying the byte offset (and `path`, if given).

    Import and export counts above `limits` (wasmparser's own MAX_WASM_IMPORTS/EXPORTS by
    default) are refused where the count is read.
    """
    try:
        return _Parser(data, path, limits or ResourceLimits()).parse()
    except WasmParseError as exc:
        raise exc.with_path(path) if path and not exc.path else exc


class _Parser:
    def __init__(self, data: bytes, path: str | None, limits: ResourceLimits):
        self.data = data
        self.limits = limits
        self.mod = WasmModule(path=path, size=len(data), raw=data)

    def parse(self) -> WasmModule:
        cur = Cursor(self.data)
        if len(self.data) < 8:
            raise WasmParseError(f"file is {len(self.data)} bytes, too short for a wasm header", 0)
        if cur.bytes(4) != WASM_MAGIC:
            raise WasmParseError("not a wasm module: need to see wasm magic number (\\0asm)", 0)
        version = cur.bytes(4)
        if version != WASM_VERSION:
            raise WasmParseError(f"unsupported wasm version {version.hex()}", 4)
        while not cur.at_end():
            self._section(cur)
        self._check_indices()
        return self.mod

    def _check_indices(self) -> None:
        """Export and start indices within their index spaces (what `inspect` and the loader
        look up); the rest of validation is wasmtime's."""
        mod = self.mod
        sizes = {
            "func": mod.num_imported_funcs + len(mod.functions),
            "table": len(mod.imports_of("table")) + len(mod.tables),
            "memory": len(mod.imports_of("memory")) + len(mod.memories),
            "global": mod.num_imported_globals + len(mod.globals),
            "tag": len(mod.imports_of("tag")) + len(mod.tags),
        }
        for exp in mod.exports:
            if exp.index >= sizes[exp.kind]:
                raise WasmParseError(f"export {exp.name!r}: {exp.kind} index {exp.index} out of range "
                                     f"({sizes[exp.kind]} {exp.kind}s)", exp.offset)
        if mod.start is not None and mod.start >= sizes["func"]:
            section = mod.section("start")
            raise WasmParseError(f"start function index {mod.start} out of range ({sizes['func']} functions)",
                                 section.payload_offset if section else 0)

    # -- sections -----------------------------------------------------------------------
    def _section(self, cur: Cursor) -> None:
        start = cur.pos
        section_id = cur.u8()
        if section_id not in SECTION_NAMES:
            raise cur.fail(f"unknown section id {section_id}", start)
        size_offset = cur.pos
        size = cur.uleb()
        if cur.pos + size > cur.end:
            raise cur.fail(
                f"{SECTION_NAMES[section_id]} section size {size} runs past the end of the file "
                f"({cur.end - cur.pos} bytes left)",
                size_offset,
            )
        body = cur.sub(size)
        payload_offset = body.pos
        if section_id == 0:
            name = self._custom(body, start, len(self.mod.sections) == 0)
            self.mod.sections.append(Section(0, name, start, payload_offset, size))
            return
        count = getattr(self, "_sec_" + SECTION_NAMES[section_id])(body)
        if not body.at_end():
            raise body.fail(f"{SECTION_NAMES[section_id]} section has {body.remaining} bytes left over")
        self.mod.sections.append(Section(section_id, SECTION_NAMES[section_id], start, payload_offset, size, count))

    def _vec(self, cur: Cursor, item, limit: tuple[str, int] | None = None) -> int:
        at = cur.pos
        count = cur.uleb()
        if limit is not None and count > limit[1]:
            raise cur.fail(f"{count} {limit[0]} is above the limit of {limit[1]} "
                           f"(raise it with --limit {limit[0]}=N or DLDBG_LIMITS)", at)
        for _ in range(count):
            item(cur)
        return count

    def _sec_type(self, cur: Cursor) -> int:
        def one(c: Cursor) -> None:
            at = c.pos
            form = c.u8()
            if form != 0x60:
                raise c.fail(f"unsupported type form {form:#x} (only function types are read)", at)
            params = tuple(self._val_type(c) for _ in range(c.uleb()))
            results = tuple(self._val_type(c) for _ in range(c.uleb()))
            self.mod.types.append(FuncType(params, results))

        return self._vec(cur, one)

    def _sec_import(self, cur: Cursor) -> int:
        def one(c: Cursor) -> None:
            at = c.pos
            module, name = c.name(), c.name()
            kind = self._external_kind(c, "import")
            self.mod.imports.append(Import(module, name, kind, self._extern_desc(c, kind), at))

        return self._vec(cur, one, ("imports", self.limits.imports))

    def _extern_desc(self, c: Cursor, kind: str) -> object:
        if kind == "func":
            return self._type_index(c)
        if kind == "table":
            return self._table_type(c)
        if kind == "memory":
            return MemoryType(self._limits(c))
        if kind == "global":
            return self._global_type(c)
        return self._tag_type(c)

    def _external_kind(self, c: Cursor, what: str) -> str:
        at = c.pos
        kind = c.u8()
        if kind >= len(EXTERNAL_KINDS):
            raise c.fail(f"unknown {what} kind {kind:#x}", at)
        return EXTERNAL_KINDS[kind]

    def _tag_type(self, c: Cursor) -> int:
        """A tag type: attribute 0 (exception), then a type index."""
        at = c.pos
        if c.u8() != 0:
            raise c.fail("tag attribute must be 0", at)
        return self._type_index(c)

    def _type_index(self, c: Cursor) -> int:
        at = c.pos
        index = c.uleb()
        if index >= len(self.mod.types):
            raise c.fail(f"type index {index} out of range ({len(self.mod.types)} types)", at)
        return index

    def _sec_function(self, cur: Cursor) -> int:
        return self._vec(cur, lambda c: self.mod.functions.append(self._type_index(c)))

    def _sec_table(self, cur: Cursor) -> int:
        def one(c: Cursor) -> None:
            at = c.pos
            init = None
            if c.remaining >= 2 and c.data[c.pos : c.pos + 2] == b"\x40\x00":
                c.bytes(2)
                ttype = self._table_type(c)
                init = self._const_expr(c)
            else:
                ttype = self._table_type(c)
            self.mod.tables.append(Table(ttype, init, at))

        return self._vec(cur, one)

    def _sec_memory(self, cur: Cursor) -> int:
        return self._vec(cur, lambda c: self.mod.memories.append(MemoryType(self._limits(c))))

    def _sec_global(self, cur: Cursor) -> int:
        def one(c: Cursor) -> None:
            at = c.pos
            gtype = self._global_type(c)
            self.mod.globals.append(Global(gtype, self._const_expr(c), at))

        return self._vec(cur, one)

    def _sec_export(self, cur: Cursor) -> int:
        def one(c: Cursor) -> None:
            at = c.pos
            name = c.name()
            kind = self._external_kind(c, "export")
            self.mod.exports.append(Export(name, kind, c.uleb(), at))

        return self._vec(cur, one, ("exports", self.limits.exports))

    def _sec_start(self, cur: Cursor) -> None:
        self.mod.start = cur.uleb()

    def _sec_elem(self, cur: Cursor) -> int:
        def one(c: Cursor) -> None:
            at = c.pos
            flags = c.uleb()
            if flags > 7:
                raise c.fail(f"unknown element segment flags {flags}", at)
            table, offset_expr = 0, None
            if flags & 1:
                mode = "declarative" if flags & 2 else "passive"
            else:
                mode = "active"
                if flags & 2:
                    table = c.uleb()
                offset_expr = self._const_expr(c)
            uses_exprs = bool(flags & 4)
            elem_type = "funcref"
            if flags & 3:  # an explicit elemkind / reftype follows
                if uses_exprs:
                    elem_type = self._val_type(c)
                else:
                    kind_at = c.pos
                    if c.u8() != 0:
                        raise c.fail("element kind must be 0 (funcref)", kind_at)
            if uses_exprs:
                items = tuple(self._elem_expr(c) for _ in range(c.uleb()))
            else:
                items = tuple(c.uleb() for _ in range(c.uleb()))
            self.mod.elements.append(ElemSegment(mode, table, offset_expr, elem_type, items, at))

        return self._vec(cur, one)

    def _elem_expr(self, c: Cursor) -> int | ConstExpr | None:
        expr = self._const_expr(c)
        if len(expr.ops) == 1:
            op, imm = expr.ops[0]
            if op == "ref.func":
                return imm
            if op == "ref.null":
                return None
        return expr

    def _sec_code(self, cur: Cursor) -> int:
        def one(c: Cursor) -> None:
            size = c.uleb()
            at = c.pos
            c.sub(size)
            self.mod.bodies.append(FunctionBody(at, size))

        count = self._vec(cur, one)
        if count != len(self.mod.functions):
            raise cur.fail(f"code section has {count} bodies for {len(self.mod.functions)} functions")
        return count

    def _sec_data(self, cur: Cursor) -> int:
        def one(c: Cursor) -> None:
            at = c.pos
            flags = c.uleb()
            if flags > 2:
                raise c.fail(f"unknown data segment flags {flags}", at)
            memory, offset_expr, mode = 0, None, "active"
            if flags == 1:
                mode = "passive"
            else:
                if flags == 2:
                    memory = c.uleb()
                offset_expr = self._const_expr(c)
            size = c.uleb()
            data_offset = c.pos
            payload = c.bytes(size)
            self.mod.data.append(DataSegment(mode, memory, offset_expr, payload, data_offset, at))

        return self._vec(cur, one)

    def _sec_datacount(self, cur: Cursor) -> None:
        self.mod.data_count = cur.uleb()

    def _sec_tag(self, cur: Cursor) -> int:
        return self._vec(cur, lambda c: self.mod.tags.append(self._tag_type(c)))

    # -- custom sections ----------------------------------------------------------------
    def _custom(self, body: Cursor, start: int, is_first: bool) -> str:
        name = body.name()
        payload_offset = body.pos
        if name in ("dylink.0", "dylink"):
            if self.mod.dylink is not None:
                raise body.fail(f"second {name} section (the first is at {self.mod.dylink.offset:#x})", start)
            parse = parse_dylink0 if name == "dylink.0" else parse_legacy_dylink
            self.mod.dylink = parse(Cursor(body.data, body.pos, body.end), start)
            self.mod.dylink_first = is_first
        elif name == "name":
            try:
                self.mod.names = _parse_names(Cursor(body.data, body.pos, body.end))
            except WasmParseError as exc:
                self.mod.name_section_error = str(exc)
        self.mod.customs.append(CustomSection(name, start, payload_offset, body.bytes(body.remaining)))
        return name

    # -- pieces -------------------------------------------------------------------------
    def _val_type(self, c: Cursor) -> str:
        at = c.pos
        code = c.u8()
        if code in _VAL_TYPES:
            return _VAL_TYPES[code]
        if code in (0x63, 0x64):  # (ref null ht) / (ref ht)
            heap = c.sleb(33)
            heap_name = _VAL_TYPES.get(heap & 0x7F, str(heap)) if heap < 0 else f"type {heap}"
            return f"(ref {'null ' if code == 0x63 else ''}{heap_name})"
        raise c.fail(f"unknown value type {code:#x}", at)

    def _global_type(self, c: Cursor) -> GlobalType:
        val_type = self._val_type(c)
        at = c.pos
        mutability = c.u8()
        if mutability > 1:
            raise c.fail(f"global mutability must be 0 or 1, not {mutability}", at)
        return GlobalType(val_type, bool(mutability))

    def _table_type(self, c: Cursor) -> TableType:
        elem_type = self._val_type(c)
        return TableType(elem_type, self._limits(c))

    def _limits(self, c: Cursor) -> Limits:
        at = c.pos
        flags = c.u8()
        if flags & ~0x0F:
            raise c.fail(f"unknown limits flags {flags:#x}", at)
        is64 = bool(flags & 0x04)
        bits = 64 if is64 else 32
        minimum = c.uleb(bits)
        maximum = c.uleb(bits) if flags & 0x01 else None
        page_size_log2 = c.uleb() if flags & 0x08 else None
        return Limits(minimum, maximum, bool(flags & 0x02), is64, page_size_log2)

    def _const_expr(self, c: Cursor) -> ConstExpr:
        start = c.pos
        ops: list[tuple[str, object]] = []
        while True:
            at = c.pos
            opcode = c.u8()
            if opcode == 0x0B:
                return ConstExpr(tuple(ops), start)
            if opcode == 0x41:
                ops.append(("i32.const", c.sleb(32)))
            elif opcode == 0x42:
                ops.append(("i64.const", c.sleb(64)))
            elif opcode == 0x43:
                ops.append(("f32.const", c.bytes(4)))
            elif opcode == 0x44:
                ops.append(("f64.const", c.bytes(8)))
            elif opcode == 0x23:
                ops.append(("global.get", c.uleb()))
            elif opcode == 0xD0:
                ops.append(("ref.null", self._heap_type(c)))
            elif opcode == 0xD2:
                ops.append(("ref.func", c.uleb()))
            elif opcode in _EXTENDED_CONST_OPS:
                ops.append((_EXTENDED_CONST_OPS[opcode], None))
            elif opcode == 0xFD and c.remaining and c.data[c.pos] == 0x0C:
                c.u8()
                ops.append(("v128.const", c.bytes(16)))
            else:
                raise c.fail(f"opcode {opcode:#x} is not allowed in a constant expression", at)

    def _heap_type(self, c: Cursor) -> str:
        heap = c.sleb(33)
        return _VAL_TYPES.get(heap & 0x7F, str(heap)) if heap < 0 else f"type {heap}"


_EXTENDED_CONST_OPS = {
    0x6A: "i32.add",
    0x6B: "i32.sub",
    0x6C: "i32.mul",
    0x7C: "i64.add",
    0x7D: "i64.sub",
    0x7E: "i64.mul",
}

# Name section subsection ids (the extended-name-section proposal).
_NAME_MODULE, _NAME_FUNCTION, _NAME_GLOBAL, _NAME_DATA = 0, 1, 7, 9


def _parse_names(cur: Cursor) -> NameMap:
    names = NameMap()
    module = None
    targets = {_NAME_FUNCTION: names.functions, _NAME_GLOBAL: names.globals, _NAME_DATA: names.data_segments}
    while not cur.at_end():
        sub_id = cur.u8()
        body = cur.sub(cur.uleb())
        if sub_id == _NAME_MODULE:
            module = body.name()
        elif sub_id in targets:
            target = targets[sub_id]
            for _ in range(body.uleb()):
                index = body.uleb()
                target[index] = body.name()
    return NameMap(module, names.functions, names.globals, names.data_segments)
