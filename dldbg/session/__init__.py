"""The debugger session: breakpoints on linker events, stepping, the event log, inspection.

`Session` is the object every front end drives (see dldbg.session.session).
"""

from .errors import CommandError, NotPausedError, SessionQuit
from .output import CommandResult, JsonPrinter, Reply, TextPrinter
from .session import Pause, Session

__all__ = ["CommandError", "CommandResult", "JsonPrinter", "NotPausedError", "Pause", "Reply", "Session",
           "SessionQuit", "TextPrinter"]
