"""Finding a NEEDED library or a dlopen'd name on disk.

Order for a NEEDED entry of module M: a name containing `/` is a path (relative to M's folder);
otherwise M's RUNTIME_PATH entries (DynamicLinking.md WASM_DYLINK_RUNTIME_PATH; `$ORIGIN` and
`${ORIGIN}` expand to M's folder, like ELF DT_RUNPATH), then the library path (`-L`), then
`LD_LIBRARY_PATH`, then M's own folder (emscripten finds side modules beside the program,
`locateFile`).  For a dlopen'd name there is no requesting module: library path,
`LD_LIBRARY_PATH`, then the current folder.
"""

from __future__ import annotations

import ctypes
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


def absolute_path(path: str) -> str:
    """`os.path.abspath(path)`, without its `normpath` (a loop over the components in Python)
    for an absolute path it would leave as it is: a `str` with no `//`, no component starting
    with `.` (`/./`, `/../`, a trailing `/.`) and no trailing `/`."""
    if type(path) is str and path[:1] == "/" and "//" not in path and "/." not in path and path[-1:] != "/":
        return path
    return os.path.abspath(path)


def real_path(path: str) -> str:
    """`os.path.realpath(path)`, through the C library's `realpath` when it resolves the path
    (Python's walks the path itself: an `lstat` and a few joins per component in Python,
    about 40 microseconds of a small module's load, the C function a fifth of that); Python's
    for a path it does not resolve (a missing file, a loop), for bytes, and without the C
    library.  The linker keys its modules by this (`Engine.modules_by_path`): every key is
    made here."""
    if _realpath is not None and type(path) is str and "\0" not in path:
        try:
            resolved = _realpath(os.fsencode(path), None)
        except (ValueError, OSError):  # an embedded NUL, an unencodable name
            resolved = None
        if resolved:
            try:
                return os.fsdecode(ctypes.string_at(resolved))
            finally:
                _free(ctypes.c_void_p(resolved))
    return os.path.realpath(path)


def _libc_realpath():
    try:
        libc = ctypes.CDLL(None)
        func, free = libc.realpath, libc.free
    except (OSError, AttributeError, TypeError):
        return None, None
    func.restype = ctypes.c_void_p  # a malloc'd string (the second argument NULL), freed after
    func.argtypes = (ctypes.c_char_p, ctypes.c_void_p)
    free.restype = None
    free.argtypes = (ctypes.c_void_p,)
    return func, free


_realpath, _free = _libc_realpath()
