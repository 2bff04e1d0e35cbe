"""Ctrl-C while a command runs: stop running wasm, keep the session.

While a command runs, SIGINT calls `on_interrupt` (the session's `engine.interrupt()`, which
bumps wasmtime's epoch so running wasm traps at its next epoch check) instead of raising
KeyboardInterrupt.  Python runs signal handlers only between bytecodes, so while the main thread
is inside wasm the handler would wait for the call to return; the C-level handler, though, writes
to the wakeup fd (`signal.set_wakeup_fd`) at once, and a watcher thread reading it calls
`on_interrupt` too.  Incrementing the epoch is the one engine operation made from another thread;
wasmtime documents `Engine.increment_epoch` as safe to call from any thread.

The watcher (a pipe and a thread) is needed only while wasm runs: `active(watch=False)` installs
the handler alone, and `watch()`, which the session's engine calls before it enters wasm
(`Engine.before_wasm`), starts the watcher then, the first time.  A command that runs no wasm (a
dlopen whose relocations and constructors are empty, `info`, `break`) starts no thread.

While the session waits for the user at a pause, the previous handlers are back in place (the
REPL's prompt handles Ctrl-C itself).  Only the main thread can install signal handlers; on any
other thread the guard does nothing.
"""

from __future__ import annotations

import _signal
import _thread
import os
import signal
import threading
from contextlib import contextmanager
from typing import Callable


class InterruptGuard:
    """:ivar interrupted: SIGINT arrived while the guard was active (reset by `active()`)."""

    def __init__(self, on_interrupt: Callable[[], None]):
        self._on_interrupt = on_interrupt
        #: per active level: [the SIGINT handler before it, the wakeup fd before it (None: the
        #: level did not set one; -2: it could not)]
        self._saved: list[list] = []
        self._pipe: tuple[int, int] | None = None
        self._watching = False  # the wakeup fd is the watcher's pipe
        self.interrupted = False

    @staticmethod
    def _usable() -> bool:
        return threading.current_thread() is threading.main_thread()

    def _handler(self, signum, frame) -> None:
        self.interrupted = True
        self._on_interrupt()

    def _watch(self, reader: int) -> None:
        """Read the wakeup fd until `close()` closes the write end; the reader is this thread's
        to close (closed from another thread, its number could be reused by a file opened
        meanwhile, and this read would take that file's bytes)."""
        try:
            while True:
                try:
                    data = os.read(reader, 64)
                except OSError:
                    return
                if not data:
                    return
                if signal.SIGINT in data and self._saved:
                    self.interrupted = True
                    try:
                        self._on_interrupt()
                    except Exception:  # the engine may be gone; nothing to stop then
                        pass
        finally:
            os.close(reader)

    def _ensure_pipe(self) -> int:
        if self._pipe is None:
            reader, writer = os.pipe()
            os.set_blocking(writer, False)
            self._pipe = (reader, writer)
            # `_thread` rather than threading.Thread: `Thread.start` waits until the new thread
            # runs, milliseconds on a busy machine
            _thread.start_new_thread(self._watch, (reader,))
        return self._pipe[1]

    @staticmethod
    def _set_handler(handler):
        # the C function: `signal.signal` turns the old handler into an enum member when it can,
        # through an exception when it cannot (a function), a tenth of the command's first millisecond
        return _signal.signal(signal.SIGINT, handler)

    def watch(self) -> None:
        """Start watching SIGINT while wasm runs (the pipe, its thread, the wakeup fd), if the
        guard is active and not watching yet; the level active now undoes it."""
        if not self._saved or self._watching or not self._usable():
            return
        writer = self._ensure_pipe()
        try:
            self._saved[-1][1] = signal.set_wakeup_fd(writer, warn_on_full_buffer=False)
        except ValueError:
            self._saved[-1][1] = -2  # could not take the wakeup fd; the Python-level handler still works
        self._watching = True

    def _restore(self, handler, fd: int | None) -> None:
        self._set_handler(handler)
        if fd is not None and fd != -2:
            try:
                signal.set_wakeup_fd(fd, warn_on_full_buffer=False)
            except ValueError:
                pass

    def active(self, watch: bool = True) -> "_Active":
        """`with guard.active():` SIGINT interrupts the engine while the block runs;
        `watch=False`: the watcher waits for `watch()` (see the module's docstring)."""
        return _Active(self, watch)

    @contextmanager
    def suspended(self):
        """The handlers from before the outermost `active()` while the block runs (a pause)."""
        if not self._usable() or not self._saved:
            yield
            return
        handler = self._saved[0][0]
        taken = next((fd for _handler, fd in self._saved if fd is not None), None)  # before the watcher's
        saved, watching = self._saved, self._watching
        self._saved, self._watching = [], False
        self._restore(handler, taken)
        try:
            yield
        finally:
            self._saved, self._watching = saved, watching
            self._restore(self._handler, self._pipe[1] if watching and taken != -2 else None)

    def close(self) -> None:
        """Close the write end; the watcher thread sees end of file and closes the read end."""
        if self._pipe is not None:
            _reader, writer = self._pipe
            self._pipe = None
            os.close(writer)


