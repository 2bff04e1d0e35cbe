"""The reader's parse of a module, kept on disk by the module bytes' sha256 so that loading the
same file again does not parse it again (a 10,000-export module takes tens of milliseconds to
parse in Python; reading its parse back takes a few).

Files live in `<cache folder>/parsed/` (the compiled-code cache's folder, `dldbg.linker.cache`),
one per module: `<sha256>-<reader digest>.parse`.  The reader digest covers dldbg's version,
this file's format number and the size and modification time of the reader's sources
(`reader.py`, `types.py`, `dylink.py`, `binary.py`, `eh.py`, `exporttable.py`, this file), so a
changed or reinstalled reader never reads a parse an older one wrote.

A file holds a header (magic, the module's sha256, the payload's CRC-32) and the payload: the
parse, with the exception-handling scan every load needs (`WasmModule.eh`), as Python builtins
(tuples, lists, dicts, str, int, bytes) written with `marshal`, which cannot run code when read.
Byte strings the file already holds (data segments, custom section payloads) are stored as
positions and sliced from the module's bytes.  The fields a load does not read (sections,
tables, memories, data segments, function bodies, custom sections, names: `_LAZY`) are
marshalled each on its own and decoded only when first used (`WasmModule.__getattr__`): a load
of 10,000 functions builds no `FunctionBody`.  The exports are columns
(`dldbg.wasm.exporttable`): `WasmModule.export_map` finds a name without a dict or an `Export`
per export, and `exports` is built when first used, as is `functions` (kept as an array of type
indices).  Import descriptors and global types are kept once each and numbered; the globals are
columns too, and each `Global` is built when first accessed (`ReadBackGlobals`).  Anything wrong
with a file (truncated, corrupt, another format, counts above the resource limits) makes the
module be parsed again and the file be rewritten; nothing is raised.  The folder is bounded:
writing a file removes the same module's parses by other readers, and the oldest files above
`MAX_FILES` files or `MAX_BYTES` bytes.
"""

from __future__ import annotations

import hashlib
import marshal
import operator
import os
import zlib
from collections.abc import Sequence

