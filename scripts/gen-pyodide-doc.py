#!/usr/bin/env python3
"""Refresh the sessions in docs/pyodide.md (`--check`: exit 1 if they are out of date).

Each block between `<!-- session NAME -->` and `<!-- end session -->` is the real output of the
command below, run against the real inputs of tests/pyodide/inputs.py (npm pyodide@314.0.7 and
PyPI wheels, fetched into .cache/ when missing).  Paths of the repository, the npm cache and
the wheel cache are shortened so that the text reads the same on every machine, and the
seconds a check took are shown as `N.N s`.
"""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "pyodide"))

import inputs  # noqa: E402

from dldbg.cli import main  # noqa: E402

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

_BLOCK = re.compile(r"(<!-- session (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end session -->)", re.S)


def prepare_inputs() -> None:
    inputs.ensure_wheels(log=lambda *a, **k: None)
    inputs.ensure_pyodide("314.0.7")
    folder = ROOT / WHEELS / "librt-cp313"
    if not folder.exists():
        import zipfile

        with zipfile.ZipFile(ROOT / LIBRT313) as zf:
            zf.extractall(folder)


def run(argv: list[str]) -> str:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        stream = io.StringIO()
        main(argv, stdout=stream, stderr=stream)
    finally:
        os.chdir(cwd)
    text = stream.getvalue()
    for path, short in ((os.environ["DLDBG_NPM_DIR"], "~/.cache/dldbg/npm"), (str(ROOT) + "/", ""), (str(ROOT), ".")):
        text = text.replace(path, short)
    text = re.sub(r"/tmp/dldbg-[\w-]+/\d+-", "/tmp/dldbg-.../", text)
    text = re.sub(r"\(\d+\.\d s\)", "(N.N s)", text)
    text = re.sub(r'"seconds": [\d.]+', '"seconds": N', text)
    command = "dldbg " + " ".join(_shell(a) for a in argv)
    return f"```\n$ {command}\n{text}```\n"


def _shell(arg: str) -> str:
    return arg if re.fullmatch(r"[\w./=+:,-]+", arg) else "'" + arg.replace("'", "'\\''") + "'"


def render(text: str) -> str:
    def replace(m: re.Match) -> str:
        return m.group(1) + run(SESSIONS[m.group("name")]) + m.group(4)

    return _BLOCK.sub(replace, text)


def main_() -> int:
    inputs.npm_cache()
    prepare_inputs()
    current = TARGET.read_text()
    text = render(current)
    if "--check" in sys.argv:
        if text != current:
            print("docs/pyodide.md is stale: run scripts/gen-pyodide-doc.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main_())
