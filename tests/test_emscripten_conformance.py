"""The conformance script's inputs agree with each other and with docs/emscripten.md, and its
engine wrapper runs a program the way the emscripten test runner calls an engine.

(The conformance runs themselves, emscripten's test suite with dldbg's engine and with its node
backend as the engine, are part of scripts/test, before pytest: they take minutes.)"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import re
import subprocess
import sys

import pytest

from catalogue import OUT, ROOT, SRC

SCRIPT = ROOT / "scripts" / "emscripten-conformance"
ENGINE = ROOT / "scripts" / "emscripten-engine"


def conformance_module():
    loader = importlib.machinery.SourceFileLoader("emscripten_conformance", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_js_only_tests_are_documented_and_pass_with_node():
    module = conformance_module()
    node = module.read_node_list()
    assert len(node) >= 50
    assert set(module.JS_ONLY) <= node
    docs = (ROOT / "docs" / "emscripten.md").read_text()
    section = docs.split("### Tests no engine without JavaScript can pass", 1)[1]
    listed = set(re.findall(r"^\| `(test_\w+)` \|", section, re.M))
    assert listed == set(module.JS_ONLY)


def test_count_in_readme_and_docs_match():
    docs = (ROOT / "docs" / "emscripten.md").read_text()
    readme = (ROOT / "README.md").read_text()
    count = re.search(r"\*\*Result: (\d+) passed, (\d+) failed\*\*", docs)
    assert count, "docs/emscripten.md states the conformance count"
    passed, failed = map(int, count.groups())
    assert passed + failed == len(conformance_module().read_node_list())
    assert failed == len(conformance_module().JS_ONLY)
    assert f"{passed} passed, {failed} failed" in readme


def test_count_with_the_node_backend_in_docs_match():
    """docs/emscripten.md, docs/node.md and the README state the same figure for the run with
    the node backend as the engine, over the tests that pass with node."""
    figures = set()
    for page in ("docs/emscripten.md", "docs/node.md", "README.md"):
        count = re.search(r"\*\*With the node backend: (\d+) passed, (\d+) failed\*\*", (ROOT / page).read_text())
        assert count, f"{page} states the node backend's conformance count"
        figures.add(tuple(map(int, count.groups())))
    assert len(figures) == 1
    passed, failed = figures.pop()
    assert passed + failed == len(conformance_module().read_node_list())


def test_each_engine_is_the_runners_only_engine(tmp_path):
    """The config of `--engine=E` names the engine wrapper with E's arguments as the runner's
    only JS engine; `--node` names node itself.  scripts/test runs both engines."""
    module = conformance_module()
    for mode, engine in [*((m, [sys.executable, *argv]) for m, argv in module.ENGINES.items()),
                         ("plain-node", ["node", "--no-experimental-fetch"])]:
        config = module.write_config(str(tmp_path), str(tmp_path / "tests"), ["node", "--no-experimental-fetch"], mode)
        scope: dict = {}
        exec(open(config).read(), scope)
        assert scope["JS_ENGINES"] == [engine], mode
    assert module.ENGINES["node"][-1] == "--node"
    test_command = (ROOT / "scripts" / "test").read_text()
    assert "scripts/emscripten-conformance ||" in test_command
    assert "scripts/emscripten-conformance --engine=node ||" in test_command


@pytest.mark.parametrize("engine", [[], ["--node"]], ids=["wasmtime", "node"])
def test_engine_wrapper_runs_main_js_as_the_runner_does(engine, tmp_path):
    """The program's output and status are node's (recorded in scenario.json); with --node and
    $DLDBG_CONFORMANCE_TRACES, the run's trace goes to a file there, where the conformance
    script counts the libraries the hooks saw load."""
    folder = OUT / "emcc" / "em_loadtime"
    spec = json.loads((SRC / "em_loadtime" / "scenario.json").read_text())
    program = next(p for p in spec["emscripten_programs"] if p["args"])
    traces = tmp_path / "traces"
    traces.mkdir()
    env = dict(os.environ, DLDBG_CONFORMANCE_TRACES=str(traces), DLDBG_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, str(ENGINE), *engine, str(folder / "main.js"), *program["args"]],
                          capture_output=True, text=True, cwd=folder, env=env)
    assert (proc.stdout, proc.stderr, proc.returncode) == (
        program["node"]["stdout"], program["node"]["stderr"], program["node"]["exit"])
    if engine:
        side = [lib["name"] for lib in spec["libraries"] if lib["name"].endswith(".so")]
        assert conformance_module().hooked_loads(str(traces)) == (1, len(side), len(side), [])
        trace = next(traces.iterdir()).read_text().splitlines()
        assert trace[0] == str(folder / "main.js") and trace[-1] == f"exit {program['node']['exit']}"


def test_engine_wrapper_refuses_plain_javascript(tmp_path):
    js = tmp_path / "hello_world.js"
    js.write_text("console.log('hello, world!');\n")
    proc = subprocess.run([sys.executable, str(ENGINE), str(js)], capture_output=True, text=True)
    assert proc.returncode == 1 and "no wasm module beside it" in proc.stderr


def test_script_help():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--node" in proc.stdout and "--record-samples" in proc.stdout
    assert "--engine {node,wasmtime}" in proc.stdout
