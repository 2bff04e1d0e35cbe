"""The emscripten sample programs (samples/src/em_*): `dldbg run` gives node's stdout, stderr and
exit status for the same build (recorded in each scenario.json by
`scripts/emscripten-conformance --record-samples`), and a main that imports a JS function
nobody implements loads, then traps naming it, with a wasm backtrace and a `call.trap` event.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from catalogue import OUT, ROOT, scenario, scenarios
from dldbg.hosts.emscripten import EmscriptenHost
from dldbg.hosts.programs import ProgramOptions
from dldbg.linker.engine import Engine

PROGRAMS = [
    (name, index, program)
    for name in scenarios() if name.startswith("em_")
    for index, program in enumerate(scenario(name).get("emscripten_programs", []))
]


def run_program(name: str, program: dict, listeners=()) -> tuple[int, str, str]:
    folder = OUT / "emcc" / name
    out, err = io.BytesIO(), io.BytesIO()
    host = EmscriptenHost(ProgramOptions(), stdout=out, stderr=err)
    engine = Engine(host, cache_dir=None)
    engine.listeners.extend(listeners)
    wasm = str(folder / program["file"])
    status = host.run(engine, wasm, [wasm, *program.get("args", [])])
    return status, out.getvalue().decode(), err.getvalue().decode()


def test_samples_are_there():
    assert {name for name, _, _ in PROGRAMS} >= {"em_loadtime", "em_dlopen", "em_cxx", "em_unimplemented"}
    for name, _, program in PROGRAMS:
        assert (OUT / "emcc" / name / program["file"]).is_file(), "samples/out is missing: run python samples/build.py"
        assert "node" in program, f"{name}: no node output recorded (scripts/emscripten-conformance --record-samples)"


@pytest.mark.parametrize(("name", "index", "program"), [p for p in PROGRAMS if "dldbg" not in p[2]],
                         ids=[f"{n}-{i}" for n, i, p in PROGRAMS if "dldbg" not in p])
def test_output_is_nodes(name, index, program):
    status, out, err = run_program(name, program)
    node = program["node"]
    assert out == node["stdout"]
    assert err == node["stderr"]
    assert status == node["exit"]


def test_unimplemented_import_traps_with_backtrace_and_event():
    name, _, program = next(p for p in PROGRAMS if p[0] == "em_unimplemented")
    expect = program["dldbg"]
    events = []
    status, out, err = run_program(name, program, [events.append])
    assert status == expect["exit"]
    assert out == expect["stdout"]
    assert out == program["node"]["stdout"].split("answer")[0]  # node gets further: it runs the JS
    traps = [e for e in events if e.kind == "call.trap"]
    assert len(traps) == 1
    trap = traps[0]
    assert trap.trap == expect["trap"]
    assert list(trap.backtrace[:2]) == expect["backtrace"][:2]
    assert trap.backtrace[-1] == expect["backtrace"][-1]
    assert trap.module == "emscripten_unimplemented"
    assert f"RuntimeError: {expect['trap']}" in err
    assert "    at main.wasm!ask_javascript" in err
    # loading went through: the import was bound to the host's trapping stub
    bound = [e for e in events if e.kind == "import.resolve" and e.field == "emscripten_run_script_int"]
    assert bound and "not implemented" in bound[0].provider


def test_dldbg_run_command_line():
    """`dldbg run MAIN.wasm -- ARGS` picks the emscripten host and passes the arguments."""
    name, _, program = next(p for p in PROGRAMS if p[0] == "em_loadtime" and p[2]["args"])
    folder = OUT / "emcc" / name
    proc = subprocess.run([sys.executable, "-m", "dldbg", "run", str(folder / "main.wasm"), "--", *program["args"]],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert (proc.stdout, proc.stderr, proc.returncode) == (program["node"]["stdout"], program["node"]["stderr"],
                                                           program["node"]["exit"])


def test_trace_shows_startup_order():
    """Load-time linking: main first, then NEEDED libraries in load order; constructors main first."""
    events = []
    name, _, program = next(p for p in PROGRAMS if p[0] == "em_loadtime")
    run_program(name, program, [events.append])
    instantiated = [e.module for e in events if e.kind == "instantiate"]
    assert instantiated[:3] == ["main.wasm", "libem_util.so", "libem_greet.so"]
    ctors = [e.module for e in events if e.kind == "ctor.call"]
    assert ctors == ["main.wasm", "libem_util.so", "libem_greet.so"]
    allocs = [e for e in events if e.kind == "memory.alloc" and e.module.startswith("libem_")]
    assert all(a.allocator == "emscripten getMemory" for a in allocs)
