"""Run one mutant through `dldbg inspect`, `dldbg run` and a debugger `dlopen`, in-process,
under a watchdog, and say what went wrong.

A case is the mutant written in place of its source in a copy of the source's folder (so its
NEEDED siblings, `deps/` and `main.js` are found as they would be), then one operation:

* `inspect`  `dldbg inspect [--json] FILE` (cli.main)
* `run`      `dldbg run --no-cache FILE` (cli.main): a side module in the standalone host, a main
             program under the host that recognizes it
* `dlopen`   a debugger Session on FILE, then its `dlopen FILE` command; after a failure the
             engine must hold no module left loading, `dlerror()` must give the message, and
             a second `dlopen` must fail the same way with `__stack_pointer` where it was

Cases run without binaryen (PATH is empty while the runner is open): a mutant that reads as
legacy exception handling fails at once instead of starting its exnref translation.

Findings (`Finding.problems`): `raw` (an exception that is not a DldbgError escaped, or a load
failed with an internal error), `slow` (over `limit` seconds; the watchdog then interrupts the
running wasm, and at `hard_limit` raises in the main thread), `memory` (the process's resident set
grew by more than `memory_limit` bytes during the case), `message` (an error line without the
file, without the stage, or a read/imports error without the byte offset), `state` (a failed
dlopen left something behind).
"""

from __future__ import annotations

import contextlib
import inspect
import io
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import traceback
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from dldbg.errors import DldbgError
from dldbg.events import STAGES

from .mutants import Mutant

OPERATIONS = ("inspect", "run", "dlopen")
GIB = 1 << 30
_PAGE = os.sysconf("SC_PAGE_SIZE")
#: reasons of a read-stage failure that concern the whole file, so carry no byte offset
_WHOLE_FILE = ("No such file", "not a regular file", "larger than", "Is a directory", "Permission denied",
               "is still being loaded", "need dylink section", "not a side module")
_STAGE_RE = re.compile(r": (" + "|".join(STAGES) + r"): ")


class CaseTimeout(BaseException):
    """Raised in the main thread by the watchdog at the hard limit."""


@dataclass
class Finding:
    mutant: str
    op: str
    seconds: float
    peak_rss: int
    status: str  # ok | error | raw
    problems: list[str] = field(default_factory=list)
    error: str = ""

    def to_json(self) -> dict:
        return {"mutant": self.mutant, "op": self.op, "seconds": round(self.seconds, 3), "peak_rss": self.peak_rss,
                "status": self.status, "problems": self.problems, "error": self.error[:500]}


def rss() -> int:
    """The resident set in bytes (/proc/self/statm), 0 if it cannot be read."""
    fd = os.open("/proc/self/statm", os.O_RDONLY)
    try:
        fields = os.read(fd, 200).split()
    finally:
        os.close(fd)
    return int(fields[1]) * _PAGE if len(fields) > 1 else 0


class Watchdog:
    """A thread that samples the resident set and stops a case that runs too long."""

    def __init__(self, limit: float, hard_limit: float):
        self.limit, self.hard_limit = limit, hard_limit
        self.engines: weakref.WeakSet = weakref.WeakSet()
        self._main = threading.get_ident()
        self._started: float | None = None
        self._hard_sent = False
        self.peak = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._previous = signal.signal(signal.SIGALRM, self._alarm)
        self._thread.start()

    def _alarm(self, _signum, _frame):
        raise CaseTimeout()

    def begin(self) -> None:
        with self._lock:
            self.baseline = self.peak = rss()
            self._hard_sent = False
            self._started = time.perf_counter()

    def end(self) -> int:
        """The growth of the resident set during the case, in bytes."""
        with self._lock:
            self._started = None
            return max(self.peak, rss()) - self.baseline

    def _loop(self) -> None:
        interrupted = False
        while not self._stop.wait(0.02):
            with self._lock:
                if self._started is None:
                    interrupted = False
                    continue
                self.peak = max(self.peak, rss())
                elapsed = time.perf_counter() - self._started
                if elapsed > self.limit and not interrupted:
                    interrupted = True
                    for engine in list(self.engines):
                        engine.interrupt()
                if elapsed > self.hard_limit and not self._hard_sent:
                    self._hard_sent = True
                    signal.pthread_kill(self._main, signal.SIGALRM)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        signal.signal(signal.SIGALRM, self._previous)