class _Active:
    """What `InterruptGuard.active()` returns: a context manager made for every command (a
    class, not a `contextlib.contextmanager` generator and its manager object)."""

    __slots__ = ("_guard", "_watch", "_used")

    def __init__(self, guard: InterruptGuard, watch: bool):
        self._guard = guard
        self._watch = watch
        self._used = False

    def __enter__(self) -> None:
        guard = self._guard
        self._used = guard._usable()
        if not self._used:
            return
        if not guard._saved:
            guard.interrupted = False
        guard._saved.append([guard._set_handler(guard._handler), None])
        if self._watch:
            guard.watch()

    def __exit__(self, *exc) -> None:
        if not self._used:
            return
        guard = self._guard
        handler, fd = guard._saved.pop()
        guard._restore(handler, fd)
        if fd is not None:
            guard._watching = False


class RunLimit:
    """SIGINT and `--timeout` for a whole non-interactive run (`dldbg run`, `--batch`).

    `fire(reason)` ("interrupted" or "timeout") stops running wasm at its next epoch check and
    keeps stopping it: `interrupt` (the engine's epoch bump) is called every 10 ms until
    `close()`, so a call that starts later (the engine re-arms its deadline before each call)
    stops too.  The epoch check is in every loop header and function entry of compiled code
    (wasmtime `epoch_interruption`), so a looping call ends within milliseconds.

    :param interrupt: the engine's `interrupt()`; safe to call from any thread.
    :param timeout: seconds from `start()` until `fire("timeout")`, or None.
    :ivar reason: None, or why the run was stopped.
    """

    PUMP_SECONDS = 0.01

    def __init__(self, interrupt: Callable[[], None], timeout: float | None = None):
        self._interrupt = interrupt
        self.timeout = timeout
        self.reason: str | None = None
        self._closed = threading.Event()
        self._timer: threading.Timer | None = None
        self._pump: threading.Thread | None = None

    def start(self) -> "RunLimit":
        if self.timeout is not None:
            self._timer = threading.Timer(self.timeout, self.fire, ("timeout",))
            self._timer.daemon = True
            self._timer.start()
        return self

    def fire(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        if self._pump is None and not self._closed.is_set():
            self._pump = threading.Thread(target=self._keep_interrupting, name="dldbg-stop", daemon=True)
            self._pump.start()

    def _keep_interrupting(self) -> None:
        while not self._closed.is_set():
            try:
                self._interrupt()
            except Exception:  # the engine is gone: nothing runs any more
                return
            self._closed.wait(self.PUMP_SECONDS)

    def close(self) -> None:
        self._closed.set()
        if self._timer is not None:
            self._timer.cancel()

    def message(self) -> str:
        """The line to print when the run was stopped."""
        if self.reason == "timeout":
            return f"dldbg: error: timed out after {self.timeout:g} s (--timeout): stopped the running wasm"
        return "dldbg: interrupted (SIGINT): stopped the running wasm"

    @property
    def status(self) -> int:
        """130 after SIGINT (128 + 2, as shells report it), 124 after --timeout (as timeout(1))."""
        return 124 if self.reason == "timeout" else 130
