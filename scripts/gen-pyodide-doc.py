#!/usr/bin/env python3
"""Refresh the sessions in docs/pyodide.md (`--check`: exit 1 if they are out of date).

Each block between `<!-- session NAME -->` and `<!-- end session -->` is the real output of the
command below, run against the real inputs of tests/pyodide/inputs.py (npm pyodide@314.0.7 and
PyPI wheels, fetched into .cache/ when missing).  Paths of the repository, the npm cache and
the wheel cache are shortened so that the text reads the same on every machine, and the
seconds a check took are shown as `N.N s`.
"""

from __future__ import annotations

import os
import re
import sys

from docblocks import ROOT, SESSION_BLOCK, fill, refresh, run_dldbg, transcript

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "pyodide"))

import inputs  # noqa: E402

TARGET = ROOT / "docs" / "pyodide.md"
WHEELS = ".cache/pyodide/wheels"
LIBRT314 = f"{WHEELS}/librt-0.16.0-cp314-cp314-pyemscripten_2026_0_wasm32.whl"
LIBRT313 = f"{WHEELS}/librt-0.16.0-cp313-cp313-pyemscripten_2025_0_wasm32.whl"
AWKWARD = f"{WHEELS}/awkward_cpp-57-cp314-cp314-pyemscripten_2026_0_wasm32.whl"
BOOST = f"{WHEELS}/boost_histogram-1.8.1-cp314-cp314-pyemscripten_2026_0_wasm32.whl"
MSGPACK = f"{WHEELS}/msgpack-1.2.4-cp314-cp314-pyemscripten_2026_0_wasm32.whl"

SESSIONS = {
    "check": ["check", "--pyodide", "314.0.7", LIBRT314, LIBRT313, MSGPACK, BOOST, AWKWARD],
    "check-json": ["check", "--pyodide", "314.0.7", "--json", f"{WHEELS}/librt-cp313/librt/internal.cpython-313-wasm32-emscripten.so"],
    "debugger": ["--pyodide", "314.0.7", "--batch", "--echo", "-ex", "break needed.resolved name=libawkward.so",
                 "-ex", "run", "-ex", "where", "-ex", "continue", "-ex", "info modules",
                 "-ex", "info got libawkward-cpu-kernels.so", "-ex", "x/4xw _Py_NoneStruct", "-ex", 'call strlen "pyodide"',
                 "-ex", "call emscripten_asm_const_int 0 0 0", "-ex", "table 8733-8735", AWKWARD],
    "why": ["--pyodide", "314.0.7", "--batch", "--echo", "-ex", "run", "-ex", "why",
            f"{WHEELS}/librt-cp313/librt/internal.cpython-313-wasm32-emscripten.so"],
}


def prepare_inputs() -> None:
    inputs.ensure_wheels(log=lambda *a, **k: None)
    inputs.ensure_pyodide("314.0.7")
    folder = ROOT / WHEELS / "librt-cp313"
    if not folder.exists():
        import zipfile

        with zipfile.ZipFile(ROOT / LIBRT313) as zf:
            zf.extractall(folder)


def run(argv: list[str]) -> str:
    text = run_dldbg(argv)
    for path, short in ((os.environ["DLDBG_NPM_DIR"], "~/.cache/dldbg/npm"), (str(ROOT) + "/", ""), (str(ROOT), ".")):
        text = text.replace(path, short)
    text = re.sub(r"/tmp/dldbg-[\w-]+/\d+-", "/tmp/dldbg-.../", text)
    text = re.sub(r"\(\d+\.\d s\)", "(N.N s)", text)
    text = re.sub(r'"seconds": [\d.]+', '"seconds": N', text)
    return transcript(argv, text)


def main_() -> int:
    inputs.npm_cache()
    prepare_inputs()
    return refresh(TARGET, lambda text: fill(text, SESSION_BLOCK, lambda name: run(SESSIONS[name])))


if __name__ == "__main__":
    raise SystemExit(main_())