class Runner:
    """Runs cases; use as a context manager (it redirects stdio and patches Engine to track engines).

    :param workdir: where the sample folders are copied (a temporary folder by default).
    """

    def __init__(self, samples: Path, *, limit: float = 5.0, hard_limit: float = 20.0,
                 memory_limit: int = GIB, workdir: Path | None = None):
        self.samples = samples.resolve()
        self.limit, self.hard_limit, self.memory_limit = limit, hard_limit, memory_limit
        self._own_workdir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="dldbg-fuzz-")) if workdir is None else workdir
        self._copies: dict[Path, Path] = {}
        self._stack = contextlib.ExitStack()

    # -- context --------------------------------------------------------------------------
    def __enter__(self) -> "Runner":
        from dldbg.linker.engine import Engine
        from dldbg.plugins import make_plugin_manager

        self.watchdog = Watchdog(self.limit, self.hard_limit)
        self._stack.callback(self.watchdog.close)
        original_init = Engine.__init__
        engines = self.watchdog.engines

        def tracked_init(engine, *args, **kwargs):
            original_init(engine, *args, **kwargs)
            engines.add(engine)

        Engine.__init__ = tracked_init
        self._stack.callback(setattr, Engine, "__init__", original_init)
        os.environ["DLDBG_DEBUG"] = "1"  # cli.main and Session.execute re-raise what they do not expect
        self._stack.callback(os.environ.pop, "DLDBG_DEBUG", None)
        # No binaryen: a module that reads as legacy exception handling (a flipped byte makes
        # an opcode `try`) fails at once instead of starting wasm-opt, whose seconds under node
        # are the translation's, not the loader's.
        self._stack.callback(os.environ.__setitem__, "PATH", os.environ.get("PATH", ""))
        os.environ["PATH"] = ""
        self._stack.enter_context(_quiet_fds())
        sink = io.StringIO()
        self._stack.enter_context(contextlib.redirect_stdout(sink))
        self._stack.enter_context(contextlib.redirect_stderr(sink))
        self.plugins = make_plugin_manager(entry_points=False)
        from dldbg.commands import builtin_registry

        self.registry = builtin_registry()
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- cases ----------------------------------------------------------------------------
    def place(self, m: Mutant) -> Path:
        """Write the mutant in place of its source, in a copy of the source's scenario folder."""
        source = m.source.resolve()
        rel = source.relative_to(self.samples)
        scenario = rel.parts[0] if len(rel.parts) < 3 else Path(rel.parts[0], rel.parts[1])
        copy = self._copies.get(Path(scenario))
        if copy is None:
            copy = self.workdir / scenario
            shutil.copytree(self.samples / scenario, copy, dirs_exist_ok=True)
            self._copies[Path(scenario)] = copy
        target = self.workdir / rel
        target.write_bytes(m.data)
        return target

    def restore(self, m: Mutant) -> None:
        source = m.source.resolve()
        (self.workdir / source.relative_to(self.samples)).write_bytes(source.read_bytes())

    def run(self, m: Mutant, ops=OPERATIONS, *, json_inspect: bool = False) -> list[Finding]:
        """The findings of `ops` on mutant `m`."""
        path = self.place(m)
        try:
            return [self._case(m, op, str(path), json_inspect) for op in ops]
        finally:
            self.restore(m)

    def _case(self, m: Mutant, op: str, path: str, json_inspect: bool) -> Finding:
        finding = Finding(m.describe(), op, 0.0, 0, "ok")
        self.watchdog.begin()
        began = time.perf_counter()
        try:
            try:
                if op == "inspect":
                    self._cli(finding, ["inspect", *(["--json"] if json_inspect else []), path], path)
                elif op == "run":
                    self._cli(finding, ["run", "--no-cache", path], path)
                else:
                    self._dlopen(finding, path)
            finally:
                finding.seconds = time.perf_counter() - began
                finding.peak_rss = self.watchdog.end()
        except CaseTimeout:
            finding.status = "raw"
            finding.problems.append("hard-timeout")
        except Exception as exc:  # noqa: BLE001 - the finding
            finding.status = "raw"
            finding.error = _describe_raw(exc)
            finding.problems.append("raw")
        broken = _check_stdio()
        if broken:
            finding.problems.append(f"state: {broken}")
        if finding.seconds > self.limit:
            finding.problems.append("slow")
        if finding.peak_rss > self.memory_limit:
            finding.problems.append("memory")
        if finding.peak_rss > self.memory_limit // 2:
            import gc

            gc.collect()  # let wasmtime release the store of the case before the next one
        return finding

    def _cli(self, finding: Finding, argv: list[str], path: str) -> None:
        from dldbg.cli import main

        out, err = io.StringIO(), io.StringIO()
        status = main(argv, stdout=out, stderr=err)
        text = err.getvalue()
        finding.status = "ok" if status == 0 else "error"
        for line in text.split("\n"):  # not splitlines: a name may hold \x0b, \x1c, ...
            if line.startswith("dldbg: internal error") or (line.startswith("dldbg: error: ") and "internal error" in line):
                finding.problems.append("raw")
                finding.error = line
            elif line.startswith("dldbg: error: "):
                finding.error = line
                finding.problems += check_message(line[len("dldbg: error: "):], argv[0])
            elif re.match(r"^(exiting due to exception: )?Error: .*: (" + "|".join(STAGES) + r"): ", line):
                finding.error = line
                finding.problems.append("message: a load failure reported as a JavaScript Error")

    def _dlopen(self, finding: Finding, path: str) -> None:
        from dldbg.session.output import TextPrinter
        from dldbg.session.session import Session

        sink = io.StringIO()
        options = {"registry": self.registry} if "registry" in inspect.signature(Session).parameters else {}
        session = Session(path, cache_dir=None, plugins=self.plugins, printer=TextPrinter(sink, sink), **options)
        engine = session.engine
        command, argv = session.registry.parse(f"dlopen {path}")
        first = None
        for attempt in (1, 2):
            sp = _stack_value(engine)
            try:
                command.run(session, list(argv))
                finding.status = "ok"
                return
            except DldbgError as exc:
                finding.status = "error"
                message = str(exc)
            if attempt == 1:
                first = message
                finding.error = message.replace("\n", " ")
                if "internal error" in message:
                    finding.problems.append("raw")
                finding.problems += check_message(message.split("\n", 1)[-1], "dlopen")
                if message.startswith("could not load dynamic lib") and engine.dlerror() != message:
                    finding.problems.append("state: dlerror() does not give the failure")
                left = [f"{m.name} {m.state}" for m in engine.modules if m.state in ("loading", "instantiated")]
                if left:
                    finding.problems.append(f"state: left behind: {', '.join(left)}")
            elif message != first:
                finding.problems.append(f"state: a second dlopen failed otherwise: {message[:200]}")
            if sp is not None and _stack_value(engine) != sp:
                finding.problems.append(f"state: __stack_pointer {sp:#x} -> {_stack_value(engine):#x}")


