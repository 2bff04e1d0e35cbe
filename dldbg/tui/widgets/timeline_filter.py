"""Provides TimelineFilter: the filter of the event timeline.

The text is a filter as `break` and `events` take it (`got module=libz.so`,
`import.unresolved action=error`, `load`); text that is not a filter is searched for in each
event's kind, module and trace line.  Enter applies it; an empty filter shows every event.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class TimelineFilter(Input):
    """The timeline's filter line."""

    DEFAULT_CSS = """
    TimelineFilter {
        height: 1;
        border: none;
        padding: 0 1;
        background: $boost;
    }
    TimelineFilter:focus {
        border: none;
        background: $primary 20%;
    }
    """

    BINDINGS = [Binding("escape", "done", "Back", show=False)]

    class Applied(Message):
        """`text` is the new filter ('' for none)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Done(Message):
        """Escape: back to the timeline."""

    def __init__(self, *, name=None, id=None, classes=None) -> None:
        super().__init__(placeholder="/ filter: got, load module=libz.so, import.unresolved action=error, or text",
                         name=name, id=id, classes=classes)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Applied(event.value.strip()))
        self.post_message(self.Done())

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if not event.value.strip():
            self.post_message(self.Applied(""))

    def action_done(self) -> None:
        self.post_message(self.Done())
