"""The program's file system: a sandbox over host folders, with emscripten's fd semantics.

Guest paths are POSIX paths.  `/` is the program's folder (the folder of main.wasm), read-only
with a private writable layer over it (`overlay.Overlay`: what the program writes there is
gone at exit and the folder is never changed, as emscripten's MEMFS under node keeps writes in
memory), unless `--dir HOST::/` says otherwise; every `--dir HOST[::GUEST]` mounts a host
folder, writable, at a guest path (GUEST defaults to HOST); `/tmp` is a fresh temporary folder
(emscripten's MEMFS has an empty, writable /tmp); `/dev/null`, `/dev/tty`, `/dev/stdin`,
`/dev/stdout`, `/dev/stderr`, `/dev/random` and `/dev/urandom` are devices.  A path never leaves its mount: `..` stops at the
guest root, and a symbolic link that leads out of the mount's host folder is refused (EACCES).

File descriptors 0, 1 and 2 are emscripten's TTYs (`/dev/tty`): stdout and stderr are line
buffered and each line is written as node's console.log writes it; with NODERAWFS builds they
are the process's own descriptors and bytes pass through unchanged.

Errors are `FsError(errno)` with the wasm errno values (WASI numbering, which emscripten's
musl uses); syscalls return `-errno`, WASI functions `errno`.
"""

from __future__ import annotations

import errno as host_errno
import os
import posixpath
import shutil
import stat as host_stat
import tempfile
from dataclasses import dataclass, field

from .overlay import Overlay

#: wasm errno values (wasi-libc / emscripten musl), by name
WASM_ERRNO = {
    "E2BIG": 1, "EACCES": 2, "EADDRINUSE": 3, "EADDRNOTAVAIL": 4, "EAFNOSUPPORT": 5, "EAGAIN": 6,
    "EALREADY": 7, "EBADF": 8, "EBADMSG": 9, "EBUSY": 10, "ECANCELED": 11, "ECHILD": 12,
    "ECONNABORTED": 13, "ECONNREFUSED": 14, "ECONNRESET": 15, "EDEADLK": 16, "EDESTADDRREQ": 17,
    "EDOM": 18, "EDQUOT": 19, "EEXIST": 20, "EFAULT": 21, "EFBIG": 22, "EHOSTUNREACH": 23,
    "EIDRM": 24, "EILSEQ": 25, "EINPROGRESS": 26, "EINTR": 27, "EINVAL": 28, "EIO": 29,
    "EISCONN": 30, "EISDIR": 31, "ELOOP": 32, "EMFILE": 33, "EMLINK": 34, "EMSGSIZE": 35,
    "EMULTIHOP": 36, "ENAMETOOLONG": 37, "ENETDOWN": 38, "ENETRESET": 39, "ENETUNREACH": 40,
    "ENFILE": 41, "ENOBUFS": 42, "ENODEV": 43, "ENOENT": 44, "ENOEXEC": 45, "ENOLCK": 46,
    "ENOLINK": 47, "ENOMEM": 48, "ENOMSG": 49, "ENOPROTOOPT": 50, "ENOSPC": 51, "ENOSYS": 52,
    "ENOTCONN": 53, "ENOTDIR": 54, "ENOTEMPTY": 55, "ENOTRECOVERABLE": 56, "ENOTSOCK": 57,
    "ENOTSUP": 58, "ENOTTY": 59, "ENXIO": 60, "EOVERFLOW": 61, "EOWNERDEAD": 62, "EPERM": 63,
    "EPIPE": 64, "EPROTO": 65, "EPROTONOSUPPORT": 66, "EPROTOTYPE": 67, "ERANGE": 68, "EROFS": 69,
    "ESPIPE": 70, "ESRCH": 71, "ESTALE": 72, "ETIMEDOUT": 73, "ETXTBSY": 74, "EXDEV": 75,
}
E = type("E", (), WASM_ERRNO)

# musl open flags (emscripten)
O_ACCMODE, O_WRONLY, O_RDWR = 3, 1, 2
O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_NONBLOCK = 0o100, 0o200, 0o1000, 0o2000, 0o4000
O_DIRECTORY, O_NOFOLLOW = 0o200000, 0o400000
AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR = 0x100, 0x200

