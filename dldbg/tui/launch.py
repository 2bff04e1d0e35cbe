"""Provides `run_tui(session)`: the TUI on the terminal, with the program's output captured.

A program under the debugger writes to the process's stdout and stderr (wasmtime's WASI
writes to file descriptors 1 and 2 directly; the emscripten host through Python's streams).
On a full-screen terminal those bytes would land in the middle of the screen, so while the TUI
runs, descriptors 1 and 2 point at a pipe whose lines go to the output log, and Textual draws
on a duplicate of the terminal's descriptor instead.  Both are restored when the TUI ends.
"""

from __future__ import annotations

import os
import sys
import threading

from .messages import ProgramOutput


def _terminal_fd() -> int | None:
    for fd in (2, 1):
        try:
            if os.isatty(fd):
                return fd
        except OSError:
            continue
    return None


def _driver_class(terminal):
    """A LinuxDriver that draws on `terminal` (a file object) and asks it for its size."""
    from textual.drivers.linux_driver import LinuxDriver

    class TerminalDriver(LinuxDriver):
        def __init__(self, app, **kwargs) -> None:
            super().__init__(app, **kwargs)
            self._file = terminal

        def _get_terminal_size(self) -> tuple[int, int]:
            try:
                size = os.get_terminal_size(terminal.fileno())
                return size.columns or 80, size.lines or 25
            except OSError:
                return super()._get_terminal_size()

    return TerminalDriver


class OutputCapture:
    """Points file descriptors 1 and 2 at a pipe; `on_text(text)` gets what is written (on a
    reader thread).  `terminal` is a text stream on the real terminal while active."""

    def __init__(self, on_text) -> None:
        self.on_text = on_text
        self.terminal = None
        self._saved: list[tuple[int, int]] = []
        self._reader: threading.Thread | None = None

    def __enter__(self) -> "OutputCapture":
        fd = _terminal_fd()
        if fd is None:
            raise OSError("no terminal")
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        self.terminal = open(os.dup(fd), "w", encoding="utf-8", errors="replace", closefd=True)
        read_end, write_end = os.pipe()
        for target in (1, 2):
            self._saved.append((target, os.dup(target)))
            os.dup2(write_end, target)
        os.close(write_end)
        self._reader = threading.Thread(target=self._read, args=(read_end,), name="dldbg-program-output", daemon=True)
        self._reader.start()
        return self

    def _read(self, fd: int) -> None:
        pending = b""
        with open(fd, "rb", buffering=0, closefd=True) as pipe:
            while True:
                try:
                    data = pipe.read(65536)
                except OSError:
                    break
                if not data:
                    break
                pending += data
                if b"\n" in pending:
                    text, _, pending = pending.rpartition(b"\n")
                    self._emit(text)
                elif len(pending) > 4096:
                    self._emit(pending)
                    pending = b""
        if pending:
            self._emit(pending)

    def _emit(self, data: bytes) -> None:
        try:
            self.on_text(data.decode("utf-8", "replace"))
        except Exception:
            pass

    def __exit__(self, *exc) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        for target, saved in reversed(self._saved):
            os.dup2(saved, target)
            os.close(saved)
        self._saved.clear()
        if self._reader is not None:
            self._reader.join(timeout=1.0)
        if self.terminal is not None:
            self.terminal.close()
            self.terminal = None


def run_tui(session, *, capture_output: bool = True) -> int:
    """Run the TUI on the terminal until the user quits; returns the exit status (0)."""
    from ..repl.history import HistoryFile, history_path
    from .app import make_app

    app = make_app(session, history_file=HistoryFile(history_path()))
    if not capture_output or sys.platform == "win32" or _terminal_fd() is None:
        app.run()
        return 0
    early: list[str] = []

    def program_output(text: str) -> None:
        if app.is_running:
            app.post_message(ProgramOutput(text))
        else:
            early.append(text)

    capture = OutputCapture(program_output)
    try:
        capture.__enter__()
    except OSError:
        app.run()
        return 0
    try:
        app.driver_class = _driver_class(capture.terminal)
        app.run()
    finally:
        capture.__exit__(None, None, None)
    for text in early:  # written before the app ran, or after it ended
        print(text, file=sys.stderr)
    return 0
