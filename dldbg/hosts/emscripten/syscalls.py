"""`__syscall_*`, the WASI `fd_*` functions and `_mmap_js` & co. over the sandbox (fs.py).

Semantics follow emscripten 3.1.6's `library_syscall.js` and `library_wasi.js`: a syscall
returns `-errno` on failure, a WASI function `errno`; variadic syscalls receive a pointer to
their extra arguments; 64-bit arguments arrive as (low, high) i32 pairs in legalized builds
and as one i64 with WASM_BIGINT (both are accepted).  Structures are wasm32 musl's:
`struct stat` is 88 bytes (emscripten's `doStat`), `struct dirent` 280.
"""

from __future__ import annotations

import functools
import os
import posixpath
import stat as host_stat

from .fs import AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW, O_APPEND, E, FsError, Stream, from_oserror
from .registry import js

DIRENT_SIZE = 280
WASI_FILETYPE = {"chr": 2, "dir": 3, "file": 4, "link": 7}
TCGETS, TCSETS, TCSETSW, TCSETSF, TIOCGPGRP, TIOCSPGRP, FIONREAD, TIOCGWINSZ, TIOCSWINSZ = (
    0x5401, 0x5402, 0x5403, 0x5404, 0x540F, 0x5410, 0x541B, 0x5413, 0x5414)
TCGETA, TCSETA, TCSETAW, TCSETAF = 0x5405, 0x5406, 0x5407, 0x5408


def _errno_result(name: str, sig: str, sign: int):
    """Register `func` as JS-library function `name`; FsError/OSError become `sign * errno`."""

    def register(func):
        def call(rt, *args):
            try:
                return func(rt, *args)
            except FsError as exc:
                return sign * exc.errno
            except OSError as exc:
                return sign * from_oserror(exc).errno

        functools.update_wrapper(call, func)  # keeps the signature that the host checks imports against
        js(name, sig)(call)
        return func

    return register


def syscall(name: str, sig: str):
    """A `__syscall_*` function: FsError becomes `-errno`."""
    return _errno_result(name, sig, -1)


def wasi(name: str, sig: str):
    """A WASI function: FsError becomes its errno."""
    return _errno_result(name, sig, 1)


def get64(low: int, high: int) -> int:
    return (high << 32) + (low & 0xFFFFFFFF)


def _varargs(rt, varargs: int, index: int = 0) -> int:
    return rt.i32(varargs + 4 * index) if varargs else 0


def _path(rt, ptr: int, dirfd: int = -100, allow_empty: bool = False) -> str:
    return rt.fs.absolute(rt.cstr(ptr), dirfd, allow_empty)


# -- stat ---------------------------------------------------------------------------------

