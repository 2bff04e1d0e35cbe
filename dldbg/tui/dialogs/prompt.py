"""Provides PromptDialog: ask for one line (an address to go to, a search)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

GOTO = "Go to address: 0x100400, a symbol, libfoo.so!counter+4, libfoo.so, $sp"


class PromptDialog(ModalScreen[str | None]):
    """Returns the line typed (stripped), or None on Escape; an empty line is None too unless
    `allow_empty`.  `GOTO` is the goto key's prompt (an address expression as `x` takes it: a
    number, a symbol, MODULE!SYMBOL, a module name, `$sp`, with +N/-N offsets)."""

    DEFAULT_CSS = """
    PromptDialog {
        align: center middle;
    }
    PromptDialog > Vertical {
        width: 80;
        height: auto;
        border: round $primary;
        background: $panel;
        padding: 0 1;
    }
    PromptDialog Input {
        border: none;
        height: 1;
        background: $boost;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, prompt: str, initial: str = "", *, allow_empty: bool = False) -> None:
        super().__init__()
        self.prompt = prompt
        self.initial = initial
        self.allow_empty = allow_empty

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.prompt)
            yield Input(value=self.initial, id="prompt-input")

    def on_mount(self) -> None:
        inp = self.query_one(Input)
        inp.cursor_blink = getattr(self.app, "cursor_blink", True)
        inp.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        self.dismiss(value if value or self.allow_empty else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
