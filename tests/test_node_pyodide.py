"""The node backend running real Pyodide (issue 14): `dldbg --node --pyodide VERSION WHEEL -- PYTHON_ARGS`
on Pyodide 314.0.7 (emscripten 5.0.3, ES module glue) and 0.29.3 (emscripten 4.0.9), importing the
real wheels of tests/pyodide/inputs.py (fetched once into .cache/ when missing).

Expected results come from real Pyodide under node without hooks: dldbg's Pyodide driver
(dldbg/linker/node/pyodide_driver.mjs) run by node on the distribution's own folder, its glue
untouched.  Python itself reports, through ctypes, the address of the GOT.mem entry the wheel's
module imports (`PyExc_TypeError`) and the value stored there (`id(TypeError)`); dldbg, stopped
inside Python's import at the module's instantiation, must show the same in `info got` and `x`.
Each version costs about 6 s (real Pyodide alone) plus 8-10 s (the debugger's run) when warm.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dldbg.hosts.pyodide import open_distribution
from dldbg.linker.node.instrument import HOOKED, GlueError, instrument_text, read_glue, statement_end
from dldbg.linker.node.pyodide import driver_path

from catalogue import fetch_pyodide

HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="no node")


#: per Pyodide version: the wheel its Python and ABI accept, the extension module Python's
#: import loads, and the code run (Python 3.14 / ABI 2026_0 for 314.0.7; 3.13 / 2025_0 for 0.29.3)
CASES = {
    "314.0.7": ("msgpack-1.2.4-cp314-cp314-pyemscripten_2026_0_wasm32.whl",
                "_cmsgpack.cpython-314-wasm32-emscripten.so", "import msgpack; print(msgpack.packb([1, 2]))"),
    "0.29.3": ("librt-0.16.0-cp313-cp313-pyemscripten_2025_0_wasm32.whl",
               "base64.cpython-313-wasm32-emscripten.so", "import librt.base64; print(librt.base64.b64encode(b'dldbg'))"),
}
#: Python reports the GOT.mem entry's address and the value stored there, then exits with 3
REPORT = ("import ctypes, sys; "
          "print('got', hex(ctypes.addressof(ctypes.c_void_p.in_dll(ctypes.pythonapi, 'PyExc_TypeError')))); "
          "print('value', hex(id(TypeError))); sys.exit(3)")


@pytest.fixture(scope="module")
def fetched():
    return fetch_pyodide(CASES)


def plain_pyodide(package: Path, wheels: list[Path], args: list[str], cwd=None) -> subprocess.CompletedProcess:
    """Real Pyodide under node, its glue untouched (indexURL: the distribution's own folder)."""
    config = {"loader": str(package / "pyodide.mjs"), "indexURL": f"{package}/", "wheels": [str(w) for w in wheels]}
    return subprocess.run(["node", driver_path(), json.dumps(config), *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


def dldbg(*argv, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dldbg", *argv], capture_output=True, text=True, timeout=180, cwd=cwd)


@pytest.fixture(scope="module", params=list(CASES))
def debugged(request, fetched):
    """Per version: real Pyodide's output, and one debugger run stopping at the wheel module's
    read and instantiation (info got, x at the GOT entry's address) and continuing to the end."""
    version = request.param
    packages, wheels = fetched
    wheel_name, module, code = CASES[version]
    wheel = wheels[wheel_name]
    args = ["-c", f"{code}; {REPORT}"]
    expected = plain_pyodide(packages[version], [wheel], args)
    assert expected.returncode == 3, expected.stderr
    report = dict(line.split() for line in expected.stdout.splitlines() if line.startswith(("got ", "value ")))
    got_address = int(report["got"], 16)
    result = dldbg("--node", "--pyodide", str(packages[version]), str(wheel), "--batch", "--json",
                   "-ex", f"break module.read module={module}", "-ex", f"break instantiate module={module}",
                   "-ex", f"break load.done module={module}",
                   "-ex", "run", "-ex", "info modules", "-ex", "continue", "-ex", f"info got {module}",
                   "-ex", f"x/1xw {got_address:#x}", "-ex", "print PyExc_TypeError", "-ex", "print &PyExc_TypeError",
                   "-ex", "x/1xw PyExc_TypeError", "-ex", f"info imports {module}", "-ex", "continue",
                   "-ex", f"got {module}", "-ex", "continue", "--", *args)
    objs = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    program_out = "".join(line for line in result.stdout.splitlines(True) if not line.startswith("{"))
    return version, module, expected, report, result, objs, program_out


def _results(objs) -> dict:
    return {o["command"]: o["result"] for o in objs if o.get("type") == "result" and o["ok"]}


def test_stops_at_the_wheel_modules_read_and_instantiation_inside_pythons_import(debugged):
    _version, module, _expected, _report, result, objs, _out = debugged
    stops = [o["stop"]["event"] for o in objs if o.get("type") == "stop"]
    assert [(e["kind"], e["module"]) for e in stops] == [("module.read", module), ("instantiate", module),
                                                          ("load.done", module)], result.stderr
    assert "/site-packages/" in stops[0]["path"] and stops[0]["path"].endswith("/" + module)  # Pyodide's file system
    assert stops[0]["dylink"]["mem_size"] > 0
    mods = {m["name"]: m for m in _results(objs)["info modules"]["modules"]}
    assert mods[module]["state"] == "loading"  # stopped at its read, inside Python's import


def test_info_got_and_x_show_the_live_values_python_sees(debugged):
    _version, module, _expected, report, result, objs, _out = debugged
    results = _results(objs)
    got = {row["symbol"]: row for row in results[f"info got {module}"]}
    entry = got["PyExc_TypeError"]
    assert entry["got"] == "GOT.mem" and module in entry["importers"] and entry["provider"] == "pyodide.asm.wasm"
    assert entry["value"] == int(report["got"], 16)
    examined = results[f"x/1xw {int(report['got'], 16):#x}"]
    assert examined["values"][0] == int(report["value"], 16), result.stderr
    # the main module's data symbol by name: its export (dldbg's reader) at the glue's memoryBase
    printed = results["print PyExc_TypeError"]
    assert (printed["what"], printed["name"]) == ("data", "pyodide.asm.wasm!PyExc_TypeError")
    assert printed["value"] == int(report["value"], 16)
    assert f"i32 at {int(report['got'], 16):#x}" in printed["location"]
    assert results["print &PyExc_TypeError"]["value"] == int(report["got"], 16)
    assert results["x/1xw PyExc_TypeError"]["address"] == int(report["got"], 16)
    assert results["x/1xw PyExc_TypeError"]["values"] == [int(report["value"], 16)]
    # at load.done: the GOT.func entry of the module's PyInit_ function points at its table slot,
    # which holds that export (the glue's updateGOT gave it the slot: addFunction)
    init = next(row for row in results[f"got {module}"] if row["symbol"].startswith("PyInit_"))
    assert init["got"] == "GOT.func" and init["provider"] == module
    assert init["target"].startswith(f"slot {init['value']}: {module}!{init['symbol']} ")
    # the glue bound the module's function imports to the main's exports (wasmImports in 4/5)
    imports = {row["import"]: row for row in results[f"info imports {module}"]["imports"]}
    assert imports["env.PyErr_SetString"]["how"] == "global-scope"
    assert imports["env.PyErr_SetString"]["provider"] == "pyodide.asm.wasm"


def test_continue_finishes_the_import_and_pythons_output_and_status_come_through(debugged):
    _version, _module, expected, _report, result, objs, program_out = debugged
    assert program_out == expected.stdout
    assert _results(objs)["run"]["exit_status"] == 3  # Python's SystemExit, after the last `continue`
    assert result.returncode == 0, result.stderr
    events = [o["event"] for o in objs if o.get("type") == "event"]
    hooks = next(e for e in events if e["kind"] == "glue.hooks")
    assert set(hooks["hooked"]) == set(HOOKED)  # emscripten 4.0.9 and 5.0.3 have every loader function
    assert not any(line.startswith("reloc:") for line in hooks["not_exposed"])
    # the glue calls the module's __wasm_apply_data_relocs itself, after instantiation
    kinds = [e["kind"] for e in events if e["module"] == _module]
    assert kinds.index("instantiate") < kinds.index("reloc.apply") < kinds.index("load.done")
    relocs = next(e for e in events if e["kind"] == "reloc.apply")
    assert relocs["function"] == "__wasm_apply_data_relocs" and relocs["changes"]


def test_run_a_script_prints_pythons_output_and_exits_with_its_status(fetched, tmp_path):
    """`dldbg run --node --pyodide` with three wheels and a SCRIPT with its arguments: the output
    and the exit status of real Pyodide running the same script (an uncaught exception: its
    traceback, 1).  The trace names the .so files Python's imports load, awkward_cpp's NEEDED
    libawkward.so, which the glue finds through the extension's RUNTIME_PATH ($ORIGIN), and the
    load that fails: librt's cp313 build, whose import V8 refuses under Python 3.14."""
    packages, wheels = fetched
    wheel_files = [wheels[CASES["314.0.7"][0]], wheels["awkward_cpp-57-cp314-cp314-pyemscripten_2026_0_wasm32.whl"],
                   wheels["librt-0.16.0-cp313-cp313-pyemscripten_2025_0_wasm32.whl"]]
    script = tmp_path / "use_wheels.py"
    script.write_text(
        "import importlib.util, sys, msgpack\n"
        "ext = '/lib/python3.14/site-packages/awkward_cpp/lib/_ext.cpython-314-wasm32-emscripten.so'\n"
        "spec = importlib.util.spec_from_file_location('_ext', ext)\n"  # awkward_cpp's package needs numpy
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "print(sys.argv[1:], msgpack.unpackb(msgpack.packb({'a': 1})), spec.name)\n"
        "old = '/lib/python3.14/site-packages/librt/internal.cpython-313-wasm32-emscripten.so'\n"
        "spec = importlib.util.spec_from_file_location('internal', old)\n"
        "try:\n    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "except ImportError as exc:\n    print(str(exc).splitlines()[-1])\n"
        "raise ValueError(sys.argv[1])\n")
    expected = plain_pyodide(packages["314.0.7"], wheel_files, [script.name, "5", "x"], cwd=tmp_path)
    assert expected.returncode == 1 and expected.stdout.startswith("['5', 'x'] {'a': 1} _ext\n"), expected.stderr
    assert 'function="_PyLong_NumBits" error: imported function does not match the expected type' in expected.stdout
    assert expected.stderr.endswith("ValueError: 5\n")
    result = dldbg("run", "--node", "--trace=libs", "--pyodide", "314.0.7", *map(str, wheel_files), "--", script.name,
                   "5", "x", cwd=tmp_path)
    assert result.stdout == expected.stdout
    assert result.returncode == expected.returncode
    assert result.stderr.endswith(expected.stderr.splitlines(True)[-1])
    assert "_cmsgpack.cpython-314-wasm32-emscripten.so: loaded, handle 1" in result.stderr
    lib = "/lib/python3.14/site-packages/awkward_cpp/lib/libawkward.so"
    assert f"_ext.cpython-314-wasm32-emscripten.so: NEEDED libawkward.so -> {lib}" in result.stderr
    assert f"libawkward.so: load {lib} [RTLD_NOW|RTLD_LOCAL] needed by _ext.cpython-314-wasm32-emscripten.so" \
        in result.stderr
    failed = next(line for line in result.stderr.splitlines() if "internal.cpython-313" in line and "FAILED" in line)
    assert "load FAILED at imports: " in failed and 'function="_PyLong_NumBits"' in failed


@pytest.mark.parametrize("version", list(CASES))
def test_both_glues_have_every_loader_function_hooked(fetched, version):
    packages, _ = fetched
    glue = open_distribution(packages[version]).glue
    text, hooked, missing = instrument_text(read_glue(str(glue)), str(glue), program_lines=False)
    assert set(hooked) == set(HOOKED) and not missing
    assert text.count("__dldbg.wrap(") == len(HOOKED)  # one rebinding statement each


def test_statement_end_skips_strings_templates_regexps_and_comments():
    src = ("var f=(a)=>{var s=';}';var t=`x${a+`;${'}'}`}`;var r=/[;}]\\/;/g;/* ; } */ // ;\n"
           "return a/2/1;};var g=1;")
    end = statement_end(src, len("var f="))
    assert src[:end].endswith("return a/2/1;};") and src[end:] == "var g=1;"
    assert statement_end("var f=function(){return 1};}rest", 6) == len("var f=function(){return 1};")
    with pytest.raises(GlueError, match="does not end"):
        statement_end("var f=(a)=>{", 6)


async def test_the_tui_steps_pyodides_loader_inside_pythons_import(fetched, monkeypatch):
    """The TUI, unchanged, on the node backend running Python: a breakpoint typed in the command
    bar stops the glue's loader inside `import msgpack`, `n` steps to the next event, the modules
    tree follows, `c` lets Python finish (its status in the output log)."""
    from tuikit import SIZE, new_app, output_text, press, type_line
    from dldbg.linker.node.pyodide import pyodide_engine_factory
    from dldbg.tui.widgets import ModulesTree

    packages, wheels = fetched
    wheel_name, module, code = CASES["314.0.7"]
    dist = open_distribution(packages["314.0.7"])
    app = new_app(str(dist.glue), engine_factory=pyodide_engine_factory(dist, [wheels[wheel_name]], no_cache=True),
                  program_args=["-c", code])
    status = lambda: str(app.query_one("#status-text").render())  # noqa: E731
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        await press(app, pilot, ":")
        await type_line(app, pilot, f"break module.read module={module}")
        await pilot.press("r")  # Pyodide starts (6 s of CPU; more on a loaded machine), Python imports
        await app.settled(pilot, timeout=180)
        assert "PAUSED" in status() and "module.read" in status() and module in status()
        assert f"{module} loading" in str(app.query_one(ModulesTree).root.children[0].label)
        await press(app, pilot, "n")  # the module's static data: the glue's getMemory
        assert "memory.alloc" in status()
        await pilot.press("c")
        await app.settled(pilot, timeout=180)
        assert "program exited with status 0" in output_text(app)
