"""CoWasm's CPython under dldbg: the kernel as main program, python.wasm and the extension modules
(stdlib and numpy) as side modules loaded by dlopen from Python's importer.

The packages come from npm (`@cowasm/kernel@0.28.0`, `python-wasm@0.28.1`), fetched once by
scripts/cowasm-python into .cache/cowasm/ (or $DLDBG_COWASM_DIR) and reused; compiled code goes
to dldbg's compile cache, so only the first run compiles (~15 s on two cores).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dldbg.hosts.cowasm import CowasmHost
from dldbg.hosts.programs import ProgramOptions
from dldbg.linker.engine import Engine

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "cowasm-python"

CODE = r"""
import errno, os, sys
import zlib, json, decimal, sqlite3
import numpy
print(numpy.linalg.det(numpy.array([[1.0, 2.0], [3.0, 4.0]])))
print(numpy.arange(6).reshape(2, 3).sum(axis=0).tolist())
print(zlib.decompress(zlib.compress(b"dldbg" * 100)) == b"dldbg" * 100, zlib.crc32(b"hello"))
print(json.dumps({"a": [1, 2.5, None]}, sort_keys=True))
print(decimal.Decimal(1) / decimal.Decimal(7))
print(sqlite3.connect(":memory:").execute("select 6 * 7").fetchone()[0])
try:
    os.fork()
except OSError as exc:
    print("fork:", errno.errorcode[exc.errno])
for name, module in sorted(sys.modules.items()):
    path = getattr(module, "__file__", None) or ""
    if path.endswith(".so"):
        print("EXT", path)
"""


def load_script():
    loader = importlib.machinery.SourceFileLoader("cowasm_python", str(SCRIPT))
    spec = importlib.util.spec_from_loader("cowasm_python", loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["cowasm_python"] = module  # its dataclasses look their module up
    loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cowasm():
    script = load_script()
    folder = script.cache_dir()
    if not (folder / script.STAMP).exists() and shutil.which("npm") is None:
        pytest.skip("npm is needed once to fetch the CoWasm packages (apt-get install npm)")
    try:
        files = script.ensure_packages(log=lambda *a, **k: None)
    except RuntimeError as exc:
        pytest.fail(f"fetching CoWasm failed: {exc}")
    return script, files


@pytest.fixture(scope="module")
def python_run(cowasm, tmp_path_factory):
    """One run of CODE: (status, stdout lines, stderr, events, engine, host)."""
    script, files = cowasm
    out = tmp_path_factory.mktemp("cowasm") / "out"
    host = CowasmHost(ProgramOptions(dirs=[(str(files.root), "/")], env={"PYTHONHOME": "/usr"}))
    engine = Engine(host)
    events: list = []
    engine.listeners.append(events.append)
    # Python writes to file descriptors 1 and 2 through WASI: redirect them to files.
    saved = os.dup(1), os.dup(2)
    with open(out, "w") as stdout, open(f"{out}.err", "w") as stderr:
        os.dup2(stdout.fileno(), 1)
        os.dup2(stderr.fileno(), 2)
        try:
            status = host.run(engine, str(files.kernel), [str(files.kernel), script.PYTHON_GUEST, "-c", CODE])
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
    return status, Path(out).read_text().splitlines(), Path(f"{out}.err").read_text(), events, engine, host


def test_numpy_and_stdlib_extensions(python_run):
    status, lines, err, *_ = python_run
    assert status == 0, err
    assert lines[:7] == [
        "-2.0000000000000004",
        "[3, 5, 7]",
        "True 907060870",
        '{"a": [1, 2.5, null]}',
        "0.1428571428571428571428571429",
        "42",
        "fork: ENOSYS",
    ], err


def test_every_extension_python_loaded_is_in_the_events(python_run):
    status, lines, _err, events, engine, host = python_run
    extensions = {line[4:] for line in lines if line.startswith("EXT ")}
    wanted = {"zlib", "_json", "_decimal", "_sqlite3", "_multiarray_umath", "_umath_linalg"}
    assert wanted <= {Path(p).name.split(".")[0] for p in extensions}
    started = {host.paths.to_guest(e.path): e for e in events if e.kind == "load.start"}
    done = {e.path for e in events if e.kind == "load.done"}
    for guest in extensions:
        assert guest in started, guest  # the importer's dlopen went through the engine
        assert started[guest].flags == "RTLD_LAZY|RTLD_LOCAL"  # Python's RTLD_NOW|RTLD_LOCAL, NOW ignored as CoWasm does
        assert host.paths.to_host(guest) in done
    assert not [e for e in events if e.kind == "load.fail"]
    assert not [e for e in events if e.kind == "import.unresolved" and e.action == "error"]


def test_cowasm_conventions(python_run):
    """The kernel's __WASM_EXPORT__ getters became symbols (functions and data), side modules
    share one stack from the kernel's malloc, the trampolines are wasm."""
    _status, _lines, _err, events, engine, host = python_run
    malloc, stderr = engine.global_scope.lookup("malloc"), engine.global_scope.lookup("stderr")
    assert malloc.kind == "func" and malloc.module == "kernel.wasm"
    assert stderr.kind == "data" and stderr.address >= 1 << 20  # the kernel's data starts at 1 MiB
    assert engine.got.value("stderr") == stderr.address
    assert engine.allocator.name == "kernel.wasm malloc"
    python = next(m for m in engine.modules if m.name == "python.wasm")
    assert engine.allocator.owns(python.memory_base)
    bindings = {(e.module, e.field): e for e in events if e.kind == "import.resolve"}
    assert bindings[("python.wasm", "_PyCFunctionWithKeywords_TrampolineCall")].provider == "cowasm host (wasm trampoline)"
    assert bindings[("python.wasm", "dlopen")].provider == "cowasm host dl API"
    assert bindings[("python.wasm", "fork")].provider.startswith("cowasm host (POSIX stub")
    assert bindings[("python.wasm", "strlen")].provider == "kernel.wasm"  # through __WASM_EXPORT__strlen


