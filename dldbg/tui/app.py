"""Provides DldbgApp, the TUI, and `make_app(session)`, which builds it without running it.

The screen: the status bar (stopped or not, where and why) on top; the modules tree on the
left; the event timeline with its filter in the middle, the inspectors under it (memory, the
table, the GOT, symbols, imports and exports, breakpoints); the selected event and the output
log on the right; the command bar and the footer with the keys at the bottom.

Widgets never touch the session: the app runs everything through the bridge
(dldbg.tui.bridge), which executes commands and inspections on the engine's thread and sends
notes back (dldbg.tui.messages.Bridged).  Keys run the same commands a user would type, and
the output log shows them (`(dldbg) next`), so the keys teach the commands.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Callable

from rich.text import Text
from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input

from .bridge import (Answer, CommandFinished, LogGrew, OutputReady, SessionBridge, SessionEnded, SessionState,
                     StateChanged)
from .dialogs.prompt import GOTO, PromptDialog
from .idle_gc import IdleCollector
from .messages import Bridged, NeedBytes, ProgramOutput
from .model import LoadTracker, Shortener, event_address, event_message
from .pages import BreakpointsPage, GotPage, ImportsPage, MemoryPage, SymbolsPage, TablePage
from .widgets import (CommandBar, EventDetail, EventTimeline, Inspector, InspectorTabs, ModulesTree, OutputLog,
                      StatusBar, TimelineFilter)


# -- what the inspectors ask the engine's thread for ------------------------------------------
def command_data(session, line: str):
    """Run a registered command for its data, without printing (engine thread)."""
    from ..session.output import Reply

    command, argv = session.registry.parse(line)
    reply = command.run(session, list(argv))
    return reply.data if isinstance(reply, Reply) else reply


def read_memory(start: int, size: int) -> Callable:
    def read(session) -> bytes:
        engine = session.engine
        if engine.memory is None:
            return b""
        size_now = min(size, engine.memory.data_len - start)
        return engine.read_memory(start, size_now) if size_now > 0 else b""

    return read


def evaluate_address(text: str) -> Callable:
    def evaluate(session) -> int:
        from ..session.addresses import evaluate as evaluate_expr

        return evaluate_expr(session.engine, text)

    return evaluate


def completions(text: str) -> Callable:
    def complete(session) -> list:
        from ..repl.completion import SessionData, suggest

        return suggest(session.registry, SessionData(session), text)

    return complete


def module_tables(module: str) -> Callable:
    def tables(session) -> tuple:
        from ..session.tokens import quote

        return (command_data(session, f"info imports {quote(module)}"),
                command_data(session, f"info exports {quote(module)}"))

    return tables


def filter_predicate(text: str) -> Callable | None:
    """A timeline filter: the `break`/`events` filter syntax, else a case-insensitive search in
    each event's kind, module and trace line."""
    text = text.strip()
    if not text:
        return None
    from ..session.errors import CommandError
    from ..session.filters import parse_filter
    from ..session.tokens import tokenize

    try:
        flt = parse_filter(list(tokenize(text)))
    except CommandError:
        needle = text.lower()
        return lambda e: (needle in e.event.kind or needle in e.event.module.lower()
                          or needle in event_message(e.event).lower())
    return lambda e: flt.matches(e.event)


#: the footer's names of some keys below 100 columns
SHORT_NAMES = {"toggle_break": "Break", "continue": "Cont", "command": "Cmd"}

#: the panes `z` zooms (the widget with the focus, or the pane it is in)
PANES = ("modules", "timeline-pane", "inspectors", "detail", "output", "command")

#: the table inspector is reloaded while hidden only up to this many slots (each costs a lookup)
HIDDEN_TABLE_MAX = 2048


