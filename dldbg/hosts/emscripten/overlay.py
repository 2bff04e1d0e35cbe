"""A read-only host folder with a private, writable layer over it.

Under node, an emscripten program's default file system is MEMFS: what it writes stays in
memory and is gone when it exits.  dldbg shows the program its own folder (so that it finds its
side modules and data files) without letting it change that folder: reads come from the host
folder (`lower`), every change goes to a private scratch folder (`upper`, deleted at exit), the
way an overlay mount works.  A file is copied up before it is changed; a name removed from the
lower folder is hidden (with everything under it) instead of deleted.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile


class Overlay:
    """`lower`: the host folder shown read-only.  Paths are relative (`rel`, '/'-separated,
    normalised, '' for the folder itself)."""

    def __init__(self, lower: str):
        self.lower = lower
        self.upper = os.path.realpath(tempfile.mkdtemp(prefix="dldbg-emscripten-fs-"))
        #: relative paths whose lower-layer entries (and all below them) are hidden
        self.hidden: set[str] = set()

    def close(self) -> None:
        shutil.rmtree(self.upper, ignore_errors=True)

    def _up(self, rel: str) -> str:
        return os.path.join(self.upper, *rel.split("/")) if rel else self.upper

    def _low(self, rel: str) -> str:
        return os.path.join(self.lower, *rel.split("/")) if rel else self.lower

    def _lower_visible(self, rel: str) -> bool:
        parts = rel.split("/") if rel else []
        return not any("/".join(parts[:i]) in self.hidden for i in range(1, len(parts) + 1))

    def find(self, rel: str) -> tuple[str, str]:
        """(host path to read `rel` at, the root of its layer): the upper copy if there is one,
        else the lower file if it is not hidden, else the (missing) upper path."""
        if os.path.lexists(self._up(rel)):
            return self._up(rel), self.upper
        if self._lower_visible(rel) and os.path.lexists(self._low(rel)):
            return self._low(rel), self.lower
        return self._up(rel), self.upper

    def exists(self, rel: str) -> bool:
        return os.path.lexists(self.find(rel)[0])

    def for_write(self, rel: str, copy: bool = True) -> str:
        """The upper path of `rel`, its parent folders made in the upper layer (OSError when the
        parent is missing or a link leads out); a link of the lower layer is copied up, and with
        `copy` a file or folder too (an empty folder: its entries stay below)."""
        parent = rel.rpartition("/")[0]
        real = os.path.realpath(self._up(parent))
        if real != self.upper and not real.startswith(self.upper + os.sep):
            # a link the program made in the upper layer: creating folders through it would
            # create them on the host
            raise PermissionError(errno.EACCES, "a link leads out of the program's folder")
        if parent and not os.path.isdir(self.find(parent)[0]):
            raise FileNotFoundError(errno.ENOENT, "no such folder")
        if parent:
            os.makedirs(self._up(parent), exist_ok=True)
        up = self._up(rel)
        if not os.path.lexists(up) and self._lower_visible(rel):
            low = self._low(rel)
            if os.path.islink(low):  # a write through a link changes its target, in this layer
                os.symlink(os.readlink(low), up)
            elif not copy:
                pass
            elif os.path.isdir(low):
                os.mkdir(up)
            elif os.path.isfile(low):
                shutil.copy2(low, up)
        return up

    def copy_tree_up(self, rel: str) -> str:
        """The upper path of `rel` with the whole visible tree under it copied up (rename)."""
        up = self.for_write(rel)
        if os.path.isdir(up) and not os.path.islink(up):
            for name in self.listdir(rel):
                self.copy_tree_up(f"{rel}/{name}" if rel else name)
        return up

    def hide(self, rel: str) -> None:
        """`rel` was removed or replaced: the lower layer's entry no longer shows."""
        self.hidden.add(rel)

    def listdir(self, rel: str) -> list[str]:
        names: set[str] = set()
        if os.path.isdir(self._up(rel)):
            names.update(os.listdir(self._up(rel)))
        if self._lower_visible(rel) and os.path.isdir(self._low(rel)):
            prefix = f"{rel}/" if rel else ""
            names.update(n for n in os.listdir(self._low(rel)) if self._lower_visible(prefix + n))
        return sorted(names)
