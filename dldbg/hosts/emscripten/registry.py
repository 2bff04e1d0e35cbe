"""The JS-library functions the emscripten host implements, by import name.

Implementation modules register a function with `@js("name", "sig")`; `sig` is emscripten's
signature string (return type first: v void, i i32, j i64, f f32, d f64).  The signature is
used when the function is published for `GOT.func` (its table slot needs a type); an import
always gets a function of the importer's own type, so legalized (i64 split in two i32) and
WASM_BIGINT builds are served by the same implementation, which receives the raw arguments.

This module imports nothing heavy: `dldbg inspect` lists a main module's unimplemented imports
with `implemented(name)`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

#: Import families whose signature varies per import: the name prefix.
FAMILIES = ("invoke_", "__cxa_find_matching_catch_")

#: The modules that register implementations (imported by `load_all`).
IMPLEMENTATION_MODULES = ("library", "syscalls", "time", "exceptions", "dynlink", "formatstring")

WASI_MODULES = ("wasi_snapshot_preview1", "wasi_unstable")


@dataclass(frozen=True)
class Impl:
    name: str
    sig: str
    func: Callable


IMPORTS: dict[str, Impl] = {}


def js(name: str, sig: str, *aliases: str):
    """Register `func(rt, *args)` as the JS-library function `name` (and `aliases`)."""

    def register(func: Callable) -> Callable:
        for each in (name, *aliases):
            IMPORTS[each] = Impl(each, sig, func)
        return func

    return register


_loaded = False


def load_all() -> dict[str, Impl]:
    global _loaded
    if not _loaded:
        for module in IMPLEMENTATION_MODULES:
            importlib.import_module(f"{__package__}.{module}")
        _loaded = True
    return IMPORTS


def implemented(name: str) -> bool:
    """Whether an `env`/WASI function import of this name is implemented."""
    return name in load_all() or name.startswith(FAMILIES)


_SIG_TYPES = {"i": "i32", "p": "i32", "j": "i64", "f": "f32", "d": "f64"}
_SIGS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def sig_to_types(sig: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """emscripten signature -> (params, results) as wasm value type names.  Raises KeyError
    for a letter other than v, i, p, j, f, d (or IndexError for '')."""
    known = _SIGS.get(sig)
    if known is None:  # a program's glue has a few dozen signatures for a thousand functions
        result = () if sig[0] == "v" else (_SIG_TYPES[sig[0]],)
        known = _SIGS[sig] = (tuple(_SIG_TYPES[c] for c in sig[1:]), result)
    return known
