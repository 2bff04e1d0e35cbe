"""Compiler tiers: Winch (wasmtime's baseline compiler) for a cold start, Cranelift (the
optimising one) for every run whose machine code is cached.

A wasmtime engine compiles with one strategy, and code of one strategy cannot run in an engine
of the other ("Module was compiled with Winch calling convention"), so the tier is chosen per
engine, before anything is loaded:

- `cranelift`: the default of the `Engine` API, the debugger and the TUI.
- `winch`: compiles about 7 times faster (a 1 MB side module: 0.07 s instead of 0.5 s) and runs
  slower code.  Winch rejects the exception-handling proposal, so a Winch engine has it
  disabled; a module that needs it fails to load in a Winch engine.
- `auto` (`dldbg run`'s default): `winch` when the program's Cranelift code is not in the
  compile cache, or when a module its last run loaded (a NEEDED or dlopen'ed library) has
  changed since; else `cranelift`; and `cranelift` whenever the program uses wasm exceptions
  or there is no cache folder to tier up into.  Every module a Winch engine compiles is
  queued in the cache folder (`compiled/tier-up/`), and when the run ends
  `spawn_tier_up` starts a detached process (`python -m dldbg.linker.tiers FOLDER`) that
  compiles the queue with Cranelift into the cache: the next run starts on Cranelift code.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

TIERS = ("auto", "cranelift", "winch")
#: `wasmtime_config_strategy_set` values (wasmtime C API, `wasmtime_strategy_enum`)
_STRATEGY = {"cranelift": 1, "winch": 2}
#: the queue of modules a Winch engine compiled, under the cache's `compiled/` folder
TIER_UP_FOLDER = "tier-up"
#: what each program's last run loaded (`record_run`), under the cache's `compiled/` folder
RUNS_FOLDER = "runs"


def make_config(tier: str = "cranelift"):
    """(wasmtime.Config, settings) for compiler tier `tier` (cranelift or winch): the
    configuration of every dldbg engine, and a stable description of it (part of the cache
    key).  Raises ValueError for another tier."""
    import wasmtime

    config = wasmtime.Config()
    config.epoch_interruption = True  # Engine.interrupt(); changes the compiled code
    settings = {"epoch_interruption": True}
    for feature in ("wasm_threads", "shared_memory", "wasm_reference_types", "wasm_bulk_memory", "wasm_multi_value",
                    "wasm_simd", "wasm_tail_call", "wasm_exceptions", "wasm_multi_memory"):
        if hasattr(type(config), feature):
            try:
                setattr(config, feature, True)
                settings[feature] = True
            except (AttributeError, wasmtime.WasmtimeError):
                settings[feature] = False
    apply_tier(config, tier, settings)
    return config, ";".join(f"{k}={v}" for k, v in sorted(settings.items()))


def apply_tier(config, tier: str, settings: dict) -> None:
    """Select `tier`'s compiler in a wasmtime Config (and note it in `settings`, the cache key).

    Raises ValueError for a tier other than cranelift or winch.
    """
    if tier not in _STRATEGY:
        raise ValueError(f"unknown compiler tier {tier!r} (cranelift or winch)")
    if tier == "cranelift":
        return  # wasmtime's default; the settings (and so the cache keys) stay as they were
    from wasmtime import _ffi

    _strategy_setter(_ffi)(config.ptr(), _STRATEGY[tier])
    # Winch refuses the exception-handling proposal (wasmtime panics creating the engine with
    # it on), so a Winch engine goes without it.
    config.wasm_exceptions = False
    settings["wasm_exceptions"] = False
    # A Winch engine still compiles its trampolines (host <-> wasm calls: one per exported or
    # table function, 7000 for an emscripten MAIN_MODULE) with Cranelift, most of a large main
    # module's compile: without Cranelift's optimisations that is a sixth less CPU time.
    config.cranelift_opt_level = "none"
    settings["cranelift_opt_level"] = "none"
    settings["strategy"] = tier


def _strategy_setter(ffi):
    setter = getattr(ffi, "wasmtime_config_strategy_set", None)
    if setter is None:  # a wasmtime-py without the C API's strategy setter: no Winch
        raise ValueError("this wasmtime package cannot select the Winch compiler")
    return setter


def needs_exceptions(wasm) -> bool:
    """The module uses the exception-handling proposal: it declares or imports a tag, or its
    code has try/catch (either encoding; the loader reads `wasm.eh` anyway)."""
    if wasm.tags or any(imp.kind == "tag" for imp in wasm.imports):
        return True
    eh = getattr(wasm, "eh", None)
    return eh is not None and eh.encoding != "none"


def choose_tier(tier: str, wasm, data: bytes, cache, path: str | None = None) -> str:
    """`tier`, with `auto` resolved for the program `wasm` (bytes `data`, file `path`) and the
    compile cache `cache` (a CompileCache of a Cranelift engine, or None without a cache
    folder): Winch when the program's Cranelift code is not cached, or when a module the
    program's last run loaded has changed since (or lost its code): rebuilding a dlopen'ed
    library should not mean a Cranelift compile of it (see `record_run`)."""
    if tier != "auto":
        return tier
    if cache is None or cache.folder is None:
        return "cranelift"
    sha = hashlib.sha256(data).hexdigest()
    if cache.has(sha) and (path is None or not _last_run_changed(cache, path)):
        return "cranelift"
    cache.eh_use(wasm, sha)  # remembered for the loader and the next run
    return "cranelift" if needs_exceptions(wasm) else "winch"


def _manifest(folder: str, program: str) -> str:
    key = hashlib.sha256(os.path.realpath(program).encode()).hexdigest()[:32]
    return os.path.join(folder, RUNS_FOLDER, f"{key}.json")


def record_run(folder: str | None, program: str, modules: list[tuple[str, str, str]]) -> None:
    """Remember the modules a run of `program` loaded: (path, sha256 of the file, sha256 of
    the bytes compiled), in the cache folder `folder` (a cache's `compiled/`)."""
    if not folder:
        return
    import json
    import tempfile

    path = _manifest(folder, program)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump([list(m) for m in modules], fh)
        os.replace(tmp, path)
    except OSError:
        pass


def last_run_modules(folder: str | None, program: str) -> list[str]:
    """The paths of the modules other than `program` that its last run loaded (`record_run`
    in the cache folder `folder`), in load order; [] when nothing is recorded."""
    import json

    if not folder:
        return []
    try:
        with open(_manifest(folder, program), encoding="utf-8") as fh:
            modules = json.load(fh)
        real = os.path.realpath(program)
        return [entry[0] for entry in modules
                if isinstance(entry, list) and entry and isinstance(entry[0], str) and os.path.realpath(entry[0]) != real]
    except (OSError, ValueError):
        return []


def _last_run_changed(cache, program: str) -> bool:
    """A module of the program's last run is now different, or its Cranelift code is gone."""
    import json

    try:
        with open(_manifest(cache.folder, program), encoding="utf-8") as fh:
            modules = json.load(fh)
    except (OSError, ValueError):
        return False
    real = os.path.realpath(program)
    for entry in modules:
        try:
            path, file_sha, compiled_sha = entry
            if os.path.realpath(path) == real:
                continue
            with open(path, "rb") as fh:
                current = hashlib.sha256(fh.read()).hexdigest()
        except (OSError, TypeError, ValueError):
            continue  # gone, or an unreadable record: the run will say what it loads
        if current != file_sha or not cache.has(compiled_sha):
            return True
    return False


def spawn_tier_up(folder: str | None) -> bool:
    """Start the detached Cranelift compile of the tier-up queue in `folder` (a cache's
    `compiled/` folder), if anything is queued.  Returns True if a process was started."""
    if not folder or os.environ.get("DLDBG_NO_TIER_UP"):
        return False
    queue = os.path.join(folder, TIER_UP_FOLDER)
    try:
        if not any(name.endswith(".wasm") for name in os.listdir(queue)):
            return False
    except OSError:
        return False
    subprocess.Popen([sys.executable, "-m", "dldbg.linker.tiers", folder], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
    return True


def tier_up(folder: str) -> int:
    """Compile every queued module of `folder` with Cranelift into the cache; one process at a
    time (a lock file).  Returns how many modules were compiled."""
    import fcntl

    from .cache import CompileCache

    queue = os.path.join(folder, TIER_UP_FOLDER)
    try:
        lock = open(os.path.join(queue, ".lock"), "w")
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # another tier-up runs, or there is no queue
    import wasmtime

    config, settings = make_config("cranelift")
    cache = CompileCache(wasmtime.Engine(config), settings, os.path.dirname(folder))
    done = 0
    with lock:
        for name in sorted(os.listdir(queue)):
            if not name.endswith(".wasm"):
                continue
            path = os.path.join(queue, name)
            sha = name[: -len(".wasm")]
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
                if not cache.has(sha):
                    cache.get(data, sha)
                    done += 1
            except (OSError, wasmtime.WasmtimeError):
                pass  # Cranelift rejects it too: the load will say why
            finally:
                try:
                    os.unlink(path)
                except OSError:
                    pass
    return done


if __name__ == "__main__":
    tier_up(sys.argv[1])
