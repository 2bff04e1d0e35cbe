"""What `--pyodide` loads: a wheel, an unpacked folder, or `.so` files, and their libraries in
the order Pyodide loads them.

A wheel is unpacked (once per session, into a temporary folder the caller owns) the way
Pyodide's installer unpacks it into site-packages; the libraries Pyodide loads are the archive
members that `should_load_dynlib` accepts, in the archive's own order (Pyodide
`src/py/pyodide/_package_loader.py`, `get_dynlibs`): a name ending in `.so` (or `.so.N`) whose tag
before `.so` is one of the main's extension tags (`.cpython-314-wasm32-emscripten`, `.abi3`,
none), or anything that is not a platform tag of another Python (`.cpython-313-...` is not
loaded: Python 3.14 would not import it either).  A folder's libraries are its `.so` files in
sorted order; `.so` files given by name are all loaded, in the order given.

The wheel's tags come from its file name (PEP 427: `NAME-VER(-BUILD)?-PY-ABI-PLATFORM.whl`), an
unpacked folder's from `*.dist-info/WHEEL`, a lone extension module's from its suffix.
"""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .dist import Distribution, PyodideError

SHAREDLIB_REGEX = re.compile(r"\.so(.\d+)*$")
PLATFORM_TAG_REGEX = re.compile(r"\.(cpython|pypy|jython)-[0-9]{2,}[a-z]*(-[a-z0-9_-]*)?")
#: wheel members larger than this are not unpacked (a wheel is not a place for them)
MAX_MEMBER_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class WheelTags:
    """PEP 425 tags: each a set (`cp313.cp314` expands to two)."""

    python: tuple[str, ...]
    abi: tuple[str, ...]
    platform: tuple[str, ...]
    source: str  # "file name", "WHEEL", "extension suffix"


@dataclass(frozen=True)
class Library:
    """One shared library of the input.

    :ivar path: where it is on disk (unpacked).
    :ivar member: its path inside the wheel or folder (`librt/base64.cpython-314-wasm32-emscripten.so`).
    :ivar pyodide_loads: whether Pyodide's installer loads it (`should_load_dynlib`).
    """

    path: Path
    member: str
    pyodide_loads: bool


@dataclass
class Input:
    """One input given on the command line."""

    source: str
    root: Path
    kind: str  # "wheel", "folder", "file"
    tags: WheelTags | None
    libraries: list[Library] = field(default_factory=list)


@dataclass
class Inputs:
    items: list[Input]

    @property
    def libraries(self) -> list[Library]:
        return [lib for item in self.items for lib in item.libraries]

    @property
    def roots(self) -> list[Path]:
        """Folders searched for NEEDED libraries (Pyodide's LD_LIBRARY_PATH has site-packages)."""
        return list(dict.fromkeys(item.root for item in self.items))


def extension_tags(dist: Distribution) -> tuple[str, ...]:
    """Pyodide `EXTENSION_TAGS`: the main's EXTENSION_SUFFIXES without `.so`."""
    return (dist.extension_suffix[: -len(".so")], ".abi3", "")


def should_load_dynlib(member: str, dist: Distribution) -> bool:
    """Pyodide `should_load_dynlib` (including its reading of `x.so`'s tag as `.so`)."""
    path = PurePosixPath(member)
    if not SHAREDLIB_REGEX.search(path.name):
        return False
    suffixes = path.suffixes
    try:
        tag = suffixes[suffixes.index(".so") - 1]
    except ValueError:
        return False
    if tag in extension_tags(dist):
        return True
    return not PLATFORM_TAG_REGEX.match(tag)


def wheel_tags_from_name(name: str) -> WheelTags | None:
    parts = os.path.basename(name)[: -len(".whl")].split("-")
    if len(parts) not in (5, 6):
        return None
    py, abi, plat = parts[-3:]
    return WheelTags(tuple(py.split(".")), tuple(abi.split(".")), tuple(plat.split(".")), "file name")


def wheel_tags_from_folder(root: Path) -> WheelTags | None:
    for info in sorted(root.glob("*.dist-info/WHEEL")):
        tags = [line.split(":", 1)[1].strip() for line in info.read_text(errors="replace").splitlines()
                if line.startswith("Tag:")]
        if tags:
            py, abi, plat = zip(*(t.split("-", 2) for t in tags if t.count("-") >= 2))
            return WheelTags(tuple(dict.fromkeys(py)), tuple(dict.fromkeys(abi)), tuple(dict.fromkeys(plat)), "WHEEL")
    return None


def tags_from_suffix(name: str) -> WheelTags | None:
    """`x.cpython-313-wasm32-emscripten.so` -> cp313 (the interpreter it was built for)."""
    match = re.search(r"\.cpython-(\d)(\d+)[a-z]*-([a-z0-9_]+)-([a-z0-9_]+)\.so$", name)
    if not match:
        return None
    tag = f"cp{match.group(1)}{match.group(2)}"
    return WheelTags((tag,), (tag,), (f"{match.group(4)}_{match.group(3)}",), "extension suffix")


def open_inputs(paths: list[str], dist: Distribution, workdir: str | os.PathLike) -> Inputs:
    """Read every input; wheels are unpacked under `workdir`.  Raises PyodideError."""
    items = []
    for index, source in enumerate(paths):
        path = Path(source)
        if path.is_dir():
            libs = sorted(p for p in path.rglob("*") if p.is_file() and SHAREDLIB_REGEX.search(p.name))
            members = [p.relative_to(path).as_posix() for p in libs]
            items.append(Input(source, path.resolve(), "folder", wheel_tags_from_folder(path),
                               [Library(p.resolve(), m, should_load_dynlib(m, dist)) for p, m in zip(libs, members)]))
        elif path.suffix == ".whl":
            items.append(_unpack_wheel(path, dist, Path(workdir) / f"{index}-{path.stem}"))
        elif path.is_file():
            items.append(Input(source, path.resolve().parent, "file", tags_from_suffix(path.name),
                               [Library(path.resolve(), path.name, True)]))
        else:
            raise PyodideError(f"{source}: no such file or folder")
    return Inputs(items)


def _unpack_wheel(path: Path, dist: Distribution, target: Path) -> Input:
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise PyodideError(f"{path}: not a wheel (a zip archive): {exc}") from None
    with archive:
        names = archive.namelist()
        target.mkdir(parents=True, exist_ok=True)
        root = target.resolve()
        for info in archive.infolist():
            dest = (root / info.filename).resolve()
            if not dest.is_relative_to(root) or info.file_size > MAX_MEMBER_BYTES:
                raise PyodideError(f"{path}: member {info.filename} would be written outside the unpack folder or is too large")
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, open(dest, "wb") as out:
                out.write(src.read())
    libraries = [Library(root / name, name, should_load_dynlib(name, dist))
                 for name in names if SHAREDLIB_REGEX.search(PurePosixPath(name).name)]
    return Input(str(path), root, "wheel", wheel_tags_from_name(path.name), libraries)
