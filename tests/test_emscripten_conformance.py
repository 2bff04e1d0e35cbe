"""The conformance script's inputs agree with each other and with docs/emscripten.md, and its
engine wrapper runs a program the way the emscripten test runner calls an engine.

(The conformance run itself, emscripten's test suite with dldbg as the engine, is part of
scripts/test, after pytest: it takes minutes.)"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import re
import subprocess
import sys

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


def test_engine_wrapper_runs_main_js_as_the_runner_does():
    folder = OUT / "emcc" / "em_loadtime"
    spec = json.loads((SRC / "em_loadtime" / "scenario.json").read_text())
    program = next(p for p in spec["emscripten_programs"] if p["args"])
    proc = subprocess.run([sys.executable, str(ENGINE), str(folder / "main.js"), *program["args"]],
                          capture_output=True, text=True, cwd=folder)
    assert (proc.stdout, proc.stderr, proc.returncode) == (
        program["node"]["stdout"], program["node"]["stderr"], program["node"]["exit"])


def test_engine_wrapper_refuses_plain_javascript(tmp_path):
    js = tmp_path / "hello_world.js"
    js.write_text("console.log('hello, world!');\n")
    proc = subprocess.run([sys.executable, str(ENGINE), str(js)], capture_output=True, text=True)
    assert proc.returncode == 1 and "no wasm module beside it" in proc.stderr


def test_script_help():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "--node" in proc.stdout and "--record-samples" in proc.stdout