class DldbgApp(App):
    """The dldbg TUI over one session (see the module docstring)."""

    CSS_PATH = "app.tcss"
    TITLE = "dldbg"
    #: below 100 columns the screen is `-narrow` (app.tcss: the modules tree gives its room to
    #: the timeline and the memory view; the footer is compact)
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    BINDINGS = [
        Binding("s,f7", "step", "Step"),
        Binding("n,f8", "next", "Next"),
        Binding("f", "finish", "Finish"),
        Binding("c,f9", "continue", "Continue"),
        Binding("r", "run", "Run"),
        Binding("b", "toggle_break", "Break on kind"),
        Binding("g", "goto", "Goto"),
        Binding("w", "why", "Why"),
        Binding("colon", "command", "Command", key_display=":"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
        Binding("ctrl+c", "interrupt", "Interrupt", show=False, priority=True),
        Binding("1", "tab('memory')", "Memory", show=False),
        Binding("2", "tab('table')", "Table", show=False),
        Binding("3", "tab('got')", "GOT", show=False),
        Binding("4", "tab('symbols')", "Symbols", show=False),
        Binding("5", "tab('imports')", "Imports", show=False),
        Binding("6", "tab('breakpoints')", "Breakpoints", show=False),
        Binding("z", "maximize_pane", "Zoom", show=False),
    ]

    def __init__(self, bridge: SessionBridge, *, cursor_blink: bool = True, cwd: str | None = None,
                 history_file=None) -> None:
        super().__init__()
        self.history_file = history_file
        #: the footer's names of the keys (SHORT_NAMES replaces some below 100 columns)
        self._long_names = {b.action: b.description for b in self.BINDINGS if isinstance(b, Binding)}
        #: no animations: a debugger's panes change at once (and a repaint costs one frame)
        self.animation_level = "none"
        self.bridge = bridge
        self.cursor_blink = cursor_blink
        self.shorten = Shortener(cwd)
        self.state: SessionState | None = None
        self.tracker = LoadTracker()
        self.selected_module: str | None = None
        self._compile_started: float | None = None
        self._compile_timer = None
        self._refreshed: dict[str, int] = {}
        self._hex_target: str | None = None
        #: garbage collection between keypresses, not during them
        self.collector = IdleCollector()
        self._ended = False
        #: the last line typed in the command bar, until it finishes or stops the engine
        self._bar_command: str | None = None
        #: the last non-empty line typed in the command bar (an empty Enter repeats it, as gdb)
        self._last_typed: str | None = None
        #: the unfinished last line written to sys.stdout (False) and sys.stderr (True)
        self._printed = {False: "", True: ""}

    # -- layout ------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        sh = self.shorten
        yield StatusBar(shorten=sh, id="status")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield ModulesTree(shorten=sh, id="modules")
            with Vertical(id="center"):
                with Vertical(id="timeline-pane"):
                    yield TimelineFilter(id="timeline-filter")
                    yield EventTimeline(shorten=sh, id="timeline")
                with Vertical(id="inspectors"):
                    yield InspectorTabs(id="inspector-tabs")
                    yield Inspector([MemoryPage(), TablePage(), GotPage(sh), SymbolsPage(), ImportsPage(),
                                     BreakpointsPage()], id="inspector")
            with Vertical(id="right"):
                yield EventDetail(shorten=sh, id="detail")
                yield OutputLog(shorten=sh, id="output")
        yield CommandBar(history_file=self.history_file, id="command")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#modules").border_title = "Modules"
        self.query_one("#timeline-pane").border_title = "Timeline"
        self.query_one("#detail").border_title = "Event"
        self.query_one("#output").border_title = "Output"
        for inp in self.query(Input):
            inp.cursor_blink = self.cursor_blink
        self.query_one(ModulesTree).update_from(self.tracker)
        timeline = self.query_one(EventTimeline)
        self.watch(timeline, "cursor", self._cursor_moved, init=False)
        timeline.focus()
        # what Python code writes to sys.stdout/sys.stderr while the TUI runs (Textual replaces
        # them; the emscripten host writes the program's output there) goes to the output log
        self.begin_capture_print(self)
        self.collector.start()
        self.set_interval(0.5, lambda: self.collector.tick(busy=timeline.scanning))
        self.bridge.start(self._sink)

    def on_resize(self, event: events.Resize) -> None:
        """Below 100 columns the footer is compact, with short names, so that every key fits."""
        narrow = event.size.width < 100
        footer = self.query_one(Footer)
        footer.compact = narrow
        footer.show_command_palette = not narrow
        bindings = self._bindings.key_to_bindings
        for key, group in bindings.items():
            bindings[key] = [replace(b, description=SHORT_NAMES.get(b.action, b.description) if narrow
                                     else self._long_names.get(b.action, b.description)) for b in group]
        self.refresh_bindings()

    def on_unmount(self) -> None:
        self.collector.stop()

    async def on_event(self, event) -> None:
        if isinstance(event, (events.Key, events.MouseEvent)):
            self.collector.input()
        await super().on_event(event)

    def _sink(self, note: object) -> None:
        """Called on the engine's thread."""
        self.post_message(Bridged(note))

    # -- notes from the engine's thread --------------------------------------------------
    def on_bridged(self, message: Bridged) -> None:
        note = message.note
        if isinstance(note, LogGrew):
            self._take_log()
        elif isinstance(note, OutputReady):
            out = self.query_one(OutputLog)
            for item in self.bridge.take_output():
                out.add(item.kind, item.text)
        elif isinstance(note, StateChanged):
            self._take_log()
            self._new_state(note.state)
        elif isinstance(note, Answer):
            try:
                note.done(note.value, note.error)
            finally:
                self.bridge.delivered()
        elif isinstance(note, CommandFinished):
            self._bar_command_done(note.line)
        elif isinstance(note, SessionEnded):
            self._ended = True
            self.exit()

    def on_program_output(self, message: ProgramOutput) -> None:
        self.query_one(OutputLog).add("program", message.text)

    def on_print(self, event: events.Print) -> None:
        """A write to sys.stdout or sys.stderr: whole lines go to the output log."""
        text = self._printed[event.stderr] + event.text
        lines, _, self._printed[event.stderr] = text.rpartition("\n")
        if lines:
            self.query_one(OutputLog).add("program", lines)

    def _take_log(self) -> None:
        timeline = self.query_one(EventTimeline)
        self.bridge.take_log_notice()
        new = self.bridge.log_entries(len(timeline.entries))
        if not new:
            return
        timeline.extend(new)
        self.tracker.feed(new)
        self.collector.freeze_log(len(timeline.entries))
        self.query_one(ModulesTree).update_from(self.tracker, self.state)
        self._update_status()

    def _new_state(self, state: SessionState) -> None:
        previous = self.state
        self.state = state
        timeline = self.query_one(EventTimeline)
        failed = set()
        if state.failure_fresh and state.failure_events:
            failed.add(state.failure_events[-1])
        timeline.set_marks(state.pause.index if state.pause else None, failed, state.breakpoints)
        if state.pause is not None and (previous is None or previous.pause is None
                                        or previous.pause.index != state.pause.index):
            timeline.show_index(state.pause.index)
            if self.selected_module is None or state.pause.module in {m.name for m in state.modules}:
                self.selected_module = state.pause.module
        self.query_one(ModulesTree).update_from(self.tracker, state)
        self.page("breakpoints").load(state.breakpoints)
        self.page("memory").set_memory(state.memory_size, state.regions, state.generation)
        self._auto_goto(state)
        self._update_status()
        self._show_detail(timeline.current)
        if not state.busy:
            self._refresh_inspector()
        if state.pause is not None:
            self._bar_command_done(state.pause.command)

    def _auto_goto(self, state: SessionState) -> None:
        """Show the static data of the module the engine stopped in (or the newest module) in
        the memory view, once per module: after that the user's position is kept."""
        target = state.pause.module if state.pause is not None else (state.modules[-1].name if state.modules else None)
        if target is None or target == self._hex_target:
            return
        mod = next((m for m in state.modules if m.name == target and m.memory_size), None)
        if mod is None:
            return
        self._hex_target = target
        self.page("memory").goto(mod.memory_base)

    def _compiling(self) -> tuple[str, int, float | None] | None:
        """(module, bytes, expected seconds or None) while a module is being compiled."""
        state = self.state
        entries = self.query_one(EventTimeline).entries
        if state is None or not state.busy or not entries:
            return None
        last = entries[-1].event
        if last.kind == "module.read" and last.eh_encoding == "legacy":
            return None  # binaryen translates it first (module.translate, then the compile)
        if last.kind in ("module.read", "module.translate") and last.compile_estimate != 0.0:
            return last.module, last.size, last.compile_estimate
        return None

    def _update_status(self) -> None:
        compiling = self._compiling()
        status = self.query_one(StatusBar)
        if compiling is not None and self._compile_started is None:
            self._compile_started = time.monotonic()
            self._compile_timer = self.set_interval(0.25, self._tick_compile)
        elif compiling is None and self._compile_started is not None:
            self._compile_started = None
            if self._compile_timer is not None:
                self._compile_timer.stop()
                self._compile_timer = None
        status.compile_seconds = time.monotonic() - self._compile_started if self._compile_started else 0.0
        entries = self.query_one(EventTimeline).entries
        status.show(self.state, entries[-1] if entries else None, compiling)

    def _tick_compile(self) -> None:
        self._update_status()

    # -- inspectors ----------------------------------------------------------------------
    @property
    def active_tab(self) -> str:
        """The inspector shown: memory, table, got, symbols, imports or breakpoints."""
        return self.query_one(Inspector).active

    def page(self, tab: str):
        """The inspector page `tab` (dldbg.tui.pages)."""
        return self.query_one(Inspector).pages[tab]

    def show_tab(self, tab: str) -> None:
        """Show the inspector `tab` (loading it when the state changed since it last was)."""
        if tab == self.active_tab:
            return
        self.query_one(Inspector).show(tab)
        self.query_one(InspectorTabs).active = tab
        self._refresh_inspector()

    def _refresh_inspector(self, force: bool = False) -> None:
        """Reload the inspectors from the engine when the state changed: the visible one, and
        the GOT and the table also when hidden (small, and then switching to them is one
        repaint; a table of more than HIDDEN_TABLE_MAX slots, such as Pyodide's main's 8,700,
        only when shown); a view that gets the same rows again does not repaint."""
        state = self.state
        if state is None:
            return
        active = self.active_tab
        hidden = ("got", "table", "breakpoints") if state.table_size <= HIDDEN_TABLE_MAX else ("got", "breakpoints")
        for tab in dict.fromkeys((active, *hidden)):
            if not force and self._refreshed.get(tab) == state.generation:
                continue
            self._refreshed[tab] = state.generation
            self._load_tab(tab, state)

    def _load_tab(self, tab: str, state: SessionState) -> None:
        if tab == "got":
            view = self.page("got")
            self.bridge.ask(lambda s: command_data(s, "info got"),
                            lambda value, error: view.load(value, self._error_text(error)))
        elif tab == "table":
            view = self.page("table")
            self.bridge.ask(lambda s: command_data(s, "table"),
                            lambda value, error: view.load(value, state.table_size, self._error_text(error)))
        elif tab == "symbols":
            view = self.page("symbols")
            regex = view.regex

            def symbols(s):
                from ..session.tokens import quote

                return command_data(s, f"info symbols {quote(regex)}")

            self.bridge.ask(symbols, lambda value, error: view.load(value, self._error_text(error)))
        elif tab == "imports":
            self._load_imports()
        elif tab == "breakpoints":
            self.page("breakpoints").load(state.breakpoints)

    def _load_imports(self) -> None:
        view = self.page("imports")
        module = self.selected_module
        if module is None and self.state is not None and self.state.modules:
            module = self.state.modules[-1].name
        if module is None:
            view.load(None, None, None)
            return
        live = self.state is not None and module in {m.name for m in self.state.modules}
        if not live:
            view.load(module, None, None, f"{module} is not loaded (a failed load is rolled back): "
                                          f"step to its failure to see its imports while it loads")
            return

        def done(value, error):
            if error is not None:
                view.load(module, None, None, self._error_text(error))
            else:
                view.load(module, value[0], value[1])

        self.bridge.ask(module_tables(module), done)

    def _error_text(self, error: BaseException | None) -> str | None:
        if error is None:
            return None
        one_line = getattr(error, "one_line", None)
        return self.shorten(one_line() if callable(one_line) else f"{type(error).__name__}: {error}")

    @on(InspectorTabs.Chosen)
    def _tab_chosen(self, message: InspectorTabs.Chosen) -> None:
        self.show_tab(message.tab)

    @on(NeedBytes)
    def _need_bytes(self, message: NeedBytes) -> None:
        memory = self.page("memory")

        def done(value, error):
            if error is None and value is not None:
                memory.put_bytes(message.start, value, message.generation)

        self.bridge.ask(read_memory(message.start, message.size), done)

    @on(Inspector.Searched)
    def _searched(self, message: Inspector.Searched) -> None:
        if self.state is not None:
            self._load_tab(message.page.name, self.state)

    # -- timeline, tree, detail ----------------------------------------------------------
    def _show_detail(self, entry) -> None:
        state = self.state
        bps = ()
        if entry is not None and state is not None:
            bps = tuple(b.number for b in state.breakpoints if b.enabled and b.filter.matches(entry.event))
        self.query_one(EventDetail).show(entry, state.pause.index if state and state.pause else None, bps)

    def _cursor_moved(self, _row: int) -> None:
        """The timeline's cursor moved (a watch, so the detail is painted in the same frame)."""
        timeline = self.query_one(EventTimeline)
        entry = timeline.current
        if entry is not self.query_one(EventDetail).entry:
            self._show_detail(entry)

    @on(EventTimeline.Chosen)
    def _chosen(self, message: EventTimeline.Chosen) -> None:
        e = message.entry.event
        if self.state is not None and e.module in {m.name for m in self.state.modules}:
            self.selected_module = e.module
        address = event_address(e)
        if address is not None:
            self.show_tab("memory")
            self.page("memory").goto(address)
        elif self.active_tab == "imports":
            self._load_imports()

    @on(TimelineFilter.Applied)
    def _filter_applied(self, message: TimelineFilter.Applied) -> None:
        timeline = self.query_one(EventTimeline)
        timeline.set_filter(filter_predicate(message.text))
        # a Text, not a str: a str is markup, and a filter (`lib.*`, `[x]`) is not
        self.query_one("#timeline-pane").border_title = Text(f"Timeline [{message.text}]" if message.text else "Timeline")

    @on(TimelineFilter.Done)
    def _filter_done(self) -> None:
        self.query_one(EventTimeline).focus()

    @on(ModulesTree.ModuleChosen)
    def _module_chosen(self, message: ModulesTree.ModuleChosen) -> None:
        self.selected_module = message.module
        self.show_tab("imports")
        self._load_imports()

    @on(ModulesTree.StageChosen)
    def _stage_chosen(self, message: ModulesTree.StageChosen) -> None:
        self.selected_module = message.module
        self.query_one(EventTimeline).show_index(message.index)

    # -- the command bar -----------------------------------------------------------------
    @on(CommandBar.Submitted)
    def _command(self, message: CommandBar.Submitted) -> None:
        line = message.line
        if line:
            self._last_typed = line
        elif self.state is not None and self.state.collecting:
            return  # `commands N` reads lines: an empty one is nothing
        else:  # Enter on an empty line repeats the last command, as gdb (Registry.repetition)
            line = self.bridge.session.registry.repetition(self._last_typed)
            if line is None:
                return
        self._bar_command = line
        self.bridge.execute(line)

    def _bar_command_done(self, line: str | None) -> None:
        """`line` finished or stopped the engine: if it was the last line typed in the command
        bar, the keys (n, c, q, ...) work again: the focus goes back to the timeline, unless
        more was typed meanwhile."""
        if line is None or line != self._bar_command or (self.state is not None and self.state.collecting):
            return  # not the last line typed, or `commands N` reads the next lines
        self._bar_command = None
        bar = self.query_one(CommandBar)
        if self.focused is bar.input and not bar.input.value:
            self.query_one(EventTimeline).focus()

    @on(CommandBar.CompletionWanted)
    def _complete(self, message: CommandBar.CompletionWanted) -> None:
        bar = self.query_one(CommandBar)
        self.bridge.ask(completions(message.text),
                        lambda value, error: bar.apply_completions(message.text, value or []))

    @on(CommandBar.Left)
    def _left(self) -> None:
        self.query_one(EventTimeline).focus()

    # -- actions -------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "interrupt":
            return self.state is not None and self.state.busy
        return True

    def _start_stepping(self) -> None:
        """Not stopped: run the program and stop at its first event."""
        state = self.state
        if state is None:
            return
        if state.busy:
            self.notify("the engine is running: ctrl+c interrupts running wasm", severity="warning")
            return
        if state.program is None:
            self.notify("no program: set a breakpoint (: catch load) and : dlopen LIB", severity="warning")
            return

        def start(bridge: SessionBridge) -> None:
            bridge.run_line("tbreak *")
            bridge.run_line("run")

        self.bridge.call(start)

    def _step(self, command: str) -> None:
        """`command` (step or next) when stopped; else start the program, stopped at its first event."""
        if self.state is not None and self.state.pause is not None:
            self.bridge.execute(command)
        else:
            self._start_stepping()

    def action_step(self) -> None:
        self._step("step")

    def action_next(self) -> None:
        self._step("next")

    def action_finish(self) -> None:
        if self.state is not None and self.state.pause is not None:
            self.bridge.execute("finish")
        else:
            self.notify("not stopped inside a load: s steps into `run`", severity="warning")

    def action_continue(self) -> None:
        state = self.state
        if state is None:
            return
        if state.pause is not None:
            self.bridge.execute("continue")
        elif state.busy:
            self.notify("the engine is running", severity="warning")
        elif not state.started and state.program is not None:
            self.bridge.execute("run")
        else:
            self.notify("not stopped: r runs the program again", severity="warning")

    def action_run(self) -> None:
        state = self.state
        if state is None:
            return
        if state.pause is not None:
            self.notify("stopped inside a load: c continues (or : abort makes it fail)", severity="warning")
        elif state.busy:
            self.notify("the engine is running", severity="warning")
        else:
            self.bridge.execute("run")

    def action_toggle_break(self) -> None:
        entry = self.query_one(EventTimeline).current
        if entry is None:
            self.notify("select an event in the timeline first", severity="warning")
            return
        kind = entry.event.kind
        existing = next((b for b in (self.state.breakpoints if self.state else ())
                         if b.plain and b.pattern == kind), None)
        self.bridge.execute(f"delete {existing.number}" if existing else f"break {kind}")

    def action_goto(self) -> None:
        entry = self.query_one(EventTimeline).current
        initial = ""
        if entry is not None:
            address = event_address(entry.event)
            initial = f"{address:#x}" if address is not None else ""
        self.push_screen(PromptDialog(GOTO, initial), self._goto)

    def _goto(self, text: str | None) -> None:
        if not text:
            return
        memory = self.page("memory")

        def done(value, error):
            if error is not None:
                self.notify(self._error_text(error) or "bad address", severity="error", markup=False)
                return
            self.show_tab("memory")
            memory.goto(value)
            self.query_one(Inspector).focus()

        self.bridge.ask(evaluate_address(text), done)

    def action_why(self) -> None:
        self.bridge.execute("why")

    def action_command(self) -> None:
        self.query_one(CommandBar).focus_input()

    def action_filter(self) -> None:
        self.query_one(TimelineFilter).focus()

    def action_tab(self, tab: str) -> None:
        self.show_tab(tab)

    def action_maximize_pane(self) -> None:
        """Zoom the pane that has the focus (with its border, title and filter) to the whole
        screen; again: back."""
        if self.screen.maximized is not None:
            self.screen.minimize()
            return
        widget = self.focused
        while widget is not None and widget.id not in PANES:
            widget = widget.parent
        if widget is not None:
            self.screen.maximized = widget

    def action_interrupt(self) -> None:
        self.bridge.interrupt()
        self.notify("interrupting running wasm")

    async def action_quit(self) -> None:
        if self._ended:
            self.exit()
            return
        busy = self.state is not None and self.state.busy
        self.bridge.stop()
        if busy:  # wasm is running: do not wait for it
            self.bridge.interrupt()
            self.exit()
        else:
            self.set_timer(2.0, self.exit)

    # -- for tests and benchmarks --------------------------------------------------------
    async def settled(self, pilot=None, timeout: float = 30.0) -> None:
        """Wait until the engine's thread is idle and every note was handled."""
        import asyncio

        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            if pilot is not None:
                await pilot.pause()
            else:
                await asyncio.sleep(0)
            if self.bridge.settled() and self._message_queue.empty() and not self.query_one(EventTimeline).scanning:
                quiet += 1
                if quiet >= 2:
                    return
            else:
                quiet = 0
                await asyncio.sleep(0.005)
        raise TimeoutError("the TUI did not settle")


def make_app(session, *, cursor_blink: bool = True, auto_why: bool = True, cwd: str | None = None,
             history_file=None) -> DldbgApp:
    """The TUI for `session` (not running: call `.run()` or `.run_test()`); `history_file` (a
    dldbg.repl.history.HistoryFile) keeps the command bar's lines across sessions."""
    return DldbgApp(SessionBridge(session, auto_why=auto_why), cursor_blink=cursor_blink, cwd=cwd,
                    history_file=history_file)
