"""Provides the worker-thread bridge between the TUI and a Session.

The engine runs on one worker thread, which owns the session: every command, every inspection
and every wasmtime access happens there (wasmtime stores are not thread-safe).  The UI thread
only posts requests and renders replies:

* `execute(line)` runs a command line as the REPL would (its result, stops, messages and trace
  lines go to the output log);
* `ask(fn, done)` runs `fn(session)` on the worker and hands its value (or exception) back to
  `done(value, error)` on the UI thread.

When the session stops inside a load (a breakpoint or a step), the engine calls the session's
`wait(pause)` strategy on the worker thread; the bridge's strategy publishes the stop and then
serves requests from the same queue until one resumes the engine, exactly like the top-level
loop.  A dlopen that wasm code made therefore stops like one typed by the user.

The bridge talks back through `sink(note)`, called on the worker thread with the plain
dataclasses below (the app wraps them in one Textual message; `post_message` is thread-safe).
Floods are coalesced: one `LogGrew` and one `OutputReady` are outstanding at a time, and the UI
takes everything new when it handles them.  The event log itself is append-only and its events
are frozen dataclasses, so the UI reads new entries directly (`log_entries`).
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable

from ..session.errors import SessionQuit
from ..session.filters import EventFilter


# -- what the worker tells the UI -----------------------------------------------------------
@dataclass(frozen=True)
class PauseInfo:
    """Where and why the engine stopped."""

    index: int
    kind: str
    stage: str
    module: str
    reason: str
    breakpoint: int | None
    breakpoint_text: str | None
    headline: str
    description: str
    frames: tuple[str, ...]
    command: str | None
    level: int


@dataclass(frozen=True)
class BreakpointInfo:
    number: int
    text: str
    origin: str
    pattern: str
    filter: EventFilter
    enabled: bool
    plain: bool  # `break KIND` with no conditions


@dataclass(frozen=True)
class ModuleInfo:
    name: str
    path: str
    state: str
    handle: int | None
    memory_base: int
    memory_size: int
    table_base: int
    table_size: int
    main: bool
    scope: str


@dataclass(frozen=True)
class RegionInfo:
    start: int
    end: int
    kind: str
    owner: str


@dataclass(frozen=True)
class SessionState:
    """A snapshot of what the status bar and the panes need, taken on the worker thread."""

    generation: int
    program: str | None
    program_kind: str
    started: bool
    running: str | None
    pause: PauseInfo | None
    breakpoints: tuple[BreakpointInfo, ...]
    modules: tuple[ModuleInfo, ...]
    regions: tuple[RegionInfo, ...]
    memory_size: int
    table_size: int
    failure: str | None
    failure_events: tuple[int, ...]
    log_len: int
    startup_errors: tuple[str, ...] = ()
    #: the failure happened during the latest top-level command
    failure_fresh: bool = False
    #: `commands N` is reading its lines (until `end`)
    collecting: bool = False

    @property
    def busy(self) -> bool:
        return self.running is not None and self.pause is None


@dataclass(frozen=True)
class StateChanged:
    state: SessionState


@dataclass(frozen=True)
class LogGrew:
    """New events are in the log (take them with `log_entries`)."""


@dataclass(frozen=True)
class OutputReady:
    """New output items are waiting (take them with `take_output`)."""


@dataclass(frozen=True)
class Answer:
    done: Callable[[Any, BaseException | None], None]
    value: Any = None
    error: BaseException | None = None


@dataclass(frozen=True)
class CommandFinished:
    line: str
    ok: bool
    top_level: bool


@dataclass(frozen=True)
class SessionEnded:
    """The worker stopped (`quit`)."""


@dataclass(frozen=True)
class OutputItem:
    """One thing for the output log; `kind`: echo, result, error, stop, message, trace,
    warning, program."""

    kind: str
    text: str


# -- the printer --------------------------------------------------------------------------
class TuiPrinter:
    """The session's printer under the TUI: everything goes to the output log."""

    json = False

    def __init__(self, bridge: "SessionBridge"):
        self.bridge = bridge

    def echo(self, line: str, prompt: str = "(dldbg) ") -> None:
        self.bridge.output("echo", prompt + line)

    def result(self, result) -> None:
        if result.ok:
            if result.text:
                self.bridge.output("result", result.text)
        else:
            self.bridge.output("error", "\n".join([f"error: {result.error}", *result.details]))

    def event(self, entry) -> None:
        self.bridge.log_grew()

    def stop(self, pause) -> None:
        self.bridge.output("stop", pause.describe())

    def message(self, text: str) -> None:
        self.bridge.output("message", text)

    def trace(self, line: str) -> None:
        self.bridge.output("trace", line)

    def warning(self, text: str) -> None:
        self.bridge.output("warning", f"warning: {text}")


