"""A loaded module's exports as symbols (`LoadedModule.exports`), each made when first looked up.

A load publishes every export of a module (emscripten `relocateExports` and `mergeLibSymbols`,
libdylink.js), but a program looks up few of them: a module with 10,000 exports made 10,000
`Symbol`s per load (about 0.7 microseconds each, and as many objects for the collector to
walk).  Here a load keeps the module's export map and a `SymbolTable` that makes an export's
Symbol on its first lookup and keeps it (the same object on every later lookup); the scopes
publish the table itself under each name (`dldbg.linker.scope`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..wasm.exporttable import ExportTable
from .module import INTERNAL_SYMBOLS, public_names
from .scope import Symbol, export_symbol
from .wasmtime_compat import InstanceExports

if TYPE_CHECKING:
    from .module import LoadedModule


class SymbolTable(dict):
    """Name -> Symbol of one module's exports, each made by its `exports` (the module's
    `ExportSymbols`) on its first lookup (`table[name]`; a name the module does not export
    raises KeyError).  What a scope publishes under the module's names: a lookup of a symbol
    made already is a dict lookup in C.  `module_id` is the defining module's."""

    __slots__ = ("exports", "module_id")

    def __missing__(self, name: str) -> Symbol:
        sym = self[name] = self.exports._make(name)
        return sym


class ExportSymbols(Mapping):
    """`LoadedModule.exports` after instantiation: export name -> Symbol (emscripten
    `relocateExports`: an immutable i32/i64 global is a data address, `__memory_base` plus its
    value, or a TLS offset for the module's TLS exports; anything else keeps its kind).

    Iteration, `len` and `in` use the module's export names (its binary's order) and make no
    symbol; a symbol is made when first looked up and kept.  `exports[name] = symbol` replaces
    an export's symbol (a TLS export's address once its block exists); the scopes the module is
    published in see the replacement.  A symbol's wasmtime object is fetched from the instance
    when first used (`ExportSymbol`), and a data symbol's offset is its global's constant
    initializer, read from the instance only when the initializer needs another global's value.
    """

    def __init__(self, mod: "LoadedModule", store) -> None:
        wasm = mod.wasm
        self._mod, self._store, self._wasm = mod, store, wasm
        self._exports = wasm.export_map
        # what `_make` reads, looked up once rather than per symbol
        self._name, self._id, self._externs = mod.name, mod.id, mod.externs
        self._imported_funcs, self._imported_globals = wasm.num_imported_funcs, wasm.num_imported_globals
        self._globals = wasm.globals
        self._tls, self._absolute = wasm.tls_exports, wasm.absolute_exports
        self._base_values = None
        self.table = SymbolTable()
        self.table.exports, self.table.module_id = self, mod.id

    def __getitem__(self, name: str) -> Symbol:
        return self.table[name]

    def get(self, name: str, default=None):
        # `.get`, not `in`: a read-back ExportTable looked up thousands of times answers `get`
        # from a dict in C (`in` is a Python method of it)
        if self._exports.get(name) is not None:
            return self.table[name]
        return default

    def __setitem__(self, name: str, sym: Symbol) -> None:
        if name not in self._exports:
            raise KeyError(name)
        self.table[name] = sym

    def __contains__(self, name) -> bool:
        return self._exports.get(name) is not None

    def __iter__(self):
        return iter(self._exports)

    def __len__(self) -> int:
        return len(self._exports)

    def public_names(self) -> list[str]:
        """The names a load publishes (`dldbg.linker.module.public_names`: the export names
        without the loader's plumbing), in export order, each once; each is defined by the
        module's `table` (`Scope.publish_table`).  For exports read back from the parse cache
        (`ExportTable`), the plumbing is found by bisection (each of `INTERNAL_SYMBOLS`, and the
        neighbours in sorted order that start with `__em_js__`), and the names list itself is
        returned when there is none."""
        exported = self._exports
        if type(exported) is not ExportTable or not exported.unique:
            return list(public_names(self._wasm.export_names))
        names = exported.names
        drop = [at for name in INTERNAL_SYMBOLS if (at := exported.position(name)) is not None]
        drop += exported.positions_starting("__em_js__")
        if not drop:
            return names
        public = names.copy()
        for at in sorted(drop, reverse=True):
            del public[at]
        return public

    def unmade_function(self, name: str) -> tuple | None:
        """(function key, instance, module name) of export `name` when it is a function whose
        symbol is not made yet and that the module's instance exports, without making the
        symbol (a GOT.func entry needs only the function's slot: `LoadRequest._place_found_functions`);
        else None."""
        exp = self._exports.get(name)
        if exp is None or exp.kind != "func" or name in self.table or type(self._externs) is not InstanceExports:
            return None
        return self._func_key(exp.index), self._externs.instance, self._name

    def _func_key(self, index: int):
        """The function table's key of function `index` (dldbg.linker.functable): the module's
        own, or what an imported one is bound to."""
        return ("module", self._id, index) if index >= self._imported_funcs else self._mod.func_key(index)

    def _make(self, name: str) -> Symbol:
        exp = self._exports.get(name)  # (in C once a read-back ExportTable is looked up often)
        if exp is None:
            raise KeyError(name)
        kind, index = exp.kind, exp.index
        if kind == "func":
            return export_symbol(name, "func", self._name, self._id, self._externs, key=self._func_key(index),
                                 func_type=self._wasm.func_type(index))
        if kind != "global":
            return export_symbol(name, kind, self._name, self._id, self._externs)
        own = index >= self._imported_globals
        glob = self._globals[index - self._imported_globals] if own else None
        gtype = glob.type if own else self._wasm.global_type(index)
        if not (own and not gtype.mutable and gtype.val_type in ("i32", "i64")):
            return export_symbol(name, "global", self._name, self._id, self._externs)
        value = _constant(glob.init)
        if value is None:  # an initialiser that reads imported globals
            if self._base_values is None:
                self._base_values = self._mod.base_global_values()
            value = glob.init.evaluate(self._base_values)
        if not isinstance(value, int):  # one that reads other globals: ask wasmtime
            value = self._externs[name].value(self._store)
        if name in self._tls:
            return export_symbol(name, "tls", self._name, self._id, address=value)
        base = 0 if name in self._absolute else self._mod.memory_base
        return export_symbol(name, "data", self._name, self._id, address=base + value)


def _constant(init) -> int | None:
    """The value of an immutable global's initialiser when it is a lone `i32.const` or
    `i64.const` (what an immutable global holds for ever; a data export's offset, as compilers
    emit it), else None.  Reading it from the binary spares a wasmtime call per data export."""
    ops = init.ops
    if len(ops) == 1 and ops[0][0] in ("i32.const", "i64.const"):
        return ops[0][1]
    return None
