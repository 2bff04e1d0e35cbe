#!/usr/bin/env python3
"""The node backend's cost: the samples' emscripten programs under plain node, under
`dldbg run --node` (hooks, pipes, events, no trace), and under the wasmtime engine (`dldbg run
main.wasm`), in one run; with --pyodide, Python importing a wheel in real Pyodide 314.0.7 under
node (dldbg's driver on the distribution's own glue) against `dldbg run --node --pyodide`.

    python benchmarks/node_backend.py [--repeats R] [--pyodide]

Medians of R interleaved runs, each in the program's folder; ratios against plain node.  The
instrumented glue and the compiled code are cached (one untimed run of each first).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchutil import CACHE, ROOT, dldbg_command, interleave, measure, need, table  # noqa: E402

PROGRAMS = ("em_loadtime", "em_dlopen")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--pyodide", action="store_true", help="Pyodide importing msgpack instead of the samples")
    args = parser.parse_args()
    node, dldbg = need("node"), dldbg_command()
    env = {**os.environ, "DLDBG_CACHE_DIR": str(CACHE / "dldbg-cache-node")}
    if args.pyodide:
        return pyodide(node, dldbg, env, args.repeats)
    for name in PROGRAMS:
        folder = ROOT / "samples" / "out" / "emcc" / name
        commands = {
            f"node {name}/main.js": [node, "--no-experimental-fetch", "main.js"],
            f"dldbg run --node {name}/main.js": [*dldbg, "run", "--node", "main.js"],
            f"dldbg run {name}/main.wasm": [*dldbg, "run", "main.wasm"],
        }
        for command in commands.values():  # warm the caches
            measure(command, env=env, cwd=folder, check=False)
        series = interleave({label: (lambda c=command: measure(c, env=env, cwd=folder, check=False))
                             for label, command in commands.items()}, args.repeats)
        print(f"{name}: {args.repeats} interleaved runs, medians; ratios against plain node\n")
        print(table(series, baseline=f"node {name}/main.js"))
        print()
    return 0


def pyodide(node: str, dldbg: list[str], env: dict, repeats: int) -> int:
    sys.path.insert(0, str(ROOT / "tests" / "pyodide"))
    import json

    import inputs

    from dldbg.linker.node.pyodide import driver_path

    package = inputs.ensure_pyodide("314.0.7")
    wheel = next(str(p) for p in inputs.ensure_wheels() if p.name.startswith("msgpack-"))
    code = ["-c", "import msgpack; print(msgpack.packb([1, 2]))"]
    config = {"loader": str(package / "pyodide.mjs"), "indexURL": f"{package}/", "wheels": [wheel]}
    commands = {
        "node: Pyodide 314.0.7, import msgpack": [node, driver_path(), json.dumps(config), *code],
        "dldbg run --node --pyodide": [*dldbg, "run", "--node", "--pyodide", str(package), wheel, "--", *code],
    }
    for command in commands.values():  # warm the caches
        measure(command, env=env, check=False)
    series = interleave({label: (lambda c=command: measure(c, env=env, check=False))
                         for label, command in commands.items()}, repeats)
    print(f"Pyodide: {repeats} interleaved runs, medians; ratios against plain node\n")
    print(table(series, baseline="node: Pyodide 314.0.7, import msgpack"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
