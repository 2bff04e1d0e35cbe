"""The compile cache learns how fast this machine compiles, so that a long compile can show
its progress: the speed comes from real compiles of modules big enough to measure, is kept
beside the cached machine code for later sessions, and `module.read` carries the estimate
(0.0 when the machine code is cached)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import wasmtime

from sessionkit import sample
from dldbg.hosts.standalone import StandaloneHost
from dldbg.linker.cache import SPEED_MIN_BYTES, CompileCache
from dldbg.linker.engine import Engine


def test_speed_is_learned_from_a_real_compile_and_kept_for_later_sessions(tmp_path):
    data = Path(sample("emcc", "em_cxx", "main.wasm")).read_bytes()
    assert len(data) >= SPEED_MIN_BYTES
    sha = hashlib.sha256(data).hexdigest()
    cache = CompileCache(wasmtime.Engine(), "settings", str(tmp_path))
    assert cache.speed is None and cache.expected_seconds(len(data), sha) is None

    _module, source, seconds = cache.get(data, sha)
    assert source == "compiled"
    assert cache.speed == pytest.approx(len(data) / seconds, rel=0.25)
    assert cache.expected_seconds(len(data), sha) == 0.0  # cached now

    later = CompileCache(wasmtime.Engine(), "settings", str(tmp_path))
    assert later.speed == pytest.approx(cache.speed, rel=0.01)
    assert later.expected_seconds(len(data), sha) == 0.0  # on disk
    assert later.expected_seconds(3 * len(data), "0" * 64) == pytest.approx(3 * len(data) / later.speed)
    # other engine settings compile at their own speed
    assert CompileCache(wasmtime.Engine(), "other settings", str(tmp_path)).speed is None


def test_small_modules_teach_nothing_and_module_read_carries_the_estimate(tmp_path):
    path = sample("clang16", "reloc", "libreloc.so")
    assert Path(path).stat().st_size < SPEED_MIN_BYTES

    def reads(engine):
        events = []
        engine.listeners.append(events.append)
        engine.dlopen(path)
        return {e.module: e.compile_estimate for e in events if e.kind == "module.read"}

    first = Engine(StandaloneHost(), cache_dir=str(tmp_path))
    assert reads(first) == {"libreloc.so": None, "libreloc_dep.so": None}
    assert first.cache.speed is None
    second = Engine(StandaloneHost(), cache_dir=str(tmp_path))
    assert reads(second) == {"libreloc.so": 0.0, "libreloc_dep.so": 0.0}


def test_the_exception_handling_scan_is_remembered_by_the_cache(tmp_path, monkeypatch):
    """The EH scan walks every function body; a second session reads its result from the cache
    folder instead (the same answer, no walk)."""
    from dldbg.wasm import reader

    walks = []
    real_scan = reader.scan_module
    monkeypatch.setattr(reader, "scan_module", lambda wasm, raw: walks.append(wasm.path) or real_scan(wasm, raw))
    path = sample("clang16", "reloc", "libreloc.so")
    encodings = []
    for _ in range(2):
        engine = Engine(StandaloneHost(), cache_dir=str(tmp_path))
        events = []
        engine.listeners.append(events.append)
        engine.dlopen(path)
        encodings.append([e.eh_encoding for e in events if e.kind == "module.read"])
    assert len(walks) == 2  # libreloc.so and its NEEDED library, in the first session only
    assert encodings[0] == encodings[1] == ["none", "none"]
