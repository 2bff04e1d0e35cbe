"""Which host runs a program: each program host says whether it recognizes a main module.

A program host (emscripten, WASI, CoWasm) implements, besides the `Host` protocol of
`dldbg.linker.engine`:

    @classmethod
    recognizes(cls, wasm: WasmModule, path: str) -> bool
        whether this host runs that main module (by its imports, or files beside it)
    __init__(self, options: ProgramOptions)
    run(self, engine, path: str, argv: list[str]) -> int
        load the program with `engine.load_program(...)`, run it, return its exit status;
        raise DldbgError subclasses for failures (the CLI prints them as one line)

`dldbg run MAIN.wasm [-- ARGS]` picks the first host in PROGRAM_HOSTS that recognizes the file.
Hosts are listed by import path so that `dldbg run --invoke` and `dldbg inspect` do not import
them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from ..errors import DldbgError
from ..wasm.reader import WasmModule

#: "module:Class" of each program host, most specific first.
PROGRAM_HOSTS: list[str] = [
    "dldbg.hosts.emscripten:EmscriptenHost",
    "dldbg.hosts.cowasm:CowasmHost",
    "dldbg.hosts.wasi:WasiHost",
]


@dataclass
class ProgramOptions:
    """What the command line says about the program's environment.

    :ivar dirs: (host folder, guest path) pairs to make visible (`--dir HOST[::GUEST]`).
    :ivar env: environment variables for the program (`--env K=V`).
    :ivar preload: side modules to load after the main module's NEEDED libraries.
    :ivar library_path: folders searched for NEEDED and dlopen'd libraries (`-L`).
    """

    dirs: list[tuple[str, str]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    preload: list[str] = field(default_factory=list)
    library_path: list[str] = field(default_factory=list)


def parse_dir(spec: str) -> tuple[str, str]:
    """`HOST[::GUEST]` -> (host, guest); GUEST defaults to HOST."""
    host, _, guest = spec.partition("::")
    return host, guest or host


def find_program_host(wasm: WasmModule, path: str):
    """The class of the first program host that recognizes `wasm`, or None."""
    for spec in PROGRAM_HOSTS:
        module_name, _, class_name = spec.partition(":")
        cls = getattr(importlib.import_module(module_name), class_name)
        if cls.recognizes(wasm, path):
            return cls
    return None


class NotAProgram(DldbgError):
    """`dldbg run FILE` without --invoke on a file that no program host runs."""
