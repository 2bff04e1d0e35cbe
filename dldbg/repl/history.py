"""The command history file, shared by the REPL and the TUI's command bar (gdb's `history
save`): `$DLDBG_HISTORY`, else `$XDG_STATE_HOME/dldbg/history`, else
`~/.local/state/dldbg/history`, in prompt_toolkit's FileHistory format.
"""

from __future__ import annotations

import os

from prompt_toolkit.history import FileHistory

#: lines a front end keeps in memory (the file keeps everything)
KEEP = 1000


def history_path(environ=None) -> str:
    env = os.environ if environ is None else environ
    if env.get("DLDBG_HISTORY"):
        return env["DLDBG_HISTORY"]
    state = env.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return os.path.join(state, "dldbg", "history")


class HistoryFile:
    """Command lines of earlier sessions (oldest first) and appending new ones; a file that
    cannot be read or written leaves the history in memory only."""

    def __init__(self, path: str):
        self.path = path
        self._file = FileHistory(path)

    def load(self) -> list[str]:
        try:
            lines = list(self._file.load_history_strings())  # newest first
        except OSError:
            return []
        return list(reversed(lines[:KEEP]))

    def append(self, line: str) -> None:
        try:
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            self._file.store_string(line)
        except OSError:
            pass
