"""Emscripten main modules of later emscriptens, as shipped: Pyodide's `pyodide.asm.wasm` (npm
`pyodide@314.0.7`, emscripten 5.0.3; `pyodide@0.29.3`, emscripten 4.0.9) and php-wasm's
`php_8_3.wasm` (npm `@php-wasm/node-8-3@3.1.56`).  `dldbg inspect` labels them emscripten main
modules and names their exception-handling encoding (legacy, all three); `dldbg run` says what
they are and what is missing instead of "a side module, not a program".

The packages are fetched once with `npm pack` into .cache/npm (dldbg.fetch) and reused.
"""

from __future__ import annotations

import json
import shutil

import pytest

from dldbg.fetch import FetchError, is_fetched, npm_package
from dldbg.session.paths import Shortener
from test_cli import run

#: npm package -> (the main module in it, unpack only it (None: the whole package), what it is)
MAINS = {
    "pyodide@314.0.7": ("package/pyodide.asm.wasm", None, {"memory": "exports its own memory", "main": True}),
    "pyodide@0.29.3": ("package/pyodide.asm.wasm", None, {"memory": "imports its memory", "main": True}),
    "@php-wasm/node-8-3@3.1.56": ("package/jspi/8_3_33/php_8_3.wasm", ("package/jspi/8_3_33/php_8_3.wasm",),
                                  {"memory": "exports its own memory", "main": False}),
}


def fetch_main(spec: str) -> tuple[str, dict]:
    member, members, facts = MAINS[spec]
    if not is_fetched(spec, members) and shutil.which("npm") is None:
        pytest.skip(f"npm is needed once to fetch {spec} (apt-get install npm)")
    try:
        package = npm_package(spec, members=members)
    except FetchError as exc:
        pytest.fail(f"fetching {spec} failed: {exc}")
    return str(package.parent / member), facts


@pytest.fixture(scope="module", params=sorted(MAINS))
def main(request):
    return fetch_main(request.param)


def test_inspect_labels_an_emscripten_main(main):
    path, _ = main
    status, out, _ = run(["inspect", "--json", path])
    assert status == 0
    info = json.loads(out)
    assert info["program"] == "emscripten main"
    assert info["kind"] == "emscripten main module (emscripten 4 or newer: exports _emscripten_stack_restore)"
    assert info["exception_handling"]["encoding"] == "legacy"
    assert info["exception_handling"]["instruction"] == "try"
    assert info["side_module"] is True  # it carries dylink.0, as emscripten mains that load side modules do


def test_run_says_what_it_is_and_what_is_missing(main):
    path, facts = main
    status, _, err = run(["run", path])
    assert status == 1
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith(f"dldbg: error: {path}: an emscripten main module of an emscripten newer than 3.1.6")
    assert "_emscripten_stack_restore" in line and "not stackSave/stackRestore" in line
    assert facts["memory"] in line
    assert ("has no main" in line) is not facts["main"]
    assert "dldbg's emscripten host runs emscripten 3.1.6 mains only" in line
    assert "env function imports dldbg does not implement" in line
    assert "side module" not in line
    pyodide = "pyodide" in path  # Pyodide's main has its pyodide-lock.json beside it
    assert ("it is Pyodide's main: load wheels into it with `dldbg run --pyodide" in line) is pyodide


def test_inspect_labels_the_samples():
    """Every kind of module the samples hold, by its first `dldbg inspect` line."""
    from catalogue import OUT

    cases = {
        OUT / "emcc" / "em_cxx" / "main.wasm": "emscripten main module (emscripten 3.x: exports stackSave/stackRestore)",
        OUT / "clang16" / "wasi_dlopen" / "main_dlfcn.wasm": "WASI main",
        OUT / "clang16" / "wasi_dlopen" / "main_nopic.wasm": "WASI main",
        OUT / "emcc" / "em_cxx" / "libem_thrower.so": "side module",
        OUT / "broken" / "legacy_dylink.so": "side module",
    }
    for path, kind in cases.items():
        status, out, _ = run(["inspect", str(path)])
        assert status == 0 and out.splitlines()[0] == f"{path}: {path.stat().st_size} bytes, {kind}"


def test_the_debugger_says_it_too():
    """`dldbg --batch -ex run MAIN`: the same one line, at start-up and from `run` (status 1)."""
    path, _ = fetch_main("pyodide@314.0.7")
    status, _, err = run(["--batch", "-ex", "run", path])
    assert status == 1
    shown = Shortener(bare=False)(str(path))  # text output shows paths under the current folder relative to it
    assert f"error: {shown}: an emscripten main module of an emscripten newer than 3.1.6" in err
    assert "side module" not in err
