"""Compiler tiers (dldbg.linker.tiers): a program without cached code starts on Winch, every
module Winch compiled is queued, the tier-up compiles the queue with Cranelift into the cache,
and the next run starts on Cranelift code; both tiers give the program the same results."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

from sessionkit import sample
from dldbg.cli import main
from dldbg.hosts.programs import ProgramOptions
from dldbg.hosts.emscripten import EmscriptenHost
from dldbg.hosts.standalone import StandaloneHost
from dldbg.linker.cache import CompileCache
from dldbg.linker.engine import Engine, make_config
from dldbg.linker.tiers import TIER_UP_FOLDER, choose_tier, tier_up
from dldbg.wasm.reader import read_module_file


def _cranelift_cache(folder: Path) -> CompileCache:
    return CompileCache(None, make_config("cranelift")[1], str(folder))


def test_auto_starts_on_winch_and_the_tier_up_makes_the_next_run_cranelift(tmp_path):
    path = sample("clang16", "reloc", "libreloc.so")
    data = Path(path).read_bytes()
    wasm = read_module_file(path)
    assert choose_tier("auto", wasm, data, _cranelift_cache(tmp_path)) == "winch"
    assert choose_tier("auto", wasm, data, None) == "cranelift"  # no cache folder to tier up into

    winch = Engine(StandaloneHost(), cache_dir=str(tmp_path), tier="winch")
    winch.load_startup([path])
    cranelift = Engine(StandaloneHost(), cache_dir=None)
    cranelift.load_startup([path])
    assert winch.call("get_ctor_state", []) == cranelift.call("get_ctor_state", [])
    queue = tmp_path / "compiled" / TIER_UP_FOLDER
    queued = sorted(p.name for p in queue.glob("*.wasm"))
    assert hashlib.sha256(data).hexdigest() + ".wasm" in queued  # and its NEEDED library's
    assert len(queued) == 2

    assert tier_up(str(tmp_path / "compiled")) == 2
    assert not list(queue.glob("*.wasm"))
    assert choose_tier("auto", wasm, data, _cranelift_cache(tmp_path)) == "cranelift"
    events = []
    warm = Engine(StandaloneHost(), cache_dir=str(tmp_path))
    warm.listeners.append(events.append)
    warm.load_startup([path])
    assert {e.source for e in events if e.kind == "module.compile"} == {"disk-cache"}


def test_a_program_runs_the_same_on_both_tiers(tmp_path, capfd):
    path = sample("emcc", "em_cxx", "main.wasm")
    outputs = {}
    for tier in ("winch", "cranelift"):
        engine = Engine(EmscriptenHost(ProgramOptions()), cache_dir=str(tmp_path), tier=tier)
        status = engine.host.run(engine, path, [path])
        outputs[tier] = (status, capfd.readouterr().out)
    assert outputs["winch"] == outputs["cranelift"]
    assert "main caught its own 100" in outputs["winch"][1]


def test_run_tier_option(tmp_path, monkeypatch):
    monkeypatch.setenv("DLDBG_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("DLDBG_NO_TIER_UP", "1")
    path = sample("clang16", "reloc", "libreloc.so")
    for tier in ("auto", "winch", "cranelift"):
        out = io.StringIO()
        assert main(["run", f"--tier={tier}", path, "--invoke", "get_ctor_state"], stdout=out, stderr=io.StringIO()) == 0
        assert out.getvalue().strip()
    assert os.listdir(tmp_path / "compiled" / TIER_UP_FOLDER)  # auto and winch queued, nothing spawned
    assert main(["run", "--tier=fast", path], stdout=io.StringIO(), stderr=io.StringIO()) == 2


def test_a_changed_library_of_the_last_run_starts_the_next_on_winch(tmp_path, monkeypatch):
    """Rebuilding a library the program loads must not cost a Cranelift compile of it: the
    run's record names the modules it loaded, and a changed one sends `auto` to Winch."""
    import shutil

    from dldbg.linker.tiers import record_run

    folder = tmp_path / "prog"
    shutil.copytree(Path(sample("clang16", "reloc", "libreloc.so")).parent, folder)
    main_path, dep = folder / "libreloc.so", folder / "libreloc_dep.so"
    cache_dir = tmp_path / "cache"
    engine = Engine(StandaloneHost(), cache_dir=str(cache_dir))  # Cranelift code of both
    engine.load_startup([str(main_path)])
    shas = {Path(m.path).name: m.sha256 for m in engine.modules}
    record_run(str(cache_dir / "compiled"), str(main_path),
               [(m.path, shas[Path(m.path).name], m.sha256) for m in engine.modules])
    data = main_path.read_bytes()
    wasm = read_module_file(str(main_path))
    assert choose_tier("auto", wasm, data, _cranelift_cache(cache_dir), str(main_path)) == "cranelift"
    dep.write_bytes(dep.read_bytes() + b"\0\x04\x03end")  # rebuilt: a new custom section
    assert choose_tier("auto", wasm, data, _cranelift_cache(cache_dir), str(main_path)) == "winch"
