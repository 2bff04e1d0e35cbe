#!/usr/bin/env python3
"""Record real Pyodide's results for the test wheels into tests/pyodide/expected.json.

    python tests/pyodide/record.py

Runs record.mjs under node (Pyodide from the npm packages that inputs.py fetches) for each
Pyodide version and its wheels: 314.0.7 with every wheel, 0.29.3 with both builds of librt.
These are the expectations dldbg's Pyodide host is tested against (tests/test_pyodide.py); they
come from Pyodide, never from dldbg.  Takes a few minutes (a fresh Pyodide per library).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import inputs  # noqa: E402

EXPECTED = HERE / "expected.json"
#: Pyodide version -> the wheels recorded with it
PLAN = {
    "314.0.7": [w.file for w in inputs.WHEELS],
    "0.29.3": [w.file for w in inputs.WHEELS if w.spec.startswith("librt")],
}


def main() -> int:
    inputs.ensure_wheels()
    results = {}
    for version, files in PLAN.items():
        package = inputs.ensure_pyodide(version)
        cmd = ["node", str(HERE / "record.mjs"), str(package), *[str(inputs.WHEEL_DIR / f) for f in files]]
        print(f"record: Pyodide {version}: {len(files)} wheels", file=sys.stderr)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode:
            print(proc.stdout, proc.stderr, file=sys.stderr)
            return 1
        results[version] = json.loads(proc.stdout)
    EXPECTED.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    print(f"record: wrote {EXPECTED}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
