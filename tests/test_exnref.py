"""Legacy exception handling loads: binaryen's `wasm-opt --translate-to-exnref` converts a module
(dldbg.linker.exnref), keeping dylink.0 (first, same bytes) and the name section; the result is
cached by the input's SHA-256; the engine emits `module.translate`; where no binaryen can be had
the error says so and how to get one.

The modules are the em_wasm_eh sample (emscripten 3.1.6, -fwasm-exceptions: legacy encoding);
that the program prints what node prints is checked in test_emscripten_samples.py.  binaryen is
a wasm-opt >= 119 on PATH, else npm binaryen@132.0.0 under node, fetched once into .cache/npm.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from catalogue import OUT
from dldbg.errors import BinaryenUnavailable, LoadError
from dldbg.hosts.emscripten import EmscriptenHost
from dldbg.hosts.programs import ProgramOptions
from dldbg.hosts.standalone import StandaloneHost
from dldbg.linker.engine import Engine
from dldbg.trace import describe
from dldbg.linker import exnref
from dldbg.linker.exnref import BINARYEN_NPM, MIN_VERSION, find_wasm_opt, translate
from dldbg.wasm.reader import read_module, read_module_file

EH_SAMPLE = OUT / "emcc" / "em_wasm_eh"


@pytest.fixture(scope="module")
def wasm_opt():
    try:
        return find_wasm_opt()
    except BinaryenUnavailable as exc:
        pytest.fail(f"no binaryen for the tests: {exc}")


def test_translation_keeps_dylink_and_names_and_is_cached(wasm_opt, tmp_path, monkeypatch):
    data = (EH_SAMPLE / "libeh_thrower.so").read_bytes()
    before = read_module(data)
    monkeypatch.setattr(exnref, "_memory", {})  # not what an earlier test translated in this process
    first = translate(data, "libeh_thrower.so", str(tmp_path))
    assert not first.cached
    after = read_module(first.data)
    assert after.eh.encoding == "exnref" and before.eh.encoding == "legacy"
    assert after.dylink_first and after.sections[0].name == "dylink.0"
    payload = {c.name: c.payload for c in before.customs}
    assert {c.name: c.payload for c in after.customs}["dylink.0"] == payload["dylink.0"]
    assert after.names.functions == before.names.functions and before.names.functions
    assert [(e.name, e.kind) for e in after.exports] == [(e.name, e.kind) for e in before.exports]
    assert sorted((i.module, i.field, i.kind) for i in after.imports) == sorted(
        (i.module, i.field, i.kind) for i in before.imports)
    assert f"version {wasm_opt.version}" in first.tool and wasm_opt.version >= MIN_VERSION
    stored = list((tmp_path / "exnref").iterdir())
    assert [p.name for p in stored] == [f"{__import__('hashlib').sha256(data).hexdigest()}-binaryen{wasm_opt.version}.wasm"]
    assert stored[0].read_bytes() == first.data
    again = translate(data, "libeh_thrower.so", str(tmp_path))
    assert again.cached and again.data == first.data
    exnref._memory.clear()  # a new process: from the disk cache
    from_disk = translate(data, "libeh_thrower.so", str(tmp_path))
    assert from_disk.cached and from_disk.data == first.data
    other = tmp_path / "other"  # a translation known in memory is written to a cache folder that lacks it
    assert translate(data, "libeh_thrower.so", str(other)).cached
    assert (other / "exnref" / stored[0].name).read_bytes() == first.data


def test_engine_translates_main_and_side_module_and_says_so(wasm_opt):
    out, err = io.BytesIO(), io.BytesIO()
    host = EmscriptenHost(ProgramOptions(), stdout=out, stderr=err)
    engine = Engine(host, cache_dir=None)
    events = []
    engine.listeners.append(events.append)
    main = str(EH_SAMPLE / "main.wasm")
    assert host.run(engine, main, [main]) == 0
    assert "side_catch -> 401" in out.getvalue().decode()
    for name in ("main.wasm", "libeh_thrower.so"):
        kinds = [e.kind for e in events if e.module == name and e.stage == "read"]
        assert kinds[:4] == ["load.start", "module.read", "module.translate", "module.compile"], kinds
        read = next(e for e in events if e.module == name and e.kind == "module.read")
        translated = next(e for e in events if e.module == name and e.kind == "module.translate")
        assert read.eh_encoding == "legacy" and read.size == os.path.getsize(EH_SAMPLE / name)
        assert (translated.from_encoding, translated.to_encoding) == ("legacy", "exnref")
        assert translated.tool == wasm_opt.description
        assert describe(translated).startswith(f"dldbg[libs]: {name}: exception handling legacy -> exnref ")
        mod = engine.module_named(name)
        assert mod.sha256 == translated.sha256 and mod.wasm.eh.encoding == "exnref"
        assert mod.wasm.dylink.to_json() == read_module_file(EH_SAMPLE / name).dylink.to_json()


def _no_binaryen_env(tmp_path) -> dict:
    """PATH with no node, no npm and only an old wasm-opt (if the machine has one), and an
    empty npm cache folder."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    old = "/usr/bin/wasm-opt"
    if os.path.exists(old):
        (bin_dir / "wasm-opt").symlink_to(old)
    return {**os.environ, "PATH": str(bin_dir), "DLDBG_NPM_DIR": str(tmp_path / "npm"),
            "DLDBG_CACHE_DIR": str(tmp_path / "cache")}


