#!/usr/bin/env python3
"""What large declared sizes cost, against bare wasmtime in the same run (docs/hardening.md).

    python benchmarks/hardening.py [--runs R]

1. A side module (samples' clang16 libreloc.so) whose MEM_INFO asks for 1 GiB of static data:
   dldbg's dlopen (memory, relocations listed in reloc.apply, constructors) against bare
   wasmtime instantiating the same module on a 1 GiB memory and calling its relocation and
   constructor functions.
2. A failed load (libmissing_data.so, undefined data) whose MEM_INFO asks for 2^20 table slots:
   dldbg's dlopen and its rollback against bare wasmtime growing a table by 2^20 slots.

Prints the median of R runs of each and the ratios.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import wasmtime  # noqa: E402

from dldbg.errors import DlError  # noqa: E402
from dldbg.hosts.standalone import StandaloneHost  # noqa: E402
from dldbg.linker.engine import Engine  # noqa: E402
from dldbg.linker.flags import RTLD_GLOBAL, RTLD_NOW  # noqa: E402
from fuzz.mutants import set_mem_info  # noqa: E402

SAMPLES = ROOT / "samples" / "out" / "clang16"
GIB_PAGES = 1 << 14


def mutant(folder: Path, scenario: str, name: str, **mem_info) -> Path:
    shutil.copytree(SAMPLES / scenario, folder / scenario, dirs_exist_ok=True)
    path = folder / scenario / name
    path.write_bytes(set_mem_info(path.read_bytes(), **mem_info))
    return path


def dldbg_load(path: Path) -> float:
    engine = Engine(StandaloneHost(), cache_dir=None)
    began = time.perf_counter()
    try:
        engine.dlopen(str(path), RTLD_NOW | RTLD_GLOBAL)
    except DlError:
        pass
    return time.perf_counter() - began


def bare_reloc(path: Path) -> float:
    """The module and its NEEDED library on a 1 GiB memory, relocations and constructors called."""
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    began = time.perf_counter()
    memory = wasmtime.Memory(store, wasmtime.MemoryType(wasmtime.Limits(GIB_PAGES + 32, None)))
    table = wasmtime.Table(store, wasmtime.TableType(wasmtime.ValType.funcref(), wasmtime.Limits(64, None)), None)
    sp = wasmtime.Global(store, wasmtime.GlobalType(wasmtime.ValType.i32(), True), wasmtime.Val.i32(1 << 20))
    linker = wasmtime.Linker(engine)
    linker.allow_shadowing = True
    linker.define(store, "env", "memory", memory)
    linker.define(store, "env", "__indirect_function_table", table)
    linker.define(store, "env", "__stack_pointer", sp)
    base = 1 << 21
    for index, lib in enumerate((path.parent / "libreloc_dep.so", path)):
        module = wasmtime.Module(engine, lib.read_bytes())
        for imp in module.imports:
            if imp.module in ("GOT.mem", "GOT.func"):
                linker.define(store, imp.module, imp.name, wasmtime.Global(
                    store, wasmtime.GlobalType(wasmtime.ValType.i32(), True), wasmtime.Val.i32(0)))
            elif imp.module == "env" and imp.name in ("__memory_base", "__table_base"):
                value = base if imp.name == "__memory_base" else 1 + 16 * index
                linker.define(store, "env", imp.name, wasmtime.Global(
                    store, wasmtime.GlobalType(wasmtime.ValType.i32(), False), wasmtime.Val.i32(value)))
        linker.allow_unknown_exports = True
        linker.define_unknown_imports_as_traps(module)
        instance = linker.instantiate(store, module)
        exports = instance.exports(store)
        for name in ("__wasm_apply_data_relocs", "__wasm_call_ctors"):
            if name in exports:
                try:
                    exports[name](store)
                except wasmtime.Trap:
                    pass
        base += 1 << 30 if lib == path else 1 << 16
    return time.perf_counter() - began


def bare_table() -> float:
    store = wasmtime.Store(wasmtime.Engine())
    began = time.perf_counter()
    table = wasmtime.Table(store, wasmtime.TableType(wasmtime.ValType.funcref(), wasmtime.Limits(1, None)), None)
    table.grow(store, 1 << 20, None)
    return time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        big = mutant(folder, "reloc", "libreloc.so", memorysize=1 << 30)
        table = mutant(folder, "missing_symbol", "libmissing_data.so", tablesize=1 << 20)
        rows = [
            ("1 GiB MEM_INFO with relocations", [dldbg_load(big) for _ in range(args.runs)],
             [bare_reloc(big) for _ in range(args.runs)]),
            ("2^20-slot table, failed load rolled back", [dldbg_load(table) for _ in range(args.runs)],
             [bare_table() for _ in range(args.runs)]),
        ]
    for what, ours, bare in rows:
        a, b = statistics.median(ours), statistics.median(bare)
        print(f"{what}: dldbg {a * 1000:.1f} ms, bare wasmtime {b * 1000:.1f} ms, ratio {a / b:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