def write_stat(rt, buf: int, st) -> int:
    """emscripten `SYSCALLS.doStat`."""
    data = bytearray(88)

    def put(offset, value, size=4):
        data[offset:offset + size] = (int(value) & ((1 << (8 * size)) - 1)).to_bytes(size, "little")

    put(0, st.st_dev)
    put(8, st.st_ino)
    put(12, st.st_mode)
    put(16, st.st_nlink)
    put(20, st.st_uid)
    put(24, st.st_gid)
    put(28, getattr(st, "st_rdev", 0))
    put(40, st.st_size, 8)
    put(48, 4096)
    put(52, getattr(st, "st_blocks", (st.st_size + 511) // 512))
    put(56, int(st.st_atime))
    put(64, int(st.st_mtime))
    put(72, int(st.st_ctime))
    put(80, st.st_ino, 8)
    rt.write(buf, bytes(data))
    return 0


@syscall("__syscall_stat64", "iii")
def _stat64(rt, path, buf):
    return write_stat(rt, buf, rt.fs.stat(_path(rt, path)))


@syscall("__syscall_lstat64", "iii")
def _lstat64(rt, path, buf):
    return write_stat(rt, buf, rt.fs.stat(_path(rt, path), follow=False))


@syscall("__syscall_fstat64", "iii")
def _fstat64(rt, fd, buf):
    return write_stat(rt, buf, rt.fs.fstat(rt.fs.stream(fd)))


@syscall("__syscall_fstatat64", "iiiii")
def _fstatat64(rt, dirfd, path, buf, flags):
    guest = _path(rt, path, dirfd, allow_empty=bool(flags & 0x1000))
    return write_stat(rt, buf, rt.fs.stat(guest, follow=not flags & AT_SYMLINK_NOFOLLOW))


js("__syscall_newfstatat", "iiiii")(lambda rt, *a: _wrap_sys(_fstatat64, rt, *a))


def _wrap_sys(func, rt, *args):
    try:
        return func(rt, *args)
    except FsError as exc:
        return -exc.errno
    except OSError as exc:
        return -from_oserror(exc).errno


def _statfs(rt, buf):
    fields = {4: 4096, 8: 1000000, 16: 500000, 24: 500000, 32: 1000000, 40: 1000000, 48: 42, 56: 255, 60: 4096, 64: 2}
    data = bytearray(88)
    for off, value in fields.items():
        data[off:off + 4] = value.to_bytes(4, "little")
    rt.write(buf, bytes(data))
    return 0


@syscall("__syscall_statfs64", "iiii")
def _statfs64(rt, path, size, buf):
    return _statfs(rt, buf)


@syscall("__syscall_fstatfs64", "iiii")
def _fstatfs64(rt, fd, size, buf):
    rt.fs.stream(fd)
    return _statfs(rt, buf)


# -- opening and closing ------------------------------------------------------------------

@syscall("__syscall_openat", "iiiii")
def _openat(rt, dirfd, path, flags, varargs=0):
    guest = _path(rt, path, dirfd)
    mode = _varargs(rt, varargs) if varargs else 0
    return rt.fs.open(guest, flags, mode or 0o666).fd


@syscall("__syscall_open", "iiii")
def _open(rt, path, flags, varargs=0):
    mode = _varargs(rt, varargs) if varargs else 0
    return rt.fs.open(_path(rt, path), flags, mode or 0o666).fd


@wasi("fd_close", "ii")
def _fd_close(rt, fd):
    stream = rt.fs.stream(fd)
    if stream.kind == "tty" and stream.tty_fd in (1, 2) and rt.fs.streams.get(stream.tty_fd) is None:
        rt.tty_flush(stream.tty_fd)
    rt.fs.close(fd)
    return 0


@syscall("__syscall_dup", "ii")
def _dup(rt, fd):
    return rt.fs.dup(fd)


@syscall("__syscall_dup3", "iiii")
def _dup3(rt, fd, new_fd, flags):
    rt.fs.stream(fd)
    if fd == new_fd:
        return -E.EINVAL
    return rt.fs.dup(fd, new_fd)


@syscall("__syscall_fcntl64", "iiii")
def _fcntl64(rt, fd, cmd, varargs=0):
    stream = rt.fs.stream(fd)
    if cmd == 0:  # F_DUPFD
        arg = _varargs(rt, varargs)
        if arg < 0:
            return -E.EINVAL
        new_fd = rt.fs.next_fd(arg)
        return rt.fs.dup(fd, new_fd)
    if cmd in (1, 2):  # F_GETFD, F_SETFD
        return 0
    if cmd == 3:  # F_GETFL
        return stream.flags
    if cmd == 4:  # F_SETFL
        stream.flags |= _varargs(rt, varargs)
        return 0
    if cmd == 5:  # F_GETLK
        rt.set_i16(_varargs(rt, varargs), 2)  # l_type = F_UNLCK
        return 0
    if cmd in (6, 7):  # F_SETLK, F_SETLKW
        return 0
    if cmd in (16, 8):  # F_GETOWN_EX, F_SETOWN
        return -E.EINVAL
    if cmd == 9:  # F_GETOWN
        return -1
    return -E.EINVAL


@syscall("__syscall_ioctl", "iiii")
def _ioctl(rt, fd, op, varargs=0):
    stream = rt.fs.stream(fd)
    tty = stream.kind == "tty"
    if op in (TCGETA, TCGETS, TCSETA, TCSETAW, TCSETAF, TCSETS, TCSETSW, TCSETSF, TIOCGWINSZ, TIOCSWINSZ):
        return 0 if tty else -E.ENOTTY
    if op == TIOCGPGRP:
        if not tty:
            return -E.ENOTTY
        rt.set_i32(_varargs(rt, varargs), 0)
        return 0
    if op == TIOCSPGRP:
        return -E.EINVAL if tty else -E.ENOTTY
    if op == FIONREAD:
        return -E.EINVAL
    rt.abort(f"bad ioctl syscall {op}")


# -- reading and writing ------------------------------------------------------------------

def _iovs(rt, iov: int, count: int) -> list[tuple[int, int]]:
    data = rt.read(iov, 8 * count)
    return [(int.from_bytes(data[8 * i:8 * i + 4], "little"), int.from_bytes(data[8 * i + 4:8 * i + 8], "little"))
            for i in range(count)]


def write_stream(rt, stream: Stream, data: bytes, offset: int | None = None) -> int:
    if stream.kind == "tty":
        fd = stream.tty_fd if stream.tty_fd in (1, 2) else 1
        if rt.layout.noderawfs:
            rt.write_raw(fd, data)
        else:
            rt.tty_write(fd, data)
        return len(data)
    if stream.kind in ("null", "random"):
        return len(data)
    if stream.kind == "dir":
        raise FsError(E.EISDIR)
    if offset is not None:
        return os.pwrite(stream.host_fd, data, offset)
    if stream.flags & O_APPEND:
        os.lseek(stream.host_fd, 0, os.SEEK_END)
    return os.write(stream.host_fd, data)


def read_stream(rt, stream: Stream, size: int, offset: int | None = None) -> bytes:
    if stream.kind == "tty":
        return rt.read_stdin(size)
    if stream.kind == "null":
        return b""
    if stream.kind == "random":
        return os.urandom(size)
    if stream.kind == "dir":
        raise FsError(E.EISDIR)
    if offset is not None:
        return os.pread(stream.host_fd, size, offset)
    return os.read(stream.host_fd, size)


@wasi("fd_write", "iiiii")
def _fd_write(rt, fd, iov, iovcnt, pnum):
    stream = rt.fs.stream(fd)
    total = 0
    for ptr, length in _iovs(rt, iov, iovcnt):
        total += write_stream(rt, stream, rt.read(ptr, length))
    rt.set_i32(pnum, total)
    return 0


def _read_iovs(rt, fd, iov, iovcnt, pnum, offset=None) -> int:
    """Fill the iovecs from `fd` (at `offset`, or the stream's position); store the count."""
    stream = rt.fs.stream(fd)
    total = 0
    for ptr, length in _iovs(rt, iov, iovcnt):
        data = read_stream(rt, stream, length, None if offset is None else offset + total)
        rt.write(ptr, data)
        total += len(data)
        if len(data) < length:
            break
    rt.set_i32(pnum, total)
    return 0


@wasi("fd_read", "iiiii")
def _fd_read(rt, fd, iov, iovcnt, pnum):
    return _read_iovs(rt, fd, iov, iovcnt, pnum)


def _offset(args: tuple) -> tuple[int, tuple]:
    """(offset, rest) for `fd_pread`/`fd_pwrite` argument tails: (lo, hi, pnum) or (i64, pnum)."""
    if len(args) == 3:
        return get64(args[0], args[1]), args[2:]
    return args[0], args[1:]


@wasi("fd_pread", "iiiiiii")
def _fd_pread(rt, fd, iov, iovcnt, *tail):
    offset, (pnum,) = _offset(tail)
    return _read_iovs(rt, fd, iov, iovcnt, pnum, offset)


@wasi("fd_pwrite", "iiiiiii")
def _fd_pwrite(rt, fd, iov, iovcnt, *tail):
    offset, (pnum,) = _offset(tail)
    stream = rt.fs.stream(fd)
    total = 0
    for ptr, length in _iovs(rt, iov, iovcnt):
        total += write_stream(rt, stream, rt.read(ptr, length), offset + total)
    rt.set_i32(pnum, total)
    return 0


@wasi("fd_seek", "iiiiii")
def _fd_seek(rt, fd, *args):
    if len(args) == 4:
        offset, whence, new_offset = get64(args[0], args[1]), args[2], args[3]
        if offset >= 1 << 63:
            offset -= 1 << 64
    else:
        offset, whence, new_offset = args
    stream = rt.fs.stream(fd)
    if not stream.seekable:
        raise FsError(E.ESPIPE)
    if whence not in (0, 1, 2):
        raise FsError(E.EINVAL)
    if stream.kind == "dir":
        base = {0: 0, 1: stream.dir_pos, 2: len(rt.fs.listdir(stream)) * DIRENT_SIZE}[whence]
        if base + offset < 0:
            raise FsError(E.EINVAL)
        stream.dir_pos = base + offset
        if offset == 0 and whence == 0:
            stream.dir_entries = None
        position = stream.dir_pos
    else:
        try:
            position = os.lseek(stream.host_fd, offset, whence)
        except OSError as exc:
            raise from_oserror(exc) from None
    rt.set_i64(new_offset, position)
    return 0


@wasi("fd_fdstat_get", "iii")
def _fd_fdstat_get(rt, fd, buf):
    stream = rt.fs.stream(fd)
    if stream.kind in ("tty", "null", "random"):
        kind = WASI_FILETYPE["chr"]
    elif stream.kind == "dir":
        kind = WASI_FILETYPE["dir"]
    else:
        kind = WASI_FILETYPE["file"]
    rt.set_i8(buf, kind)
    return 0


@wasi("fd_sync", "ii")
def _fd_sync(rt, fd):
    rt.fs.stream(fd)
    return 0


@syscall("__syscall_fdatasync", "ii")
def _fdatasync(rt, fd):
    rt.fs.stream(fd)
    return 0


@syscall("__syscall_ftruncate64", "iiii")
def _ftruncate64(rt, fd, *length):
    size = get64(*length) if len(length) == 2 else length[0]
    stream = rt.fs.stream(fd)
    if size < 0 or size >= 1 << 63:
        return -E.EINVAL
    if stream.host_fd is None or stream.kind != "file":
        return -E.EINVAL
    os.ftruncate(stream.host_fd, size)
    return 0


@syscall("__syscall_truncate64", "iiii")
def _truncate64(rt, path, *length):
    size = get64(*length) if len(length) == 2 else length[0]
    rt.fs.truncate(_path(rt, path), size)
    return 0


@syscall("__syscall_fallocate", "iiiiiii")
def _fallocate(rt, fd, mode, *args):
    rt.fs.stream(fd)
    return 0


@syscall("__syscall_fadvise64_64", "iiiiiii")
def _fadvise(rt, *args):
    return 0


@syscall("__syscall_poll", "iiii")
def _poll(rt, fds, nfds, timeout):
    ready = 0
    for i in range(nfds):
        entry = fds + 8 * i
        fd = rt.i32(entry)
        events = rt.u16(entry + 4)
        mask = 0x20  # POLLNVAL
        if fd in rt.fs.streams:
            mask = 5  # POLLIN | POLLOUT
        mask &= events | 0x8 | 0x10
        if mask:
            ready += 1
        rt.set_i16(entry + 6, mask)
    return ready


# -- folders and names --------------------------------------------------------------------

@syscall("__syscall_getcwd", "iii")
def _getcwd(rt, buf, size):
    if size == 0:
        return -E.EINVAL
    data = rt.fs.cwd.encode("utf-8")
    if size < len(data) + 1:
        return -E.ERANGE
    rt.write(buf, data + b"\0")
    return buf


@syscall("__syscall_chdir", "ii")
def _chdir(rt, path):
    guest = _path(rt, path)
    host = rt.fs.host_path(guest)
    if not os.path.exists(host):
        return -E.ENOENT
    if not os.path.isdir(host):
        return -E.ENOTDIR
    rt.fs.cwd = guest
    return 0


@syscall("__syscall_fchdir", "ii")
def _fchdir(rt, fd):
    stream = rt.fs.stream(fd)
    if stream.kind != "dir":
        return -E.ENOTDIR
    rt.fs.cwd = stream.path
    return 0


def _mkdir(rt, guest: str, mode: int) -> int:
    rt.fs.mkdir(guest.rstrip("/") or "/", mode)
    return 0


@syscall("__syscall_mkdir", "iii")
def _mkdir_sys(rt, path, mode):
    return _mkdir(rt, _path(rt, path), mode)


@syscall("__syscall_mkdirat", "iiii")
def _mkdirat(rt, dirfd, path, mode):
    return _mkdir(rt, _path(rt, path, dirfd), mode)


@syscall("__syscall_rmdir", "ii")
def _rmdir(rt, path):
    rt.fs.remove(_path(rt, path), folder=True)
    return 0


@syscall("__syscall_unlink", "ii")
def _unlink(rt, path):
    rt.fs.remove(_path(rt, path), folder=False)
    return 0


@syscall("__syscall_unlinkat", "iiii")
def _unlinkat(rt, dirfd, path, flags):
    if flags & ~AT_REMOVEDIR:
        return -E.EINVAL
    rt.fs.remove(_path(rt, path, dirfd), folder=bool(flags & AT_REMOVEDIR))
    return 0


@syscall("__syscall_rename", "iii")
def _rename(rt, old, new):
    rt.fs.rename(_path(rt, old), _path(rt, new))
    return 0


@syscall("__syscall_renameat", "iiiii")
def _renameat(rt, olddirfd, old, newdirfd, new):
    rt.fs.rename(_path(rt, old, olddirfd), _path(rt, new, newdirfd))
    return 0


def _readlink(rt, guest: str, buf: int, size: int) -> int:
    if size <= 0:
        return -E.EINVAL
    target = os.readlink(rt.fs.host_path(guest)).encode("utf-8")[:size]
    rt.write(buf, target)
    return len(target)


@syscall("__syscall_readlink", "iiii")
def _readlink_sys(rt, path, buf, size):
    return _readlink(rt, _path(rt, path), buf, size)


@syscall("__syscall_readlinkat", "iiiii")
def _readlinkat(rt, dirfd, path, buf, size):
    return _readlink(rt, _path(rt, path, dirfd), buf, size)


@syscall("__syscall_symlink", "iii")
def _symlink(rt, target, linkpath):
    rt.fs.symlink(rt.cstr(target), _path(rt, linkpath))
    return 0


@syscall("__syscall_symlinkat", "iiii")
def _symlinkat(rt, target, newdirfd, linkpath):
    rt.fs.symlink(rt.cstr(target), _path(rt, linkpath, newdirfd))
    return 0


@syscall("__syscall_linkat", "iiiiii")
def _linkat(rt, *args):
    return -E.EMLINK


def _access(rt, guest: str, amode: int) -> int:
    if amode & ~7:
        return -E.EINVAL
    if rt.fs.is_device(guest):
        return 0
    host = rt.fs.host_path(guest)
    if not os.path.lexists(host):
        return -E.ENOENT
    wanted = (os.R_OK if amode & 4 else 0) | (os.W_OK if amode & 2 else 0) | (os.X_OK if amode & 1 else 0)
    if wanted and not os.access(host, wanted):
        return -E.EACCES
    return 0


@syscall("__syscall_faccessat", "iiiii")
def _faccessat(rt, dirfd, path, amode, flags):
    return _access(rt, _path(rt, path, dirfd), amode)


@syscall("__syscall_access", "iii")
def _access_sys(rt, path, amode):
    return _access(rt, _path(rt, path), amode)


@syscall("__syscall_getdents64", "iiii")
def _getdents64(rt, fd, dirp, count):
    stream = rt.fs.stream(fd)
    if stream.kind != "dir":
        return -E.ENOTDIR
    entries = rt.fs.listdir(stream)
    pos = 0
    idx = stream.dir_pos // DIRENT_SIZE
    while idx < len(entries) and pos + DIRENT_SIZE <= count:
        name = entries[idx]
        try:
            st = rt.fs.stat(posixpath.join(stream.path, name), follow=False)
            ino = st.st_ino
            mode = st.st_mode
        except (OSError, FsError):
            ino, mode = idx + 1, host_stat.S_IFREG
        if name in (".", ".."):
            kind = 4
        elif host_stat.S_ISCHR(mode):
            kind = 2
        elif host_stat.S_ISDIR(mode):
            kind = 4
        elif host_stat.S_ISLNK(mode):
            kind = 10
        else:
            kind = 8
        record = bytearray(DIRENT_SIZE)
        record[0:8] = (ino & (2 ** 64 - 1)).to_bytes(8, "little")
        record[8:16] = ((idx + 1) * DIRENT_SIZE).to_bytes(8, "little")
        record[16:18] = DIRENT_SIZE.to_bytes(2, "little")
        record[18] = kind
        encoded = name.encode("utf-8")[:255]
        record[19:19 + len(encoded)] = encoded
        rt.write(dirp + pos, bytes(record))
        pos += DIRENT_SIZE
        idx += 1
    stream.dir_pos = idx * DIRENT_SIZE
    return pos


@syscall("__syscall_utimensat", "iiiii")
def _utimensat(rt, dirfd, path, times, flags):
    guest = _path(rt, path, dirfd, allow_empty=True)
    if times:
        atime = rt.i32(times) + rt.i32(times + 4) / 1e9
        mtime = rt.i32(times + 8) + rt.i32(times + 12) / 1e9
        rt.fs.utime(guest, (atime, mtime))
    else:
        rt.fs.utime(guest, None)
    return 0


for _name in ("__syscall_chmod", "__syscall_fchmod", "__syscall_fchmodat", "__syscall_chown32", "__syscall_fchown32",
              "__syscall_lchown32", "__syscall_fchownat", "__syscall_mknod", "__syscall_mknodat"):
    js(_name, "iiiii")(lambda rt, *args: 0)

for _name in ("__syscall_getuid32", "__syscall_getgid32", "__syscall_geteuid32", "__syscall_getegid32"):
    js(_name, "i")(lambda rt: 0)


@js("__syscall_umask", "ii")
def _umask(rt, mask):
    old, rt.umask = getattr(rt, "umask", 0o22), mask
    return old


@js("__syscall_uname", "ii")
def _uname(rt, buf):
    if not buf:
        return -E.EFAULT
    for i, value in enumerate(("Emscripten", "emscripten", "1.0", "#1", "wasm32")):
        rt.write_cstr(buf + 65 * i, value)
    return 0


@js("__syscall_getpid", "i")
def _getpid(rt):
    return 42


# -- mmap -----------------------------------------------------------------------------------

@js("_mmap_js", "iiiiiiiii")
def _mmap_js(rt, addr, length, prot, flags, fd, *rest):
    """Map a file: read it into fresh memory (emscripten 3.1.6 `FS.mmap`); returns the address.

    Arguments after `fd`: the offset (an i64, or two i32 halves), `allocated*`, `builtin`."""
    if len(rest) == 4:  # legalized: off_lo, off_hi, allocated, builtin
        offset, allocated = get64(rest[0], rest[1]), rest[2]
    elif len(rest) == 3:
        offset, allocated = rest[0], rest[1]
    else:
        return -E.EINVAL
    try:
        stream = rt.fs.stream(fd)
    except FsError:
        return -E.EBADF
    if stream.kind != "file":
        return -E.ENODEV
    size = (length + 65535) // 65536 * 65536
    ptr = rt.call("emscripten_builtin_memalign", 65536, size) if rt.export("emscripten_builtin_memalign") else 0
    if not ptr:
        return -E.ENOMEM
    data = os.pread(stream.host_fd, length, offset)
    rt.write(ptr, data + bytes(size - len(data)))
    rt.set_i32(allocated, 1)
    rt.mmaps[ptr & 0xFFFFFFFF] = (fd, offset, length)
    return ptr


@js("_munmap_js", "iiiiiiii")
def _munmap_js(rt, addr, length, prot, flags, fd, *offset):
    info = rt.mmaps.pop(addr & 0xFFFFFFFF, None)
    if info is not None and prot & 2 and not flags & 2 and fd in rt.fs.streams:  # PROT_WRITE, not MAP_PRIVATE
        stream = rt.fs.streams[fd]
        if stream.kind == "file":
            os.pwrite(stream.host_fd, rt.read(addr, length), info[1])
    return 0


@js("_msync_js", "iiiiiii")
def _msync_js(rt, addr, length, flags, fd, *offset):
    info = rt.mmaps.get(addr & 0xFFFFFFFF)
    if info is not None and fd in rt.fs.streams and rt.fs.streams[fd].kind == "file":
        os.pwrite(rt.fs.streams[fd].host_fd, rt.read(addr, length), info[1])
    return 0
