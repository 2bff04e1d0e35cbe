"""A WASI program's view of host folders: its `--dir HOST[::GUEST]` preopens, and nothing else.

A guest path is looked up the way wasi-libc and wasmtime's WASI do it:

* wasi-libc (`libc-bottom-half/sources/preopens.c`) picks the preopen whose guest name is the
  longest prefix of the path, component by component and without resolving anything; a
  relative path goes through a preopen named `.`, else it is read from the guest's initial
  working folder `/`;
* wasmtime (cap-std's `open` beneath a directory) then walks the rest of the path one
  component at a time under the preopen's host folder: `..` may not climb above it, a
  symbolic link is followed only when its target is relative and stays beneath the folder
  (an absolute target is refused), at most 40 links.

So `../outside/libsecret.so`, `/data/../../etc/passwd` and a link inside a `--dir` that points
out of it are refused *whatever exists on the host*: every refusal and every missing file give
the same message, which names the guest path only (`GuestPaths.NOT_VISIBLE`), so a program
cannot probe for host files outside its view.
"""

from __future__ import annotations

import contextlib
import os
import stat

from ..errors import DlError

#: symbolic links followed in one lookup before giving up (Linux's MAXSYMLINKS, cap-std's limit)
MAX_LINKS = 40


class NotVisible(Exception):
    """A guest path that leads out of its preopen, or to nothing: the reason stays host-side."""


def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p not in ("", ".")]


def resolve_beneath(root: str, parts: list[str]) -> str:
    """The host path of `parts` (path components, `..` allowed) beneath host folder `root`,
    every symbolic link resolved; no component of the result is a link.  Raises NotVisible
    when the walk would leave `root`, a component is missing or not a folder, or links loop.
    Follows wasmtime's WASI (cap-std `open` beneath a preopened directory)."""
    done: list[str] = []
    pending = list(reversed(parts))
    links = 0
    while pending:
        part = pending.pop()
        if part in ("", "."):
            continue
        if part == "..":
            if not done:
                raise NotVisible("`..` climbs above the preopened folder")
            done.pop()
            continue
        here = os.path.join(root, *done, part)
        try:
            st = os.lstat(here)
        except OSError:
            raise NotVisible("missing") from None
        if stat.S_ISLNK(st.st_mode):
            links += 1
            if links > MAX_LINKS:
                raise NotVisible("too many symbolic links")
            try:
                target = os.readlink(here)
            except OSError:
                raise NotVisible("unreadable link") from None
            if target.startswith("/"):
                raise NotVisible("a symbolic link to an absolute path")
            pending.extend(reversed(target.split("/")))
            continue
        if pending and not stat.S_ISDIR(st.st_mode):
            raise NotVisible("not a folder")
        done.append(part)
    return os.path.join(root, *done)


def beneath(path: str, folders) -> bool:
    """Whether `path`, its symbolic links resolved, is one of `folders` or lies beneath one."""
    real = os.path.realpath(path)
    for folder in folders:
        folder = os.path.realpath(folder)
        if real == folder or real.startswith(folder.rstrip("/") + "/"):
            return True
    return False


class GuestLoads:
    """Whether a load the program started is running: `with loads():` around its dlopen.
    While one runs, a host's `visible` hook confines the NEEDED search of the libraries it
    brings in (a program may have written them, with any RUNTIME_PATH)."""

    def __init__(self) -> None:
        self.depth = 0

    @contextlib.contextmanager
    def __call__(self):
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1


class GuestPaths:
    """The program's view of host folders (`--dir HOST[::GUEST]`): see the module docstring.

    :param dirs: (host folder, guest path) pairs; a guest path `.` serves relative paths.
    """

    def __init__(self, dirs: list[tuple[str, str]]):
        self.dirs = [(os.path.realpath(host), guest) for host, guest in dirs]

    def not_visible(self, path: str) -> DlError:
        """The one error for a path the program cannot reach, whatever the reason."""
        seen = ", ".join(guest for _, guest in self.dirs) or "none"
        return DlError(f"could not load dynamic lib: {path}\n{path}: no such file in the program's view "
                       f"(its --dir folders: {seen})")

    def _preopen(self, path: str) -> tuple[str, list[str]] | None:
        """(host folder, the rest of the path) of the preopen that serves `path`, or None."""
        relative = not path.startswith("/")
        parts = _parts(path)
        best = None
        for host, guest in self.dirs:
            if guest in (".", "./"):
                if not relative:
                    continue
                prefix = []
            else:
                prefix = _parts(guest)
            if parts[: len(prefix)] != prefix:
                continue
            # the longest prefix wins; for a relative path `.` beats `/`, as it is read from there
            rank = (len(prefix), guest in (".", "./") if relative else not guest.startswith("."))
            if best is None or rank > best[0]:
                best = (rank, host, parts[len(prefix):])
        return None if best is None else (best[1], best[2])

    def to_host(self, path: str) -> str:
        """The host path of guest `path`, with its symbolic links resolved beneath the preopen.

        Raises DlError (`not_visible`) when the path leaves its preopen, no preopen serves it,
        or a component does not exist (one message for all three)."""
        found = self._preopen(path)
        if found is None:
            raise self.not_visible(path)
        try:
            return resolve_beneath(*found)
        except NotVisible:
            raise self.not_visible(path) from None

    def locate(self, path: str) -> str:
        """The host path of the regular file at guest `path` (a library to dlopen).  Raises
        DlError (`not_visible`) as `to_host` does, and also when it is not a regular file."""
        host = self.to_host(path)
        if not os.path.isfile(host):
            raise self.not_visible(path)
        return host

    def to_guest(self, host_path: str) -> str | None:
        """The guest path of a host path, through the `--dir` folder with the longest host path."""
        host_path = os.path.realpath(host_path)
        best = None
        for host, guest in self.dirs:
            if host_path == host or host_path.startswith(host.rstrip("/") + "/"):
                if best is None or len(host) > len(best[0]):
                    rest = host_path[len(host):].lstrip("/")
                    best = (host, os.path.join(guest, rest) if rest else guest)
        return best[1] if best else None
