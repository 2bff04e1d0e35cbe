"""The Pyodide host and `dldbg check` on real Pyodide (npm pyodide@314.0.7) and real wheels.

Inputs are fetched once into .cache/ by tests/pyodide/inputs.py; the expected results in
tests/pyodide/expected.json were recorded from real Pyodide under node by tests/pyodide/record.py.
The first run translates the main's legacy exception handling and compiles it (about two
minutes on two cores); later runs find both in dldbg's caches (a few seconds).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from dldbg.check import Checker
from dldbg.cli import main as cli_main
from dldbg.hosts.pyodide import PyodideHost, open_distribution, open_inputs
from dldbg.linker.engine import Engine

from catalogue import ROOT, fetch_pyodide, pyodide_inputs

HERE = Path(__file__).resolve().parent
EXPECTED = json.loads((HERE / "pyodide" / "expected.json").read_text())



@pytest.fixture(scope="module")
def fetched():
    packages, wheels = fetch_pyodide(["314.0.7"])
    return packages["314.0.7"], wheels


@pytest.fixture(scope="module")
def pyodide(fetched, tmp_path_factory):
    """One engine with Pyodide 314's main loaded, and every wheel's libraries loaded into it as
    loadDynlib loads them (each on its own: a failure rolls back)."""
    package, wheels = fetched
    dist = open_distribution(package)
    inputs = open_inputs([str(p) for p in wheels.values()], dist, tmp_path_factory.mktemp("wheels"))
    host = PyodideHost(dist, inputs)
    engine = Engine(host)
    events: list = []
    engine.listeners.append(events.append)
    host.load_main()
    reports = Checker(host, engine).check(inputs)
    return host, engine, inputs, reports, events


def _symbol(error: str) -> str | None:
    """The symbol a Pyodide (V8 / emscripten) error names."""
    for pattern in (r'function="([^"]+)"', r"undefined symbol '([^']+)'", r"cannot resolve symbol (\S+)"):
        match = re.search(pattern, error)
        if match:
            return match.group(1)
    return None


def test_every_library_links_or_fails_as_pyodide_does(pyodide):
    _host, _engine, inputs, reports, _events = pyodide
    recorded = EXPECTED["314.0.7"]["wheels"]
    by_key = {(Path(r.input).name, r.member): r for r in reports}
    assert set(by_key) == {(w, m) for w, rec in recorded.items() for m in rec["libraries"]}
    for (wheel, member), report in by_key.items():
        want = recorded[wheel]["libraries"][member]
        assert report.linked == want["linked"], (wheel, member, report.error, want)
        if not want["linked"]:
            symbol = _symbol(want["error"])
            assert symbol and symbol in report.error, (report.error, want["error"])
            assert any(p.symbol == symbol for p in report.problems)


def test_installer_order_and_skipped_libraries_match_pyodide(pyodide):
    _host, _engine, inputs, _reports, _events = pyodide
    recorded = EXPECTED["314.0.7"]["wheels"]
    for item in inputs.items:
        loads = [lib.member for lib in item.libraries if lib.pyodide_loads]
        assert loads == recorded[Path(item.source).name]["installer_loads"]


def test_cp314_wheels_check_clean_and_cp313_librt_explains_its_abi(pyodide):
    _host, _engine, _inputs, reports, _events = pyodide
    for report in reports:
        if "cp314" in report.input:
            assert report.ok, (report.member, report.error, [p.message for p in report.problems])
            assert not report.problems
        else:
            assert not report.ok
            kinds = {p.kind for p in report.input_problems}
            assert kinds == {"abi"}
            assert any("cp313" in p.message and "cp314" in p.message for p in report.input_problems)
            assert any(p.kind == "abi" and "does not load it" in p.message for p in report.problems)
    signature = [p for r in reports for p in r.problems if p.kind == "signature"]
    assert {p.symbol for p in signature} == {"_PyLong_NumBits"}
    assert {(p.details["imported"], p.details["exported"]) for p in signature} == {("(i32) -> (i32)", "(i32) -> (i64)")}


def test_cpp_wheels_translated_and_their_libraries_stay_local(pyodide):
    host, engine, _inputs, _reports, events = pyodide
    translated = {Path(e.path).name for e in events if e.kind == "module.translate"}
    assert {"pyodide.asm.wasm", "_core.cpython-314-wasm32-emscripten.so", "libawkward.so"} <= translated
    ext = engine.module_named("_ext.cpython-314-wasm32-emscripten.so")
    lib = engine.module_named("libawkward.so")
    assert ext.deps == [lib] and not lib.is_global and not ext.is_global
    assert engine.global_scope.lookup("PyInit__ext") is None  # RTLD_LOCAL: not visible to others
    # C++ exceptions: the side modules throw and catch with the main's own tag, not a copy
    tags = {(e.module, e.field): e.provider for e in events if e.kind == "import.resolve" and e.import_kind == "tag"}
    assert tags[("_core.cpython-314-wasm32-emscripten.so", "__cpp_exception")] == "pyodide.asm.wasm"
    assert tags[("libawkward.so", "__cpp_exception")] == "pyodide.asm.wasm"
    needed = [e for e in events if e.kind == "needed.resolved" and e.name == "libawkward.so"]
    assert needed and needed[0].path.endswith("awkward_cpp/lib/libawkward.so")  # RUNTIME_PATH $ORIGIN


def test_js_function_stub_names_the_function(pyodide):
    _host, engine, *_ = pyodide
    from dldbg.errors import CallError

    assert engine.global_scope.lookup("emscripten_asm_const_int").module == "Pyodide JS glue"
    # the main's GOT.func entries for JavaScript functions get slots after the main's elements
    # (which fill [1, 8733)), not slots the element segment then overwrites
    slot = engine.got.value("emscripten_glBindVertexArrayOES")
    assert slot >= 8733 and engine.table.key_by_slot[slot] == ("host", "emscripten_glBindVertexArrayOES")
    assert engine.table.key_by_slot[1][0] == "module"
    with pytest.raises(CallError) as info:
        engine.call("emscripten_asm_const_int", [0, 0, 0])
    assert "JavaScript function env.emscripten_asm_const_int is not available" in str(info.value)


def test_check_cli_json_exit_status(fetched, capsys, monkeypatch):
    import gc

    from dldbg import cli

    package, wheels = fetched
    good = str(wheels["msgpack-1.2.4-cp314-cp314-pyemscripten_2026_0_wasm32.whl"])
    # in the dldbg process, `check` freezes what it made before the process ends (the exit's
    # collections would walk the loaded main: 50 ms)
    freezes = []
    monkeypatch.setattr(cli, "_OWN_PROCESS", True)
    monkeypatch.setattr(gc, "freeze", lambda: freezes.append(1))
    assert cli_main(["check", "--pyodide", str(package), "--json", good]) == 0
    assert freezes == [1]
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["file"], r["ok"], r["linked"]) for r in rows] == [("msgpack/_cmsgpack.cpython-314-wasm32-emscripten.so", True, True)]


def test_run_pyodide_loads_a_wheel_and_fails_in_one_line(fetched, tmp_path, capsys):
    package, wheels = fetched
    awkward = str(wheels["awkward_cpp-57-cp314-cp314-pyemscripten_2026_0_wasm32.whl"])
    assert cli_main(["run", "--pyodide", str(package), awkward]) == 0
    assert "loaded 3 libraries of" in capsys.readouterr().out
    import zipfile

    with zipfile.ZipFile(wheels["librt-0.16.0-cp313-cp313-pyemscripten_2025_0_wasm32.whl"]) as zf:
        zf.extract("librt/internal.cpython-313-wasm32-emscripten.so", tmp_path)
    assert cli_main(["run", "--pyodide", str(package), str(tmp_path / "librt/internal.cpython-313-wasm32-emscripten.so")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("dldbg: error: Failed to load dynamic library ")
    assert "signature mismatch for env._PyLong_NumBits" in err[0]


def test_run_pyodide_shows_progress_on_a_terminal(fetched, tmp_path, monkeypatch):
    """`dldbg run --pyodide` gets the progress line of the main's translation and compile (an
    empty folder: the main alone); it had none, so a first run sat silent for minutes."""
    import io

    import dldbg.progress

    package, _wheels = fetched
    seen = []

    class Recording(dldbg.progress.ProgressLine):
        def __call__(self, event):
            seen.append(event.kind)
            super().__call__(event)

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(dldbg.progress, "ProgressLine", Recording)
    (tmp_path / "empty").mkdir()
    out = io.StringIO()
    assert cli_main(["run", "--pyodide", str(package), str(tmp_path / "empty")], stdout=out, stderr=Terminal()) == 0
    assert "loaded 0 libraries" in out.getvalue()
    assert "module.read" in seen and "module.compile" in seen


def test_check_reports_elf_and_missing_needed_with_provider(fetched, tmp_path, capsys):
    package, wheels = fetched
    folder = tmp_path / "pkg"
    (folder / "pkg").mkdir(parents=True)
    elf = Path(sys.executable).resolve()
    shutil.copy(elf, folder / "pkg" / "_native.cpython-314-wasm32-emscripten.so")
    # a real side module whose dylink.0 gets a NEEDED entry for a library the distribution has
    time_so = tmp_path / "time.so"
    import zipfile

    with zipfile.ZipFile(wheels["librt-0.16.0-cp314-cp314-pyemscripten_2026_0_wasm32.whl"]) as zf:
        time_so.write_bytes(zf.read("librt/time.cpython-314-wasm32-emscripten.so"))
    (folder / "pkg" / "_geo.cpython-314-wasm32-emscripten.so").write_bytes(_with_needed(time_so.read_bytes(), "libgeos_c.so"))
    status = cli_main(["check", "--pyodide", str(package), str(folder)])
    out = capsys.readouterr().out
    assert status == 1
    assert "_native.cpython-314-wasm32-emscripten.so: FAILS to load" in out
    assert "an ELF shared object" in out
    assert "NEEDED library libgeos_c.so (of _geo.cpython-314-wasm32-emscripten.so) not found; the distribution " \
           "package libgeos (libgeos-3.12.1.zip) provides it" in out


def _with_needed(data: bytes, needed: str) -> bytes:
    """`data` (a side module with dylink.0 first) with a WASM_DYLINK_NEEDED subsection added."""
    from dldbg.wasm.binary import Cursor, encode_custom_section, encode_name, encode_uleb

    cur = Cursor(data, 8, len(data))
    assert cur.u8() == 0
    size = cur.uleb()
    end = cur.pos + size
    name_len = cur.uleb()
    payload_start = cur.pos + name_len
    body = data[payload_start:end]
    needed_sub = bytes([2]) + encode_uleb(len(encode_uleb(1) + encode_name(needed))) + encode_uleb(1) + encode_name(needed)
    return data[:8] + encode_custom_section("dylink.0", body + needed_sub) + data[end:]


def test_pyodide_0_29_relocatable_main_links_as_recorded(fetched, tmp_path):
    """Pyodide 0.29.3 (Python 3.13, emscripten 4.0.9): a relocatable main that imports its memory
    and table, its layout from the glue; the cp313 librt links, the cp314 one fails as there."""
    _package, wheels = fetched
    dist = open_distribution(pyodide_inputs().ensure_pyodide("0.29.3"))
    recorded = EXPECTED["0.29.3"]["wheels"]
    inputs = open_inputs([str(wheels[name]) for name in recorded], dist, tmp_path)
    host = PyodideHost(dist, inputs)
    engine = Engine(host)
    main = host.load_main()
    assert (main.memory_base, main.table_base) == (1024, 1)
    for report in Checker(host, engine).check(inputs):
        want = recorded[Path(report.input).name]["libraries"][report.member]
        assert report.linked == want["linked"], (report.member, report.error)
        assert report.ok == ("cp313" in report.input)
        if not want["linked"]:
            assert _symbol(want["error"]) in report.error


async def test_tui_steps_a_failing_load_into_pyodides_main_to_its_why(fetched, tmp_path, monkeypatch):
    """The TUI on Pyodide: `n` steps stage by stage through the main's load into the cp313
    module's, which fails at its imports; `why` names the symbol and both types."""
    import zipfile

    from tuikit import SIZE, make_session, screen_text
    from dldbg.hosts.pyodide import program_host
    from dldbg.linker.cache import default_cache_dir
    from dldbg.tui.app import make_app

    package, wheels = fetched
    monkeypatch.chdir(ROOT)
    with zipfile.ZipFile(wheels["librt-0.16.0-cp313-cp313-pyemscripten_2025_0_wasm32.whl"]) as zf:
        zf.extract("librt/internal.cpython-313-wasm32-emscripten.so", tmp_path)
    so = tmp_path / "librt" / "internal.cpython-313-wasm32-emscripten.so"
    dist = open_distribution(package)
    session = make_session(str(so), cache_dir=default_cache_dir(),
                           program_host=program_host(dist, open_inputs([str(so)], dist, tmp_path / "work")))
    app = make_app(session, cursor_blink=False, cwd=str(ROOT))

    def status() -> str:
        return str(app.query_one("#status-text").render())

    async def press(app, pilot, key: str) -> None:  # the main's stages take seconds, not milliseconds
        await pilot.press(key)
        await app.settled(pilot, timeout=180)

    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        assert "Pyodide's main, then this input" in status()
        await press(app, pilot, "n")
        assert "event #0 load.start" in status() and "pyodide.asm.wasm" in status()
        seen = []
        for _ in range(40):  # the main's stages, to its load.done
            await press(app, pilot, "n")
            seen.append(status())
            if "load.done" in status():
                break
        assert any("pyodide.asm.wasm" in s and "ctor.call" in s for s in seen), seen
        await press(app, pilot, "s")  # into the module's load
        assert "PAUSED" in status() and "internal.cpython-313-wasm32-emscripten.so" in status()
        for _ in range(40):
            await press(app, pilot, "n")
            if "LOAD FAILED" in status():
                break
        assert "LOAD FAILED" in status() and "_PyLong_NumBits" in status()
        text = screen_text(app)
        assert "_PyLong_NumBits: wanted by" in text or "_PyLong_NumBits" in text
        await press(app, pilot, "q")


def test_docs_sessions_are_current(fetched):
    """docs/pyodide.md's sessions and check report are real output (scripts/gen-pyodide-doc.py)."""
    import subprocess

    result = subprocess.run([sys.executable, str(HERE.parent / "scripts" / "gen-pyodide-doc.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
