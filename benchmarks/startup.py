#!/usr/bin/env python3
"""Start-up: `dldbg inspect`, `dldbg run` and the debugger's `--batch` on small modules, beside
the floors they cannot go under (Python starting and exiting) and their peers
(`wasm-objdump -x`, node running the same emscripten program).

    python benchmarks/startup.py [--repeats R]

The machine code is cached (one untimed run first).  Medians of R interleaved runs; peak
memory is the process's.  Target: `dldbg inspect` of a small module at most 25 ms, as a user
installs dldbg (`pip install .`, the README's first command): the script keeps such an
install of this checkout in a venv of its own, `.cache/bench/startup-install` (made again when
the sources change), and times `inspect` there beside the project's venv, whose editable
install (`pip install -e`) adds its import finder to every start-up.  Beside it: the lines of
pip's `dldbg` script without dldbg (they import `re`: the floor of any console script pip
writes) and `python -m dldbg inspect`, which has no such script.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchutil import CACHE, ROOT, dldbg_command, interleave, measure, table  # noqa: E402

SIDE = ROOT / "samples" / "out" / "clang16" / "reloc" / "libreloc.so"
PROGRAM = ROOT / "samples" / "out" / "emcc" / "em_cxx"
INSTALL = CACHE / "startup-install"
#: what `pip install .` installs from (pyproject.toml names the packages)
SOURCES = ("pyproject.toml", "README.md", "dldbg", "plugins")
TARGET_SECONDS = 0.025
#: the lines of the console script pip writes (distlib's template) without dldbg's
SCRIPT_FLOOR = "python, pip's script without dldbg"
PIP_SCRIPT_FLOOR = "import re, sys; sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])"


def _source_files() -> list[Path]:
    files = []
    for name in SOURCES:
        path = ROOT / name
        files += [f for f in sorted(path.rglob("*")) if f.is_file() and "__pycache__" not in f.parts] \
            if path.is_dir() else [path]
    return files


def regular_install() -> Path:
    """The bin folder of a venv with this checkout installed by `pip install .` (dependencies
    included), made again when a source file changed.  pip builds from a copy of the sources, so
    that no `build/` folder in the checkout can bring in a file that is gone."""
    digest = hashlib.sha256()
    for f in _source_files():
        digest.update(str(f.relative_to(ROOT)).encode() + b"\0" + f.read_bytes() + b"\0")
    stamp = INSTALL / "installed-sources.sha256"
    if stamp.exists() and stamp.read_text() == digest.hexdigest():
        return INSTALL / "bin"
    print(f"installing this checkout in {INSTALL} (pip install .) ...", file=sys.stderr)
    shutil.rmtree(INSTALL, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(INSTALL)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        for f in _source_files():
            copy = Path(tmp, f.relative_to(ROOT))
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, copy)
        done = subprocess.run([str(INSTALL / "bin" / "python"), "-m", "pip", "install", "-q", tmp],
                              capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"pip install . failed:\n{done.stderr[-3000:]}")
    stamp.write_text(digest.hexdigest())
    return INSTALL / "bin"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    dldbg = dldbg_command()
    installed = regular_install()
    env = {**os.environ, "DLDBG_CACHE_DIR": str(CACHE / "dldbg-cache-startup")}
    inspect_name = f"dldbg inspect {SIDE.name}"
    commands = {
        "python -c pass": [str(installed / "python"), "-c", "pass"],
        # what pip's `dldbg` script does before it calls dldbg (it imports `re` for its argv[0] fix-up)
        SCRIPT_FLOOR: [str(installed / "python"), "-c", PIP_SCRIPT_FLOOR],
        inspect_name: [str(installed / "dldbg"), "inspect", str(SIDE)],
        f"python -m dldbg inspect {SIDE.name}": [str(installed / "python"), "-m", "dldbg", "inspect", str(SIDE)],
        "python -c pass (venv, -e)": [sys.executable, "-c", "pass"],
        f"{inspect_name} (-e)": [*dldbg, "inspect", str(SIDE)],
        f"dldbg run {SIDE.name} --invoke": [*dldbg, "run", str(SIDE), "--invoke", "get_ctor_state"],
        f"dldbg --batch {SIDE.name}": [*dldbg, "--batch", "-ex", "dlopen libreloc.so", "-ex", "call get_ctor_state",
                                       str(SIDE)],
        "dldbg run em_cxx/main.wasm": [*dldbg, "run", str(PROGRAM / "main.wasm")],
    }
    if shutil.which("wasm-objdump"):
        commands[f"wasm-objdump -x {SIDE.name}"] = ["wasm-objdump", "-x", str(SIDE)]
    if shutil.which("node"):
        commands["node em_cxx/main.js"] = ["node", "--no-experimental-fetch", str(PROGRAM / "main.js")]
    for command in commands.values():  # warm the compile cache and the file cache
        measure(command, env=env, cwd=PROGRAM)
    series = interleave({name: (lambda c=command: measure(c, env=env, cwd=PROGRAM)) for name, command in commands.items()},
                        args.repeats)
    print(f"start-up, {args.repeats} interleaved runs, medians; ratios against python -c pass; dldbg installed "
          f"by `pip install .` in {INSTALL} (the dldbg of the other commands: {dldbg[0]})\n")
    print(table(series, baseline="python -c pass"))
    inspect = series[inspect_name]
    print(f"\ntarget: dldbg inspect of a small module <= {TARGET_SECONDS * 1000:.0f} ms (pip install .): "
          f"{inspect.wall * 1000:.1f} ms wall, {inspect.cpu * 1000:.1f} ms CPU: "
          f"{'met' if inspect.wall <= TARGET_SECONDS else 'not met'}; "
          f"{(inspect.wall - series['python -c pass'].wall) * 1000:.1f} ms more than python -c pass, "
          f"{(inspect.wall - series[SCRIPT_FLOOR].wall) * 1000:.1f} ms more than pip's script without dldbg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
