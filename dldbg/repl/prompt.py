"""The REPL: prompt_toolkit reads command lines for a Session.

`Repl(session, prompt_session)` makes itself the session's interactive line reader, so the same
loop serves the top level and every stop (a stop inside a load reads commands from the prompt
until one resumes).  History persists in a file (`$DLDBG_HISTORY`, else
`$XDG_STATE_HOME/dldbg/history`, else `~/.local/state/dldbg/history`); Tab completes commands,
symbols, module names and paths; an empty line repeats the last command (as gdb: not `run`, `dlopen`,
`call`, `set`, `break` and others marked not repeatable; `x` goes on after what it showed); Ctrl-C clears
the line (and, while a command runs, stops running wasm); Ctrl-D ends the session.
"""

from __future__ import annotations

import os

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, History, InMemoryHistory

from .completion import SessionData, suggest
from .history import history_path


def default_history() -> History:
    """A FileHistory at `history_path()`; in memory if its folder cannot be made."""
    path = history_path()
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return FileHistory(path)
    except OSError:
        return InMemoryHistory()


class DldbgCompleter(Completer):
    """prompt_toolkit's side of dldbg.repl.completion.suggest."""

    def __init__(self, session):
        self.session = session

    def get_completions(self, document: Document, complete_event: CompleteEvent):
        try:
            found = suggest(self.session.registry, SessionData(self.session), document.text_before_cursor)
        except Exception:  # completion must never break the prompt
            return
        for s in found:
            yield Completion(s.text, start_position=s.start, display_meta=s.meta)


def make_prompt_session(session, *, input=None, output=None, history: History | None = None) -> PromptSession:
    return PromptSession(history=history if history is not None else default_history(),
                         completer=DldbgCompleter(session), complete_while_typing=False,
                         auto_suggest=AutoSuggestFromHistory(), input=input, output=output)


class Repl:
    """Reads lines for `session` from `prompt_session`."""

    def __init__(self, session, prompt_session: PromptSession):
        self.session = session
        self.prompt_session = prompt_session
        self.last_line: str | None = None
        session.interactive = self.read_line

    def prompt_text(self) -> str:
        if self.session.collecting is not None:
            return ">"
        pause = self.session.paused
        if pause is None:
            return "(dldbg) "
        e = pause.entry
        return f"(dldbg #{e.index} {e.event.kind} {e.event.module}) "

    def read_line(self, session) -> str | None:
        """The next command line; None at end of input (Ctrl-D), which ends the session."""
        while True:
            try:
                text = self.prompt_session.prompt(self.prompt_text())
            except KeyboardInterrupt:
                continue
            except EOFError:
                session.quitting = True
                return None
            if text.strip():
                self.last_line = text
                return text
            if self.session.collecting is not None:
                continue
            again = self._repeat()
            if again is not None:
                return again

    def _repeat(self) -> str | None:
        return self.session.registry.repetition(self.last_line)


def run_repl(session, prompt_session: PromptSession | None = None) -> int:
    """Run the REPL until `quit` or Ctrl-D (pending lines from -x/-ex run first); returns the
    number of failed commands."""
    Repl(session, prompt_session or make_prompt_session(session))
    return session.run_commands()
