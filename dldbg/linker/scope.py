"""Symbol scopes: the global scope (main program + RTLD_GLOBAL libraries) and RTLD_LOCAL groups.

The first definition published wins; later ones are shadowed (emscripten `mergeLibSymbols`,
libdylink.js; glibc does the same for the global scope).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import repeat

import wasmtime

from ..wasm.types import FuncType

from .functable import FuncKey


@dataclass(frozen=True)
class Symbol:
    """A definition.  `kind` is `func`, `data` (an absolute address), `global`, `memory`, `table` or `tag`.

    :ivar address: absolute linear-memory address, for `data` symbols.
    :ivar extern: the wasmtime object (Func, Global, ...), for everything but `data`.
    :ivar key: function identity (see functable), for `func` symbols.
    :ivar func_type: the function's type, for `func` symbols.
    """

    name: str
    kind: str
    module: str
    module_id: int
    address: int | None = None
    extern: object | None = None
    key: FuncKey | None = None
    func_type: FuncType | None = None

    @property
    def func(self) -> wasmtime.Func | None:
        return self.extern if self.kind == "func" else None


class ExternWhenUsed:
    """A symbol class's `extern`, looked up by the symbol's name in the mapping its field
    `source` holds when first used, and kept in the symbol's `__dict__`, which shadows this
    descriptor from then on (functools.cached_property does the same behind a lock taken on
    every first use, in Python 3.11).  `ExportSymbol`'s comes from the instance's exports."""

    def __init__(self, source: str):
        self.source = source

    def __get__(self, sym, owner=None):
        if sym is None:
            return self
        fields = sym.__dict__
        value = fields["extern"] = fields[self.source][sym.name]
        return value


class ExportSymbol(Symbol):
    """A module's export whose wasmtime object (`extern`) is fetched from the instance when
    first used (`dldbg.linker.wasmtime_compat.InstanceExports`): a load publishes thousands of
    symbols and fetching each costs about 50 microseconds.  Made by `export_symbol`."""

    extern = ExternWhenUsed("_externs")


_new = object.__new__


def export_symbol(name: str, kind: str, module: str, module_id: int, externs=None, *, address: int | None = None,
                  key: FuncKey | None = None, func_type: FuncType | None = None) -> Symbol:
    """A Symbol of a module's export made without the frozen dataclass's `__init__` (a fifth of
    its cost): a `data` symbol (its `address` given) as a plain Symbol, anything else as an
    ExportSymbol whose `extern` comes from `externs` (the instance's exports) when first used."""
    sym = _new(Symbol if externs is None else ExportSymbol)
    fields = sym.__dict__
    fields["name"] = name
    fields["kind"] = kind
    fields["module"] = module
    fields["module_id"] = module_id
    fields["address"] = address
    fields["key"] = key
    fields["func_type"] = func_type
    if externs is None:
        fields["extern"] = None
    else:
        fields["_externs"] = externs
    return sym


class Scope:
    """Name -> Symbol with first-definition-wins publishing.

    A name is published with the mapping that defines it (`owners`): a module's
    `SymbolTable` (dldbg.linker.exports), which makes the module's symbol for a name when it is
    first looked up, or a dict of symbols.  Publishing a module's names is then dict operations
    in C, not a Symbol per export; `symbols` is the scope as name -> Symbol.
    """

    def __init__(self, name: str):
        self.name = name
        #: name -> the mapping whose symbol for the name is the scope's (`owners[name][name]`)
        self.owners: dict[str, Mapping[str, Symbol]] = {}
        self.symbols = ScopeSymbols(self.owners)

    def lookup(self, name: str) -> Symbol | None:
        owner = self.owners.get(name)
        return None if owner is None else owner[name]

    def publish(self, symbols: Mapping[str, Symbol], names=None) -> tuple[list[str], list[str]]:
        """Add the symbols of `symbols` named in `names` (default: all of them, in their order)
        that are not yet defined here.  `symbols` is kept and looked up when a name is: a dict
        is copied first, a module's `SymbolTable` is not.  Returns (added names, shadowed names)."""
        if type(symbols) is dict:
            symbols = dict(symbols)
        return self.publish_owned(dict.fromkeys(symbols if names is None else names, symbols))

    def publish_table(self, names: list[str], table: Mapping[str, Symbol]) -> tuple[list[str], list[str]]:
        """`publish` of a module's `names` (each once), all defined by its `table`, without a
        dict of them (a module may publish tens of thousands).  Returns (added names, shadowed
        names)."""
        owners = self.owners
        if owners.keys().isdisjoint(names):  # the common case, in C
            owners.update(zip(names, repeat(table)))
            return list(names), []
        return self.publish_owned(dict.fromkeys(names, table))

    def publish_owned(self, owned: dict[str, Mapping[str, Symbol]]) -> tuple[list[str], list[str]]:
        """`publish` of names given with the mapping that defines each (`owned[name][name]` is
        the symbol): a module's published names mapped to its `SymbolTable`, made in one
        `dict.fromkeys`.  Returns (added names, shadowed names)."""
        owners = self.owners
        if owners.keys().isdisjoint(owned):  # the common case, in C
            owners.update(owned)
            return list(owned), []
        added, shadowed = [], []
        for name, owner in owned.items():
            if name in owners:
                shadowed.append(name)
            else:
                owners[name] = owner
                added.append(name)
        return added, shadowed

    def remove(self, names: list[str], module_id: int) -> None:
        """Withdraw `names` that the module `module_id` defined here."""
        owners = self.owners
        for name in names:
            owner = owners.get(name)
            if owner is None:
                continue
            defined_by = getattr(owner, "module_id", None)  # a module's SymbolTable: no symbol made
            if (defined_by if defined_by is not None else owner[name].module_id) == module_id:
                del owners[name]

    def __contains__(self, name: str) -> bool:
        return name in self.owners

    def __len__(self) -> int:
        return len(self.owners)


class ScopeSymbols(Mapping):
    """A scope's names -> their Symbols (`Scope.symbols`), read-only; iterating the names or
    testing one makes no symbol."""

    def __init__(self, owners: dict[str, Mapping[str, Symbol]]):
        self._owners = owners

    def __getitem__(self, name: str) -> Symbol:
        return self._owners[name][name]

    def get(self, name: str, default=None):
        owner = self._owners.get(name)
        return default if owner is None else owner[name]

    def __contains__(self, name) -> bool:
        return name in self._owners

    def __iter__(self):
        return iter(self._owners)

    def __len__(self) -> int:
        return len(self._owners)
