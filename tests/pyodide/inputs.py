#!/usr/bin/env python3
"""The real Pyodide inputs of the tests, fetched once into the ignored `.cache/`.

    python tests/pyodide/inputs.py            # fetch what is missing, print where things are

- npm `pyodide@314.0.7` (Python 3.14, ABI 2026_0) and `pyodide@0.29.3` (Python 3.13, ABI
  2025_0), with `dldbg.fetch.npm_package` (`npm pack` into $DLDBG_NPM_DIR, default
  `.cache/npm` here; SHA-256 checked);
- wheels from PyPI, with `pip download --no-deps --only-binary=:all: --platform PLATFORM
  --python-version PY NAME==VERSION` into `.cache/pyodide/wheels/` (SHA-256 checked):

  librt 0.16.0 cp314 and cp313      C extension modules (mypyc's runtime); the cp313 build is the
                                    wheel built for the other Python
  msgpack 1.2.4 cp314               C (Cython)
  boost-histogram 1.8.1 cp314       C++ with exceptions (legacy exception handling)
  awkward-cpp 57 cp314              C++ with exceptions, ships its own shared libraries
                                    (libawkward.so, NEEDED by its extension module with RUNTIME_PATH
                                    $ORIGIN; libawkward-cpu-kernels.so)

Nothing fetched is committed.  Raises RuntimeError (with the command's output) on failure.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
CACHE = ROOT / ".cache"
WHEEL_DIR = CACHE / "pyodide" / "wheels"
PYODIDE_VERSIONS = ("314.0.7", "0.29.3")


@dataclass(frozen=True)
class Wheel:
    spec: str
    platform: str
    python: str
    file: str
    sha256: str

    @property
    def path(self) -> Path:
        return WHEEL_DIR / self.file


WHEELS = (
    Wheel("librt==0.16.0", "pyemscripten_2026_0_wasm32", "3.14", "librt-0.16.0-cp314-cp314-pyemscripten_2026_0_wasm32.whl",
          "1b384b90ab79a7bc30b566895809a636e0666f21f3cf12b54823d025b7e83839"),
    Wheel("librt==0.16.0", "pyemscripten_2025_0_wasm32", "3.13", "librt-0.16.0-cp313-cp313-pyemscripten_2025_0_wasm32.whl",
          "77c7a2b4fe2c1369e0d5aa1cade26740a7b14be32fbc9a5535d617d20065c39d"),
    Wheel("msgpack==1.2.4", "pyemscripten_2026_0_wasm32", "3.14", "msgpack-1.2.4-cp314-cp314-pyemscripten_2026_0_wasm32.whl",
          "06a0657a4110d563255006b7cb7147432f67827144e429c2cdb1c967548d1817"),
    Wheel("boost-histogram==1.8.1", "pyemscripten_2026_0_wasm32", "3.14",
          "boost_histogram-1.8.1-cp314-cp314-pyemscripten_2026_0_wasm32.whl",
          "d4ce52271ac76a173958e15bcad72acdf41ba710b2e2ddd435db34d11857bc9e"),
    Wheel("awkward-cpp==57", "pyemscripten_2026_0_wasm32", "3.14", "awkward_cpp-57-cp314-cp314-pyemscripten_2026_0_wasm32.whl",
          "e21c6f2ba1ba560a613c7acfe63e150736895fd4cf7bb48bc6dbff83a3435667"),
)


def npm_cache() -> Path:
    """The npm package cache the tests use ($DLDBG_NPM_DIR, set here when unset)."""
    os.environ.setdefault("DLDBG_NPM_DIR", str(CACHE / "npm"))
    return Path(os.environ["DLDBG_NPM_DIR"])


def ensure_pyodide(version: str) -> Path:
    """The unpacked npm package `pyodide@VERSION` (a distribution folder)."""
    npm_cache()
    from dldbg.fetch import KNOWN_SHA256, npm_package

    spec = f"pyodide@{version}"
    return Path(npm_package(spec, sha256=KNOWN_SHA256[spec]))


def ensure_wheels(log=print) -> list[Path]:
    """Every wheel of WHEELS, downloaded when missing, its SHA-256 checked."""
    WHEEL_DIR.mkdir(parents=True, exist_ok=True)
    for wheel in WHEELS:
        if not wheel.path.exists():
            log(f"pyodide inputs: pip download {wheel.spec} ({wheel.platform}) into {WHEEL_DIR}", file=sys.stderr)
            cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                   "--platform", wheel.platform, "--python-version", wheel.python, wheel.spec, "-d", str(WHEEL_DIR)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode or not wheel.path.exists():
                raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout}{proc.stderr}")
        digest = hashlib.sha256(wheel.path.read_bytes()).hexdigest()
        if digest != wheel.sha256:
            raise RuntimeError(f"{wheel.path}: SHA-256 {digest}, expected {wheel.sha256} (delete it to fetch it again)")
    return [w.path for w in WHEELS]


def can_fetch() -> str | None:
    """Why the inputs cannot be fetched (None: they are there, or npm and pip are)."""
    have = all(w.path.exists() for w in WHEELS)
    if not have and shutil.which("npm") is None:
        return "npm is needed once to fetch Pyodide (apt-get install npm)"
    return None


def main() -> int:
    for version in PYODIDE_VERSIONS:
        print(f"pyodide@{version}: {ensure_pyodide(version)}")
    for path in ensure_wheels():
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
