"""The Session: the one object the REPL, the TUI, command files and plugins drive.

It owns an Engine (with the debugger's host), listens to every linker event, logs it, gives it
to plugins, and stops at breakpoints and stepping targets.  A stop happens inside the engine's
listener, on the engine's thread, wherever the event came from: a dlopen typed by the user, a
NEEDED library, or a dlopen that wasm code called through a host import (its wasm frames stay
live).  While stopped, `wait(pause)` runs: a strategy that returns when the user resumes.  The
default strategy reads command lines (`pending` lines from `-x`, `-ex` and `source` first, then
`interactive`, the REPL's prompt) and executes them until one resumes; the TUI replaces `wait`
with one that blocks on its queue.  Every inspection command works while stopped.

Typical use:

    session = Session("libfoo.so", registry=builtin_registry(), plugins=make_plugin_manager(),
                      printer=TextPrinter(sys.stdout, sys.stderr))
    session.execute("break got symbol=missing_data")
    session.execute("dlopen libfoo.so")        # stops; `wait` serves commands until `continue`
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable

from ..errors import CallError, DldbgError, DlError, LoadError, ModuleFileError, WasmParseError
from ..nogc import collector_resumed
from ..trace import describe
from ..wasm.files import ModuleFiles
from .breakpoints import Breakpoint, BreakpointTable, Watchpoint
from .errors import CommandError, HelpShown, NotPausedError, SessionQuit
from .eventlog import EventLog, LoggedEvent
from .failures import Failure
from .interrupt import InterruptGuard, RunLimit
from .memview import ExamineFormat
from .output import CommandResult, Reply, TextPrinter, as_reply
from .stepping import LoadStack, Resume

_DEFAULT = object()

#: the arguments of the `dldbg_event` hook, in the order of its specification (dldbg.plugins)
_SESSION_ENTRY = ("session", "entry")


@dataclass
class Display:
    """An expression shown at every stop (`display`)."""

    number: int
    expression: str
    format: str | None = None


@dataclass
class Pause:
    """The engine stopped at `entry`.

    :ivar reason: `breakpoint`, `step`, `next` or `finish`.
    :ivar level: 1 for a stop at the top, 2 for a stop inside a command run while stopped, ...
    :ivar frames: the loads in progress, outermost first.
    :ivar resume: set by a resuming command; `wait` returns once it is set.
    :ivar abort: `abort` was given: the load in progress fails (and is rolled back).
    """

    entry: LoggedEvent
    reason: str
    breakpoint: Breakpoint | None
    level: int
    frames: tuple[str, ...]
    resume: Resume | None = None
    abort: bool = False
    #: the command line that was running when the engine stopped (None: the program's own run)
    command: str | None = None

    def headline(self) -> str:
        e = self.entry
        why = f"{self.breakpoint.word} {self.breakpoint.number}" if self.breakpoint else {
            "step": "Step", "next": "Next", "finish": "Finish"}.get(self.reason, self.reason)
        inside = f" (loading {' > '.join(self.frames)})" if len(self.frames) > 1 or (
            self.frames and self.frames[-1] != e.event.module) else ""
        return f"{why}, event #{e.index} {e.event.kind} ({e.event.stage}) {e.event.module}{inside}"

    def describe(self) -> str:
        text = f"{self.headline()}\n    {describe(self.entry.event)}"
        change = getattr(self.breakpoint, "change", None)
        if change is not None:
            text += f"\n    {self.breakpoint.expression}: old value = {change[0]}, new value = {change[1]}"
        return text

    def to_json(self) -> dict:
        return {"reason": self.reason, "breakpoint": self.breakpoint.number if self.breakpoint else None,
                "level": self.level, "frames": list(self.frames), "command": self.command, "index": self.entry.index,
                "event": self.entry.to_json(),
                **({"watch": {"expression": self.breakpoint.expression, "old": self.breakpoint.change[0],
                              "new": self.breakpoint.change[1]}} if getattr(self.breakpoint, "change", None) else {})}


class Session:
    """A debugging session.

    :param program: the program or side module given on the command line (FILE), or None.
        A side module is loaded by `run` as a program's start-up loads it (after `preload`); a
        main module that a program host recognizes (`dldbg.hosts.programs`) is run by it.
        FILE's folder is searched (after `library_path`) by `dlopen NAME`.
    :param registry: the commands the session runs: a dldbg.commands.Registry, usually
        `dldbg.commands.builtin_registry()` (the session is handed it: commands sit above the
        session, which never imports them); plugins add theirs to it here.
    :param plugins: a pluggy PluginManager (see dldbg.plugins.make_plugin_manager); None: no
        plugins.
    :param program_dirs: (host folder, guest path) pairs a program host makes visible (`--dir`).
    :param program_env: environment variables for a program host's program (`--env K=V`).
    :param host_factory: `host_factory(session) -> Host` instead of the default host.
    :param program_host: `program_host(ProgramOptions) -> Host` that runs FILE (its `run`), chosen
        by the command line rather than by FILE's contents (`--pyodide`: FILE is a wheel); FILE is
        then not read as wasm.
    :param engine_factory: `engine_factory(session) -> engine` instead of dldbg's wasmtime
        Engine: a second backend behind the same interface (dldbg.linker.node.NodeEngine, which
        runs `program`, an emscripten glue, under node).  Such an engine runs the program with
        its `run_program(program, argv)` (returning the exit status).
    :param printer: where results, stops and messages go (TextPrinter on stdout/stderr).
    :param limits: resource limits (dldbg.limits.ResourceLimits); default: built-in + `DLDBG_LIMITS`.
    """

    def __init__(self, program: str | None = None, *, registry, program_args=(), library_path=(), preload=(),
                 bind_now: bool = False, cache_dir=_DEFAULT, environ=None, plugins=None, program_dirs=(),
                 program_env=None, host_factory: Callable | None = None, program_host: Callable | None = None,
                 engine_factory: Callable | None = None,
                 printer=None, limits=None):
        self.program = program
        self.program_dirs = list(program_dirs)
        self.program_env = dict(program_env or {})
        self.program_args = list(program_args)
        self.preload = list(preload)
        self.library_path = list(library_path) + ([os.path.dirname(os.path.abspath(program))] if program else [])
        self.bind_now = bind_now
        self.cache_dir = cache_dir
        self.environ = environ
        self.host_factory = host_factory
        self.engine_factory = engine_factory
        if limits is None:
            from ..limits import default_limits

            limits = default_limits(environ)
        self.limits = limits
        self.printer = printer or TextPrinter(sys.stdout, sys.stderr)
        self.breakpoints = BreakpointTable()
        self.log = EventLog()
        self.stack = LoadStack()
        self.pauses: list[Pause] = []
        #: the stepping mode of a resumed engine, None: stop at breakpoints only
        self.resume_mode: Resume | None = None
        #: the pause strategy: called with the Pause, returns when the user resumes
        self.wait: Callable[[Pause], None] = self.serve_pause
        #: command lines to run next (`-x`, `-ex`, `source`), as (line, origin)
        self.pending: deque[tuple[str, str]] = deque()
        #: `interactive(session) -> line | None`: the REPL's prompt; None: no keyboard
        self.interactive: Callable[["Session"], str | None] | None = None
        self.echo = False
        self.last_failure: Failure | None = None
        self.failed_commands = 0
        self.quitting = False
        self.current_command: str | None = None
        #: (plugin, hook, error) -> how often that plugin hook failed so
        self._plugin_failures: dict[tuple[str, str, str], int] = {}
        #: the `dldbg_event` implementations to call, as (hook caller, its implementations,
        #: (function, plugin name, argument names) in calling order); made again when they change
        self._event_calls: tuple | None = None
        #: per-plugin state, by plugin name
        self.plugin_data: dict[str, object] = {}
        self.examine_format = ExamineFormat()
        self.examine_next: int | None = None
        self.guest_strings: list[tuple[int, str]] = []
        self.program_started = False
        #: values shown by `print` ($1 is values[0])
        self.values: list = []
        self.displays: list[Display] = []
        self._next_display = 1
        #: `commands N` collecting lines until `end`: (breakpoint, lines so far)
        self.collecting: tuple[Breakpoint, list[str]] | None = None
        #: folders whose `.dldbginit` may run (gdb's auto-load safe-path)
        self.safe_path: list[str] = []
        self.startup_errors: list[str] = []
        self.unrunnable: str | None = None
        self.started = time.perf_counter()
        self.interrupts = InterruptGuard(self.interrupt)
        #: batch mode: SIGINT and `--timeout` end the whole run (dldbg.session.interrupt.RunLimit)
        self.limit: RunLimit | None = None
        self.program_host = program_host
        self.program_wasm = None
        #: module files parsed once, shared by the session, the program host and the loader
        self.files = ModuleFiles(self.limits, cache_dir=self._cache_folder())
        #: listeners every new engine gets (`add_engine_listener`)
        self._engine_listeners: list[Callable] = []
        if program_host is None:
            self._inspect_program()
        self.plugins = plugins
        self.registry = registry
        self._hook("dldbg_register_commands", registry=self.registry)
        self.engine = self._new_engine()
        self._hook("dldbg_session_start", session=self)

    # -- engine -------------------------------------------------------------------------
    def _cache_folder(self) -> str | None:
        """dldbg's cache folder for this session's engines (None: no disk cache)."""
        if self.cache_dir is _DEFAULT:
            from ..linker.cache import default_cache_dir

            return default_cache_dir()
        return self.cache_dir

    def _inspect_program(self) -> None:
        if self.program is None or self.engine_factory is not None:  # the backend reads its program
            return
        from ..hosts.programs import find_program_host, unrunnable_reason

        try:
            self.program_wasm = self.files.get(self.program)[1]
        except ModuleFileError as exc:
            self.startup_errors.append(str(exc))
            return
        except WasmParseError as exc:
            self.startup_errors.append(f"{self.program}: read: {exc.message} at byte offset {exc.offset:#x}")
            return
        self.program_host = find_program_host(self.program_wasm, self.program)
        #: why no host runs this main program (an emscripten main of a later emscripten), or None
        self.unrunnable = unrunnable_reason(self.program_wasm, self.program) if self.program_host is None else None
        if self.unrunnable is not None:
            self.startup_errors.append(self.unrunnable)
        elif self.program_host is None and self.program_wasm.dylink is None:
            self.startup_errors.append(f"{self.program}: read: not a side module (no dylink.0 section) and no program "
                                       "host runs it")

    def _make_host(self):
        if self.host_factory is not None:
            return self.host_factory(self)
        if self.program_host is not None:
            from ..hosts.programs import ProgramOptions

            return self.program_host(ProgramOptions(dirs=list(self.program_dirs), env=dict(self.program_env),
                                                    preload=list(self.preload), library_path=list(self.library_path)))
        from .host import DebuggerHost

        return DebuggerHost()

    def _new_engine(self):
        if self.engine_factory is not None:
            engine = self.engine_factory(self)
            engine.listeners.append(self._on_event)
            engine.listeners.extend(self._engine_listeners)
            self.stack = LoadStack()
            self._watch_lazily = False
            return engine
        from ..linker.engine import Engine

        options = {"library_path": self.library_path, "bind_now": self.bind_now, "environ": self.environ,
                   "files": self.files, "limits": self.limits}
        if self.cache_dir is not _DEFAULT:
            options["cache_dir"] = self.cache_dir
        engine = Engine(self._make_host(), **options)
        engine.listeners.append(self._on_event)
        engine.listeners.extend(self._engine_listeners)
        self.stack = LoadStack()
        # a host that enters wasm only through the engine: the SIGINT watcher starts when wasm
        # is about to run, not with every command (dldbg.session.interrupt)
        self._watch_lazily = getattr(engine.host, "watches_wasm_entry", False)
        if self._watch_lazily:
            engine.before_wasm = self.interrupts.watch
        return engine

    def add_engine_listener(self, listener: Callable) -> None:
        """Give `listener` the events of this engine and of every engine after a restart."""
        self._engine_listeners.append(listener)
        self.engine.listeners.append(listener)

    def restart(self) -> None:
        """A fresh engine (no modules, empty memory and table); breakpoints and the log stay."""
        self.engine = self._new_engine()
        self.program_started = False
        self.examine_next = None
        self.guest_strings.clear()

    def interrupt(self) -> None:
        """Stop running wasm (Ctrl-C); the running call fails with `interrupted`.  In batch mode
        (`limit` set) the whole run stops: no later command runs."""
        if self.limit is not None:
            self.limit.fire("interrupted")
        else:
            self.engine.interrupt()

    def run_program(self, args: list[str] | None = None) -> Reply:
        """Start the program: a main module through its program host (returns its exit
        status), a side module as a program's start-up loads it.  Raises DldbgError."""
        if self.program is None:
            raise CommandError("no program: give FILE on the command line, or use `dlopen`")
        if self.startup_errors and self.program_wasm is None:
            raise CommandError(self.startup_errors[0])
        if self.program_started:
            self.restart()
            self.printer.message("starting the program again in a fresh engine")
        elif self.engine.modules:  # libraries typed at the prompt (`dlopen`): the program starts afresh
            self.restart()
            self.printer.message("starting the program in a fresh engine (the libraries loaded before are dropped)")
        if args is not None:
            self.program_args = list(args)
        self.program_started = True
        if self.engine_factory is not None:
            status = self.engine.run_program(self.program, [self.program, *self.program_args])
            return Reply({"program": self.program, "exit_status": status}, f"program exited with status {status}")
        if self.program_host is not None:
            status = self.engine.host.run(self.engine, self.program, [self.program, *self.program_args])
            return Reply({"program": self.program, "exit_status": status}, f"program exited with status {status}")
        if self.program_wasm is not None and (self.program_wasm.dylink is None or self.unrunnable is not None):
            raise CommandError(self.unrunnable or (self.startup_errors[0] if self.startup_errors
                                                   else f"{self.program}: not a side module"))
        if self.program_args:
            raise CommandError(f"{self.program} is a side module, not a program: it takes no arguments")
        mods = self.engine.load_startup([*self.preload, self.program])
        names = [m.name for m in mods]
        return Reply({"loaded": [{"module": m.name, "handle": m.handle} for m in mods]},
                     f"loaded {', '.join(names)} as a program's start-up does")

    # -- events -------------------------------------------------------------------------
    def _live_modules(self) -> list[str]:
        return [m.name for m in self.engine.modules if m.state in ("loading", "instantiated")]

    def _on_event(self, event) -> None:
        depth = self.stack.observe(event, self._live_modules)
        entry = self.log.append(event, time.perf_counter() - self.started, depth)
        if event.kind == "load.fail":
            self._note_load_failure(entry)
        self.printer.event(entry)
        self._hook_event(entry)
        bp = self.breakpoints.hit(event, self._breakpoint_test) if len(self.breakpoints) else None
        mode = self.resume_mode
        stepping = mode is not None and mode.should_stop(event, depth, self.stack.frames)
        if bp is not None:
            self._pause(entry, "breakpoint", bp)
        elif stepping:
            self._pause(entry, mode.how, None)

    def _breakpoint_test(self, bp: Breakpoint, event) -> bool:
        """A watchpoint's change and a breakpoint's condition (an error in it stops, as in gdb)."""
        if isinstance(bp, Watchpoint):
            value, location = self._watch_value(bp)
            if not bp.observe(value, location):
                return False
        if not bp.condition:
            return True
        try:
            return bool(self.evaluate(bp.condition, event).value)
        except Exception as exc:  # a condition that cannot be evaluated stops the engine (gdb)
            self.printer.warning(f"error in the condition of breakpoint {bp.number} ({bp.condition}): {exc}")
            return True

    def _watch_value(self, wp: Watchpoint) -> tuple[object, str | None]:
        """The watched expression's value and location now; (None, None) while it cannot be
        evaluated (its module is not loaded, memory does not exist yet)."""
        if self.engine.memory is None:
            return None, None
        try:
            value = self.evaluate(wp.expression)
        except Exception:
            return None, None
        lv = value.lvalue
        return value.value, (lv.describe(self.engine) if lv is not None else None)

    def evaluate(self, text: str, event=None):
        """An expression's Value (dldbg.session.expr), `$_event` being `event` or the stopped
        event.  Raises CommandError (and DldbgError for memory outside linear memory)."""
        from .expr import Evaluator

        if event is None and self.pauses:
            event = self.pauses[-1].entry.event
        return Evaluator(self.engine, self.values, event).evaluate(text)

    def add_display(self, expression: str, fmt: str | None = None) -> Display:
        d = Display(self._next_display, expression, fmt)
        self._next_display += 1
        self.displays.append(d)
        return d

    def remove_displays(self, numbers: list[int]) -> list[int]:
        """Remove displays (all without numbers); returns the numbers removed.  Raises CommandError."""
        known = {d.number for d in self.displays}
        for n in numbers:
            if n not in known:
                raise CommandError(f"no display number {n}")
        gone = [d.number for d in self.displays if not numbers or d.number in numbers]
        self.displays = [d for d in self.displays if d.number not in gone]
        return gone

    def show_displays(self) -> None:
        """Every display's line, as results (`display N`), at a stop."""
        from .values import show_display

        for d in list(self.displays):
            row = show_display(self, d)
            self.printer.result(CommandResult(f"display {d.number}", True, row, row["text"]))

    def _note_load_failure(self, entry: LoggedEvent) -> None:
        start = 0
        for earlier in reversed(self.log.entries[: entry.index]):
            e = earlier.event
            if e.kind == "load.start" and e.requested_by is None and e.module not in self.stack.frames:
                start = earlier.index
                break
        e = entry.event
        self.last_failure = Failure("load", f"{e.path}: {e.failed_stage}: {e.reason}", self.current_command,
                                    tuple(range(start, entry.index + 1)))

    def _pause(self, entry: LoggedEvent, reason: str, bp: Breakpoint | None) -> None:
        pause = Pause(entry, reason, bp, len(self.pauses) + 1, tuple(self.stack.frames), command=self.current_command)
        self.pauses.append(pause)
        self.resume_mode = None
        commands = list(bp.commands) if bp is not None else []
        silent = bool(commands) and commands[0] == "silent"
        if not silent:
            self.printer.stop(pause)
        self.show_displays()
        if commands:  # gdb's breakpoint commands: run next, before anything else pending
            self.pending.extendleft((line, f"commands {bp.number}") for line in reversed(commands[silent:]))
        self._hook("dldbg_stop", session=self, pause=pause)
        try:
            with self.interrupts.suspended(), collector_resumed():  # a stop inside a load (dldbg.nogc)
                self.wait(pause)
        finally:
            self.pauses.pop()
        if self.quitting:
            raise SessionQuit()
        if pause.abort:
            self._abort(pause)
        resume = pause.resume or Resume("continue")
        self.resume_mode = None if resume.how == "continue" else resume

    def _abort(self, pause: Pause) -> None:
        where = f"aborted by the debugger at event #{pause.entry.index}"
        if pause.frames:
            mod = self.engine.module_named(pause.frames[-1])
            path = mod.path if mod is not None else pause.frames[-1]
            raise LoadError(path, pause.entry.event.stage, where)
        raise CallError(where)

    @property
    def paused(self) -> Pause | None:
        """The innermost pause, or None when the engine is not stopped."""
        return self.pauses[-1] if self.pauses else None

    def resume(self, how: str, count: int = 1) -> Pause:
        """Resume the innermost pause (`continue`, `step`, `next`, `finish`).

        Raises NotPausedError when nothing is stopped.
        """
        pause = self.paused
        if pause is None:
            raise NotPausedError(f"{how}: the engine is not stopped (set a breakpoint, e.g. `catch load`, "
                                 f"then `dlopen` or `run`)")
        e = pause.entry
        module, depth = e.event.module, e.depth
        if module not in pause.frames:
            # stopped where a load ended (its load.done): the load to finish or step in is the
            # enclosing one, if any (else `finish` runs to the end of the operation)
            module, depth = (pause.frames[-1], len(pause.frames)) if pause.frames else ("", 0)
        pause.resume = Resume(how, count, module, e.event.stage, depth)
        return pause

    # -- commands -----------------------------------------------------------------------
    def next_line(self) -> str | None:
        """The next command line: pending lines first, then the interactive reader; None at the
        end, and once the run limit (SIGINT or `--timeout` in batch mode) has stopped the run."""
        if self.limit is not None and self.limit.reason is not None:
            return None
        if self.pending:
            line, _origin = self.pending.popleft()
            if self.echo:
                self.printer.echo(line)
            return line
        if self.interactive is not None:
            return self.interactive(self)
        return None

    def serve_pause(self, pause: Pause) -> None:
        """The default pause strategy: run command lines until one resumes the engine; with no
        lines left, continue."""
        while pause.resume is None and not self.quitting:
            line = self.next_line()
            if line is None:
                if not self.quitting and not (self.limit and self.limit.reason):
                    self.printer.message(f"no more commands while stopped at event #{pause.entry.index}: continuing")
                pause.resume = Resume("continue")
                break
            self.execute(line)

    def run_commands(self) -> int:
        """Run command lines until none are left or `quit`; returns the number that failed."""
        try:
            while not self.quitting:
                line = self.next_line()
                if line is None:
                    break
                self.execute(line)
        except SessionQuit:
            self.quitting = True
        return self.failed_commands

    def execute(self, line: str) -> CommandResult | None:
        """Run one command line and report its result to the printer; never raises for a
        failing command (SessionQuit passes through).  Blank lines and comments give None."""
        line = line.strip()
        if not line or line.startswith("#"):
            return None
        if self.collecting is not None:
            return self._collect(line)
        outer, self.current_command = self.current_command, line
        self.resume_mode = None
        if outer is None:
            self._rearm_interrupts()
        try:
            with self.interrupts_active():
                command, argv = self.registry.parse(line)
                reply = command.run(self, list(argv))
            reply = as_reply(reply)
            result = CommandResult(line, True, reply.data, reply.text)
        except HelpShown as shown:
            result = CommandResult(line, True, {"help": shown.text}, shown.text.rstrip())
        except CallError as exc:
            self._note_error(exc, "call")
            result = CommandResult(line, False, error=exc.one_line(), details=[f"    #{i} {frame}" for i, frame in enumerate(exc.backtrace)])
        except (DlError, LoadError) as exc:
            self._note_error(exc, "dl")
            result = CommandResult(line, False, error=exc.one_line())
        except DldbgError as exc:
            result = CommandResult(line, False, error=exc.one_line())
        except KeyboardInterrupt:
            result = CommandResult(line, False, error="interrupted")
        except RecursionError as exc:
            result = CommandResult(line, False, error=f"internal error: {exc}")
        except Exception as exc:  # a bug in a command: report it, keep the session
            if os.environ.get("DLDBG_DEBUG"):
                raise
            result = CommandResult(line, False, error=f"internal error in {line.split()[0]!r}: {type(exc).__name__}: {exc} "
                                   f"(set DLDBG_DEBUG=1 for the traceback)")
        finally:
            self.resume_mode = None
            self.current_command = outer
        if result.ok and self.last_failure is not None and self.last_failure.command == line and outer is None:
            self.last_failure.handled = True  # failed inside, yet the command went on (the program handled it)
        if not result.ok:
            self.failed_commands += 1
        elif self.interrupts.interrupted and outer is None:
            self.printer.message("interrupted (no wasm was running: the command finished)")
        self.printer.result(result)
        self._hook("dldbg_command_result", session=self, result=result)
        return result

    def _collect(self, line: str) -> CommandResult:
        """A line of a `commands N` block (gdb: until `end`)."""
        bp, lines = self.collecting
        if line != "end":
            lines.append(line)
            result = CommandResult(line, True, {"breakpoint": bp.number, "line": line}, "")
        else:
            self.collecting = None
            bp.commands = lines
            text = f"breakpoint {bp.number}: {len(lines)} command{'s' if len(lines) != 1 else ''}" if lines else \
                f"breakpoint {bp.number}: no commands"
            result = CommandResult(line, True, {"breakpoint": bp.number, "commands": lines}, text)
        self.printer.result(result)
        return result

    def interrupts_active(self):
        """`with session.interrupts_active():` SIGINT stops running wasm while the block runs;
        the watcher thread starts when the engine is about to enter wasm, or at once for an
        engine whose host calls wasm itself (dldbg.session.interrupt)."""
        return self.interrupts.active(watch=not self._watch_lazily)

    def _rearm_interrupts(self) -> None:
        """A Ctrl-C that arrived when no wasm was running must not stop the next wasm to run:
        the engine re-arms the epoch deadline before calls, not before instantiation (start
        functions), so the session re-arms it before each top-level command."""
        store = getattr(self.engine, "store", None)
        if store is not None:
            store.set_epoch_deadline(1)

    def _note_error(self, exc: DldbgError, source: str) -> None:
        if source == "dl" and self.last_failure is not None and self.last_failure.source == "load" \
                and self.last_failure.command == self.current_command and self.last_failure.error is None:
            self.last_failure.error = exc  # the dlopen that the load.fail event already recorded
            return
        self.last_failure = Failure(source, exc.one_line(), self.current_command, error=exc)

    # -- plugins ------------------------------------------------------------------------
    def _hook(self, name: str, **kwargs) -> None:
        """Call every plugin's `name` hook; a failing plugin is reported and skipped."""
        if self.plugins is None:
            return
        caller = getattr(self.plugins.hook, name, None)
        if caller is None:
            return
        for impl in reversed(caller.get_hookimpls()):
            try:
                impl.function(*[kwargs[arg] for arg in impl.argnames])
            except (SessionQuit, KeyboardInterrupt):
                raise
            except Exception as exc:
                self._plugin_failed(impl.plugin_name, name, f"{type(exc).__name__}: {exc}")

    def _hook_event(self, entry: LoggedEvent) -> None:
        """`_hook("dldbg_event", session=self, entry=entry)`, run for every event: the calls are
        made once for the implementations pluggy has (again when they change), and each gets
        its arguments without a keyword dict and an argument list per event."""
        if self.plugins is None:
            return
        caller = getattr(self.plugins.hook, "dldbg_event", None)
        if caller is None:
            return
        impls = caller.get_hookimpls()
        calls = self._event_calls
        if calls is None or calls[0] is not caller or calls[1] != impls:
            calls = self._event_calls = (caller, impls, tuple((impl.function, impl.plugin_name, tuple(impl.argnames))
                                                              for impl in reversed(impls)))
        for function, plugin, argnames in calls[2]:
            try:
                if argnames == _SESSION_ENTRY:
                    function(self, entry)
                else:  # pluggy allows an implementation a subset of the hook's arguments, in any order
                    arguments = {"session": self, "entry": entry}
                    function(*[arguments[name] for name in argnames])
            except (SessionQuit, KeyboardInterrupt):
                raise
            except Exception as exc:
                self._plugin_failed(plugin, "dldbg_event", f"{type(exc).__name__}: {exc}")

    def _plugin_failed(self, plugin: str, hook: str, error: str) -> None:
        """Warn once per plugin, hook and error: a hook that fails at every event must not
        print one identical warning per event; the repeats are counted and reported at the end."""
        key = (plugin, hook, error)
        seen = self._plugin_failures.get(key, 0)
        self._plugin_failures[key] = seen + 1
        if not seen:
            self.printer.warning(f"plugin {plugin} failed in {hook}: {error} (the same failure again is counted, "
                                 f"not shown)")

    def close(self) -> None:
        """End the session: plugins' `dldbg_session_end`, then the interrupt watcher."""
        self._hook("dldbg_session_end", session=self)
        for (plugin, hook, error), count in self._plugin_failures.items():
            if count > 1:
                self.printer.warning(f"plugin {plugin} failed {count} times in {hook}: {error}")
        self.interrupts.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
