"""Errors of the session layer: a command that cannot run, and the request to end the session."""

from __future__ import annotations

from ..errors import DldbgError


class CommandError(DldbgError):
    """A command was given bad arguments or cannot run in the session's state.

    The message is one line, ready for `error: ...` output; the session goes on.
    """


class HelpShown(Exception):
    """`-h` was given to a command (or `help` asked for it): `text` is the command's help, which
    the session prints as the command's result."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


class NotPausedError(CommandError):
    """A stepping command was given while nothing is paused."""


class SessionQuit(BaseException):
    """`quit` (or end of input) while the engine is paused inside a load or a call.

    A BaseException, so it unwinds through the engine and through wasm frames (wasmtime-py
    re-raises what a host function raised) without being turned into a load or call error.
    """