def test_script_prints_numpy_det(cowasm):
    """The issue's acceptance command, as a user runs it."""
    proc = subprocess.run([sys.executable, str(SCRIPT),
                           "import numpy; print(numpy.linalg.det(numpy.array([[1.0, 2.0], [3.0, 4.0]])))"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "-2.0000000000000004\n"


PEER = Path(__file__).resolve().parent / "peers" / "cowasm-imports.json"


def test_extensions_importing_cowasm_stubs_import_as_under_node(cowasm):
    """mmap, readline and _curses import under CoWasm's own loader (recorded by
    tests/peers/record-cowasm-imports): they need functions CoWasm's JS provides as stubs that
    fail with ENOSYS (msync, tcflush, execlp, ...) or implements (sigaddset, getpwuid_r), and
    CPython's RTLD_NOW is ignored as CoWasm ignores it.  Each binding is an import.resolve
    event and `info imports` shows it."""
    import json

    expected = json.loads(PEER.read_text())["imports"]
    _script, files = cowasm
    code = "; ".join(f"exec('try:\\n import {m}\\n print(\"{m}: ok\")\\nexcept BaseException as e:\\n print(\"{m}: error\", e)')"
                     for m in sorted(expected))
    guest = "/usr/lib/python3.11/lib-dynload/{}.cpython-311-wasm32-wasi.so"
    proc = subprocess.run([sys.executable, "-m", "dldbg", "--batch", "--nx", "-ex", "run",
                           "-ex", f"info imports {Path(guest.format('mmap')).name}",
                           "-ex", f"info imports {Path(guest.format('readline')).name}",
                           "-ex", "events import.resolve module=mmap.* field=msync",
                           "-ex", "events load.start path=.*mmap.*",
                           str(files.kernel), "--", "/usr/lib/python3.11/python.wasm", "-c", code],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    got = {line.split(":")[0]: line.split(": ", 1)[1] for line in proc.stdout.splitlines()
           if line.split(":")[0] in expected}
    assert {m: ("ok" if r == "ok" else "error") for m, r in got.items()} == \
        {m: ("ok" if r == "ok" else "error") for m, r in expected.items()}, proc.stdout
    rows = {line.split()[0]: line for line in proc.stdout.splitlines() if line.startswith("env.")}
    assert "cowasm host (POSIX stub: fails with ENOSYS)" in rows["env.msync"]
    assert "cowasm host (POSIX)" in rows["env.sigaddset"] and "resolved" in rows["env.sigaddset"]
    lines = proc.stdout.splitlines()
    assert any("mmap.cpython-311-wasm32-wasi.so: binding env.msync (func) -> cowasm host (POSIX stub" in line
               for line in lines)  # the binding is an event
    load = next(line for line in lines if "dldbg[libs]: mmap.cpython-311-wasm32-wasi.so: load " in line)
    assert load.endswith("[RTLD_LAZY|RTLD_LOCAL]")  # CoWasm ignores the RTLD_NOW of CPython's RTLD_NOW|RTLD_LOCAL