def _program_kind(session) -> str:
    host = getattr(session, "program_host", None)
    if host is not None:
        name = getattr(host, "__name__", type(host).__name__)
        return {"EmscriptenHost": "emscripten program", "WasiHost": "WASI program",
                "CowasmHost": "CoWasm program", "PyodideHost": "Pyodide's main, then this input"}.get(name, f"program ({name})")
    wasm = getattr(session, "program_wasm", None)
    if wasm is not None and wasm.dylink is not None:
        return "side module, standalone host"
    return "no program" if session.program is None else "unknown"


# -- the bridge ---------------------------------------------------------------------------
class SessionBridge:
    """Runs `session` on a worker thread; see the module docstring.

    :param session: a Session (its printer and pause strategy are replaced).
    :param auto_why: when a command typed at the top level (not while stopped) ends with a new
        load or dl failure, run `why` (when the command exists).
    """

    def __init__(self, session, *, auto_why: bool = True):
        self.session = session
        self.auto_why = auto_why and session.registry.get("why") is not None
        self.sink: Callable[[object], None] = lambda note: None
        self.requests: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._output: list[OutputItem] = []
        self._output_posted = False
        self._log_posted = False
        self._generation = 0
        self._running: str | None = None
        self._failure_seen = None
        self._failure_before = None
        self._waiting = threading.Event()
        self._queued = 0  # requests not taken by the worker yet
        self._answers = 0  # answers of `ask` not handled by the UI yet
        self.ended = threading.Event()
        session.printer = TuiPrinter(self)
        session.wait = self._wait
        session.interactive = None

    # -- UI side (any thread) --------------------------------------------------------------
    def start(self, sink: Callable[[object], None]) -> None:
        """Start the worker; `sink(note)` receives notes on the worker thread."""
        self.sink = sink
        if self._thread is None:
            self._thread = threading.Thread(target=self._main, name="dldbg-engine", daemon=True)
            self._thread.start()

    def execute(self, line: str, *, echo: bool = True) -> None:
        """Run a command line on the worker (queued behind earlier requests)."""
        self._put(("exec", line, echo))

    def ask(self, fn: Callable, done: Callable[[Any, BaseException | None], None]) -> None:
        """Run `fn(session)` on the worker; `done(value, error)` gets the outcome through the sink."""
        self._put(("ask", fn, done))

    def call(self, fn: Callable) -> None:
        """Run `fn(bridge)` on the worker (composite actions that execute several commands)."""
        self._put(("call", fn))

    def interrupt(self) -> None:
        """Stop running wasm (the running call fails with `interrupted`); thread-safe."""
        try:
            self.session.interrupt()
        except Exception:
            pass

    def stop(self) -> None:
        """End the session: `quit` (also while stopped inside a load)."""
        self._put(("quit",))

    def delivered(self) -> None:
        """The UI handled an Answer (for `settled`)."""
        with self._lock:
            self._answers -= 1

    def settled(self) -> bool:
        """The worker waits for requests (at the top level or at a stop), none are queued and
        every answer was handled."""
        with self._lock:
            return (self.ended.is_set() or self._waiting.is_set()) and self._queued <= 0 and self._answers <= 0

    def log_entries(self, start: int) -> list:
        """The logged events from `start` on (safe from any thread: the log only grows)."""
        entries = self.session.log.entries
        return entries[start: len(entries)]

    def take_output(self) -> list[OutputItem]:
        with self._lock:
            items, self._output = self._output, []
            self._output_posted = False
        return items

    def take_log_notice(self) -> None:
        """Called by the UI before it reads new entries (a later append posts again)."""
        self._log_posted = False

    # -- worker side -----------------------------------------------------------------------
    def _put(self, request) -> None:
        with self._lock:
            self._queued += 1
            if request[0] == "ask":
                self._answers += 1
        self.requests.put(request)

    def output(self, kind: str, text: str) -> None:
        post = False
        with self._lock:
            self._output.append(OutputItem(kind, text))
            if not self._output_posted:
                self._output_posted = post = True
        if post:
            self.sink(OutputReady())

    def log_grew(self) -> None:
        if not self._log_posted:
            self._log_posted = True
            self.sink(LogGrew())

    def _main(self) -> None:
        session = self.session
        try:
            for message in session.startup_errors:
                self.output("error", f"error: {message}")
            self._publish()
            self._drain_pending(None)
            self._check_failure()
            self._publish()
            while not session.quitting:
                self._serve_one()
        except SessionQuit:
            session.quitting = True
        except BaseException as exc:  # a bug: say so in the output log, keep the UI alive
            self.output("error", f"internal error in the engine thread: {type(exc).__name__}: {exc}")
        finally:
            self.ended.set()
            self._waiting.clear()
            self.sink(SessionEnded())

    def _serve_one(self, pause=None) -> None:
        self._waiting.set()
        request = self.requests.get()
        with self._lock:
            self._queued -= 1
            self._waiting.clear()
        kind = request[0]
        if kind == "exec":
            self._exec(request[1], request[2], pause)
        elif kind == "ask":
            fn, done = request[1], request[2]
            try:
                value, error = fn(self.session), None
            except (SessionQuit, KeyboardInterrupt):
                raise
            except BaseException as exc:
                value, error = None, exc
            self.sink(Answer(done, value, error))  # `delivered` counts it as handled
        elif kind == "call":
            request[1](self)
        elif kind == "quit":
            self.session.quitting = True
            if self.session.pauses:
                raise SessionQuit()

    def run_line(self, line: str, *, echo: bool = True, pause=None):
        """Worker thread only: execute `line` now (for `call` actions)."""
        return self._exec(line, echo, pause)

    def _execute(self, line: str, echo: bool, top: bool):
        """Run `line`; at the top level it is published as the running command meanwhile."""
        session = self.session
        if echo:
            session.printer.echo(line)
        if top:
            self._running = line
            self._failure_before = session.last_failure
            self._publish()
        try:
            return session.execute(line)
        finally:
            if top:
                self._running = None

    def _exec(self, line: str, echo: bool, pause):
        top = pause is None and not self.session.pauses
        result = self._execute(line, echo, top)
        if top:
            self._drain_pending(None)
        ok = result.ok if result is not None else True
        if top:
            self._check_failure()
        self._publish()
        self.sink(CommandFinished(line, ok, top))
        return result

    def _drain_pending(self, pause) -> None:
        session = self.session
        while session.pending and not session.quitting and (pause is None or pause.resume is None):
            line = session.next_line()
            if line is None:
                break
            self._execute(line, True, pause is None and not session.pauses)


    def _check_failure(self) -> None:
        failure = self.session.last_failure
        if failure is None or failure is self._failure_seen:
            return
        self._failure_seen = failure
        if self.auto_why and failure.source in ("load", "dl") and not failure.handled:
            self.session.printer.echo("why    # run automatically after the failure")
            self.session.execute("why")

    def _wait(self, pause) -> None:
        """The session's pause strategy: publish the stop, then serve requests until one
        resumes the engine (or `quit`)."""
        session = self.session
        self._publish()
        self._drain_pending(pause)
        while pause.resume is None and not session.quitting:
            self._serve_one(pause)
        if session.quitting:
            raise SessionQuit()
        self._publish(resuming=True)

    # -- snapshots -------------------------------------------------------------------------
    def _publish(self, *, resuming: bool = False) -> None:
        self._generation += 1
        try:
            state = self.snapshot(resuming=resuming)
        except Exception as exc:  # never let a snapshot bug stop the engine
            self.output("error", f"internal error taking the TUI's snapshot: {type(exc).__name__}: {exc}")
            return
        self.sink(StateChanged(state))

    def snapshot(self, *, resuming: bool = False) -> SessionState:
        """The state now (worker thread: it reads wasmtime objects)."""
        session = self.session
        engine = session.engine
        pause = None if resuming else session.paused
        info = None
        if pause is not None:
            bp = pause.breakpoint
            e = pause.entry.event
            info = PauseInfo(pause.entry.index, e.kind, e.stage, e.module, pause.reason,
                             bp.number if bp else None, bp.describe() if bp else None, pause.headline(),
                             pause.describe(), tuple(pause.frames), pause.command, pause.level)
        bps = tuple(BreakpointInfo(bp.number, bp.describe(), bp.origin, bp.filter.pattern, bp.filter, bp.enabled,
                                   bp.origin == "break" and not bp.filter.conditions)
                    for bp in session.breakpoints)
        main = getattr(engine, "main", None)
        mods = tuple(ModuleInfo(m.name, m.path, m.state, m.handle, m.memory_base, m.memory_size, m.table_base,
                                m.table_size, m is main, "global" if m.is_global else "local")
                     for m in engine.modules)
        regs: tuple[RegionInfo, ...] = ()
        memory_size = 0
        if engine.memory is not None:
            from ..session.addresses import regions

            memory_size = engine.memory.data_len
            regs = tuple(RegionInfo(r.start, r.end, r.kind, r.owner) for r in regions(engine))
        failure = session.last_failure
        running = self._running if pause is None else (pause.command or self._running)
        if resuming:
            running = running or "(resumed)"
        return SessionState(
            generation=self._generation, program=session.program, program_kind=_program_kind(session),
            started=session.program_started, running=running, pause=info, breakpoints=bps, modules=mods,
            regions=regs, memory_size=memory_size, table_size=engine.table.size if engine.table is not None else 0,
            failure=failure.message if failure is not None else None,
            failure_events=tuple(failure.events) if failure is not None else (), log_len=len(session.log),
            startup_errors=tuple(session.startup_errors),
            failure_fresh=failure is not None and failure is not self._failure_before and not failure.handled,
            collecting=session.collecting is not None)
