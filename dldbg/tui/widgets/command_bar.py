"""Provides CommandBar: the command line, which takes every command the REPL takes.

Tab completes as the REPL does (command words, symbols, modules, event kinds and filters,
flags, paths: `dldbg.repl.completion.suggest`, run on the engine's thread by the app): one
candidate is inserted, several are listed under the line and their common prefix inserted, a
second Tab takes the next one; on an empty line Tab goes to the next pane.  Up and Down walk the
history, which is kept across sessions in the REPL's history file when the app is given one
(`dldbg.repl.history`); Escape goes back to the timeline, and so does a command once it has
finished (unless more was typed meanwhile).  A paste of several lines runs each line.
"""

from __future__ import annotations

import os

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static


def common_prefix(words: list[str]) -> str:
    return os.path.commonprefix(words) if words else ""


class CommandInput(Input):
    """The command line.  Its own keys (Enter, Tab, Up, Down) are handled here, in the order
    they were typed: as bindings they would run only once the key had bubbled up to the app,
    after the keys typed behind them were already in the line (a fast paste of two lines ran
    them merged, twice)."""

    def _on_key(self, event: events.Key) -> None:
        bar = self.parent
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            line, self.value = self.value, ""
            bar.submit(line)
        elif event.key == "tab":
            event.stop()
            event.prevent_default()
            if self.value.strip():
                bar.action_complete()
            else:  # nothing to complete: Tab moves on, as everywhere else
                self.screen.focus_next()
        elif event.key in ("up", "down"):
            event.stop()
            event.prevent_default()
            bar.action_history(-1 if event.key == "up" else 1)
        elif event.character == ":" and not self.value:
            event.stop()  # `:` again while the line is empty: already in the command bar
            event.prevent_default()
        # anything else: Input's own handler runs next (Textual calls each class's handler)

    def _on_paste(self, event: events.Paste) -> None:
        """A paste of several lines runs each whole line; the rest stays in the line."""
        *lines, rest = event.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if not lines:
            return  # one line: Input's own handler inserts it
        event.stop()
        event.prevent_default()
        first = self.value + lines[0]
        self.value = ""
        for line in [first, *lines[1:]]:
            self.parent.submit(line)
        self.insert_text_at_cursor(rest)


class CommandBar(Vertical):
    """`(dldbg) ` and an input line, with a line of completion candidates under it."""

    DEFAULT_CSS = """
    CommandBar {
        height: auto;
        background: $panel;
    }
    CommandBar > Input {
        height: 1;
        border: none;
        padding: 0 1;
        background: $panel;
    }
    CommandBar > Input:focus {
        background: $primary 15%;
        border: none;
    }
    CommandBar > #completions {
        height: auto;
        max-height: 3;
        padding: 0 1;
        color: $text-muted;
        display: none;
    }
    CommandBar.show-completions > #completions {
        display: block;
    }
    """

    #: Enter, Tab, Up and Down are the line's own keys (CommandInput)
    BINDINGS = [Binding("escape", "leave", "Back", show=False)]

    class Submitted(Message):
        """A command line to run."""

        def __init__(self, line: str) -> None:
            super().__init__()
            self.line = line

    class CompletionWanted(Message):
        """Completions for `text` (the line up to the cursor) are wanted."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class Left(Message):
        """Escape: focus goes back to the timeline."""

    def __init__(self, *, history_file=None, name=None, id=None, classes=None) -> None:
        """`history_file`: a dldbg.repl.history.HistoryFile (None: this session's lines only)."""
        super().__init__(name=name, id=id, classes=classes)
        self.history_file = history_file
        self.history: list[str] = history_file.load() if history_file is not None else []
        self._at = len(self.history)
        self._cycle: tuple[list[str], int, str] | None = None  # (candidate lines, next index, value shown)

    def compose(self) -> ComposeResult:
        yield CommandInput(placeholder=": command (Tab completes): info got, x/16xb ADDR, break got, dlopen LIB, why, help",
                           id="command-input")
        yield Static(id="completions")

    @property
    def input(self) -> Input:
        return self.query_one("#command-input", Input)

    def focus_input(self, text: str | None = None) -> None:
        if text is not None:
            self.input.value = text
            self.input.cursor_position = len(text)
        self.input.focus()

    def submit(self, line: str) -> None:
        """Run `line` (Enter in the line, or each line of a paste); an empty line is posted too
        (the app repeats the last command, as gdb does)."""
        line = line.strip()
        self._hide()
        if line:
            if not self.history or self.history[-1] != line:
                self.history.append(line)
                if self.history_file is not None:
                    self.history_file.append(line)
            self._at = len(self.history)
        self.post_message(self.Submitted(line))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self._cycle is not None and event.value != self._cycle[2]:
            self._cycle = None
            self._hide()

    def action_history(self, delta: int) -> None:
        if not self.history:
            return
        self._at = max(0, min(self._at + delta, len(self.history)))
        text = self.history[self._at] if self._at < len(self.history) else ""
        self.input.value = text
        self.input.cursor_position = len(text)

    def action_leave(self) -> None:
        self._hide()
        self.post_message(self.Left())

    def action_complete(self) -> None:
        inp = self.input
        text = inp.value[: inp.cursor_position]
        if self._cycle is not None and inp.value == self._cycle[2]:
            lines, index, _shown = self._cycle
            line = lines[index % len(lines)]
            self._cycle = (lines, index + 1, line)
            inp.value = line
            inp.cursor_position = len(line)
            return
        self.post_message(self.CompletionWanted(text))

    def apply_completions(self, text: str, suggestions: list) -> None:
        """`suggestions` (dldbg.repl.completion.Suggestion) for `text`; ignored when the line changed."""
        inp = self.input
        if inp.value[: inp.cursor_position] != text:
            return
        rest = inp.value[inp.cursor_position:]
        if not suggestions:
            self._show(Text("no completions", "dim"))
            return

        def replaced(s) -> str:
            head = text[: len(text) + s.start] if s.start else text
            return head + s.text

        if len(suggestions) == 1:
            s = suggestions[0]
            new = replaced(s)
            if not new.endswith(("/", "=")):
                new += " "
            inp.value = new + rest
            inp.cursor_position = len(new)
            self._hide()
            return
        prefix = common_prefix([s.text for s in suggestions])
        current = text[len(text) + suggestions[0].start:] if suggestions[0].start else ""
        lines = [replaced(s) + rest for s in suggestions]
        if len(prefix) > len(current):
            new = (text[: len(text) + suggestions[0].start] if suggestions[0].start else text) + prefix
            inp.value = new + rest
            inp.cursor_position = len(new)
        self._cycle = (lines, 0, inp.value)
        shown = Text()
        for s in suggestions[:40]:
            shown.append(s.text, "bold")
            if s.meta:
                shown.append(f" {s.meta[:30]}", "dim")
            shown.append("   ")
        if len(suggestions) > 40:
            shown.append(f"… {len(suggestions) - 40} more", "dim")
        self._show(shown)

    def _show(self, text: Text) -> None:
        self.query_one("#completions", Static).update(text)
        self.add_class("show-completions")

    def _hide(self) -> None:
        self.remove_class("show-completions")
