"""Translate legacy exception handling to exnref, which wasmtime runs: binaryen's
`wasm-opt --translate-to-exnref` (binaryen 119 or newer; WebAssembly/binaryen
`src/passes/TranslateToExnref.cpp`).

wasmtime implements only the standard encoding (`try_table`, `throw_ref`) and rejects the legacy
one (`try`, `catch`, `catch_all`, `delegate`, `rethrow`: "legacy_exceptions feature required
for try instruction"), which emscripten 3.x-5.x emits for `-fwasm-exceptions` and Pyodide's main
and C++ wheels use.  The tool is, in order: a `wasm-opt` on PATH whose version is at least
`MIN_VERSION`; else npm `binaryen@132.0.0` (`BINARYEN_NPM`) run under node, fetched once into
dldbg's cache with `npm pack` (`dldbg.fetch`).  Its features are named one by one
(`FEATURES`; `--all-features` makes the output unusable).  `-g` keeps the name section; every
custom section survives, and the output's dylink.0 is checked to be first and byte-identical
to the input's.

Translations are cached by the SHA-256 of the input and the binaryen version, in memory and in
`<cache folder>/exnref/` when there is a cache folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import BinaryenUnavailable, DldbgError, TranslationError
from ..fetch import FetchError, is_fetched, npm_dir, npm_package

MIN_VERSION = 119
BINARYEN_NPM = "binaryen@132.0.0"
_NPM_MEMBERS = ("package/package.json", "package/LICENSE", "package/bin/package.json", "package/bin/wasm-opt")
FEATURES = (
    "--enable-exception-handling", "--enable-reference-types", "--enable-bulk-memory", "--enable-bulk-memory-opt",
    "--enable-nontrapping-float-to-int", "--enable-sign-ext", "--enable-mutable-globals", "--enable-simd",
    "--enable-multivalue", "--enable-call-indirect-overlong",
)
#: seconds one translation may take (Pyodide's 9.6 MB main takes 10-20 s on 2 cores)
TIMEOUT = 600

_memory: dict[str, bytes] = {}
_tools: dict[tuple, "WasmOpt"] = {}


@dataclass(frozen=True)
class WasmOpt:
    """A usable wasm-opt: the command that runs it, its binaryen version, a description."""

    command: tuple[str, ...]
    version: int
    description: str


@dataclass(frozen=True)
class Translation:
    """The exnref module: `data` (bytes), `cached` (True when no wasm-opt ran), `seconds` (the
    translation's or the cache lookup's), `tool` (the wasm-opt's description)."""

    data: bytes
    cached: bool
    seconds: float
    tool: str


def find_wasm_opt(log=None) -> WasmOpt:
    """A wasm-opt of binaryen >= MIN_VERSION: on PATH, else npm binaryen under node (fetched
    once when missing).  Raises BinaryenUnavailable."""
    key = (os.environ.get("PATH", ""), str(npm_dir()))
    if key in _tools:
        return _tools[key]
    problems = []
    on_path = shutil.which("wasm-opt")
    if on_path:
        version = _version([on_path])
        if version is not None and version >= MIN_VERSION:
            tool = WasmOpt((on_path,), version, f"wasm-opt version {version} ({on_path})")
            _tools[key] = tool
            return tool
        problems.append(f"{on_path} is binaryen version {version if version is not None else '?'}, older than {MIN_VERSION}")
    else:
        problems.append("no wasm-opt on PATH")
    node = shutil.which("node")
    if node is None:
        problems.append(f"no node to run npm {BINARYEN_NPM}")
    else:
        if not is_fetched(BINARYEN_NPM, _NPM_MEMBERS) and shutil.which("npm") is None:
            problems.append(f"no npm to fetch {BINARYEN_NPM} (and no copy in {npm_dir()})")
        else:
            try:
                package = npm_package(BINARYEN_NPM, members=_NPM_MEMBERS, log=log)
            except FetchError as exc:
                problems.append(str(exc))
            else:
                script = package / "bin" / "wasm-opt"
                version = int(BINARYEN_NPM.rsplit("@", 1)[1].split(".")[0])
                tool = WasmOpt((node, str(script)), version, f"wasm-opt version {version} (npm {BINARYEN_NPM} under node)")
                _tools[key] = tool
                return tool
    raise BinaryenUnavailable(
        f"no binaryen {MIN_VERSION} or newer for `wasm-opt --translate-to-exnref`: "
        + "; ".join(problems)
        + f". Install node and npm (Debian: apt-get install nodejs npm; dldbg then fetches npm {BINARYEN_NPM} once "
        f"into {npm_dir()}), or put a wasm-opt of binaryen >= {MIN_VERSION} on PATH"
    )


def _version(command: list[str]) -> int | None:
    try:
        proc = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"version (\d+)", proc.stdout + proc.stderr)
    return int(match.group(1)) if match else None


