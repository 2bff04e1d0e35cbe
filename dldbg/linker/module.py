"""What the engine knows about one loaded (or loading) module."""

from __future__ import annotations

import operator
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import wasmtime

from ..frozen import cached_property
from ..wasm.reader import WasmModule
from ..wasm.types import FuncType, Import
from .scope import Scope, Symbol

#: Exports that are loader plumbing, not symbols (emscripten `isInternalSym`, libdylink.js).
INTERNAL_SYMBOLS = frozenset(
    {
        "memory",
        "__memory_base",
        "__table_base",
        "__stack_pointer",
        "__indirect_function_table",
        "__cpp_exception",
        "__c_longjmp",
        "__wasm_apply_data_relocs",
        "__dso_handle",
        "__tls_size",
        "__tls_align",
        "__tls_base",
        "__set_stack_limits",
        "_emscripten_tls_init",
        "__wasm_init_tls",
        "__wasm_call_ctors",
        "__post_instantiate",
        "__start_em_asm",
        "__stop_em_asm",
        "__start_em_js",
        "__stop_em_js",
    }
)


def is_internal(name: str) -> bool:
    return name in INTERNAL_SYMBOLS or name.startswith("__em_js__")


def public_names(names, value=None) -> dict:
    """`names` without the loader plumbing (`is_internal`), in their order, as the keys of a
    dict whose values are `value`: made with dict operations in C rather than a test per name
    in Python (a module may export tens of thousands of names)."""
    out = dict.fromkeys(names, value)
    for name in [name for name in INTERNAL_SYMBOLS if name in out]:  # 21 tests, not one per name
        del out[name]
    if "\0__em_js__" in "\0" + "\0".join(out):  # rare: a test per name costs more than the join
        for name in list(filter(_EM_JS, out)):
            del out[name]
    return out


_EM_JS = operator.methodcaller("startswith", "__em_js__")


@dataclass
class LazyStub:
    """A function import bound on its first call (PLT style, emscripten's lazy `stubs`)."""

    importer: "LoadedModule"
    symbol: str
    func_type: FuncType
    weak: bool
    func: wasmtime.Func | None = None
    target: wasmtime.Func | None = None
    provider: str | None = None
    #: the import's binding (`LoadedModule.bindings`), updated when the stub binds
    binding: "ImportBinding | None" = field(default=None, repr=False, compare=False)


@dataclass
class ImportBinding:
    """How one import of a module was satisfied (for `info imports`)."""

    imp: Import
    how: str
    provider: str
    symbol: str
    stub: LazyStub | None = None
    #: the definition the import was bound to at instantiation, for function identity
    target: Symbol | None = None


@dataclass(eq=False)
class LoadedModule:
    """A module in the engine.  `state`: loading, instantiated, ready, released.

    :ivar memory_base: address of the module's static data (its `__memory_base`), bytes.
    :ivar memory_size: bytes reserved there (MEM_INFO memorysize).
    :ivar table_base: first table slot of its element segment (its `__table_base`).
    :ivar table_size: slots reserved there (MEM_INFO tablesize).
    """

    id: int
    path: str
    wasm: WasmModule
    sha256: str
    flags: int
    compiled: wasmtime.Module
    is_global: bool
    group: Scope | None
    nodelete: bool = False
    state: str = "loading"
    handle: int | None = None
    refcount: int = 0
    deps: list["LoadedModule"] = field(default_factory=list)
    instance: wasmtime.Instance | None = None
    #: the instance's exports by name (wasmtime objects): after instantiation, a mapping that
    #: fetches each from wasmtime when first asked for (`wasmtime_compat.InstanceExports`)
    externs: Mapping[str, object] = field(default_factory=dict)
    memory_base: int = 0
    memory_size: int = 0
    table_base: int = 0
    table_size: int = 0
    tls_base: int | None = None
    exports: dict[str, Symbol] = field(default_factory=dict)
    bindings: list[ImportBinding] = field(default_factory=list)
    stubs: dict[str, LazyStub] = field(default_factory=dict)
    got_symbols: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    #: function import -> its binding (by the Import object's id), filled by `bind`
    _func_bindings: dict[int, ImportBinding] = field(default_factory=dict, repr=False)

    @cached_property
    def name(self) -> str:
        """The file name (the path's last component)."""
        return os.path.basename(self.path)

    def bind(self, binding: ImportBinding) -> None:
        """Record how an import was satisfied (`bindings`, in import order)."""
        self.bindings.append(binding)
        if binding.imp.kind == "func":
            self._func_bindings[id(binding.imp)] = binding

    def base_global_values(self) -> dict[int, int]:
        """Global index -> value of the module's `env.__memory_base` / `env.__table_base`
        imports (and their `...32` forms), for evaluating constant expressions."""
        values = {}
        for index, imp in enumerate(self.wasm.imports_of("global")):
            if imp.module == "env" and imp.field.startswith("__memory_base"):
                values[index] = self.memory_base
            elif imp.module == "env" and imp.field.startswith("__table_base"):
                values[index] = self.table_base
        return values

    def func_key(self, func_index: int) -> tuple:
        """Identity of function `func_index` (imports first) of this module."""
        if func_index < self.wasm.num_imported_funcs:
            imp = self.wasm.imports_of("func")[func_index]
            binding = self._func_bindings.get(id(imp))
            if binding is not None and binding.target is not None and binding.target.key is not None:
                return binding.target.key
            return ("stub", self.id, imp.field)
        return ("module", self.id, func_index)