from ..limits import ResourceLimits
from ..nogc import collector_paused
from .dylink import DylinkInfo, UnknownSubsection
from .eh import EhUse
from .exporttable import ExportTable, encode_exports, int_column, read_int_column
from .reader import WasmModule, read_module
from .types import (
    ConstExpr,
    CustomSection,
    DataSegment,
    ElemSegment,
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

#: the payload's layout; raise it when `_encode` changes
FORMAT = 4
MAGIC = b"DLDBGPARSE\0"
MAX_FILES = 512
MAX_BYTES = 256 << 20
_SOURCES = ("reader.py", "types.py", "dylink.py", "binary.py", "eh.py", "exporttable.py", "parsecache.py")
#: bytes of the payload's check: CRC-32, which finds a damaged file (a flipped bit, a torn or
#: truncated write) at a fifth of blake2b's cost (0.7 ms of a 10,000-export module's load);
#: it is no defence against someone who can write the cache folder, nor need it be: the
#: compiled code beside it (dldbg.linker.cache) is trusted as it is
_DIGEST = 4

_digest: str | None = None


def reader_digest() -> str:
    """16 hex digits identifying the reader that wrote a parse: dldbg's version, the payload's
    format number, and the size and modification time of each of the reader's source files
    (a stat each: reading and hashing them would cost a fifth of a small module's load)."""
    global _digest
    if _digest is None:
        from .. import __version__

        parts = [f"dldbg={__version__};format={FORMAT}"]
        here = os.path.dirname(os.path.abspath(__file__))
        for name in _SOURCES:
            try:
                st = os.stat(os.path.join(here, name))
                parts.append(f"{name}={st.st_size},{st.st_mtime_ns}")
            except OSError:
                parts.append(f"{name}=?")
        _digest = hashlib.sha256(";".join(parts).encode()).hexdigest()[:16]
    return _digest


class ParseCache:
    """Parses of module files by sha256, in `folder` (created when first written).

    :ivar parsed: modules parsed (not found in the cache) by this object, for tests.
    :ivar reused: modules read back from the cache by this object.
    """

    def __init__(self, folder: str):
        self.folder = folder
        self.parsed = 0
        self.reused = 0
        self._suffix = f"-{reader_digest()}.parse"

    def path_for(self, sha256: str) -> str:
        return os.path.join(self.folder, sha256 + self._suffix)

    def module(self, data: bytes, sha256: str, path: str | None, limits: ResourceLimits, *,
               scan_eh: bool = True) -> WasmModule:
        """The parse of `data` (whose sha256 is `sha256`): from the cache, else `read_module`
        (which raises WasmParseError for a malformed module; nothing is cached then), with
        its exception-handling scan (`WasmModule.eh`) unless `scan_eh` is False."""
        file = self.path_for(sha256)
        wasm = self._load(file, data, sha256, path, limits)
        if wasm is not None:
            self.reused += 1
            return wasm
        with collector_paused():
            wasm = read_module(data, path, limits)
        if scan_eh:
            wasm.eh  # noqa: B018  (the exception-handling scan every load needs, kept with the parse)
        self.parsed += 1
        self._store(file, sha256, wasm)
        return wasm

    def _load(self, file: str, data: bytes, sha256: str, path: str | None, limits: ResourceLimits) -> WasmModule | None:
        try:
            with open(file, "rb") as fh:
                blob = fh.read()
        except OSError:
            return None
        head = len(MAGIC) + 32 + _DIGEST
        if len(blob) < head or not blob.startswith(MAGIC) or blob[len(MAGIC):len(MAGIC) + 32] != bytes.fromhex(sha256):
            return None
        payload = memoryview(blob)[head:]
        if zlib.crc32(payload).to_bytes(_DIGEST, "little") != blob[head - _DIGEST:head]:
            return None
        try:
            with collector_paused():  # long-lived objects per import and per field (dldbg.nogc)
                wasm = _decode(marshal.loads(payload), data, path)
        except Exception:  # a payload that passed its digest but does not decode: parse instead
            return None
        if len(wasm.imports) > limits.imports or len(wasm.export_names) > limits.exports:
            return None  # parsed again, so that the reader refuses it with its own error
        return wasm

    def _store(self, file: str, sha256: str, wasm: WasmModule) -> None:
        try:
            payload = marshal.dumps(_encode(wasm))
        except ValueError:  # an object marshal does not write: keep no parse
            return
        blob = MAGIC + bytes.fromhex(sha256) + zlib.crc32(payload).to_bytes(_DIGEST, "little") + payload
        import tempfile

        try:
            os.makedirs(self.folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.replace(tmp, file)
            self._prune(sha256)
        except OSError:
            pass  # a read-only or full cache folder only costs a parse next time

    def _prune(self, sha256: str) -> None:
        """Remove the parses of `sha256` by other readers, then the oldest files while the
        folder holds more than MAX_FILES or MAX_BYTES."""
        entries = []
        with os.scandir(self.folder) as it:
            for entry in it:
                if entry.name.startswith(sha256) and not entry.name.endswith(self._suffix):
                    try:
                        os.unlink(entry.path)
                    except OSError:
                        pass
                elif entry.name.endswith((".parse", ".tmp")):
                    try:
                        st = entry.stat()
                    except OSError:
                        continue
                    entries.append((st.st_mtime_ns, st.st_size, entry.path))
        total = sum(size for _t, size, _p in entries)
        if len(entries) <= MAX_FILES and total <= MAX_BYTES:
            return
        entries.sort()
        while entries and (len(entries) > MAX_FILES or total > MAX_BYTES):
            _t, size, victim = entries.pop(0)
            try:
                os.unlink(victim)
            except OSError:
                pass
            total -= size


# -- the payload ----------------------------------------------------------------------------
def _limits(lim: Limits) -> tuple:
    return (lim.min, lim.max, lim.shared, lim.is64, lim.page_size_log2)


def _expr(expr: ConstExpr | None):
    return None if expr is None else (expr.ops, expr.offset)


#: import kinds whose descriptor is a type object (kept once in the payload's descriptors),
#: not a type index
_DESCRIBED = frozenset(("global", "table", "memory"))


def _encode_desc(desc) -> tuple:
    if isinstance(desc, GlobalType):
        return ("global", desc.val_type, desc.mutable)
    if isinstance(desc, TableType):
        return ("table", desc.elem_type, _limits(desc.limits))
    return ("memory", _limits(desc.limits))


_DECODE_DESC = {
    "global": GlobalType,
    "table": lambda elem_type, limits: TableType(elem_type, Limits(*limits)),
    "memory": lambda limits: MemoryType(Limits(*limits)),
}


def _encode(wasm: WasmModule) -> tuple:
    descs: dict[object, int] = {}  # the distinct import descriptors and global types, numbered

    def number(desc) -> int:
        return descs.setdefault(desc, len(descs))

    imports = [(imp.module, imp.field, imp.kind, number(imp.desc) if imp.kind in _DESCRIBED else imp.desc, imp.offset)
               for imp in wasm.imports]
    globals_ = _encode_globals(wasm.globals, number)
    elements = []
    for seg in wasm.elements:
        items = tuple([item.ops, item.offset] if isinstance(item, ConstExpr) else item for item in seg.items)
        elements.append((seg.mode, seg.table, _expr(seg.offset_expr), seg.elem_type, items, seg.offset))
    dylink = wasm.dylink
    if dylink is not None:
        dylink = (dylink.format, dylink.mem_size, dylink.mem_align, dylink.table_size, dylink.table_align,
                  dylink.needed, dylink.export_info, dylink.import_info, dylink.runtime_path,
                  tuple((u.id, u.offset, u.payload) for u in dylink.unknown), dylink.offset)
    names = wasm.names
    lazy = {  # each field marshalled alone, read back only when first used (`_LAZY`)
        "sections": [(s.id, s.name, s.offset, s.payload_offset, s.size, s.count) for s in wasm.sections],
        "tables": [((t.type.elem_type, _limits(t.type.limits)), _expr(t.init), t.offset) for t in wasm.tables],
        "memories": [_limits(m.limits) for m in wasm.memories],
        "data": [(d.mode, d.memory, _expr(d.offset_expr), d.data_offset, len(d.data), d.offset) for d in wasm.data],
        "bodies": (len(wasm.bodies), int_column([b.offset for b in wasm.bodies]),
                   int_column([b.size for b in wasm.bodies])),
        "customs": [(c.name, c.offset, c.payload_offset, len(c.payload)) for c in wasm.customs],
        "names": (names.module, names.functions, names.globals, names.data_segments),
    }
    return (
        wasm.size,
        [(t.params, t.results) for t in wasm.types],
        [_encode_desc(desc) for desc in descs],
        imports,
        (len(wasm.functions), int_column(wasm.functions)),
        globals_,
        encode_exports(wasm.exports),
        wasm.start,
        elements,
        wasm.data_count,
        wasm.tags,
        dylink,
        wasm.dylink_first,
        wasm.name_section_error,
        (eh.encoding, eh.offset, eh.instruction) if (eh := wasm.__dict__.get("eh")) is not None else None,
        {name: marshal.dumps(value) for name, value in lazy.items()},
    )


def _expr_of(enc) -> ConstExpr | None:
    return None if enc is None else tuple.__new__(ConstExpr, enc)


#: how each field a load does not read is built from its marshalled rows and the module's
#: bytes, when first used (`WasmModule.__getattr__`)
_LAZY = {
    "sections": lambda rows, data: [Section(*s) for s in rows],
    "tables": lambda rows, data: [Table(TableType(t[0][0], Limits(*t[0][1])), _expr_of(t[1]), t[2]) for t in rows],
    "memories": lambda rows, data: [MemoryType(Limits(*m)) for m in rows],
    "data": lambda rows, data: [DataSegment(mode, memory, _expr_of(oe), data[at:at + n], at, off)
                                for mode, memory, oe, at, n, off in rows],
    "bodies": lambda rows, data: [tuple.__new__(FunctionBody, b) for b in zip(read_int_column(rows[1], rows[0]),
                                                                              read_int_column(rows[2], rows[0]))],
    "customs": lambda rows, data: [CustomSection(name, off, at, data[at:at + n]) for name, off, at, n in rows],
    "names": lambda rows, data: NameMap(*rows),
}


def _decoder(name: str, blob: bytes, data: bytes):
    def decode():
        with collector_paused():
            return _LAZY[name](marshal.loads(blob), data)
    return decode


#: a global's initializer as the reader gives it when it is one `i32.const` or `i64.const`
#: (what compilers emit for a data export's offset): its kind code in the payload
_CONST_OPS = ("i32.const", "i64.const")


def _zigzag(value: int) -> int:
    """A signed int as a non-negative one (0, -1, 1, -2... as 0, 1, 2, 3...); ReadBackGlobals
    turns it back."""
    return value * 2 if value >= 0 else -value * 2 - 1


def _encode_globals(globals_: Sequence[Global], number) -> tuple:
    """The globals as columns (ReadBackGlobals): their count, type numbers, where each starts,
    where its initializer starts (from the global's start), the initializer's kind (0 and 1: a
    lone i32.const or i64.const, whose value is in the values column; 2: anything else, kept
    in a marshalled dict by global number, read when first needed) and those values."""
    kinds, values, others = bytearray(), [], {}
    for i, g in enumerate(globals_):
        ops = g.init.ops
        if len(ops) == 1 and ops[0][0] in _CONST_OPS and type(ops[0][1]) is int:
            kinds.append(_CONST_OPS.index(ops[0][0]))
            values.append(_zigzag(ops[0][1]))
        else:
            kinds.append(2)
            values.append(0)
            others[i] = ops
    return (len(globals_), int_column([number(g.type) for g in globals_]), int_column([g.offset for g in globals_]),
            int_column([_zigzag(g.init.offset - g.offset) for g in globals_]), bytes(kinds), int_column(values),
            marshal.dumps(others))


class ReadBackGlobals(Sequence):
    """`WasmModule.globals` read back from the cache: a read-only sequence of `Global` over the
    columns `_encode_globals` wrote, each `Global` (with its `ConstExpr`) built on its first
    access and kept.  A load reads only the globals of the data exports it looks up
    (`dldbg.linker.exports.ExportSymbols`): a module of 100,000 data exports made 100,000 of
    each per load, and unmarshalled a row of each when one was first used.  Compares equal to
    the list a parse gives, and copies and pickles as that list."""

    __slots__ = ("_count", "_types", "_offsets", "_starts", "_kinds", "_values", "_others", "_descs", "_made")

    def __init__(self, columns: tuple, descs: list):
        count, types, offsets, starts, kinds, values, others = columns
        self._count, self._descs, self._kinds, self._others = count, descs, kinds, others
        self._types = read_int_column(types, count)
        self._offsets = read_int_column(offsets, count)
        self._starts = read_int_column(starts, count)
        self._values = read_int_column(values, count)
        if len(kinds) != count or kinds.translate(None, b"\0\1\2"):
            raise ValueError("global columns of another length")
        self._made: dict[int, Global] = {}

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        index = operator.index(index)
        if index < 0:
            index += self._count
        made = self._made.get(index)
        if made is not None:
            return made
        if not 0 <= index < self._count:
            raise IndexError("list index out of range")
        kind = self._kinds[index]
        if kind < 2:  # (`_unzigzag` inline: a GOT.mem load reads a global per symbol)
            value = self._values[index]
            ops = ((_CONST_OPS[kind], ~(value >> 1) if value & 1 else value >> 1),)
        else:
            if type(self._others) is bytes:
                self._others = marshal.loads(self._others)
            ops = self._others[index]
        offset, start = self._offsets[index], self._starts[index]
        init = tuple.__new__(ConstExpr, (ops, offset + (~(start >> 1) if start & 1 else start >> 1)))
        made = self._made[index] = tuple.__new__(Global, (self._descs[self._types[index]], init, offset))
        return made

    def __iter__(self):
        return map(self.__getitem__, range(self._count))

    def __eq__(self, other):
        if isinstance(other, (list, ReadBackGlobals)):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # like a list

    def __repr__(self) -> str:
        return repr(list(self))

    def __reduce__(self):
        return list, (list(self),)

    def __copy__(self) -> list:
        return list(self)

    def __deepcopy__(self, memo) -> list:
        import copy

        return copy.deepcopy(list(self), memo)


def _decode(payload: tuple, data: bytes, path: str | None) -> WasmModule:
    (size, types, descs, imports, functions, globals_, exports, start, elements, data_count, tags, dylink,
     dylink_first, name_error, eh, lazy) = payload
    if size != len(data) or lazy.keys() != _LAZY.keys():
        raise ValueError("another module's parse, or another layout")
    new = tuple.__new__
    descs = [_DECODE_DESC[kind](*fields) for kind, *fields in descs]
    described = _DESCRIBED
    out_elements = []
    for mode, table, offset_expr, elem_type, items, offset in elements:
        items = tuple(new(ConstExpr, item) if isinstance(item, list) else item for item in items)
        out_elements.append(ElemSegment(mode, table, _expr_of(offset_expr), elem_type, items, offset))
    if dylink is not None:
        unknown = tuple(UnknownSubsection(*u) for u in dylink[9])
        dylink = DylinkInfo(*dylink[:9], unknown, dylink[10])
    wasm = WasmModule(
        path=path,
        size=size,
        types=[FuncType(*t) for t in types],
        imports=[new(Import, (module, field, kind, descs[desc] if kind in described else desc, offset))
                 for module, field, kind, desc, offset in imports],
        globals=ReadBackGlobals(globals_, descs),
        start=start,
        elements=out_elements,
        data_count=data_count,
        tags=tags,
        dylink=dylink,
        dylink_first=dylink_first,
        name_section_error=name_error,
        raw=data,
    )
    fields = wasm.__dict__
    for name in _LAZY:
        del fields[name]  # read from `lazy` by WasmModule.__getattr__ when first used
    del fields["functions"], fields["exports"]
    fields["_lazy"] = lazy = {name: _decoder(name, blob, data) for name, blob in lazy.items()}
    functions = read_int_column(functions[1], functions[0])
    lazy["functions"] = functions.tolist
    table = ExportTable(exports)
    lazy["exports"] = table.exports
    fields["export_map"] = table  # WasmModule.export_map: an Export made per lookup
    fields["export_names"] = table.names
    if eh is not None:
        wasm.eh = EhUse(*eh)  # fills the cached_property
    return wasm