def test_no_binaryen_says_how_to_get_one(tmp_path, monkeypatch):
    env = _no_binaryen_env(tmp_path)
    for key in ("PATH", "DLDBG_NPM_DIR"):
        monkeypatch.setenv(key, env[key])
    with pytest.raises(BinaryenUnavailable) as info:
        find_wasm_opt()
    message = str(info.value)
    assert message.startswith(f"no binaryen {MIN_VERSION} or newer for `wasm-opt --translate-to-exnref`: ")
    assert "no node to run npm " + BINARYEN_NPM in message
    assert "Install node and npm" in message and f"wasm-opt of binaryen >= {MIN_VERSION} on PATH" in message
    if (tmp_path / "bin" / "wasm-opt").exists():
        assert f"older than {MIN_VERSION}" in message
    # the engine: a LoadError of the read stage naming the legacy instruction, nothing left loaded
    engine = Engine(StandaloneHost(), cache_dir=None)
    events = []
    engine.listeners.append(events.append)
    with pytest.raises(LoadError) as load:
        engine.load_startup([str(EH_SAMPLE / "libeh_thrower.so")])
    assert load.value.stage == "read" and isinstance(load.value.__cause__, BinaryenUnavailable)
    assert "legacy exception handling (first try at byte offset 0x" in load.value.reason
    assert not engine.modules
    assert [e.kind for e in events][-1] == "load.fail" and "module.translate" not in {e.kind for e in events}


def test_no_binaryen_command_line(tmp_path):
    """One line, exit status 1 (an emscripten main's host reports it as node would: `Error: ...`)."""
    lib = EH_SAMPLE / "libeh_thrower.so"
    proc = subprocess.run([sys.executable, "-m", "dldbg", "run", str(lib)],
                          env=_no_binaryen_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"dldbg: error: {lib}: read: legacy exception handling (first try at byte offset 0x302) must be translated")
    assert f"no binaryen {MIN_VERSION} or newer for `wasm-opt --translate-to-exnref`" in lines[0]
    assert "Install node and npm" in lines[0]


def test_a_new_enough_wasm_opt_on_path_is_used(wasm_opt, tmp_path, monkeypatch):
    """A `wasm-opt` on PATH of binaryen >= 119 comes first (here: a script running the one found)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "wasm-opt"
    shim.write_text("#!/bin/sh\nexec " + " ".join(f"'{part}'" for part in wasm_opt.command) + ' "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(exnref, "_memory", {})
    tool = find_wasm_opt()
    assert tool.command == (str(shim),) and tool.version == wasm_opt.version
    result = translate((EH_SAMPLE / "libeh_thrower.so").read_bytes(), "libeh_thrower.so", None)
    assert not result.cached and result.tool == f"wasm-opt version {wasm_opt.version} ({shim})"
    assert read_module(result.data).eh.encoding == "exnref"