def _stack_value(engine) -> int | None:
    sp = engine.stack_pointer
    return sp.value(engine.store) if sp is not None else None


def check_message(text: str, op: str) -> list[str]:
    """Problems of one error message: a load failure must name the file and the stage, and a
    failure of the read or imports stage its byte offset (unless it concerns the whole file)."""
    if op == "inspect":
        stage = "read"
        named = ": read: " in text
    else:
        match = _STAGE_RE.search(text)
        if match is None:
            if any(w in text for w in (" trapped: ", " failed: ", "interrupted", " called from ", " exited with status ")):
                return []  # a call, not a load
            return [f"message: no file or stage: {text[:200]}"]
        stage, named = match.group(1), True
    problems = []
    if not named:
        problems.append(f"message: no stage: {text[:200]}")
    if stage in ("read", "imports") and "byte offset" not in text and not any(w in text for w in _WHOLE_FILE):
        problems.append(f"message: no byte offset: {text[:200]}")
    return problems


def _describe_raw(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = next((f for f in reversed(frames) if "/dldbg/" in f.filename), frames[-1] if frames else None)
    at = f" at {Path(where.filename).name}:{where.lineno} {where.name}" if where else ""
    return f"{type(exc).__name__}: {str(exc)[:300]}{at}"


_NULL_ID: tuple[int, int] | None = None


def _check_stdio() -> str | None:
    """After a case: descriptors 0, 1 and 2 must still be /dev/null.  A host that closed one
    (a double close of a program's file) would let the next file opened take its number, and
    the program output written there would land in that file; they are put back."""
    wrong = []
    for fd in (0, 1, 2):
        try:
            info = os.fstat(fd)
            same = (info.st_dev, info.st_ino) == _NULL_ID
        except OSError:
            same = False
        if not same:
            wrong.append(fd)
            null = os.open(os.devnull, os.O_RDWR)
            os.dup2(null, fd)
            os.close(null)
    return f"descriptors {wrong} were closed or replaced during the case" if wrong else None


@contextlib.contextmanager
def _quiet_fds():
    """stdin from /dev/null, stdout and stderr to /dev/null at the descriptor level (wasmtime's
    WASI inherits them), restored after."""
    global _NULL_ID
    saved = [os.dup(fd) for fd in (0, 1, 2)]
    null = os.open(os.devnull, os.O_RDWR)
    info = os.fstat(null)
    _NULL_ID = (info.st_dev, info.st_ino)
    try:
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        yield
    finally:
        for fd, copy in zip((0, 1, 2), saved):
            os.dup2(copy, fd)
            os.close(copy)
        os.close(null)
