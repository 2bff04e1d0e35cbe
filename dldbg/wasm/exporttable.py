"""A module's exports read back from the parse cache as columns (`dldbg.wasm.parsecache`):
`WasmModule.export_map` without an `Export` per export.

A load publishes every export name but looks up few exports (its constructors, its relocation
function, the symbols a program asks for): a module of 10,000 exports made 10,000 `Export`
named tuples and a dict of them per load (some 3 ms of a 4 ms bare instantiation).  Here the
names are one list in the binary's order, the kinds, indices and byte offsets compact arrays,
and a name is found by bisection over the names' sorted order (kept in the cache with the
columns), with no dict built.  A module looked up more (one that imports its own exports
through thousands of GOT entries: several lookups per entry) gets, after `_PROMOTE` lookups
and one per 16 exports, the dict of every `Export` a parse has, answering the rest in C.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Mapping

from .types import EXTERNAL_KINDS, Export

#: lookups answered by bisection before the dict of every export is built (and one more per
#: 16 exports: building it costs about 16 bisections per export)
_PROMOTE = 64

_new = tuple.__new__
_KIND_CODES = bytes(range(len(EXTERNAL_KINDS)))


#: unsigned array typecodes and their sizes in bytes (the platform's), smallest first
_TYPECODES = dict(sorted(((code, array(code).itemsize) for code in ("B", "H", "I", "L", "Q")), key=lambda c: c[1]))


def int_column(values) -> tuple[str, bytes]:
    """(array typecode, bytes) of non-negative ints, in the fewest bytes each that hold them
    (ValueError above 64 bits)."""
    top = max(values, default=0)
    code = next((code for code, size in _TYPECODES.items() if top < 1 << 8 * size), None)
    if code is None:
        raise ValueError(f"{top} does not fit in a column")
    return code, array(code, values).tobytes()


def read_int_column(column: tuple[str, bytes], count: int) -> array:
    """The array `int_column` encoded; ValueError when it does not hold `count` ints."""
    typecode, raw = column
    if typecode not in _TYPECODES:
        raise ValueError(f"unknown column type {typecode!r}")
    col = array(typecode)
    col.frombytes(raw)
    if len(col) != count:
        raise ValueError("a column of another length")
    return col


def encode_exports(exports: list[Export]) -> tuple:
    """The columns of `exports` (parse cache payload): (count, whether every name is exported
    once, names, kinds, indices, offsets, the positions in the names' sorted order), the names
    one str joined by NUL when no name holds one (splitting it is faster than unmarshalling a
    list), else a list."""
    names = [exp.name for exp in exports]
    joined = names if any("\0" in name for name in names) else "\0".join(names)
    kinds = bytes(EXTERNAL_KINDS.index(exp.kind) for exp in exports)
    order = sorted(range(len(names)), key=names.__getitem__)
    return (len(names), len(set(names)) == len(names), joined, kinds, int_column([exp.index for exp in exports]),
            int_column([exp.offset for exp in exports]), int_column(order))


class ExportTable(Mapping):
    """Export name -> `Export`, over the columns `encode_exports` wrote: what
    `WasmModule.export_map` is for a parse read back, equal to the dict a parse gives (the
    last of exports sharing a name wins, as there).  An `Export` is made on each lookup, until
    the table is looked up often enough to be worth the dict of them all (`_PROMOTE`).

    :ivar names: the export names in the binary's order (`WasmModule.export_names`).
    """

    def __init__(self, columns: tuple):
        count, unique, joined, kinds, indices, offsets, order = columns
        if isinstance(joined, str):
            names = joined.split("\0") if count else []
        else:
            names = list(joined)
        if len(names) != count or len(kinds) != count or kinds.translate(None, _KIND_CODES):
            raise ValueError("export columns of another length")
        self.names: list[str] = names
        self.unique: bool = bool(unique)  # no two exports share a name
        self._kinds = kinds
        self._indices = read_int_column(indices, count)
        self._offsets = read_int_column(offsets, count)
        self._order = read_int_column(order, count)
        self._map: dict[str, Export] | None = None  # every export, once looked up often enough
        self._list: list[Export] | None = None  # `exports()`
        self._left = _PROMOTE + count // 16  # lookups by bisection before then

    def position(self, name) -> int | None:
        """Where export `name` is in the binary's order (the last export of that name), or
        None: a bisection."""
        if not isinstance(name, str):
            return None
        names, order = self.names, self._order
        i = bisect_right(order, name, key=names.__getitem__)
        if i and names[found := order[i - 1]] == name:
            return found
        return None

    def positions_starting(self, prefix: str) -> list[int]:
        """The positions of the exports whose names start with `prefix`, in the binary's
        order: one bisection (they are neighbours in the names' sorted order)."""
        names, order = self.names, self._order
        at = bisect_left(order, prefix, key=names.__getitem__)
        found = []
        while at < len(order) and names[order[at]].startswith(prefix):
            found.append(order[at])
            at += 1
        return sorted(found)

    def _find(self, name) -> Export | None:
        self._left -= 1
        if self._left < 0:
            return self._every().get(name)
        at = self.position(name)
        return None if at is None else self._make(at)

    def _every(self) -> dict[str, Export]:
        """The dict of every export a parse has; from now on `get` is its own, in C."""
        if self._map is None:
            self._map = {exp.name: exp for exp in self.exports()}
            self.get = self._map.get
        return self._map

    def _make(self, at: int) -> Export:
        return _new(Export, (self.names[at], EXTERNAL_KINDS[self._kinds[at]], self._indices[at], self._offsets[at]))

    def get(self, name, default=None):
        found = self._find(name)
        return default if found is None else found

    def __getitem__(self, name) -> Export:
        found = self._find(name) if self._map is None else self._map.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def __contains__(self, name) -> bool:
        if self._map is None:
            self._left -= 1
            if self._left >= 0:
                return self.position(name) is not None
            self._every()
        return name in self._map

    def __iter__(self):
        # the names in the binary's order; with a name exported twice, each once (a dict's keys)
        return iter(self.names if self.unique else self._every())

    def __len__(self) -> int:
        return len(self.names if self.unique else self._every())

    def exports(self) -> list[Export]:
        """`WasmModule.exports`: an `Export` per export, in the binary's order, made once (the
        dict of every export is made of the same ones, as a parse's `export_map` is)."""
        if self._list is None:
            kinds = EXTERNAL_KINDS
            self._list = [_new(Export, (name, kinds[kind], index, offset))
                          for name, kind, index, offset in zip(self.names, self._kinds, self._indices, self._offsets)]
        return self._list

    def __repr__(self) -> str:
        return repr(dict(self.items()))

    def __reduce__(self):
        return dict, (dict(self.items()),)
