#!/usr/bin/env python3
"""Start-up: `dldbg inspect`, `dldbg run` and the debugger's `--batch` on small modules, beside
the floors they cannot go under (Python starting and exiting) and their peers
(`wasm-objdump -x`, node running the same emscripten program).

    python benchmarks/startup.py [--repeats R]

The machine code is cached (one untimed run first).  Medians of R interleaved runs; peak
memory is the process's.  Target: `dldbg inspect` of a small module at most 25 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchutil import CACHE, ROOT, dldbg_command, interleave, measure, table  # noqa: E402

SIDE = ROOT / "samples" / "out" / "clang16" / "reloc" / "libreloc.so"
PROGRAM = ROOT / "samples" / "out" / "emcc" / "em_cxx"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    dldbg = dldbg_command()
    env = {**os.environ, "DLDBG_CACHE_DIR": str(CACHE / "dldbg-cache-startup")}
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        f"dldbg inspect {SIDE.name}": [*dldbg, "inspect", str(SIDE)],
        f"dldbg run {SIDE.name} --invoke": [*dldbg, "run", str(SIDE), "--invoke", "get_ctor_state"],
        f"dldbg --batch {SIDE.name}": [*dldbg, "--batch", "-ex", "dlopen libreloc.so", "-ex", "call get_ctor_state",
                                       str(SIDE)],
        "dldbg run em_cxx/main.wasm": [*dldbg, "run", str(PROGRAM / "main.wasm")],
    }
    if shutil.which("wasm-objdump"):
        commands[f"wasm-objdump -x {SIDE.name}"] = ["wasm-objdump", "-x", str(SIDE)]
    if shutil.which("node"):
        commands["node em_cxx/main.js"] = ["node", "--no-experimental-fetch", str(PROGRAM / "main.js")]
    for command in commands.values():  # warm the compile cache and the file cache
        measure(command, env=env, cwd=PROGRAM)
    series = interleave({name: (lambda c=command: measure(c, env=env, cwd=PROGRAM)) for name, command in commands.items()},
                        args.repeats)
    print(f"start-up, {args.repeats} interleaved runs, medians; ratios against python -c pass\n")
    print(table(series, baseline="python -c pass"))
    inspect = series[f"dldbg inspect {SIDE.name}"]
    print(f"\ntarget: dldbg inspect of a small module <= 25 ms: {inspect.wall * 1000:.0f} ms wall, "
          f"{inspect.cpu * 1000:.0f} ms CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
