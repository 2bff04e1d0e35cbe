"""A progress line for long reads, translations and compiles, on a terminal, for `dldbg run`,
`dldbg check` and the debugger's batch mode (the TUI has its own bar, fed by the same events).

`ProgressLine(stream)` is an engine listener.  A module's read starts at `load.start`, its
compile at `module.read` (whose `compile_estimate` says how long this machine should take: the
line shows a percentage against it), or its translation to exnref there and its compile at
`module.translate`; `module.compile` or `load.fail` end it.  Nothing is shown
for work that ends within `DELAY` seconds, nor when `stream` is not a terminal; a line that was
shown is erased when the work ends, so the program's own output stays as it was.
"""

from __future__ import annotations

import threading
import time
from typing import TextIO

#: seconds of work before the line appears
DELAY = 1.0
#: seconds between two repaints
TICK = 0.25


class ProgressLine:
    def __init__(self, stream: TextIO, *, delay: float = DELAY):
        self.stream = stream
        self.delay = delay
        self._cond = threading.Condition()
        self._task: tuple[str, float, float | None] | None = None  # (what, started, expected seconds)
        self._shown = False
        self._thread: threading.Thread | None = None

    @staticmethod
    def wanted(stream: TextIO) -> bool:
        """Whether `stream` is a terminal (the line is never written anywhere else)."""
        isatty = getattr(stream, "isatty", None)
        return bool(isatty and isatty())

    def __call__(self, event) -> None:
        kind = event.kind
        if kind == "load.start":
            self._begin(f"reading {event.module}", None)
        elif kind == "module.read":
            if getattr(event, "eh_encoding", "none") == "legacy":  # binaryen's translation first
                self._begin(f"translating {event.module} ({event.size / 1048576:.1f} MiB) to exnref", None)
            elif event.compile_estimate == 0.0:  # machine code cached: nothing long follows
                self._end()
            else:
                self._begin(f"compiling {event.module} ({event.size / 1048576:.1f} MiB)", event.compile_estimate)
        elif kind == "module.translate":
            if event.compile_estimate == 0.0:
                self._end()
            else:
                self._begin(f"compiling {event.module} ({event.size / 1048576:.1f} MiB)", event.compile_estimate)
        elif kind in ("module.compile", "load.fail"):
            self._end()

    def _begin(self, what: str, expected: float | None) -> None:
        with self._cond:
            self._task = (what, time.monotonic(), expected)
            if self._thread is None:
                self._thread = threading.Thread(target=self._paint, name="dldbg-progress", daemon=True)
                self._thread.start()
            self._cond.notify()

    def _end(self) -> None:
        with self._cond:
            self._task = None
            if self._shown:
                self._write("\r\x1b[K")
                self._shown = False
            self._cond.notify()

    def _paint(self) -> None:
        with self._cond:
            while True:
                if self._task is None:
                    self._cond.wait()
                    continue
                what, started, expected = self._task
                elapsed = time.monotonic() - started
                if elapsed < self.delay:
                    self._cond.wait(self.delay - elapsed)
                    continue
                if expected:
                    share = min(elapsed / expected, 0.99)
                    text = f"dldbg: {what}: {share:4.0%} ({elapsed:.1f} s of about {expected:.1f} s)"
                else:
                    text = f"dldbg: {what}: {elapsed:.1f} s"
                self._write("\r\x1b[K" + text)
                self._shown = True
                self._cond.wait(TICK)

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            pass  # a closed terminal: nothing to show
