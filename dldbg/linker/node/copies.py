"""The node backend's folder of instrumented copies, `<cache>/node/`, kept bounded.

Each entry is a folder: `<key>/<glue name>` (a program's instrumented glue, instrument.py) or
`pyodide-VERSION-KEY/` (an indexURL folder, pyodide.py); files left by older dldbg versions
(`main.<key>.js`) count as entries too.  An entry used again has its modification time
renewed (`touch`).  After an entry is made, `prune` removes the least recently used entries
while the folder holds more than MAX_ENTRIES entries or MAX_BYTES bytes (the sizes of their
files; the links to a Pyodide distribution's files are not counted), as the compiled-module and
parse caches do (dldbg/wasm/parsecache.py).  An entry used within RECENT_SECONDS is kept (a
session may still run on it: a Pyodide run reads its indexURL folder while it starts); an
entry is renamed before it is deleted, so a concurrent run sees it whole or not at all and
makes it again.  Errors (a read-only cache, an entry removed meanwhile) are ignored: a missing
entry only costs instrumenting again.
"""

from __future__ import annotations

import os
import shutil
import time

#: entries (instrumented copies and Pyodide indexURL folders) kept in `<cache>/node/`
MAX_ENTRIES = 64
#: bytes of files kept there (a Pyodide 314 glue copy is about 1.3 MB)
MAX_BYTES = 256 << 20
#: an entry used this recently is never removed
RECENT_SECONDS = 600


def touch(entry: str) -> None:
    """Mark `entry` (a folder of `<cache>/node/`) as used now."""
    try:
        os.utime(entry)
    except OSError:
        pass


def _size(path: str) -> int:
    """Bytes of the regular files of `path` (a file, or a folder's own files; links not followed)."""
    try:
        if not os.path.isdir(path) or os.path.islink(path):
            return os.lstat(path).st_size
        total = 0
        with os.scandir(path) as it:
            for entry in it:
                if entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_size
        return total
    except OSError:
        return 0


def prune(folder: str, keep: str) -> None:
    """Remove the least recently used entries of `folder` (`<cache>/node`) while it holds more
    than MAX_ENTRIES entries or MAX_BYTES bytes; never `keep` (the entry just made or used) nor
    one used in the last RECENT_SECONDS."""
    entries = []
    try:
        with os.scandir(folder) as it:
            for entry in it:
                try:
                    mtime = entry.stat(follow_symlinks=False).st_mtime
                except OSError:
                    continue
                entries.append((mtime, entry.name, entry.path))
    except OSError:
        return
    if len(entries) <= MAX_ENTRIES and sum(_size(p) for _m, _n, p in entries) <= MAX_BYTES:
        return
    sizes = {p: _size(p) for _m, _n, p in entries}
    count, total = len(entries), sum(sizes.values())
    recent = time.time() - RECENT_SECONDS
    for mtime, name, path in sorted(entries):
        if count <= MAX_ENTRIES and total <= MAX_BYTES:
            break
        if name == os.path.basename(keep) or mtime > recent:
            continue
        _remove(path)
        count, total = count - 1, total - sizes[path]


def _remove(path: str) -> None:
    gone = f"{path}.{os.getpid()}.removed"
    try:
        os.rename(path, gone)
    except OSError:
        return  # removed or renamed by a concurrent run
    if os.path.isdir(gone) and not os.path.islink(gone):
        shutil.rmtree(gone, ignore_errors=True)
    else:
        try:
            os.unlink(gone)
        except OSError:
            pass
