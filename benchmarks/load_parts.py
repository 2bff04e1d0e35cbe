#!/usr/bin/env python3
"""Where one load's time goes: `Engine.dlopen` of a small module, part by part, beside bare
wasmtime-py's parts (the same steps as `per_load.py`'s "bare wasmtime-py").

    python benchmarks/load_parts.py [--repeats R] [MODULE]

Each repeat is a fresh process (as `per_load.py` measures: the first load of a process, its
machine code and its parse in dldbg's cache) with the events recorded by a listener.  The
loader's functions are wrapped with a timer and each part is the time spent in its functions
less the time in the timed functions they call (so the parts add up to the load; the wrappers
add about half a microsecond per call, some 30 µs in all, shown as the difference between
the sum of the parts and the load timed alone).  The garbage collector is frozen before the
load (`gc.freeze()`, as `per_load.py --freeze` does) so that no collection lands in a part:
whether a load pays a young collection of what the process made before it depends on that
process's history (`per_load.py`'s "GC runs" column).  Medians over the repeats,
microseconds of wall time (one thread, nothing waits).  The
default module is samples/out/clang16/reloc/libreloc_dep.so (clang 16, 471 bytes: three
imports, five exports, empty relocation and constructor functions).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchutil import CACHE, ROOT  # noqa: E402

SMALL = ROOT / "samples" / "out" / "clang16" / "reloc" / "libreloc_dep.so"
BOOKKEEPING = "stage flow, LoadRequest, LoadedModule, undo log, handle"
IMPORTS = "imports: memory, two base globals, bindings"
INSTANTIATE = "instantiation (C API) and the instance's exports"
PARSE = "parse read back (file, blake2b, marshal, decode)"
EVENTS = "events: 12 built (and the flags' text)"
#: part -> [(module, class or None, function)]: the loader's functions each part's time is in
PARTS = {
    "path: realpath (C), abspath": [("dldbg.linker.engine", None, "real_path"),
                                    ("dldbg.linker.loader", None, "absolute_path")],
    "file read (open, fstat, read, close)": [("dldbg.wasm.files", None, "read_wasm_bytes")],
    "sha256 of the file": [],  # `hashlib.sha256` in dldbg.wasm.files: timed by `child_dldbg`
    PARSE: [("dldbg.wasm.parsecache", "ParseCache", "module"), ("dldbg.wasm.parsecache", "ParseCache", "_load"),
            ("dldbg.wasm.parsecache", None, "_decode")],
    "machine code: cache lookup, deserialised": [("dldbg.linker.cache", "CompileCache", name)
                                                 for name in ("get", "cached", "expected_seconds", "eh_use", "has")],
    "memory: wasmtime Memory, heap": [("dldbg.hosts.standalone", "StandaloneHost", "create_memory"),
                                      ("dldbg.linker.engine", "Engine", "ensure_memory")],
    "memory: the module's region": [("dldbg.linker.loader", "LoadRequest", "_allocate_memory")],
    IMPORTS: [("dldbg.linker.loader", "LoadRequest", name) for name in
              ("_resolve_imports", "_resolve_import", "_reserve_own_function_slots", "_emit_resolved", "_got_import")]
             + [("dldbg.linker.engine", "Engine", "builtin_import"), ("dldbg.linker.engine", "Engine", "constant_global")],
    INSTANTIATE: [("dldbg.linker.loader", "LoadRequest", "_instantiate"), ("dldbg.linker.loader", None, "instantiate"),
                  ("dldbg.linker.loader", None, "instance_exports"), ("dldbg.linker.loader", "LoadRequest", "_map_table")],
    "export symbols": [("dldbg.linker.engine", "Engine", "relocate_exports"),
                       ("dldbg.linker.exports", "ExportSymbols", "__init__")],
    "relocations, constructors (empty: not called)": [("dldbg.linker.loader", "LoadRequest", "_relocate"),
                                                     ("dldbg.linker.loader", "LoadRequest", "_construct"),
                                                     ("dldbg.linker.loader", None, "_does_nothing")],
    "GOT, undefined report, TLS (nothing to do)": [("dldbg.linker.loader", "LoadRequest", name) for name in
                                                   ("_update_got_from_exports", "_report_undefined", "_bind_now_check",
                                                    "_init_tls", "_check_tls_pending")],
    "publish": [("dldbg.linker.loader", "LoadRequest", "_publish"), ("dldbg.linker.scope", "Scope", "publish_owned"),
                ("dldbg.linker.exports", "ExportSymbols", "published")],
    EVENTS: [("dldbg.linker.loader", None, name) for name in
             ("LoadStarted", "ModuleRead", "ModuleCompiled", "MemoryAllocated", "ImportResolved", "GotCreated",
              "Instantiated", "RelocationsApplied", "ConstructorCalled", "SymbolsPublished", "describe_flags")]
            + [("dldbg.linker.engine", None, "Loaded")],
    "events: emitted to the listener": [("dldbg.linker.engine", "Engine", "emit")],
    BOOKKEEPING: [("dldbg.linker.engine", "Engine", name) for name in
                  ("dlopen", "_run_request", "complete", "new_module", "stack_value", "enter")]
                 + [("dldbg.linker.loader", "LoadRequest", name) for name in
                    ("__init__", "load", "_read", "_load_needed", "_reserve_table", "_prepare")]
                 + [("dldbg.linker.module", "LoadedModule", "__init__")]
                 + [("dldbg.wasm.files", "ModuleFiles", name) for name in ("take", "get", "_read")],
}


def _wrap(part: str, target, name: str, stack: list, totals: dict) -> None:
    """Time `target.name` (a function of a module, or of a class) into `totals[part]`."""
    func = target.__dict__.get(name) if isinstance(target, type) else getattr(target, name, None)
    if func is None:  # not in this version of dldbg
        return
    clock = time.perf_counter_ns

    @functools.wraps(func)
    def timed(*args, **kwargs):
        stack.append(0)
        began = clock()
        try:
            return func(*args, **kwargs)
        finally:
            spent = clock() - began
            inner = stack.pop()
            if stack:
                stack[-1] += spent
            totals[part] = totals.get(part, 0) + spent - inner

    setattr(target, name, timed)


def child_dldbg(path: str, cache: str) -> dict:
    import gc
    import hashlib
    import importlib

    from dldbg.hosts.standalone import StandaloneHost
    from dldbg.linker.engine import Engine
    from dldbg.linker.flags import RTLD_GLOBAL, RTLD_LAZY

    stack: list = []
    totals: dict = {}
    for part, functions in PARTS.items():
        for module, cls, name in functions:
            owner = importlib.import_module(module)
            _wrap(part, getattr(owner, cls) if cls else owner, name, stack, totals)
    files = importlib.import_module("dldbg.wasm.files")

    class _Digest:
        def __init__(self, data):
            self._hex = hashlib.sha256(data).hexdigest()

        def hexdigest(self):
            return self._hex

    class _Sha:  # `hashlib.sha256(data).hexdigest()` in dldbg.wasm.files, timed
        sha256 = _Digest

    _wrap("sha256 of the file", _Sha, "sha256", stack, totals)
    files.hashlib = _Sha
    engine = Engine(StandaloneHost(), cache_dir=cache)
    events: list = []
    engine.listeners.append(events.append)
    gc.freeze()
    began = time.perf_counter_ns()
    engine.dlopen(path, RTLD_LAZY | RTLD_GLOBAL)
    totals["load, timed alone"] = time.perf_counter_ns() - began
    return totals


def child_bare(path: str, cache: str) -> dict:
    """`per_load.py`'s bare wasmtime-py, step by step."""
    import gc
    import hashlib

    import wasmtime

    from dldbg.hosts.standalone import StandaloneHost
    from dldbg.linker.engine import Engine, make_config
    from dldbg.linker.wasmtypes import functype
    from dldbg.wasm.reader import read_module_file

    engine = Engine(StandaloneHost(), cache_dir=cache)
    compiled = engine.cache.path_for(hashlib.sha256(Path(path).read_bytes()).hexdigest())
    wasm = read_module_file(path)
    config, _settings = make_config()
    wengine = wasmtime.Engine(config)
    gc.freeze()
    clock, parts = time.perf_counter_ns, {}
    began = step = clock()
    store = wasmtime.Store(wengine)
    store.set_epoch_deadline(1)
    parts["store"], step = clock() - step, clock()
    module = wasmtime.Module.deserialize_file(wengine, compiled)
    parts["machine code: deserialised"], step = clock() - step, clock()
    imports = []
    for imp in wasm.imports:
        if imp.kind == "memory":
            imports.append(wasmtime.Memory(store, wasmtime.MemoryType(wasmtime.Limits(max(imp.desc.limits.min, 256), None))))
            part = "memory"
        elif imp.kind == "global":
            gtype = wasmtime.GlobalType(wasmtime.ValType.i32(), imp.desc.mutable)
            imports.append(wasmtime.Global(store, gtype, wasmtime.Val.i32(1024)))
            part = "imports: globals"
        else:
            imports.append(wasmtime.Func(store, functype(wasm.types[imp.desc]), lambda *args: 0))
            part = "imports: functions"
        parts[part], step = parts.get(part, 0) + clock() - step, clock()
    wasmtime.Instance(store, module, imports)
    parts["instantiation"] = clock() - step
    parts["load, timed alone"] = clock() - began
    return parts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("module", nargs="?", default=str(SMALL))
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        kind, path, cache = args.child
        print(json.dumps({"dldbg": child_dldbg, "bare": child_bare}[kind](path, cache)))
        return 0
    path, cache = str(Path(args.module).resolve()), str(CACHE / "dldbg-cache-per-load")
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    run = [sys.executable, __file__, "--child"]
    subprocess.run(run + ["dldbg", path, cache], check=True, capture_output=True, env=env)  # fills the caches
    results: dict = {"dldbg": [], "bare": []}
    for _ in range(args.repeats):
        for kind in results:
            out = subprocess.run(run + [kind, path, cache], check=True, capture_output=True, text=True, env=env).stdout
            results[kind].append(json.loads(out.strip().splitlines()[-1]))
    print(f"{Path(path).name}: one load in a fresh process, medians of {args.repeats}, µs")
    for kind, title in (("dldbg", "dldbg, events recorded"), ("bare", "bare wasmtime-py")):
        runs = results[kind]
        names = sorted({name for r in runs for name in r if name != "load, timed alone"},
                       key=lambda name: -statistics.median(r.get(name, 0) for r in runs))
        print(f"\n{title}")
        medians = {name: statistics.median(r.get(name, 0) for r in runs) / 1000 for name in names}
        for name in names:
            print(f"  {medians[name]:8.1f}  {name}")
        print(f"  {sum(medians.values()):8.1f}  sum of the parts")
        print(f"  {statistics.median(r['load, timed alone'] for r in runs) / 1000:8.1f}  the load timed alone")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
