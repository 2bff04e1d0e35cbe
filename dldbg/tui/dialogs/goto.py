"""Provides GotoDialog: ask for an address expression to show in the memory view."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class GotoDialog(ModalScreen[str | None]):
    """Returns the expression typed (a number, a symbol, MODULE!SYMBOL, a module name, `$sp`,
    with +N/-N offsets, as `x` takes it), or None."""

    DEFAULT_CSS = """
    GotoDialog {
        align: center middle;
    }
    GotoDialog > Vertical {
        width: 64;
        height: auto;
        border: round $primary;
        background: $panel;
        padding: 0 1;
    }
    GotoDialog Input {
        border: none;
        height: 1;
        background: $boost;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, initial: str = "") -> None:
        super().__init__()
        self.initial = initial

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Go to address: 0x100400, a symbol, libfoo.so!counter+4, libfoo.so, $sp")
            yield Input(value=self.initial, id="goto-input")

    def on_mount(self) -> None:
        inp = self.query_one(Input)
        inp.cursor_blink = self.app.cursor_blink if hasattr(self.app, "cursor_blink") else True
        inp.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
