"""Provides the messages that cross from the engine's thread to the app.

The bridge (dldbg.tui.bridge) calls its sink with plain notes on the worker thread; the app's
sink wraps each in `Bridged` and posts it to itself (`post_message` is thread-safe), so notes
are handled on the UI thread, in order.  Messages of single widgets are nested in their widget
classes (`EventTimeline.Chosen`, `CommandBar.Submitted`, ...); NeedBytes is posted by the inspector for its memory page.
"""

from __future__ import annotations

import rich.repr
from textual.message import Message


@rich.repr.auto
class Bridged(Message, bubble=False):
    """A note from the engine's thread (StateChanged, LogGrew, OutputReady, Answer,
    CommandFinished, SessionEnded)."""

    def __init__(self, note: object) -> None:
        super().__init__()
        self.note = note

    def __rich_repr__(self) -> rich.repr.Result:
        yield type(self.note).__name__


@rich.repr.auto
class ProgramOutput(Message, bubble=False):
    """Bytes the program wrote to stdout or stderr (captured by the launcher)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


@rich.repr.auto
class NeedBytes(Message):
    """Bytes `[start, start + size)` of linear memory are wanted by the memory inspector, for
    the state `generation` (the app reads them on the engine's thread)."""

    def __init__(self, start: int, size: int, generation: int) -> None:
        super().__init__()
        self.start, self.size, self.generation = start, size, generation
