"""Provides StatusBar: whether the engine is stopped, where and why; running, and what a long
compile is doing; the last failure.  Always visible at the top of the screen."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import ProgressBar, Static

from ..model import Shortener, event_message


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"


class StatusBar(Widget):
    """Two lines: the state (NOT STARTED / RUNNING / PAUSED / FAILED / IDLE) with the reason,
    and the event or failure it is about."""

    DEFAULT_CSS = """
    StatusBar {
        height: 2;
        background: $panel;
    }
    StatusBar #status-text {
        width: 1fr;
        height: 2;
    }
    StatusBar #compile {
        width: 32;
        height: 1;
        display: none;
    }
    StatusBar.compiling #compile {
        display: block;
    }
    StatusBar.paused {
        background: #3a3a10;
    }
    StatusBar.failed {
        background: #4a1c1c;
    }
    StatusBar.running {
        background: #102a3a;
    }
    """

    def __init__(self, *, shorten: Shortener | None = None, name=None, id=None, classes=None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.shorten = shorten or Shortener()
        self._state = None
        self.compiling: tuple[str, int, float | None] | None = None  # (module, bytes, expected seconds)
        self.compile_seconds = 0.0

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static(id="status-text")
            yield ProgressBar(total=None, show_eta=False, show_percentage=True, id="compile")

    def show(self, state, last_event=None, compiling: tuple[str, int, float | None] | None = None) -> None:
        """Show `state` (a SessionState); `last_event` is the newest logged event; `compiling`:
        the module being compiled, its size in bytes and the seconds it is expected to take
        (None: unknown, the bar then only shows activity)."""
        self._state = state
        self.compiling = compiling
        active = compiling is not None and state is not None and state.busy
        self.set_class(active, "compiling")
        if active:
            bar = self.query_one("#compile", ProgressBar)
            expected = compiling[2]
            if expected:
                # elapsed against expected, held short of the end until the compile is done
                bar.update(total=100, progress=min(99.0, 100 * self.compile_seconds / expected))
            elif bar.total is not None:
                bar.update(total=None)
        self.query_one("#status-text", Static).update(self.render_text(state, last_event))

    def render_text(self, state, last_event=None) -> Text:
        shorten = self.shorten
        for cls in ("paused", "failed", "running"):
            self.remove_class(cls)
        text = Text()
        if state is None:
            text.append(" starting…", "dim")
            return text
        program = shorten(state.program) if state.program else "no program"
        if state.pause is not None:
            p = state.pause
            self.add_class("paused")
            why = f"Breakpoint {p.breakpoint}" if p.breakpoint else {"step": "stepped", "next": "next",
                                                                     "finish": "finish"}.get(p.reason, p.reason)
            text.append(" ■ PAUSED ", "bold black on yellow")
            text.append(f" {why}", "bold")
            if p.breakpoint_text:
                text.append(f" ({p.breakpoint_text.split(': ', 1)[-1]})", "")
            text.append(f" at event #{p.index} ", "")
            text.append(p.kind, "bold")
            text.append(f" ({p.stage}) {p.module}", "")
            if len(p.frames) > 1 or (p.frames and p.frames[-1] != p.module):
                text.append(f"  loading {' > '.join(p.frames)}", "dim")
            if p.command:
                text.append(f"  in `{shorten(p.command)}`", "dim")
            text.append("\n ")
            if last_event is not None and last_event.index == p.index:
                text.append(shorten(event_message(last_event.event)))
            else:
                text.append(shorten(p.description.split("\n", 1)[-1].strip().split(": ", 2)[-1]))
            text.append("   s step · n next · f finish · c continue", "dim")
            return text
        if state.busy:
            self.add_class("running")
            text.append(" ▶ RUNNING ", "bold white on #1f5f8f")
            text.append(f" `{shorten(state.running)}`", "bold")
            text.append("  ctrl+c interrupts running wasm", "dim")
            text.append("\n ")
            if self.compiling is not None:
                module, size, expected = self.compiling
                shown = f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"
                text.append(f"compiling {module} ({shown}) with Cranelift… {_seconds(self.compile_seconds)}", "bold")
                if expected:
                    text.append(f" of ~{_seconds(expected)}" if self.compile_seconds <= expected
                                else " (longer than this machine's earlier compiles suggest)", "bold")
            elif last_event is not None:
                text.append(f"#{last_event.index} {last_event.event.kind} {last_event.event.module}", "dim")
            return text
        fresh = state.failure and state.failure_fresh
        if fresh and state.failure_events:
            self.add_class("failed")
            text.append(" ✗ LOAD FAILED ", "bold white on red")
        elif fresh:
            self.add_class("failed")
            text.append(" ✗ FAILED ", "bold white on red")
        elif not state.started and not state.modules:
            text.append(" ○ NOT STARTED ", "bold black on #87afd7")
        else:
            text.append(" ● IDLE ", "bold black on #87d787")
        text.append(f" {program} ({state.program_kind})", "bold")
        text.append(f"  {state.log_len} events, {len(state.modules)} modules", "dim")
        text.append("\n ")
        if state.startup_errors:
            text.append(shorten(state.startup_errors[0]), "red")
        elif fresh:
            text.append(shorten(state.failure), "red")
            text.append("   w explains (why)", "dim")
        elif not state.started and not state.modules:
            text.append("s steps into `run` (stops at the first event) · r runs · : takes any command", "dim")
        else:
            text.append("not stopped · r runs again · : takes any command (dlopen, call, info got, …)", "dim")
        return text