DEVICES = ("/dev/null", "/dev/tty", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/dev/random", "/dev/urandom")


class FsError(Exception):
    def __init__(self, errno: int):
        self.errno = errno
        super().__init__(errno)


def from_oserror(exc: OSError) -> FsError:
    name = host_errno.errorcode.get(exc.errno or 0, "EIO")
    if name == "EOPNOTSUPP":
        name = "ENOTSUP"
    if name == "EWOULDBLOCK":
        name = "EAGAIN"
    return FsError(WASM_ERRNO.get(name, WASM_ERRNO["EIO"]))


@dataclass
class Stream:
    """An open file description.  `kind`: tty, file, dir, null, random."""

    fd: int
    kind: str
    path: str
    flags: int
    host_fd: int | None = None
    host_path: str | None = None
    tty_fd: int | None = None
    dir_entries: list[str] | None = None
    dir_pos: int = 0
    refs: list[int] = field(default_factory=lambda: [1])

    @property
    def seekable(self) -> bool:
        return self.kind in ("file", "dir")


class SandboxFS:
    """Mounts, the current folder and the fd table of one program run."""

    def __init__(self, root: str, dirs: list[tuple[str, str]] = (), raw_stdio: bool = False):
        self.raw_stdio = raw_stdio
        #: (guest path, host folder, Overlay or None for a writable host folder), longest first
        self.mounts: list[tuple[str, str, Overlay | None]] = []
        self._tmp = None
        for host, guest in dirs:
            self.mount(host, guest if guest.startswith("/") else "/" + guest)
        if not any(g == "/" for g, _, _ in self.mounts):
            self.mount(root, "/", read_only=True)
        if not any(g == "/tmp" for g, _, _ in self.mounts):
            self._tmp = tempfile.mkdtemp(prefix="dldbg-emscripten-tmp-")
            self.mount(self._tmp, "/tmp")
        self.cwd = "/"
        self.streams: dict[int, Stream] = {
            0: Stream(0, "tty", "/dev/tty", 0, tty_fd=0),
            1: Stream(1, "tty", "/dev/tty", 0o1101, tty_fd=1),
            2: Stream(2, "tty", "/dev/tty", 0o1101, tty_fd=2),
        }

    def mount(self, host: str, guest: str, read_only: bool = False) -> None:
        """Show host folder `host` at `guest`; `read_only`: with a private writable layer over it."""
        guest = posixpath.normpath(guest)
        real = os.path.realpath(host)
        self.mounts.append((guest, real, Overlay(real) if read_only else None))
        self.mounts.sort(key=lambda m: len(m[0]), reverse=True)

    def close_all(self) -> None:
        for stream in list(self.streams.values()):
            if stream.host_fd is not None:
                try:
                    os.close(stream.host_fd)
                except OSError:
                    pass
        self.streams.clear()
        for _, _, overlay in self.mounts:
            if overlay is not None:
                overlay.close()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    # -- paths -------------------------------------------------------------------------
    def absolute(self, path: str, dirfd: int = AT_FDCWD, allow_empty: bool = False) -> str:
        """emscripten `SYSCALLS.calculateAt`: the guest path of `path` relative to `dirfd`."""
        if path.startswith("/"):
            return posixpath.normpath(path) if path != "//" else "/"
        if dirfd == AT_FDCWD:
            base = self.cwd
        else:
            base = self.stream(dirfd).path
        if not path:
            if not allow_empty:
                raise FsError(E.ENOENT)
            return base
        return posixpath.normpath(posixpath.join(base, path))

    def _mount_of(self, guest: str) -> tuple[str, str, Overlay | None, str]:
        """(guest prefix, host folder, overlay, the path relative to the mount) of a guest path."""
        guest = posixpath.normpath(guest) if guest != "//" else "/"
        for prefix, host, overlay in self.mounts:
            if guest == prefix or prefix == "/" or guest.startswith(prefix + "/"):
                rest = guest[len(prefix):] if prefix != "/" else guest
                return prefix, host, overlay, "/".join(p for p in rest.split("/") if p)
        raise FsError(E.ENOENT)

    @staticmethod
    def _inside(target: str, root: str) -> str:
        real = os.path.realpath(target)
        if real != root and not real.startswith(root.rstrip(os.sep) + os.sep):
            raise FsError(E.EACCES)
        return target

    def host_path(self, guest: str, write: bool = False, copy: bool = True) -> str:
        """The host path of an absolute, normalised guest path; a symbolic link that leads out
        of its mount gives EACCES.  `write`: the path is about to be changed (in a read-only
        mount: its copy in the private layer, the file copied up first unless `copy` is False)."""
        _, host, overlay, rel = self._mount_of(guest)
        if overlay is None:
            return self._inside(os.path.join(host, *rel.split("/")) if rel else host, host)
        if write:
            try:
                return self._inside(overlay.for_write(rel, copy), overlay.upper)
            except OSError as exc:
                raise from_oserror(exc) from None
        path, root = overlay.find(rel)
        return self._inside(path, root)

    def exists(self, guest: str) -> bool:
        _, host, overlay, rel = self._mount_of(guest)
        if overlay is not None:
            return overlay.exists(rel)
        return os.path.lexists(os.path.join(host, *rel.split("/")) if rel else host)

    def is_device(self, guest: str) -> bool:
        return guest in DEVICES

    def find_file(self, guest: str) -> str | None:
        """The host path of a regular file at `guest`, or None (emscripten `FS.findObject`)."""
        try:
            host = self.host_path(guest)
        except FsError:
            return None
        return host if os.path.isfile(host) else None

    # -- fds -----------------------------------------------------------------------------
    def stream(self, fd: int) -> Stream:
        stream = self.streams.get(fd)
        if stream is None:
            raise FsError(E.EBADF)
        return stream

    def next_fd(self, start: int = 0) -> int:
        fd = max(start, 0)
        while fd in self.streams:
            fd += 1
        if fd > 4096:
            raise FsError(E.EMFILE)
        return fd

    def open(self, guest: str, flags: int, mode: int = 0o666, fd: int | None = None) -> Stream:
        if guest in DEVICES:
            kind = {"/dev/null": "null", "/dev/random": "random", "/dev/urandom": "random"}.get(guest, "tty")
            tty_fd = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}.get(guest, 1 if flags & O_ACCMODE else 0)
            stream = Stream(self.next_fd() if fd is None else fd, kind, guest, flags, tty_fd=tty_fd)
            self.streams[stream.fd] = stream
            return stream
        writing = bool(flags & (O_CREAT | O_TRUNC | O_ACCMODE))
        if writing and flags & O_CREAT and flags & O_EXCL and self.exists(guest):
            raise FsError(E.EEXIST)
        host = self.host_path(guest, write=writing, copy=not flags & O_TRUNC)
        oflags = {0: os.O_RDONLY, O_WRONLY: os.O_WRONLY, O_RDWR: os.O_RDWR}.get(flags & O_ACCMODE, os.O_RDONLY)
        for bit, hbit in ((O_CREAT, os.O_CREAT), (O_EXCL, os.O_EXCL), (O_TRUNC, os.O_TRUNC), (O_APPEND, os.O_APPEND),
                          (O_DIRECTORY, getattr(os, "O_DIRECTORY", 0)), (O_NOFOLLOW, getattr(os, "O_NOFOLLOW", 0))):
            if flags & bit:
                oflags |= hbit
        try:
            if os.path.isdir(host) and not flags & (O_CREAT | O_WRONLY | O_RDWR):
                host_fd = os.open(host, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
                kind = "dir"
            else:
                host_fd = os.open(host, oflags | getattr(os, "O_CLOEXEC", 0), mode & 0o7777)
                kind = "dir" if os.path.isdir(host) else "file"
        except OSError as exc:
            raise from_oserror(exc) from None
        stream = Stream(self.next_fd() if fd is None else fd, kind, guest, flags, host_fd=host_fd, host_path=host)
        self.streams[stream.fd] = stream
        return stream

    def close(self, fd: int) -> Stream:
        stream = self.stream(fd)
        del self.streams[fd]
        stream.refs[0] -= 1
        if stream.host_fd is not None and stream.refs[0] <= 0:
            try:
                os.close(stream.host_fd)
            except OSError as exc:
                raise from_oserror(exc) from None
        return stream

    def dup(self, fd: int, new_fd: int | None = None) -> int:
        """A new fd for the same open file (emscripten reopens the path; sharing is closer to POSIX)."""
        old = self.stream(fd)
        if new_fd is None:
            new_fd = self.next_fd()
        elif new_fd in self.streams:
            self.close(new_fd)
        old.refs[0] += 1
        self.streams[new_fd] = Stream(new_fd, old.kind, old.path, old.flags, old.host_fd, old.host_path, old.tty_fd,
                                      old.dir_entries, old.dir_pos, old.refs)
        return new_fd

    # -- metadata ------------------------------------------------------------------------
    def stat(self, guest: str, follow: bool = True) -> os.stat_result | "DeviceStat":
        if guest in DEVICES:
            return DeviceStat(guest)
        host = self.host_path(guest)
        try:
            return os.stat(host) if follow else os.lstat(host)
        except OSError as exc:
            raise from_oserror(exc) from None

    def fstat(self, stream: Stream):
        if stream.host_fd is not None:
            try:
                return os.fstat(stream.host_fd)
            except OSError as exc:
                raise from_oserror(exc) from None
        return DeviceStat(stream.path)

    def listdir(self, stream: Stream) -> list[str]:
        if stream.dir_entries is None:
            _, _, overlay, rel = self._mount_of(stream.path)
            try:
                names = overlay.listdir(rel) if overlay is not None else sorted(os.listdir(stream.host_path))
            except OSError as exc:
                raise from_oserror(exc) from None
            stream.dir_entries = [".", ".."] + names
        return stream.dir_entries

    # -- changes -------------------------------------------------------------------------
    def _hide(self, guest: str) -> None:
        """`guest` was removed or replaced: in a read-only mount, hide the host's entry."""
        _, _, overlay, rel = self._mount_of(guest)
        if overlay is not None:
            overlay.hide(rel)

    def _changed(self, guest: str, change, *, copy: bool = True) -> None:
        try:
            change(self.host_path(guest, write=True, copy=copy))
        except OSError as exc:
            raise from_oserror(exc) from None

    def mkdir(self, guest: str, mode: int) -> None:
        if self.exists(guest):
            raise FsError(E.EEXIST)
        self._changed(guest, lambda host: os.mkdir(host, mode & 0o777), copy=False)

    def remove(self, guest: str, folder: bool) -> None:
        """rmdir (`folder`) or unlink."""
        if not self.exists(guest):
            raise FsError(E.ENOENT)
        st = self.stat(guest, follow=False)
        is_dir = host_stat.S_ISDIR(st.st_mode)
        if folder and not is_dir:
            raise FsError(E.ENOTDIR)
        if not folder and is_dir:
            raise FsError(E.EISDIR)
        _, _, overlay, rel = self._mount_of(guest)
        if overlay is not None:
            if folder and overlay.listdir(rel):
                raise FsError(E.ENOTEMPTY)
            up = overlay.for_write(rel, copy=False)
            try:
                if os.path.lexists(up):
                    os.rmdir(up) if folder else os.unlink(up)
            except OSError as exc:
                raise from_oserror(exc) from None
            overlay.hide(rel)
            return
        self._changed(guest, os.rmdir if folder else os.unlink, copy=False)

    def rename(self, old: str, new: str) -> None:
        if self._mount_of(old)[0] != self._mount_of(new)[0]:
            raise FsError(E.EXDEV)
        if not self.exists(old):
            raise FsError(E.ENOENT)
        _, _, overlay, rel = self._mount_of(old)
        try:
            source = self.host_path(old) if overlay is None else overlay.copy_tree_up(rel)
            os.rename(source, self.host_path(new, write=True, copy=False))
        except OSError as exc:
            raise from_oserror(exc) from None
        self._hide(old)
        self._hide(new)

    def symlink(self, target: str, guest: str) -> None:
        if self.exists(guest):
            raise FsError(E.EEXIST)
        self._changed(guest, lambda host: os.symlink(target, host), copy=False)

    def truncate(self, guest: str, size: int) -> None:
        self._changed(guest, lambda host: os.truncate(host, size))

    def utime(self, guest: str, times: tuple[float, float] | None) -> None:
        self._changed(guest, lambda host: os.utime(host, times))


class DeviceStat:
    """stat of a device: a character device, like emscripten's /dev entries."""

    def __init__(self, path: str):
        self.st_dev = 5
        self.st_ino = abs(hash(path)) % 100000 + 1
        self.st_mode = host_stat.S_IFCHR | 0o666
        self.st_nlink = 1
        self.st_uid = 0
        self.st_gid = 0
        self.st_rdev = 0
        self.st_size = 0
        self.st_blocks = 0
        self.st_atime = self.st_mtime = self.st_ctime = 0
