"""What the node backend knows of a module's symbols and of the glue's globals.

A module's exports come from dldbg's reader (the bytes the hooks sent) relocated by the
`memoryBase` the glue chose, as emscripten's `relocateExports` does (libdylink.js): an
immutable i32 global is a data address (`memoryBase + value`), a TLS export an offset, a
function a NodeFunc the glue calls by its module and export name.  Live values (a function's
table slot, the stack pointer, a GOT entry) are asked of the stopped program through the
hooks (docs/node.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..scope import Symbol


@dataclass(frozen=True)
class NodeFunc:
    """What a table slot or an export holds, as the glue knows it: `module` and export `name`
    (None: a function no loaded module exports; `index` is then V8's name for it, its function
    index), and `slot`, the table slot it was read from (None: named by its export)."""

    module: str | None
    name: str | None
    index: str | None = None
    slot: int | None = None


@dataclass(frozen=True)
class NodeGlobalType:
    """The `content` and `mutable` of a wasm global (wasmtime.GlobalType's reading side)."""

    content: str = "i32"
    mutable: bool = True


class NodeGlobal:
    """A glue global read and written through the hooks (`__stack_pointer`, a GOT entry), with
    the reading side of wasmtime.Global (`value(store)`, `type(store)`, `set_value(store, v)`)
    that the session's `print`, `global` and `set var` use.  Raises DldbgError while node runs."""

    def __init__(self, get, put, content: str = "i32"):
        self._get, self._put, self._type = get, put, NodeGlobalType(content)

    def value(self, store=None) -> int:
        return int(self._get())

    def type(self, store=None) -> NodeGlobalType:
        return self._type

    def set_value(self, store, value) -> None:
        number = getattr(value, "value", value)  # a wasmtime.Val from the commands, or an int
        self._put(int(number))


def module_exports(mod) -> dict[str, Symbol]:
    """The module's exports as scope Symbols (see the module docstring); `mod` is a NodeModule
    whose `wasm`, `memory_base` and `name` are known."""
    wasm, out = mod.wasm, {}
    if wasm is None:
        return out
    tls = wasm.dylink.tls_exports if wasm.dylink else frozenset()
    for exp in wasm.exports:
        if exp.kind == "func":
            out[exp.name] = Symbol(exp.name, "func", mod.name, mod.id, extern=NodeFunc(mod.name, exp.name),
                                   key=("named", mod.name, exp.name), func_type=wasm.func_type(exp.index))
        elif exp.kind == "global" and exp.index >= wasm.num_imported_globals:
            glob = wasm.globals[exp.index - wasm.num_imported_globals]
            value = glob.init.evaluate()
            if glob.type.mutable or glob.type.val_type != "i32" or not isinstance(value, int):
                out[exp.name] = Symbol(exp.name, "global", mod.name, mod.id)
            elif exp.name in tls:
                out[exp.name] = Symbol(exp.name, "tls", mod.name, mod.id, address=value)
            else:
                out[exp.name] = Symbol(exp.name, "data", mod.name, mod.id, address=mod.memory_base + value)
        else:
            out[exp.name] = Symbol(exp.name, "global" if exp.kind == "global" else exp.kind, mod.name, mod.id)
    return out
