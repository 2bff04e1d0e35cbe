#!/usr/bin/env python3
"""Growth with the number of symbols: exports, GOT.func imports and GOT.mem imports, from 10k
to 100k symbols in one side module, under dldbg and under node with emscripten's loader.

    python benchmarks/growth.py [--repeats R] [--sizes 10000,90000,100000]

The side modules are generated (benchmarks/symbolgen.py): libfuncsN (N function exports),
libgotfuncN (N GOT.func imports of them), libdataN (N data exports), libgotmemN (N GOT.mem
imports of them, and N data exports of its own).  One emscripten MAIN_MODULE program
(benchmarks/workload/growth_main.c, built into .cache/bench/growth/) dlopen()s the four in
that order and times each dlopen with emscripten_get_now(), so node and dldbg time the same
thing; the `sum` of every GOT entry, which each GOT module computes, must agree.  The first
run compiles the 100k modules with Cranelift into dldbg's cache (minutes); the timed runs
are warm.  Times are medians of R interleaved runs; peak memory is the whole process's.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import symbolgen  # noqa: E402
from benchutil import CACHE, ROOT, dldbg_command, measure, need  # noqa: E402

FOLDER = CACHE / "growth"
#: `dldbg run` with an engine listener that prints each library load's CPU time on stderr
#: (`cpu NAME SECONDS`: the process's CPU time from the load's load.start to its load.done),
#: which another job on the machine disturbs less than the program's wall-clock timing
CPU_PROBE = """
import sys, time
from dldbg.linker.engine import Engine
init = Engine.__init__
def probed(self, *args, **kwargs):
    init(self, *args, **kwargs)
    began = {}
    def listener(e):
        if e.kind == "load.start" and e.requested_by is None:
            began[e.module] = time.process_time()
        elif e.kind == "load.done" and e.module in began:
            print(f"cpu {e.module} {time.process_time() - began.pop(e.module):.6f}", file=sys.stderr)
    self.listeners.append(listener)
Engine.__init__ = probed
sys.argv[0] = "dldbg"
from dldbg.cli import entry
entry()
"""
MAIN_C = ROOT / "benchmarks" / "workload" / "growth_main.c"
KINDS = (("exports", "funcs"), ("GOT.func imports", "got_func"), ("data exports", "data"), ("GOT.mem imports", "got_mem"))


def build() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    if not (FOLDER / "main.wasm").exists() or (FOLDER / "main.wasm").stat().st_mtime < MAIN_C.stat().st_mtime:
        need("emcc")
        subprocess.run(["emcc", "-O2", "-fPIC", "-c", str(MAIN_C), "-o", "main.o"], cwd=FOLDER, check=True)
        subprocess.run(["emcc", "-O0", "-sMAIN_MODULE=1", "-sALLOW_MEMORY_GROWTH=1", "main.o", "-o", "main.js"],
                       cwd=FOLDER, check=True)


def libraries(n: int) -> list[str]:
    paths = symbolgen.write(FOLDER, n)
    return [paths[role].name for role in ("funcs", "got_func", "data", "got_mem")]


def parse(out: str) -> tuple[dict[str, float], list[str]]:
    loads = {name: float(ms) / 1000 for name, ms in re.findall(r"^load (\S+) ([\d.]+) ms$", out, re.M)}
    return loads, re.findall(r"^sum .*$", out, re.M)


def parse_cpu(err: str) -> dict[str, float]:
    return {name: float(s) for name, s in re.findall(r"^cpu (\S+) ([\d.]+)$", err, re.M)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", default="10000,90000,100000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    build()
    need("node")
    # the 100k GOT modules have 100,004 imports and 100,001 exports: above dldbg's default
    # limits (wasmparser's MAX_WASM_IMPORTS and _EXPORTS, docs/hardening.md), which wasmtime
    # itself does not enforce; V8 refuses them ("imports count ... exceeds internal limit")
    env = {**os.environ, "DLDBG_CACHE_DIR": str(CACHE / "dldbg-cache-growth"),
           "DLDBG_LIMITS": "imports=200000,exports=200000"}
    commands = {
        "node": lambda libs: ["node", "--no-experimental-fetch", "--stack-size=8000", "main.js", *libs],
        "dldbg": lambda libs: [sys.executable, "-c", CPU_PROBE, "run", "main.wasm", "--", *libs],
    }
    warm_up = {"node": commands["node"],
               "dldbg": lambda libs: [*dldbg_command(), "run", "--tier=cranelift", "main.wasm", "--", *libs]}
    libs = {n: libraries(n) for n in sizes}
    for n in sizes:  # compile into the cache (Cranelift); check that both print the same sums
        sums = {}
        for engine, command in warm_up.items():
            sample = measure(command(libs[n]), cwd=FOLDER, env=env, check=False)
            if sample.status != 0:
                print(f"{engine} cannot run the {n} modules: {(sample.stdout + sample.stderr).strip()[-300:]}")
            sums[engine] = parse(sample.stdout)[1]
        if sums["node"] and sums["node"] != sums["dldbg"]:
            print(f"node and dldbg disagree at {n}: {sums}")
            return 1
    times: dict[tuple[str, int], list[dict[str, float]]] = {}
    peaks: dict[tuple[str, int], int] = {}
    for _ in range(args.repeats):
        for n in sizes:
            for engine, command in commands.items():
                sample = measure(command(libs[n]), cwd=FOLDER, env=env, check=False)
                loads = parse(sample.stdout)[0]
                if loads:
                    times.setdefault((engine, n), []).append(loads)
                    peaks[engine, n] = max(peaks.get((engine, n), 0), sample.peak_kib)
                if engine == "dldbg":
                    times.setdefault(("dldbg CPU", n), []).append(parse_cpu(sample.stderr))

    def median(engine: str, n: int, role: str) -> float | None:
        runs = times.get((engine, n))
        name = dict(zip(("funcs", "got_func", "data", "got_mem"), libs[n]))[role]
        values = [run[name] for run in runs or [] if name in run]
        return statistics.median(values) if values else None

    print(f"dlopen time of one side module with N symbols, median of {args.repeats} interleaved runs (seconds;\n"
          f"wall time as the program measures it, and dldbg's CPU time for the load; load average "
          f"{os.getloadavg()[0]:.1f})\n")
    print(f"{'kind':18} {'N':>7} {'dldbg':>8} {'node':>8} {'dldbg/node':>10} {'dldbg CPU':>10}")
    for label, role in KINDS:
        for n in sizes:
            d, o, c = median("dldbg", n, role), median("node", n, role), median("dldbg CPU", n, role)
            ratio = f"{d / o:9.2f}x" if d and o else "        -"
            print(f"{label:18} {n:7} {d or 0:8.3f} {(o or 0):8.3f} {ratio} {c or 0:10.3f}")
    lo, hi = min(sizes), max(sizes)
    print(f"\ngrowth {lo} -> {hi} ({hi // lo}x the symbols; target for 10k -> 100k: at most 11x):")
    for label, role in KINDS:
        parts = []
        for engine in (*commands, "dldbg CPU"):
            a, b = median(engine, lo, role), median(engine, hi, role)
            parts.append(f"{engine} {b / a:5.1f}x" if a and b else f"{engine} -")
        print(f"  {label:18} " + ", ".join(parts))
    print("\npeak memory (MiB) of the whole process:")
    for n in sizes:
        print(f"  N={n:<7} " + ", ".join(f"{e} {peaks.get((e, n), 0) / 1024:.0f}" for e in commands))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
