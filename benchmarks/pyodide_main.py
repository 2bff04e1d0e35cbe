#!/usr/bin/env python3
"""A cold and a warm load of Pyodide's main (npm pyodide@314.0.7, pyodide.asm.wasm, 9.6 MB)
by `dldbg run --pyodide`, beside node's `loadPyodide`.

    python benchmarks/pyodide_main.py [--repeats R] [--cold-repeats C]

Variants, interleaved (the cold one in the first C rounds only: each takes minutes):
  node          `loadPyodide({indexURL})` under node 20 (V8 compiles the main lazily on its
                baseline tier, and runs Python's start-up: more than dldbg does here)
  dldbg warm    `dldbg run --pyodide DIST EMPTY_FOLDER`: the main alone (no wheel), linked
                and instantiated with its JavaScript imports stubbed; the exnref
                translation and the machine code in dldbg's cache
  dldbg cold    the same with an empty cache folder: binaryen's translation of the legacy
                exception handling (wasm-opt under node), then Cranelift (Winch refuses
                the exception-handling proposal), the code written to the cache

The npm package is fetched by tests/pyodide/inputs.py into .cache/ when missing.  Medians,
ratios against node, peak memory (of the process and, for the translation, its child).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "pyodide"))

import inputs  # noqa: E402
from benchutil import CACHE, ROOT, Series, dldbg_command, measure, need, table  # noqa: E402

VERSION = "314.0.7"
NODE_SCRIPT = r"""
import path from "node:path";
const indexURL = path.resolve(process.argv[2]) + "/";
const { loadPyodide } = await import(indexURL + "pyodide.mjs");
const py = await loadPyodide({ indexURL, stdout: () => {}, stderr: () => {} });
console.log(py.runPython("import sys; sys.version.split()[0]"));
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cold-repeats", type=int, default=1)
    args = parser.parse_args()
    node = need("node")
    inputs.npm_cache()
    package = inputs.ensure_pyodide(VERSION)
    CACHE.mkdir(parents=True, exist_ok=True)
    script = CACHE / "pyodide_main.mjs"
    script.write_text(NODE_SCRIPT)
    scratch = Path(tempfile.mkdtemp(prefix="dldbg-bench-pyodide-"))
    empty = scratch / "no-wheels"
    empty.mkdir()
    warm_cache = CACHE / "dldbg-cache-pyodide-main"
    env = {k: v for k, v in os.environ.items() if k != "DLDBG_CACHE_DIR"}
    run = [*dldbg_command(), "run", "--pyodide", str(package), str(empty)]

    def node_load():
        return measure([node, str(script), str(package)], env=env, cwd=ROOT)

    def dldbg_load(cache: Path):
        sample = measure(run, env={**env, "DLDBG_CACHE_DIR": str(cache)}, cwd=ROOT)
        if "loaded 0 libraries" not in sample.stdout:
            raise SystemExit(f"dldbg run --pyodide printed {sample.stdout!r}")
        return sample

    def cold():
        cache = Path(tempfile.mkdtemp(dir=scratch))
        try:
            return dldbg_load(cache)
        finally:
            shutil.rmtree(cache, ignore_errors=True)

    first = node_load()
    dldbg_load(warm_cache)  # the translation and machine code cached
    series = {name: Series(name) for name in ("node: loadPyodide", "dldbg run --pyodide, warm",
                                              "dldbg run --pyodide, cold")}
    for round_ in range(max(args.repeats, args.cold_repeats)):
        if round_ < args.repeats:
            series["node: loadPyodide"].samples.append(node_load())
            series["dldbg run --pyodide, warm"].samples.append(dldbg_load(warm_cache))
        if round_ < args.cold_repeats:
            series["dldbg run --pyodide, cold"].samples.append(cold())
    shutil.rmtree(scratch, ignore_errors=True)
    size = (package / "pyodide.asm.wasm").stat().st_size
    print(f"Pyodide {VERSION}'s main (pyodide.asm.wasm, {size / 1048576:.1f} MiB; Python {first.stdout.strip()} under "
          f"node); {args.repeats} interleaved runs ({args.cold_repeats} cold), medians; ratios against node; "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    print(table(series, baseline="node: loadPyodide"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
