"""Finding a NEEDED library or a dlopen'd name on disk.

Order for a NEEDED entry of module M: a name containing `/` is a path (relative to M's folder);
otherwise M's RUNTIME_PATH entries (DynamicLinking.md WASM_DYLINK_RUNTIME_PATH; `$ORIGIN` and
`${ORIGIN}` expand to M's folder, like ELF DT_RUNPATH), then the library path (`-L`), then
`LD_LIBRARY_PATH`, then M's own folder (emscripten finds side modules beside the program,
`locateFile`).  For a dlopen'd name there is no requesting module: library path,
`LD_LIBRARY_PATH`, then the current folder.
"""

from __future__ import annotations

import os


def expand_origin(entry: str, origin: str) -> str:
    """Replace `$ORIGIN` and `${ORIGIN}` anywhere in an rpath entry with `origin`."""
    return entry.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)


def candidates(
    name: str,
    requester: str | None,
    runtime_path: tuple[str, ...] = (),
    library_path: tuple[str, ...] = (),
    environ: dict[str, str] | None = None,
) -> list[str]:
    """Every path tried for `name`, in order, without duplicates."""
    origin = os.path.dirname(os.path.abspath(requester)) if requester else os.getcwd()
    if "/" in name:
        return [os.path.normpath(os.path.join(origin, name))]
    env = os.environ if environ is None else environ
    folders = [expand_origin(p, origin) for p in runtime_path]
    folders += list(library_path)
    folders += [p for p in env.get("LD_LIBRARY_PATH", "").split(":") if p]
    folders.append(origin)
    out: list[str] = []
    for folder in folders:
        path = os.path.normpath(os.path.join(origin, folder, name))
        if path not in out:
            out.append(path)
    return out


def find_library(name: str, requester: str | None, runtime_path=(), library_path=(), environ=None,
                 visible=None) -> tuple[str | None, list[str]]:
    """(the first candidate that is a regular file, or None; every candidate tried).
    `visible(path) -> bool`, when given, drops the candidates a host does not let the load see
    before anything is asked of the file system (the WASI host, for a load a program started)."""
    tried = candidates(name, requester, tuple(runtime_path), tuple(library_path), environ)
    if visible is not None:
        tried = [path for path in tried if visible(path)]
    for path in tried:
        if os.path.isfile(path):
            return path, tried[: tried.index(path) + 1]
    return None, tried
