#!/usr/bin/env python3
"""`dldbg check --pyodide 314.0.7` on the five test wheels (tests/pyodide/inputs.py) beside
real Pyodide under node doing the same loads: `loadPyodide`, then, per wheel, unpack it and
`loadDynlib` every library its installer would load (tests/pyodide/record.mjs does this per
library, in a fresh Pyodide each; here one Pyodide takes them all).

    python benchmarks/pyodide_check.py [--repeats R]

The main's translation and machine code are cached first (one untimed run; the first run ever
translates the 9.6 MB main with binaryen and compiles it, about a minute and a half on two
cores).  Medians of R interleaved runs; ratios against node.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "pyodide"))

import inputs  # noqa: E402
from benchutil import CACHE, ROOT, dldbg_command, interleave, measure, need, table  # noqa: E402

NODE_SCRIPT = r"""
import fs from "node:fs";
import path from "node:path";
const [pkgDir, ...wheels] = process.argv.slice(2);
const indexURL = path.resolve(pkgDir) + "/";
const { loadPyodide } = await import(indexURL + "pyodide.mjs");
const py = await loadPyodide({ indexURL, stdout: () => {}, stderr: () => {} });
let linked = 0, failed = 0;
for (const wheel of wheels) {
  const name = path.basename(wheel);
  py.FS.writeFile("/tmp/" + name, new Uint8Array(fs.readFileSync(wheel)));
  const libs = py.runPython(`
import sysconfig, zipfile
from pathlib import Path
from pyodide._package_loader import get_dynlibs
site = sysconfig.get_paths()["purelib"]
with open("/tmp/${name}", "rb") as f:
    libs = get_dynlibs(f, ".whl", Path(site))
zipfile.ZipFile("/tmp/${name}").extractall(site)
libs`).toJs();
  for (const lib of libs) {
    try { await py._api.loadDynlib(lib); linked++; } catch (e) { failed++; }
  }
}
console.log(`${linked} linked, ${failed} failed`);
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    node = need("node")
    inputs.npm_cache()
    package = inputs.ensure_pyodide("314.0.7")
    wheels = [str(p) for p in inputs.ensure_wheels()]
    script = CACHE / "pyodide_load.mjs"
    CACHE.mkdir(parents=True, exist_ok=True)
    script.write_text(NODE_SCRIPT)
    env = dict(os.environ)
    commands = {
        "node: loadPyodide + loadDynlib": [node, str(script), str(package), *wheels],
        "dldbg check --pyodide 314.0.7": [*dldbg_command(), "check", "--pyodide", str(package), *wheels],
    }
    for command in commands.values():  # translations, machine code and files cached
        measure(command, env=env, cwd=ROOT, check=False)
    series = interleave({name: (lambda c=command: measure(c, env=env, cwd=ROOT, check=False))
                         for name, command in commands.items()}, args.repeats)
    print(f"five wheels (19 libraries) against Pyodide 314.0.7, {args.repeats} interleaved runs, medians; "
          "ratios against node\n")
    print(table(series, baseline="node: loadPyodide + loadDynlib"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
