"""Init files and commands from a non-terminal stdin, as gdb has them.

`~/.dldbginit` (gdb's `~/.gdbinit`) runs before the command line's `-x`/`-ex`; then
`./.dldbginit` (the current folder's) runs only when the auto-load safe path allows it: the
file lies in a folder of `session.safe_path`, which `~/.dldbginit` sets with
`set auto-load safe-path DIR[:DIR...]` or `add-auto-load-safe-path DIR` (gdb's
`auto-load safe-path`; `/` allows every folder).  A declined file is named in a warning that
says how to allow it.  `--nx` skips both.

Without a terminal on stdin (and without --batch), command lines are read from stdin after
the command line's, until its end (gdb reads a pipe so).
"""

from __future__ import annotations

import os
from typing import TextIO

INIT_NAME = ".dldbginit"


def home_init_file() -> str:
    """`~/.dldbginit` (`$HOME`)."""
    return os.path.join(os.path.expanduser("~"), INIT_NAME)


def is_safe(path: str, safe_path: list[str]) -> bool:
    """Whether `path` lies in (or is) an entry of `safe_path`."""
    real = os.path.realpath(path)
    for entry in safe_path:
        folder = os.path.realpath(os.path.expanduser(entry))
        if folder == "/" or real == folder or real.startswith(folder.rstrip("/") + "/"):
            return True
    return False


def declined(path: str, safe_path: list[str]) -> str:
    """The warning for a `./.dldbginit` that the safe path does not allow."""
    setting = f'set to "{os.pathsep.join(safe_path)}"' if safe_path else "empty"
    return (f'file "{path}" auto-loading has been declined by your auto-load safe-path ({setting}); to enable '
            f"it, add the line\n\tadd-auto-load-safe-path {os.path.dirname(os.path.realpath(path))}\n"
            f'to your configuration file "{os.path.join("~", INIT_NAME)}"')


def run_init_files(session, cwd: str | None = None) -> None:
    """Run `~/.dldbginit`, then `./.dldbginit` if the safe path allows it (see above).

    Their commands run now, before the command line's; a failing one counts as a failed
    command (--batch exits 1)."""
    home = home_init_file()
    if os.path.isfile(home):
        _source(session, home)
    local = os.path.join(cwd or os.getcwd(), INIT_NAME)
    if session.quitting or not os.path.isfile(local) or os.path.realpath(local) == os.path.realpath(home):
        return
    if is_safe(local, session.safe_path):
        _source(session, local)
    else:
        session.printer.warning(declined(local, session.safe_path))


def _source(session, path: str) -> None:
    from ..session.tokens import quote

    session.pending.append((f"source {quote(path)}", path))
    session.run_commands()


def stdin_reader(stream: TextIO):
    """A `session.interactive` reader that takes command lines from `stream` until its end."""

    def read(session) -> str | None:
        try:
            line = stream.readline()
        except (OSError, ValueError):  # closed, or not readable (pytest's captured stdin)
            return None
        return line.rstrip("\r\n") if line else None

    return read
