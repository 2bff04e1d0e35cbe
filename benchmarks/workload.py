#!/usr/bin/env python3
"""A real workload: SQLite as an emscripten side module, dlopen()ed by a MAIN_MODULE program
that works with it, run by `dldbg run` and by node with emscripten's own loader.

    python benchmarks/workload.py [--repeats R] [--rows N]

The first run builds into .cache/bench/sqlite/ (a few minutes): SQLite's amalgamation
(`deps/sqlite3/sqlite3.c` of the npm package better-sqlite3 12.11.1, fetched with `npm pack`)
compiled by emcc 3.1.6 `-O2 -sSIDE_MODULE=1` (about 1 MB of wasm), and
benchmarks/workload/sqlite_main.c linked `-sMAIN_MODULE=1` (compiled `-O2`, linked `-O0`
because Debian's emscripten lacks the JS optimizer's acorn).  The program inserts N rows
(default 20000) through a prepared statement, builds an index and runs grouped aggregates, a
join, a LIKE scan and a sort; node and dldbg must print the same lines.

Variants, interleaved:
  node          `node --no-experimental-fetch main.js libsqlite3.so N`
  dldbg warm    `dldbg run main.wasm -- libsqlite3.so N`, machine code in the cache
  dldbg cold    the same with an empty cache folder (tiered: Winch compiles, Cranelift is
                written to the cache for the next run by a background process)
  dldbg cold, Cranelift only    an empty cache, `--tier=cranelift` (the pre-tiering cold start)
  dldbg library rebuilt         the program's code cached, libsqlite3.so new (a rebuild):
                                Winch compiles the library only
  dldbg warm, Winch code        `--tier=winch` with Winch code cached: what Winch costs the run
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchutil import CACHE, ROOT, dldbg_command, interleave, measure, need, table  # noqa: E402

PACKAGE = "better-sqlite3@12.11.1"
FOLDER = CACHE / "sqlite"
MAIN_C = ROOT / "benchmarks" / "workload" / "sqlite_main.c"


def build() -> Path:
    """The program folder (main.js, main.wasm, libsqlite3.so), built when missing."""
    FOLDER.mkdir(parents=True, exist_ok=True)
    side = FOLDER / "libsqlite3.so"
    if not side.exists():
        need("npm"), need("emcc")
        tgz = next(FOLDER.glob("better-sqlite3-*.tgz"), None)
        if tgz is None:
            subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=FOLDER, check=True, stdout=subprocess.DEVNULL)
            tgz = next(FOLDER.glob("better-sqlite3-*.tgz"))
        with tarfile.open(tgz) as tar:
            for member in ("package/deps/sqlite3/sqlite3.c", "package/deps/sqlite3/sqlite3.h"):
                tar.extract(member, FOLDER, filter="data")
        print("building libsqlite3.so with emcc (a few minutes) ...", file=sys.stderr)
        tmp = FOLDER / "libsqlite3.so.tmp"
        subprocess.run(["emcc", "-O2", "-sSIDE_MODULE=1", "-DSQLITE_THREADSAFE=0", "-DSQLITE_OMIT_LOAD_EXTENSION",
                        "package/deps/sqlite3/sqlite3.c", "-o", str(tmp)], cwd=FOLDER, check=True)
        tmp.rename(side)
    main = FOLDER / "main.wasm"
    if not main.exists() or main.stat().st_mtime < MAIN_C.stat().st_mtime:
        need("emcc")
        subprocess.run(["emcc", "-O2", "-fPIC", "-c", str(MAIN_C), "-o", "main.o"], cwd=FOLDER, check=True)
        subprocess.run(["emcc", "-O0", "-sMAIN_MODULE=1", "-sALLOW_MEMORY_GROWTH=1", "main.o", "-o", "main.js"],
                       cwd=FOLDER, check=True)
    return FOLDER


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=20000)
    args = parser.parse_args()
    folder = build()
    need("node")
    program = ["libsqlite3.so", str(args.rows)]
    dldbg = dldbg_command()
    warm_cache = CACHE / "dldbg-cache-workload"
    winch_cache = CACHE / "dldbg-cache-workload-winch"
    env = dict(os.environ)
    scratch = Path(tempfile.mkdtemp(prefix="dldbg-bench-"))

    def in_cache(cache: Path, *options: str):
        return measure([*dldbg, "run", *options, "main.wasm", "--", *program], cwd=folder,
                       env={**env, "DLDBG_CACHE_DIR": str(cache)})

    def cold(*options: str):
        # the tier-up runs detached after the run (not waited for): it is measured on its own
        # below, and kept from disturbing the other variants here
        cache = Path(tempfile.mkdtemp(dir=scratch))
        sample = measure([*dldbg, "run", *options, "main.wasm", "--", *program], cwd=folder,
                         env={**env, "DLDBG_CACHE_DIR": str(cache), "DLDBG_NO_TIER_UP": "1"})
        shutil.rmtree(cache, ignore_errors=True)
        return sample

    node = measure(["node", "--no-experimental-fetch", "main.js", *program], cwd=folder)
    warm = in_cache(warm_cache, "--tier=cranelift")  # fills the caches
    in_cache(winch_cache, "--tier=winch")
    if warm.stdout != node.stdout:
        print("node and dldbg print different lines:\n--- node\n" + node.stdout + "--- dldbg\n" + warm.stdout)
        return 1
    print(f"workload: {node.stdout.splitlines()[0]}; main.wasm {(folder / 'main.wasm').stat().st_size // 1024} KiB, "
          f"libsqlite3.so {(folder / 'libsqlite3.so').stat().st_size // 1024} KiB; "
          f"{args.repeats} interleaved runs, medians\n")
    # a rebuilt library: the program's code is cached (both tiers), the library is new
    iterate = scratch / "iterate"
    iterate.mkdir()
    for name in ("main.js", "main.wasm"):
        shutil.copy(folder / name, iterate / name)
    library = (folder / "libsqlite3.so").read_bytes()
    iterate_cache = scratch / "iterate-cache"
    rebuilds = iter(range(1, 1 << 30))

    def rebuilt_library():
        # a new custom section: other bytes, as a rebuild gives (no tier-up: each run rebuilds)
        mark = f"rebuild{next(rebuilds)}".encode()
        (iterate / "libsqlite3.so").write_bytes(library + b"\0" + bytes([len(mark) + 1, len(mark)]) + mark)
        return measure([*dldbg, "run", "main.wasm", "--", *program], cwd=iterate,
                       env={**env, "DLDBG_CACHE_DIR": str(iterate_cache), "DLDBG_NO_TIER_UP": "1"})

    (iterate / "libsqlite3.so").write_bytes(library)
    for tier in ("winch", "cranelift"):  # the program's code in both tiers, and its run record
        measure([*dldbg, "run", f"--tier={tier}", "main.wasm", "--", *program], cwd=iterate,
                env={**env, "DLDBG_CACHE_DIR": str(iterate_cache)})
    series = interleave({
        "node (emscripten's loader)": lambda: measure(["node", "--no-experimental-fetch", "main.js", *program], cwd=folder),
        "dldbg run, warm": lambda: in_cache(warm_cache),
        "dldbg run, cold (tiered)": lambda: cold(),
        "dldbg run, cold, Cranelift only": lambda: cold("--tier=cranelift"),
        "dldbg run, library rebuilt": rebuilt_library,
        "dldbg run, warm, Winch code": lambda: in_cache(winch_cache, "--tier=winch"),
    }, args.repeats)
    print(table(series, baseline="node (emscripten's loader)"))
    # the detached Cranelift tier-up after a cold run, on its own
    cache = Path(tempfile.mkdtemp(dir=scratch))
    first = measure([*dldbg, "run", "main.wasm", "--", *program], cwd=folder,
                    env={**env, "DLDBG_CACHE_DIR": str(cache), "DLDBG_NO_TIER_UP": "1"})
    tier_up = measure([sys.executable, "-m", "dldbg.linker.tiers", str(cache / "compiled")], cwd=ROOT)
    second = measure([*dldbg, "run", "main.wasm", "--", *program], cwd=folder, env={**env, "DLDBG_CACHE_DIR": str(cache)})
    shutil.rmtree(scratch, ignore_errors=True)
    print(f"\ntier-up after a cold run (detached, nobody waits for it): {tier_up.wall:.3f} s wall, {tier_up.cpu:.3f} s CPU, "
          f"{tier_up.peak_kib / 1024:.0f} MiB; the cold run {first.wall:.3f} s, the run after the tier-up {second.wall:.3f} s")
    node_s = series["node (emscripten's loader)"]
    print(f"\ntargets: warm <= 0.8x node: {series['dldbg run, warm'].wall / node_s.wall:.2f}x; "
          f"cold <= 1.5x node: {series['dldbg run, cold (tiered)'].wall / node_s.wall:.2f}x "
          f"(library rebuilt: {series['dldbg run, library rebuilt'].wall / node_s.wall:.2f}x); "
          f"peak memory <= node's: {series['dldbg run, warm'].peak_mib / node_s.peak_mib:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
