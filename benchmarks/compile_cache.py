#!/usr/bin/env python3
"""Load time of a large side module: compiled by Cranelift, then served from the compile cache.

    python benchmarks/compile_cache.py [--functions N] [--runs R]

Generates a C side module with N functions (default 4000) and a data table pointing at all of
them, builds it with clang-16/wasm-ld-16 (emcc or zig if clang-16 is missing), then times
dlopen in a fresh engine: once with an empty cache folder (compiles) and R times with the
filled folder (deserialises).  Prints the median of each and their ratio.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dldbg.hosts.standalone import StandaloneHost  # noqa: E402
from dldbg.linker.engine import Engine  # noqa: E402
from dldbg.linker.flags import RTLD_GLOBAL, RTLD_NOW  # noqa: E402


def generate(n: int) -> str:
    funcs = "\n".join(f"int f{i}(int x) {{ return (x * {i + 3}) ^ (x >> {i % 13}) + {i}; }}" for i in range(n))
    table = ", ".join(f"f{i}" for i in range(n))
    return f"{funcs}\nint (*table[])(int) = {{{table}}};\nint call(int i, int x) {{ return table[i % {n}](x); }}\n"


def build(folder: Path, n: int) -> Path:
    src = folder / "big.c"
    src.write_text(generate(n))
    out = folder / "libbig.so"
    if shutil.which("clang-16") and shutil.which("wasm-ld-16"):
        cc = ["clang-16", "--target=wasm32-unknown-emscripten", "-fPIC", "-fvisibility=default", "-O1", "-c", str(src), "-o", str(folder / "big.o")]
        subprocess.run(cc, check=True)
        subprocess.run(["wasm-ld-16", "--experimental-pic", "-shared", str(folder / "big.o"), "-o", str(out)], check=True)
    else:
        subprocess.run(["emcc", "-O1", "-sSIDE_MODULE=1", str(src), "-o", str(out)], check=True)
    return out


def load_seconds(path: Path, cache: Path) -> tuple[float, str]:
    engine = Engine(StandaloneHost(), cache_dir=str(cache))
    sources = []
    engine.listeners.append(lambda e: sources.append(e.source) if e.kind == "module.compile" else None)
    began = time.perf_counter()
    handle = engine.dlopen(str(path), RTLD_NOW | RTLD_GLOBAL)
    elapsed = time.perf_counter() - began
    assert engine.call("call", [7, 2]) == engine.call(engine.dlsym(handle, "f7"), [2])
    return elapsed, sources[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--functions", type=int, default=4000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        module = build(folder, args.functions)
        cold = []
        for run in range(args.runs):
            cache = folder / f"cache-cold-{run}"
            seconds, source = load_seconds(module, cache)
            assert source == "compiled", source
            cold.append(seconds)
        warm = []
        for _ in range(args.runs):
            seconds, source = load_seconds(module, folder / "cache-cold-0")
            assert source == "disk-cache", source
            warm.append(seconds)
    size = module.stat().st_size if module.exists() else 0
    print(f"module: {args.functions} functions")
    print(f"dlopen, compiling:        median {statistics.median(cold):.3f} s  (min {min(cold):.3f}, max {max(cold):.3f})")
    print(f"dlopen, from the cache:   median {statistics.median(warm):.3f} s  (min {min(warm):.3f}, max {max(warm):.3f})")
    print(f"speed-up: {statistics.median(cold) / statistics.median(warm):.1f}x")
    del size
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
