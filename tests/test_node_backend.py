"""The node backend (issue 14, first stage): the samples' emscripten programs run under node with
their own glue, hooked (dldbg.linker.node).  The program's output is node's, recorded in each
scenario.json by scripts/emscripten-conformance --record-samples (not by dldbg); the events of
each side module come in the wasmtime engine's order for the stages both backends report
(docs/node.md lists the differences); the debugger stops at the loader's events, and `x` and
`info modules` read the stopped program through the pipes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from catalogue import OUT, scenario
from dldbg.linker.node.engine import NodeEngine
from dldbg.linker.node.instrument import GlueError, instrument_text
from test_emscripten_samples import run_program

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="no node")

PROGRAMS = [(name, i, p) for name in ("em_loadtime", "em_dlopen")
            for i, p in enumerate(scenario(name)["emscripten_programs"])]
#: the kinds both backends report for a side module, in the order of a load (docs/node.md)
SHARED_KINDS = ("load.start", "module.read", "needed.resolved", "memory.alloc", "table.grow", "instantiate",
                "load.done")


def dldbg(*argv, cwd):
    return subprocess.run([sys.executable, "-m", "dldbg", *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize(("name", "index", "program"), PROGRAMS, ids=[f"{n}-{i}" for n, i, _ in PROGRAMS])
def test_output_is_nodes(name, index, program, tmp_path):
    folder = OUT / "emcc" / name
    glue = os.path.splitext(program["file"])[0] + ".js"
    result = dldbg("run", "--node", "--trace=libs", glue, "--", *program.get("args", []), cwd=folder)
    node = program["node"]
    assert result.stdout == node["stdout"]
    program_err = "".join(line for line in result.stderr.splitlines(True) if not line.startswith("dldbg["))
    assert program_err == node["stderr"]
    assert result.returncode == node["exit"]
    assert "load libem_" in result.stderr  # the trace
    assert not list(folder.glob("*.dldbg*")) and (folder / "main.js").read_text().count("__dldbg") == 0


@pytest.mark.parametrize(("glue", "prefix"), [("main.js", "var Module = { arguments: ['hello', 'world!'] };\n"),
                                              ("main.js.strict.js", '"use strict";\n')], ids=["pre-js", "strict"])
def test_glues_of_emscriptens_own_tests_run_as_under_node(glue, prefix, tmp_path):
    """Glues as emscripten's test runner makes them (scripts/emscripten-conformance
    --engine=node): test_dylink_argv_argc's --extern-pre-js assigns a new `Module` before the
    glue's own code (the copy must still find main.wasm beside the original glue), and
    test_dylink_basics runs a strict-mode copy named main.js.strict.js (its main module is still
    the glue's wasmBinaryFile, main.wasm).  Output and exit status are node's on the same file."""
    folder = tmp_path / "em_loadtime"
    shutil.copytree(OUT / "emcc" / "em_loadtime", folder)
    (folder / glue).write_text(prefix + (folder / "main.js").read_text())
    node = subprocess.run([shutil.which("node"), "--no-experimental-fetch", glue], cwd=folder, capture_output=True,
                          text=True, timeout=60)
    assert node.returncode == 3 and "main ctor" in node.stdout
    # its instrumented copy goes to a cache folder of its own (the copy's name hashes the path)
    ours = subprocess.run([sys.executable, "-m", "dldbg", "run", "--node", glue], cwd=folder, capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, DLDBG_CACHE_DIR=str(tmp_path / "cache")))
    assert (ours.stdout, ours.stderr, ours.returncode) == (node.stdout, node.stderr, node.returncode)


CRASH_C = r"""
#include <stdlib.h>
#include <emscripten.h>
int main(int argc, char **argv) {
    if (argc > 1) abort();
    EM_ASM({ throw new Error('thrown from EM_ASM'); });
    return 0;
}
"""
#: `FILE:LINE` of a frame (`at f (/x/crash.js:1509:11)`) or of node's first line (`/x/crash.js:146`)
FRAME = re.compile(r"(?:^|\(|at )(/[^\s():]+):(\d+)(?::\d+)?\)?$")


def glue_frames(stderr: str) -> list[str]:
    """`crash.js:LINE` of each place in the glue node's uncaught-error report names."""
    return [f"{os.path.basename(m[1])}:{m[2]}" for m in map(FRAME.search, stderr.splitlines())
            if m and os.path.basename(m[1]) == "crash.js"]


@pytest.mark.skipif(shutil.which("emcc") is None, reason="no emcc")
@pytest.mark.parametrize("args", [["abort"], []], ids=["abort", "em_asm"])
def test_an_uncaught_errors_stack_names_the_glues_file_and_lines(args, tmp_path):
    """The hooks change nothing the program shows: node's report of an uncaught error (main()
    aborts; EM_ASM throws) names the glue's file name and line numbers under `dldbg run --node`
    as under `node crash.js` (the copy keeps its lines and its file name)."""
    (tmp_path / "crash.c").write_text(CRASH_C)
    subprocess.run(["emcc", "-sMAIN_MODULE=2", "crash.c", "-o", "crash.js"], cwd=tmp_path, check=True, timeout=120,
                   capture_output=True)
    node = subprocess.run([shutil.which("node"), "--no-experimental-fetch", "crash.js", *args], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert node.returncode == 7
    expected = glue_frames(node.stderr)
    assert len(expected) >= 5, node.stderr
    ours = dldbg("run", "--node", "crash.js", "--", *args, cwd=tmp_path)
    program_err = "".join(line for line in ours.stderr.splitlines(True) if not line.startswith("dldbg["))
    assert glue_frames(program_err) == expected
    assert ours.returncode == node.returncode


def test_the_instrumented_copies_folder_is_bounded(tmp_path, monkeypatch):
    """`<cache>/node` keeps at most MAX_ENTRIES copies: the least recently used go first (a
    copy used again is renewed), never one used in the last RECENT_SECONDS."""
    from dldbg.linker.node import copies, instrument as instrumenter

    monkeypatch.setattr(copies, "MAX_ENTRIES", 3)
    source = (OUT / "emcc" / "em_loadtime" / "main.js").read_text()
    folder = tmp_path / "cache" / "node"

    def copy_of(n: int, age: float) -> str:
        glue = tmp_path / f"glue{n}" / "main.js"
        glue.parent.mkdir(exist_ok=True)
        glue.write_text(source)
        path = instrumenter.instrument(str(glue), str(tmp_path / "cache")).path
        then = time.time() - age
        os.utime(os.path.dirname(path), (then, then))
        return os.path.basename(os.path.dirname(path))

    keys = [copy_of(n, age=3600 - n) for n in range(5)]
    assert sorted(os.listdir(folder)) == sorted(keys[2:])  # the oldest two went
    assert all((folder / k / "main.js").is_file() for k in keys[2:])
    copy_of(2, age=0)  # used again: now the newest
    copy_of(5, age=0)
    assert sorted(os.listdir(folder)) == sorted([keys[2], keys[4], copy_of(5, age=0)])
    newest = [keys[2], copy_of(5, age=0), copy_of(6, age=0)]  # keys[4], the oldest, went
    assert sorted(os.listdir(folder)) == sorted(newest)
    newest.append(copy_of(7, age=0))  # the others were used just now: kept, over the count for a while
    assert sorted(os.listdir(folder)) == sorted(newest)


def events_of(name: str) -> list:
    folder = OUT / "emcc" / name
    events: list = []
    engine = NodeEngine(str(folder / "main.js"), cache_dir=None)
    engine.listeners.append(events.append)
    cwd = os.getcwd()
    os.chdir(folder)  # the glue reads side modules relative to the current folder, as under node
    try:
        engine.run_program("main.js", ["main.js"])
    finally:
        os.chdir(cwd)
    return events


def per_module(events, kinds) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in events:
        if e.kind in kinds:
            out.setdefault(e.module, []).append(e.kind)
    return out


@pytest.mark.parametrize("name", ["em_loadtime", "em_dlopen"])
def test_event_sequence_matches_the_wasmtime_engine(name):
    program = scenario(name)["emscripten_programs"][0]
    wasmtime_events: list = []
    run_program(name, program, [wasmtime_events.append])
    node_events = events_of(name)
    side = {e.module for e in wasmtime_events if e.kind == "load.done" and e.module.endswith(".so")}
    assert side
    ours, theirs = per_module(node_events, SHARED_KINDS), per_module(wasmtime_events, SHARED_KINDS)
    for module in side:
        assert ours[module] == theirs[module], module
    # each side module's constructor ran once, after its instantiation
    ctors = [e.module for e in node_events if e.kind == "ctor.call" and e.module in side]
    assert sorted(ctors) == sorted(side)
    # the same addresses: emscripten's getMemory and dldbg's emscripten host lay out alike
    alloc = {e.module: (e.memory_base, e.size) for e in node_events if e.kind == "memory.alloc"}
    assert alloc == {e.module: (e.memory_base, e.size) for e in wasmtime_events
                     if e.kind == "memory.alloc" and e.module in side}
    # the glue's hooks and the stages it does not expose are named once, first
    assert node_events[0].kind == "glue.hooks" and [e.kind for e in node_events].count("glue.hooks") == 1
    assert {"loadDynamicLibrary", "loadWebAssemblyModule", "postInstantiation"} <= set(node_events[0].hooked)
    assert any(n.startswith("newDSO") for n in node_events[0].missing)
    assert any(n.startswith("imports:") for n in node_events[0].not_exposed)
    for e in node_events:
        assert json.loads(json.dumps(e.to_json()))["kind"] == e.kind


def test_missing_library_fails_with_the_glues_error():
    events = events_of("em_dlopen")
    fail = next(e for e in events if e.kind == "load.fail")
    assert fail.module == "libnot_there.so" and "ENOENT" in fail.reason


def test_debugger_stops_and_reads_memory_through_the_pipes():
    folder = OUT / "emcc" / "em_loadtime"
    result = dldbg("--node", "main.js", "--batch", "--json", "-ex", "break load.done module=libem_util.so", "-ex", "run",
                   "-ex", "info modules", "-ex", "x/s libem_util.so!util_label", "-ex", "x/2xw 0x501760",
                   "-ex", "continue", cwd=folder)
    objs = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    results = {o["command"]: o["result"] for o in objs if o.get("type") == "result" and o["ok"]}
    stop = next(o["stop"] for o in objs if o.get("type") == "stop")
    assert stop["event"]["kind"] == "load.done" and stop["event"]["module"] == "libem_util.so"
    assert stop["frames"] == ["libem_greet.so"]  # stopped inside the NEEDED load of greet
    mods = {m["name"]: m for m in results["info modules"]["modules"]}
    assert mods["libem_util.so"]["state"] == "ready" and mods["libem_greet.so"]["state"] == "loading"
    assert mods["libem_util.so"]["memory_base"] == 0x501760
    assert results["info modules"]["memory"]["pages"] == 256
    assert results["x/s libem_util.so!util_label"]["strings"][0]["string"] == "util"
    assert results["x/2xw 0x501760"]["values"][0] == int.from_bytes(b"util", "little")
    assert results["run"]["exit_status"] == 3
    assert "hello, world (1070)" in result.stdout
    assert result.returncode == 0, result.stderr


def test_reading_memory_while_running_says_why():
    folder = OUT / "emcc" / "em_loadtime"
    result = dldbg("--node", "main.js", "--batch", "-ex", "x/4xb 0x400", cwd=folder)
    assert result.returncode == 1
    assert "not running under node" in result.stdout + result.stderr


def test_a_glue_without_a_dynamic_loader_is_refused_clearly(tmp_path):
    with pytest.raises(GlueError, match=r"plain\.js: instrument: not an emscripten glue with a dynamic loader: no "
                                        r"`function loadDynamicLibrary\(` or `function loadWebAssemblyModule\(`"):
        instrument_text("console.log('hi');\n", "plain.js")
    glue = tmp_path / "plain.js"
    glue.write_text("console.log('hi');\n")
    result = dldbg("run", "--node", str(glue), cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "not an emscripten glue with a dynamic loader" in result.stderr


def test_set_mem_while_stopped_changes_the_running_program():
    """`set mem` writes the live program's memory through the pipes: util's constructor, which
    runs after the stop, adds 1 to the counter the debugger set (node alone prints 101)."""
    folder = OUT / "emcc" / "em_loadtime"
    result = dldbg("--node", "main.js", "--batch", "-ex", "break load.done module=libem_util.so", "-ex", "run",
                   "-ex", "print util_counter", "-ex", "set mem util_counter 7", "-ex", "continue", cwd=folder)
    assert "$1 = 100 " in result.stdout
    assert "util ctor: counter 8\n" in result.stdout and "memory.set" not in result.stderr
    assert "program exited with status 3" in result.stdout


def test_info_got_and_table_read_the_glues_got_and_table():
    """GOT entries come from the hooks' GOT changes, their kinds from the modules' imports and
    exports (the main module, which the glue instantiates, imports GOT.func.util_scale too: it
    compares the address); a slot is named by the loaded module whose export it holds (asked of
    the glue)."""
    folder = OUT / "emcc" / "em_loadtime"
    result = dldbg("--node", "main.js", "--batch", "--json", "-ex", "break load.done module=libem_greet.so", "-ex",
                   "run", "-ex", "info got", "-ex", "table 0", cwd=folder)
    objs = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    results = {o["command"]: o["result"] for o in objs if o.get("type") == "result" and o["ok"]}
    got = {row["symbol"]: row for row in results["info got"]}
    scale = got["util_scale"]
    assert scale["got"] == "GOT.func" and scale["provider"] == "libem_util.so" and scale["importers"] == ["main.wasm", "libem_greet.so"]
    assert scale["target"].endswith("libem_util.so!util_scale (i32) -> (i32)")
    assert got["util_counter"]["got"] == "GOT.mem" and got["util_counter"]["target"] == "libem_util.so!util_counter"
    assert got["main_callback"]["got"] == "GOT.func" and "main.wasm!main_callback" in got["main_callback"]["target"]
    assert results["table 0"] == [{"slot": 0, "module": None, "function": None, "type": None,
                                   "note": "null function pointer"}]


def test_quit_while_stopped_ends_node_and_timeout_stops_a_run():
    """`quit` at a stop ends the program there (node is killed, nothing more runs); `--timeout`
    stops `dldbg run --node` with status 124 (node gets SIGINT)."""
    folder = OUT / "emcc" / "em_loadtime"
    result = dldbg("--node", "main.js", "--batch", "-ex", "break load.start", "-ex", "run", "-ex", "quit", cwd=folder)
    assert "event #" in result.stdout and "main ctor" not in result.stdout
    assert result.returncode == 0, result.stderr
    result = dldbg("run", "--node", "--timeout", "0.2", "main.js", cwd=folder)
    assert result.returncode == 124 and "timed out after 0.2 s" in result.stderr


@pytest.mark.parametrize("argv", [["run", "--node", "--pyodide", "314.0.7", "nothere.whl"],
                                  ["--node", "--pyodide", "314.0.7", "nothere.whl", "--batch"]])
def test_node_with_pyodide_names_a_missing_wheel(argv):
    result = dldbg(*argv, cwd=OUT / "emcc" / "em_loadtime")
    assert result.returncode == 1 and result.stderr == "dldbg: error: nothere.whl: no such wheel file\n"


@pytest.mark.parametrize("argv", [["run", "--node", "main.js", "other.js"], ["--node", "main.js", "other.js", "--batch"]])
def test_several_files_need_node_with_pyodide(argv):
    result = dldbg(*argv, cwd=OUT / "emcc" / "em_loadtime")
    assert result.returncode == 2 and "unrecognized arguments: other.js (several wheels: --node --pyodide)" in result.stderr
