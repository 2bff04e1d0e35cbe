"""Compiles on worker threads (CompileCache.start, Engine.precompile): `dldbg run` starts
compiling the program's main before the host sets up, and the libraries its last run loaded
before the program asks for them; each module is still compiled once, its load takes that
compile (or its error), and the machine code reaches the cache and the tier-up queue before
the run ends.  Counted, never timed."""

from __future__ import annotations

import hashlib
import io
import shutil
import threading
from pathlib import Path

import pytest
import wasmtime

from sessionkit import sample
from dldbg.cli import main
from dldbg.linker.cache import CompileCache
from dldbg.linker.engine import make_config
from dldbg.linker.tiers import TIER_UP_FOLDER


@pytest.fixture
def compiles(monkeypatch):
    """(thread name, module size) of every wasmtime compile from here on."""
    seen: list[tuple[str, int]] = []

    class Counting(wasmtime.Module):
        def __init__(self, engine, wasm):
            seen.append((threading.current_thread().name, len(wasm)))
            super().__init__(engine, wasm)

    monkeypatch.setattr(wasmtime, "Module", Counting)
    return seen


def _run(path: Path, cache: Path, monkeypatch) -> None:
    monkeypatch.setenv("DLDBG_CACHE_DIR", str(cache))
    monkeypatch.setenv("DLDBG_NO_TIER_UP", "1")
    out = io.StringIO()
    assert main(["run", str(path), "--invoke", "get_ctor_state"], stdout=out, stderr=io.StringIO()) == 0
    assert out.getvalue().strip()


def test_run_compiles_the_main_on_a_worker_once_and_caches_it(tmp_path, monkeypatch, compiles):
    folder = tmp_path / "prog"
    shutil.copytree(Path(sample("clang16", "reloc", "libreloc.so")).parent, folder)
    main_path, dep = folder / "libreloc.so", folder / "libreloc_dep.so"
    _run(main_path, tmp_path / "cache", monkeypatch)
    sizes = {main_path.stat().st_size, dep.stat().st_size}
    assert ("dldbg-compile", main_path.stat().st_size) in compiles
    assert sorted(size for _thread, size in compiles if size in sizes) == sorted(sizes)  # each once
    compiled = tmp_path / "cache" / "compiled"
    queued = {p.name for p in (compiled / TIER_UP_FOLDER).glob("*.wasm")}
    assert hashlib.sha256(main_path.read_bytes()).hexdigest() + ".wasm" in queued  # written before the run ended

    # the next run: everything cached, nothing compiled, nothing started
    compiles.clear()
    _run(main_path, tmp_path / "cache", monkeypatch)
    assert not [c for c in compiles if c[1] in sizes]

    # a rebuilt NEEDED library of the last run compiles on a worker too, once
    dep.write_bytes(dep.read_bytes() + b"\0\x04\x03new")
    _run(main_path, tmp_path / "cache", monkeypatch)
    assert [c for c in compiles if c[1] in sizes | {dep.stat().st_size}] == [("dldbg-compile", dep.stat().st_size)]


def test_a_worker_compile_error_is_the_load_error(tmp_path):
    cache = CompileCache(wasmtime.Engine(make_config("winch")[0]), make_config("winch")[1], str(tmp_path))
    bad = b"\0asm\x01\0\0\0\x01\x01"  # a type section that ends early
    sha = hashlib.sha256(bad).hexdigest()
    assert cache.start(bad, sha)
    assert not cache.start(bad, sha)  # one compile of it at a time
    with pytest.raises(wasmtime.WasmtimeError):
        cache.get(bad, sha)
    cache.wait()
    assert not cache.has(sha)


def test_winch_engines_compile_their_trampolines_without_cranelift_optimisations():
    """A Winch engine compiles the host-call trampolines (one per exported or table function)
    with Cranelift: at opt level none (part of the cache key), a Cranelift engine optimises."""
    assert "cranelift_opt_level=none" in make_config("winch")[1].split(";")
    assert "cranelift_opt_level" not in make_config("cranelift")[1]


def test_nothing_starts_under_a_host_that_adapts_modules_or_for_cached_code(tmp_path):
    """The WASI host may add a `memory` export before compiling (`prepare`): the bytes compiled
    are not the file's, so no compile starts from the file; nor for code already cached."""
    from dldbg.hosts.standalone import StandaloneHost
    from dldbg.hosts.wasi import WasiHost
    from dldbg.linker.engine import Engine

    path = sample("clang16", "reloc", "libreloc.so")
    assert not Engine(WasiHost(), cache_dir=str(tmp_path)).precompile(path)
    engine = Engine(StandaloneHost(), cache_dir=str(tmp_path))
    assert engine.precompile(path)
    engine.load_startup([path])
    engine.cache.wait()
    assert not Engine(StandaloneHost(), cache_dir=str(tmp_path)).precompile(path)


def test_a_failed_cache_write_on_the_worker_is_silent(tmp_path, monkeypatch):
    """Writing the machine code is the worker's last step: if it fails, the compile still
    served its load, and no thread prints a traceback."""
    data = Path(sample("clang16", "reloc", "libreloc.so")).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    cache = CompileCache(wasmtime.Engine(), "settings", str(tmp_path))

    def broken(*_args):
        raise ValueError("serialisation failed")

    monkeypatch.setattr(cache, "_keep", broken)
    uncaught = []
    monkeypatch.setattr(threading, "excepthook", uncaught.append)  # what would print the traceback
    assert cache.start(data, sha)
    module, source, _seconds = cache.get(data, sha)
    cache.wait()
    assert source == "compiled" and isinstance(module, wasmtime.Module)
    assert not uncaught
