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


class Scope:
    """Name -> Symbol with first-definition-wins publishing."""

    def __init__(self, name: str):
        self.name = name
        self.symbols: dict[str, Symbol] = {}

    def lookup(self, name: str) -> Symbol | None:
        return self.symbols.get(name)

    def publish(self, symbols: dict[str, Symbol]) -> tuple[list[str], list[str]]:
        """Add symbols not yet defined here.  Returns (added names, shadowed names)."""
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
