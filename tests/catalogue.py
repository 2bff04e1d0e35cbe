"""The sample catalogue: scenario files and their built outputs, for the tests."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SRC = SAMPLES / "src"
OUT = Path(os.environ.get("DLDBG_SAMPLES_OUT", SAMPLES / "out"))
TOOLCHAINS = ("emcc", "clang14", "clang16", "zig")


@dataclass(frozen=True)
class Case:
    scenario: str
    toolchain: str
    folder: Path
    spec: dict

    @property
    def id(self) -> str:
        return f"{self.toolchain}-{self.scenario}"


def pyodide_inputs():
    """tests/pyodide/inputs.py (the real Pyodide distributions and wheels the tests use, fetched
    when missing), loaded once per process as the module `pyodide_inputs` (its dataclasses look
    their module up in sys.modules)."""
    module = sys.modules.get("pyodide_inputs")
    if module is None:
        spec = importlib.util.spec_from_file_location("pyodide_inputs", ROOT / "tests" / "pyodide" / "inputs.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["pyodide_inputs"] = module
        spec.loader.exec_module(module)
    return module


def fetch_pyodide(versions) -> tuple[dict, dict]:
    """({version: distribution folder}, {wheel file name: path}) of tests/pyodide/inputs.py,
    fetched when missing; the calling test is skipped where nothing can be fetched and fails
    when a fetch fails."""
    import pytest

    inputs = pyodide_inputs()
    reason = inputs.can_fetch()
    if reason:
        pytest.skip(reason)
    try:
        packages = {version: inputs.ensure_pyodide(version) for version in versions}
        wheels = {p.name: p for p in inputs.ensure_wheels(log=lambda *a, **k: None)}
    except RuntimeError as exc:
        pytest.fail(f"fetching the Pyodide inputs failed: {exc}")
    return packages, wheels


def scenario(name: str) -> dict:
    return json.loads((SRC / name / "scenario.json").read_text())


def scenarios() -> list[str]:
    return sorted(p.name for p in SRC.iterdir() if (p / "scenario.json").exists())


def built(name: str, toolchain: str) -> Path:
    return OUT / toolchain / name


def cases(kind: str) -> list[tuple[Case, dict]]:
    """Every (case, entry) pair of `kind` ("runs" or "failures") whose outputs exist."""
    out = []
    for name in scenarios():
        spec = scenario(name)
        folders = [(tc, built(name, tc)) for tc in spec.get("toolchains", [])] or [("any", OUT / name)]
        for toolchain, folder in folders:
            if not folder.is_dir():
                continue
            case = Case(name, toolchain, folder, spec)
            out += [(case, entry) for entry in spec.get(kind, [])]
    return out


def run_argv(case: Case, entry: dict) -> list[str]:
    """`dldbg run` arguments for a scenario entry; paths relative to the case folder."""
    argv = ["run", "--no-cache"]
    for lib in entry.get("preload", []):
        argv += ["--preload", str(case.folder / lib)]
    for folder in entry.get("library_path", []):
        argv += ["-L", os.path.normpath(case.folder / folder)]
    argv.append(str(case.folder / entry["file"]))
    if entry.get("invoke"):
        argv += ["--invoke", entry["invoke"], *[str(a) for a in entry.get("args", [])]]
    return argv