def translate(data: bytes, origin: str, cache_dir: str | None, log=None) -> Translation:
    """`data` (a module in the legacy encoding, from file `origin`) in the exnref encoding.

    `cache_dir`: dldbg's cache folder (translations go to its `exnref/`), None for none on disk.
    Raises BinaryenUnavailable or TranslationError.
    """
    started = time.perf_counter()
    tool = find_wasm_opt(log)
    sha = hashlib.sha256(data).hexdigest()
    key = f"{sha}-binaryen{tool.version}"
    path = Path(cache_dir, "exnref", f"{key}.wasm") if cache_dir else None
    cached = _memory.get(key)
    if cached is None and path is not None and path.exists():
        try:
            cached = path.read_bytes()
        except OSError:
            cached = None
    if cached is not None:
        _memory[key] = cached
        if path is not None and not path.exists():
            _store(path, cached)
        return Translation(cached, True, time.perf_counter() - started, tool.description)
    out = _run(tool, data, origin)
    _check(data, out, origin)
    _memory[key] = out
    if path is not None:
        _store(path, out)
    return Translation(out, False, time.perf_counter() - started, tool.description)


def _run(tool: WasmOpt, data: bytes, origin: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="dldbg-exnref-") as tmp:
        src, dst = os.path.join(tmp, "in.wasm"), os.path.join(tmp, "out.wasm")
        with open(src, "wb") as fh:
            fh.write(data)
        argv = [*tool.command, src, "-o", dst, "--translate-to-exnref", "-g", *FEATURES]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            raise TranslationError(f"{origin}: {tool.description} --translate-to-exnref took over {TIMEOUT} s") from None
        except OSError as exc:
            raise TranslationError(f"{origin}: cannot run {tool.description}: {exc}") from None
        if proc.returncode or not os.path.exists(dst):
            output = " ".join((proc.stderr or proc.stdout).split())[:400]
            raise TranslationError(f"{origin}: {tool.description} --translate-to-exnref failed "
                                   f"(status {proc.returncode}): {output}")
        with open(dst, "rb") as fh:
            return fh.read()


def _check(before: bytes, after: bytes, origin: str) -> None:
    """The output keeps dylink.0 (first, same bytes) and has no legacy instruction left."""
    from ..wasm.reader import read_module

    try:
        old, new = read_module(before), read_module(after)
    except DldbgError as exc:
        raise TranslationError(f"{origin}: the translated module does not read back: {exc}") from None
    old_dylink = next((c.payload for c in old.customs if c.name in ("dylink.0", "dylink")), None)
    new_dylink = next((c.payload for c in new.customs if c.name in ("dylink.0", "dylink")), None)
    if old_dylink is not None and (new_dylink != old_dylink or not new.dylink_first):
        raise TranslationError(f"{origin}: wasm-opt --translate-to-exnref changed or moved the dylink.0 section")
    if new.eh.encoding == "legacy":
        raise TranslationError(f"{origin}: the translated module still has a legacy {new.eh.instruction} "
                               f"at byte offset {new.eh.offset:#x}")


def _store(path: Path, blob: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only or full cache folder only costs a translation next time
