"""Symbol scopes: the global scope (main program + RTLD_GLOBAL libraries) and RTLD_LOCAL groups.

The first definition published wins; later ones are shadowed (emscripten `mergeLibSymbols`,
libdylink.js; glibc does the same for the global scope).
"""

from __future__ import annotations

from dataclasses import dataclass

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


class _FetchedExtern:
    """`ExportSymbol.extern`: fetched from the instance's exports on first use and kept in the
    symbol's `__dict__`, which shadows this descriptor from then on (functools.cached_property
    does the same behind a lock taken on every first use, in Python 3.11)."""

    def __get__(self, sym, owner=None):
        if sym is None:
            return self
        fields = sym.__dict__
        value = fields["extern"] = fields["_externs"][sym.name]
        return value


class ExportSymbol(Symbol):
    """A module's export whose wasmtime object (`extern`) is fetched from the instance when
    first used (`dldbg.linker.wasmtime_compat.InstanceExports`): a load publishes thousands of
    symbols and fetching each costs about 50 microseconds.  Made by `export_symbol`."""

    extern = _FetchedExtern()


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
    """Name -> Symbol with first-definition-wins publishing."""

    def __init__(self, name: str):
        self.name = name
        self.symbols: dict[str, Symbol] = {}

    def lookup(self, name: str) -> Symbol | None:
        return self.symbols.get(name)

    def publish(self, symbols: dict[str, Symbol]) -> tuple[list[str], list[str]]:
        """Add symbols not yet defined here.  Returns (added names, shadowed names)."""
        if self.symbols.keys().isdisjoint(symbols):  # the common case, in C
            self.symbols.update(symbols)
            return list(symbols), []
        added, shadowed = [], []
        for name, sym in symbols.items():
            if name in self.symbols:
                shadowed.append(name)
            else:
                self.symbols[name] = sym
                added.append(name)
        return added, shadowed

    def remove(self, names: list[str], module_id: int) -> None:
        """Withdraw `names` that the module `module_id` defined here."""
        for name in names:
            sym = self.symbols.get(name)
            if sym is not None and sym.module_id == module_id:
                del self.symbols[name]

    def __contains__(self, name: str) -> bool:
        return name in self.symbols

    def __len__(self) -> int:
        return len(self.symbols)
