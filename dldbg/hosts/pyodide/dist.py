"""A Pyodide distribution: the main module, its JS glue and `pyodide-lock.json`.

`--pyodide VERSION|FOLDER`: a FOLDER is a Pyodide distribution (the folder holding
`pyodide.asm.wasm` and `pyodide-lock.json`, as the npm package `pyodide` and Pyodide's release
tarballs lay it out); a VERSION is fetched once from npm (`pyodide@VERSION`) into dldbg's npm
cache (`dldbg.fetch.npm_package`).

What is read, and from where:
- the Python version and ABI: `pyodide-lock.json` `info` (`python` "3.14.2", `abi_version`
  "2026_0", `platform` "emscripten_5_0_3"); the wheel tags Pyodide installs follow from them
  (`cp314`, `pyemscripten_2026_0_wasm32`; extension modules `.cpython-314-wasm32-emscripten.so`,
  Pyodide `_package_loader.py` EXTENSION_TAGS);
- the distribution's shared libraries: lock packages with `"package_type": "shared_library"`
  (installed into `/usr/lib`, `install_dir` "dynlib"); the lock names packages, not files, so the
  package that provides a NEEDED library is found by name (`libgeos_c.so` -> `libgeos`);
- the JavaScript functions the loader knows by name: the keys of the glue's `wasmImports`
  object (`pyodide.asm.mjs`, or `pyodide.asm.js` before 314) with their `.sig` annotations
  (emscripten `libdylink.js` resolves side modules' imports against `wasmImports`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ...errors import DldbgError

DEFAULT_VERSION = "314.0.7"
MAIN_FILE = "pyodide.asm.wasm"
LOCK_FILE = "pyodide-lock.json"
GLUE_FILES = ("pyodide.asm.mjs", "pyodide.asm.js")


class PyodideError(DldbgError):
    """A Pyodide distribution or input that dldbg cannot use (the message says which file and why)."""


@dataclass
class Distribution:
    """One Pyodide distribution folder.

    :ivar version: the npm package version (package.json), or None.
    :ivar python: Python version, "3.14.2".
    :ivar abi: Pyodide ABI version, "2026_0" (None when the lock file predates it).
    :ivar platform: emscripten platform, "emscripten_5_0_3".
    :ivar packages: the lock file's packages by name.
    """

    folder: Path
    version: str | None
    python: str
    abi: str | None
    platform: str
    packages: dict[str, dict] = field(default_factory=dict)

    @property
    def main(self) -> Path:
        return self.folder / MAIN_FILE

    @property
    def glue(self) -> Path | None:
        return next((self.folder / g for g in GLUE_FILES if (self.folder / g).is_file()), None)

    @property
    def label(self) -> str:
        return f"Pyodide {self.version or self.folder} (Python {self.python}, {self.platform})"

    @property
    def python_tag(self) -> str:
        """`cp314`."""
        major, minor = self.python.split(".")[:2]
        return f"cp{major}{minor}"

    @property
    def platform_tag(self) -> str | None:
        """`pyemscripten_2026_0_wasm32` (PEP 783), None without an ABI version."""
        return f"pyemscripten_{self.abi}_wasm32" if self.abi else None

    @property
    def extension_suffix(self) -> str:
        """`.cpython-314-wasm32-emscripten.so` (sysconfig EXT_SUFFIX of Pyodide's Python)."""
        major, minor = self.python.split(".")[:2]
        return f".cpython-{major}{minor}-wasm32-emscripten.so"

    @property
    def shared_libraries(self) -> dict[str, dict]:
        return {n: p for n, p in self.packages.items() if p.get("package_type") == "shared_library"}

    def provider_of(self, library: str) -> dict | None:
        """The distribution package (`"package_type": "shared_library"`) that provides a library
        named `library` (`libgeos_c.so.1` -> `libgeos`): the longest package name the library's
        stem starts with, or None."""
        stem = re.sub(r"\.so(\.\d+)*$", "", os.path.basename(library))
        best = None
        for name, pkg in self.shared_libraries.items():
            if stem == name or stem.startswith(name):
                if best is None or len(name) > len(best["name"]):
                    best = pkg
        return best

    @cached_property
    def js_functions(self) -> dict[str, str]:
        """The glue's `wasmImports`: JS function name -> emscripten `.sig` ("" when unknown).
        Empty without a glue file."""
        glue = self.glue
        return read_wasm_imports(glue.read_text(encoding="utf-8", errors="replace")) if glue else {}


def read_wasm_imports(text: str) -> dict[str, str]:
    """`var wasmImports={name:value,shorthand,...}` of an emscripten 4/5 glue -> name -> sig.

    Values that are not functions (`wasmTable`, `___memory_base`, tags) are left out."""
    start = text.find("var wasmImports={")
    if start < 0:
        return {}
    i = start + len("var wasmImports=")
    depth, end = 0, i
    for end in range(i, len(text)):
        if text[end] == "{":
            depth += 1
        elif text[end] == "}":
            depth -= 1
            if depth == 0:
                break
    sigs = dict(re.findall(r"\b([A-Za-z_$][\w$]*)\.sig=['\"]([a-z]*)['\"]", text))
    # `var _emscripten_glDrawBuffersWEBGL=_glDrawBuffers;`: an alias has its target's sig
    for alias, target in re.findall(r"\bvar ([A-Za-z_$][\w$]*)=([A-Za-z_$][\w$]*)[;,]", text):
        if alias not in sigs and target in sigs:
            sigs[alias] = sigs[target]
    out: dict[str, str] = {}
    for item in text[i + 1 : end].split(","):
        name, _, value = item.partition(":")
        name, value = name.strip().strip('"'), (value or name).strip()
        if not name or value == "wasmTable" or re.match(r"___(memory_base|table_base|stack_pointer|heap_base|stack_high|"
                                                       r"stack_low|global_base|c_longjmp|cpp_exception)$", value):
            continue
        out[name] = sigs.get(value, "")
    return out


def open_distribution(spec: str | os.PathLike | None = None) -> Distribution:
    """The distribution `--pyodide SPEC` names: a folder, or an npm version (default
    DEFAULT_VERSION) fetched once.  Raises PyodideError, or dldbg.fetch's FetchError."""
    spec = str(spec or DEFAULT_VERSION)
    folder = Path(spec)
    if not folder.is_dir():
        if not re.fullmatch(r"\d+\.\d+\.\d+([.\-]?\w+)?", spec):
            raise PyodideError(f"--pyodide {spec}: neither a folder nor a Pyodide version (such as {DEFAULT_VERSION})")
        from ...fetch import KNOWN_SHA256, npm_package

        package = f"pyodide@{spec}"
        folder = Path(npm_package(package, sha256=KNOWN_SHA256.get(package)))
    return read_distribution(folder)


def read_distribution(folder: Path) -> Distribution:
    """Read a distribution folder.  Raises PyodideError naming what is missing."""
    for name in (MAIN_FILE, LOCK_FILE):
        if not (folder / name).is_file():
            raise PyodideError(f"{folder}: not a Pyodide distribution ({name} is missing)")
    try:
        lock = json.loads((folder / LOCK_FILE).read_text(encoding="utf-8"))
        info = lock["info"]
        python = str(info["python"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PyodideError(f"{folder / LOCK_FILE}: cannot read the Python version ({type(exc).__name__}: {exc})") from None
    version = None
    if (folder / "package.json").is_file():
        try:
            version = json.loads((folder / "package.json").read_text(encoding="utf-8")).get("version")
        except ValueError:
            version = None
    return Distribution(folder=folder.resolve(), version=version, python=python, abi=info.get("abi_version"),
                        platform=str(info.get("platform", "emscripten")), packages=dict(lock.get("packages") or {}))
