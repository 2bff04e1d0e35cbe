"""The node backend for Pyodide (`dldbg --node --pyodide VERSION|FOLDER [WHEEL...] [-- PYTHON_ARGS]`):
real Pyodide under node, its glue's loader hooked, running Python (docs/node.md).

`prepare` makes a folder in dldbg's cache that Pyodide takes as its `indexURL`: the
distribution's glue instrumented (`pyodide.asm.mjs`, an ES module, from Pyodide 314 on;
`pyodide.asm.js` before) and a symbolic link to each of the distribution's other files; the
distribution itself is never written.  `PyodideNodeEngine` runs `pyodide_driver.mjs` on it: the
driver loads Pyodide, unpacks the wheels into site-packages (their `.so` files load when Python
imports them: Python's dlopen -> the glue's `loadDynamicLibrary`, the loads users debug) and runs
PYTHON_ARGS as `python` does (`-c CODE`, `-m MOD`, `SCRIPT ARGS`); the exit status is Python's.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import resources
from pathlib import Path

from ...errors import DldbgError
from . import copies
from .engine import NodeEngine
from .instrument import Instrumented, hooks_source, instrument_text, node_cache, not_exposed, read_glue, write_once

DRIVER = "pyodide_driver.mjs"


def driver_path() -> str:
    return str(resources.files(__package__).joinpath(DRIVER))


def prepare(dist, cache_dir: str | None) -> Instrumented:
    """The indexURL folder for `dist` (a dldbg.hosts.pyodide.Distribution): `<cache>/node/
    pyodide-<version>-<key>/`, keyed by the glue, the hooks, the instrumenter and the
    distribution's folder; made once and reused (an entry of the bounded `<cache>/node`: copies.py), with
    `dldbg-hooks.json` holding what was hooked.  Raises DldbgError (no glue) or GlueError."""
    glue = dist.glue
    if glue is None:
        raise DldbgError(f"{dist.folder}: no pyodide.asm.mjs or pyodide.asm.js: the node backend runs Pyodide's glue")
    source = read_glue(str(glue))
    from . import instrument as instrumenter

    digest = hashlib.sha256(source.encode())
    for part in (hooks_source(), Path(instrumenter.__file__).read_text(), str(dist.folder)):
        digest.update(part.encode())
    copies_folder = os.path.join(node_cache(cache_dir), "node")
    folder = os.path.join(copies_folder, f"pyodide-{dist.version or 'folder'}-{digest.hexdigest()[:16]}")
    path, record = os.path.join(folder, glue.name), os.path.join(folder, "dldbg-hooks.json")
    if os.path.exists(path) and os.path.exists(record):
        try:
            with open(record) as f:
                known = json.load(f)
            made = Instrumented(str(glue), path, tuple(known["hooked"]), tuple(known["missing"]),
                                tuple(known["not_exposed"]))
            copies.touch(folder)
            return made
        except (OSError, ValueError, KeyError):
            pass  # made again below
    text, hooked, missing = instrument_text(source, str(glue), program_lines=False)
    os.makedirs(folder, exist_ok=True)
    for entry in os.scandir(dist.folder):
        link = os.path.join(folder, entry.name)
        if entry.name != glue.name and entry.is_file() and not os.path.lexists(link):
            try:
                os.symlink(entry.path, link)
            except FileExistsError:  # a concurrent run made it
                pass
    write_once(path, text)
    made = Instrumented(str(glue), path, hooked, missing, not_exposed(source))
    tmp = f"{record}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump({"hooked": made.hooked, "missing": made.missing, "not_exposed": made.not_exposed}, f)
    os.replace(tmp, record)
    copies.prune(copies_folder, keep=folder)
    return made


class PyodideNodeEngine(NodeEngine):
    """The node backend running Python in Pyodide.

    :param dist: the Pyodide distribution (dldbg.hosts.pyodide.Distribution).
    :param wheels: wheel files unpacked into site-packages before Python runs.
    Other keyword arguments are NodeEngine's (`cache_dir`, `node`, `environ`, `limits`,
    `stdin_passthrough`).
    `run_program(path, argv)` runs `argv[1:]` as Python's arguments (`path` is not used).
    """

    #: module paths are Pyodide's file system's, not the host's: dldbg does not open them
    guest_paths = True
    #: the main's start-up GOT (every export of pyodide.asm.wasm, ~9,000 entries) is mirrored
    #: for `info got` and `print`, not reported entry by entry
    startup_got_events = False

    def __init__(self, dist, wheels=(), **options):
        super().__init__(str(dist.glue or dist.folder), **options)
        self.dist = dist
        for wheel in wheels:
            if not os.path.isfile(wheel):
                raise DldbgError(f"{wheel}: no such wheel file")
        self.wheels = [os.path.abspath(w) for w in wheels]

    def _launch(self, path: str, argv: list[str]) -> tuple[Instrumented, list[str], str]:
        glue = prepare(self.dist, self.cache_dir)
        config = {"loader": str(self.dist.folder / "pyodide.mjs"), "indexURL": os.path.dirname(glue.path) + "/",
                  "wheels": self.wheels}
        return glue, [self.node, driver_path(), json.dumps(config), *argv[1:]], str(self.dist.main)


def pyodide_engine_factory(dist, wheels, no_cache: bool = False):
    """`engine_factory(session)` for dldbg.session.Session: a PyodideNodeEngine."""

    def make(session):
        from ..cache import default_cache_dir

        return PyodideNodeEngine(dist, wheels, cache_dir=None if no_cache else default_cache_dir(),
                                 environ=session.environ, limits=session.limits, stdin_passthrough=False)

    return make
