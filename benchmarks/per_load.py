#!/usr/bin/env python3
"""Per-load cost: one dlopen by dldbg against bare wasmtime-py doing the least a loader must.

    python benchmarks/per_load.py [--repeats R] [MODULE ...]

Bare wasmtime-py: `Module.deserialize_file` of the machine code dldbg's cache holds for the
module, its imports made (memory, table, an i32 global per global import, a host function per
function import, as dldbg's standalone host gives them), `Instance`: the base of every ratio.
"bare + relocs, ctors" also calls the module's `__wasm_apply_data_relocs` and
`__wasm_call_ctors` (each looked up by name with the C API's `wasmtime_instance_export_get`:
`Instance.exports` would fetch every export), as every loader must (the first call into wasm
in a process costs a tenth of a millisecond), for scale.  dldbg: `Engine.dlopen`
in the standalone host, which also reads and parses the file, allocates memory and table
slots, resolves every import, creates the GOT, relocates, runs the constructors and publishes
the symbols: with no listener; with its events recorded (a listener that keeps every event
object, as a front end's event log does, without formatting it); with the trace listener
(`--trace=all` into /dev/null: every event formatted as text); and through a debugger Session
(`dlopen` as a command: command parsing, the event log, breakpoint checks, the summary line).
`--freeze` freezes what each child made before its load (`gc.freeze()`, as `dldbg run` does
after its start-up), in every variant alike: in a fresh process the first load that allocates
enough tracked objects runs a young collection of the objects the imports left (about 0.2 ms
here), and whether a variant crosses that line depends on how many the imports made (the "GC
runs" column shows it).
Each figure is measured in a child process (so the peak memory is the variant's own), the
variants interleaved; the time is the load's alone, not the process's start-up: wall time
and the process's CPU time (less disturbed by other work on a shared machine).  The module's
machine code and parse are in dldbg's cache (a first run fills it), as on a second run.

Modules (each must load alone in the standalone host): by default the generated
libfuncs10000.so (10,000 function exports) and libdata10000.so (10,000 data exports over
40 KB of data), and a small real sample (libreloc_dep.so, clang 16).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchutil import CACHE, ROOT, measure  # noqa: E402

VARIANTS = ("bare wasmtime-py", "bare + relocs, ctors", "dldbg, no listener", "dldbg, events recorded",
            "dldbg, trace listener", "dldbg, Session")


def child(variant: str, path: str, cache: str) -> None:
    """Time one load of `path`; print {"seconds": wall, "cpu": CPU seconds, "collections": the
    garbage collections that ran during it (a young collection right after the imports walks
    their objects too: about 0.2 ms), "oldest": the oldest generation one of them collected
    (-1: none)}."""
    import gc

    collections: list = []
    freeze = os.environ.get("DLDBG_BENCH_FREEZE") == "1"  # --freeze
    gc.callbacks.append(lambda phase, info: collections.append(info["generation"]) if phase == "start" and timing
                        else None)
    timing = False
    sys.path.insert(0, str(ROOT))
    from dldbg.hosts.standalone import StandaloneHost
    from dldbg.linker.engine import Engine
    from dldbg.linker.flags import RTLD_GLOBAL, RTLD_LAZY

    if variant.startswith("bare"):
        import hashlib

        import wasmtime

        from dldbg.linker.engine import make_config
        from dldbg.linker.wasmtypes import functype
        from dldbg.wasm.reader import read_module_file

        engine = Engine(StandaloneHost(), cache_dir=cache)  # only for the cache's file name
        compiled = engine.cache.path_for(hashlib.sha256(Path(path).read_bytes()).hexdigest())
        wasm = read_module_file(path)  # the import list a loader knows (not timed)
        config, _settings = make_config()
        wengine = wasmtime.Engine(config)
        if freeze:
            gc.freeze()
        timing = True
        began, cpu = time.perf_counter(), time.process_time()
        store = wasmtime.Store(wengine)
        store.set_epoch_deadline(1)  # dldbg's configuration has epoch interruption on
        module = wasmtime.Module.deserialize_file(wengine, compiled)
        imports = []
        i32 = wasmtime.ValType.i32()
        for imp in wasm.imports:
            if imp.kind == "memory":
                imports.append(wasmtime.Memory(store, wasmtime.MemoryType(wasmtime.Limits(max(imp.desc.limits.min, 256), None))))
            elif imp.kind == "table":
                imports.append(wasmtime.Table(store, wasmtime.TableType(wasmtime.ValType.funcref(),
                                                                        wasmtime.Limits(4096, None)), None))
            elif imp.kind == "global":
                gtype = wasmtime.GlobalType(i32, imp.desc.mutable)
                imports.append(wasmtime.Global(store, gtype, wasmtime.Val.i32(1024)))
            else:
                imports.append(wasmtime.Func(store, functype(wasm.types[imp.desc]), lambda *args: 0))
        instance = wasmtime.Instance(store, module, imports)
        if variant == "bare + relocs, ctors":
            from dldbg.linker.wasmtime_compat import _fetch  # wasmtime_instance_export_get: one export

            for name in ("__wasm_apply_data_relocs", "__wasm_call_ctors"):
                func = _fetch(store, instance, name)
                if func is not None:
                    func(store)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
    elif variant == "dldbg, Session":
        import io

        from dldbg.commands import builtin_registry
        from dldbg.plugins import make_plugin_manager
        from dldbg.session import Session, TextPrinter

        session = Session(None, registry=builtin_registry(), cache_dir=cache,
                          printer=TextPrinter(io.StringIO(), io.StringIO()), plugins=make_plugin_manager(entry_points=False))
        if freeze:
            gc.freeze()
        timing = True
        began, cpu = time.perf_counter(), time.process_time()
        session.execute(f"dlopen {path}")
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        assert session.engine.modules, "the Session's dlopen failed"
    else:
        engine = Engine(StandaloneHost(), cache_dir=cache)
        if variant == "dldbg, trace listener":
            from dldbg.events import CATEGORIES
            from dldbg.trace import Tracer

            engine.listeners.append(Tracer(open(os.devnull, "w"), frozenset(CATEGORIES)))
        events: list = []
        if variant == "dldbg, events recorded":
            engine.listeners.append(events.append)
        if freeze:
            gc.freeze()
        timing = True
        began, cpu = time.perf_counter(), time.process_time()
        engine.dlopen(path, RTLD_LAZY | RTLD_GLOBAL)
        seconds, cpu = time.perf_counter() - began, time.process_time() - cpu
        assert events or variant != "dldbg, events recorded"
    timing = False
    print(json.dumps({"seconds": seconds, "cpu": cpu, "collections": len(collections),
                      "oldest": max(collections, default=-1)}))


def modules(given: list[str]) -> list[Path]:
    if given:
        return [Path(p).resolve() for p in given]
    import symbolgen

    generated = symbolgen.write(CACHE / "symbols", 10000)
    return [generated["funcs"], generated["data"], ROOT / "samples" / "out" / "clang16" / "reloc" / "libreloc_dep.so"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--child", nargs=3, metavar=("VARIANT", "PATH", "CACHE"), help=argparse.SUPPRESS)
    parser.add_argument("--freeze", action="store_true",
                        help="freeze the objects each child made before its timed load (gc.freeze(), as `dldbg run` does "
                             "after its start-up; all variants alike), so that no load pays a young collection of the "
                             "objects the imports made")
    parser.add_argument("modules", nargs="*")
    args = parser.parse_args()
    if args.freeze:
        os.environ["DLDBG_BENCH_FREEZE"] = "1"  # the children inherit it
    if args.child:
        child(*args.child)
        return 0
    cache = str(CACHE / "dldbg-cache-per-load")
    for path in modules(args.modules):
        run = [sys.executable, __file__, "--child"]
        measure(run + ["dldbg, no listener", str(path), cache])  # fills the cache
        results: dict[str, list] = {v: [] for v in VARIANTS}
        for _ in range(args.repeats):
            for variant in VARIANTS:
                sample = measure(run + [variant, str(path), cache], check=False)
                line = next((x for x in reversed(sample.stdout.splitlines()) if x.startswith('{"seconds"')), None)
                if line is None:  # a failed run is reported, not counted
                    print(f"{variant} on {path.name} failed: {sample.stderr.strip()[-500:]}", file=sys.stderr)
                    continue
                figures = json.loads(line)
                results[variant].append((figures["seconds"], figures["cpu"], sample.peak_kib, figures["collections"],
                                         figures["oldest"]))
        base = statistics.median(v[0] for v in results[VARIANTS[0]])
        base_cpu = statistics.median(v[1] for v in results[VARIANTS[0]])
        size = path.stat().st_size
        shown = f"{size // 1024} KiB" if size >= 10 * 1024 else f"{size} bytes"
        print(f"\n{path.name} ({shown}), {args.repeats} interleaved runs, median load time")
        print(f"{'variant':26} {'wall ms':>9} {'ratio':>7} {'CPU ms':>9} {'ratio':>7} {'peak MiB':>9} {'GC runs':>11}")
        for variant, values in results.items():
            seconds = statistics.median(v[0] for v in values)
            cpu = statistics.median(v[1] for v in values)
            runs, oldest = max(v[3] for v in values), max(v[4] for v in values)
            print(f"{variant:26} {seconds * 1000:9.2f} {seconds / base:6.2f}x {cpu * 1000:9.2f} {cpu / base_cpu:6.2f}x "
                  f"{max(v[2] for v in values) / 1024:9.1f} {runs:6}{f' (g{oldest})' if oldest >= 0 else '':5}")
    print("\ntargets: dldbg with events recorded <= 1.3x bare wasmtime-py; through a Session <= 1.5x")
    print("(GC runs: the most garbage collections that ran during one load of the variant, and the oldest "
          "generation one of them collected: one of generation 1 also walks the objects the child made before "
          "its load that outlived a young collection"
          + ("; what each child made before its load frozen: --freeze)" if args.freeze else ")"))
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
