"""The `dldbg` command line.

`main(argv)` returns the exit status and never calls sys.exit: 0 ok, 1 a failed load, call or
command, 2 a usage error.  Errors are one line on stderr (`dldbg: error: ...`), never a
traceback.  wasmtime is imported only by the subcommands that run code.  A plain `dldbg inspect
FILE...` is parsed here (`plain_inspect`); every other command line by argparse (dldbg.cliargs).
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace  # (imported already: functools imports it)

from .errors import CallError, DldbgError, WasmParseError, internal_cause
from .textsafe import printable

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import TextIO


def resource_limits(specs):
    """The limits of `DLDBG_LIMITS` with `--limit` settings on top.  Raises DldbgError."""
    from .limits import default_limits

    return default_limits().with_overrides(specs)


def read_input(path: str, limits):
    """Read a module named on the command line; every failure is one DldbgError line naming
    the file, the `read` stage and the byte offset."""
    from .wasm.reader import read_module_file

    try:
        return read_module_file(path, limits)
    except WasmParseError as exc:
        raise DldbgError(f"{path}: read: {exc.message} at byte offset {exc.offset:#x}") from None


SUBCOMMANDS = ("inspect", "check", "run")
#: first arguments that select the subcommand parser; anything else starts the debugger
SUBCOMMAND_WORDS = (*SUBCOMMANDS, "-h", "--help", "-V", "--version")


def _debugger_argument(first: str) -> bool:
    """An option, or something that names a file: the debugger.  A bare word that is no file
    (`dldbg frobnicate`) stays a usage error of the subcommand parser."""
    return first.startswith("-") or os.path.exists(first) or "/" in first or "." in first


def _subcommand_first(argv: list[str]) -> list[str]:
    """`dldbg --no-cache run FILE` is `dldbg run --no-cache FILE`: long options before the
    subcommand word go after it (unless a file of that name exists: then it is the debugger's FILE)."""
    for i, word in enumerate(argv):
        if not word.startswith("--") or word == "--":
            if i and word in ("inspect", "run") and not os.path.exists(word):
                return [word, *argv[:i], *argv[i + 1:]]
            break
    return argv


def plain_inspect(argv: list[str]) -> SimpleNamespace | None:
    """What argparse makes of a plain `inspect FILE... [--json] [--limit NAME=VALUE]...`, without
    importing it (argparse with gettext and the locale module its translations read: about 4 ms,
    a fifth of `dldbg inspect`'s start-up).  None when argparse must decide: any other option or
    an abbreviated one, `-h`, `--`, a word or a `--limit` value starting with `-`, no FILE, or
    files that do not stand together (argparse gives `FILE...` the first run of words only, and
    the rest is an error); argparse's help and errors stay its own.  `tests/test_cli.py`
    compares it with argparse's parser over many argument lists."""
    if argv[:1] != ["inspect"]:
        return None
    files: list[str] = []
    limits: list[str] = []
    as_json = files_ended = False
    words = iter(argv[1:])
    for word in words:
        if not word.startswith("-"):
            if files_ended:
                return None
            files.append(word)
            continue
        files_ended = bool(files)
        if word == "--json":
            as_json = True
        elif word == "--limit":
            value = next(words, "-")
            if value.startswith("-"):
                return None
            limits.append(value)
        elif word.startswith("--limit="):
            limits.append(word[len("--limit="):])
        else:
            return None
    if not files:
        return None
    return SimpleNamespace(command="inspect", files=files, json=as_json, limits=limits)


def main(argv: list[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    argv = _subcommand_first(list(sys.argv[1:] if argv is None else argv))
    if argv and argv[0] not in SUBCOMMAND_WORDS and _debugger_argument(argv[0]):
        # `dldbg [--repl|--tui] [options] FILE [-- ARGS]`: the debugger (dldbg.launch)
        from .launch import debugger_main

        return debugger_main(argv, stdout=stdout, stderr=stderr)
    # `--trace` alone means every category; only `--trace=LIST` takes a value, so that
    # `--trace FILE` keeps FILE a positional argument.
    argv = ["--trace=all" if a == "--trace" else a for a in argv]
    # `dldbg run [OPTIONS] MAIN.wasm [OPTIONS] -- ARGS`: everything after `--` is the program's,
    # wherever the options stand.
    program_args: list[str] = []
    if argv[:1] == ["run"] and "--" in argv:
        cut = argv.index("--")
        argv, program_args = argv[:cut], argv[cut + 1:]
    args, parser = plain_inspect(argv), None
    if args is None:
        from . import cliargs

        parser = cliargs.build_parser(argv[0] if argv and argv[0] in SUBCOMMANDS else None)
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse exits on --help, --version and usage errors
            return int(exc.code or 0)
    args.program_args = program_args
    try:
        if args.command == "inspect":
            return _inspect(args, stdout)
        if args.command == "run":
            return _run(args, parser, stdout, stderr)
        if args.command == "check":
            return _check(args, stdout)
        parser.print_help(stdout)
        return 2
    except CallError as exc:
        print(f"dldbg: error: {printable(exc.one_line())}", file=stderr)
        for frame in exc.backtrace:
            print(f"    at {printable(frame)}", file=stderr)
        return 1
    except DldbgError as exc:
        if internal_cause(exc) is not None and os.environ.get("DLDBG_DEBUG"):
            raise internal_cause(exc) from exc
        print(f"dldbg: error: {printable(exc.one_line())}", file=stderr)
        return 1
    except KeyboardInterrupt:
        print("dldbg: interrupted", file=stderr)
        return 130
    except Exception as exc:  # a bug in dldbg: say so in one line; DLDBG_DEBUG=1 shows the traceback
        if os.environ.get("DLDBG_DEBUG"):
            raise
        print(f"dldbg: internal error: {type(exc).__name__}: {printable(str(exc))} (set DLDBG_DEBUG=1 for the traceback)", file=stderr)
        return 1


def _inspect(args, stdout: TextIO) -> int:
    from .report import inspect_module, render_text

    limits = resource_limits(args.limits)
    for index, path in enumerate(args.files):
        wasm = read_input(path, limits)
        if args.json:
            import json

            print(json.dumps(inspect_module(wasm)), file=stdout)
        else:
            if index:
                print(file=stdout)
            print(render_text(wasm), file=stdout)
    _spare_the_exit()
    return 0


def _spare_the_exit() -> None:
    """In the dldbg process, after a command that leaves no file to write (`inspect`, `check`):
    freeze what it made, since the process ends next and Python's finalization would walk it
    all with full collections, for memory the system frees anyway: 2 ms of `dldbg inspect`
    (a tenth of it), 50 ms of a `dldbg check` of one wheel."""
    if _OWN_PROCESS:
        import gc

        gc.freeze()


def _check(args, stdout: TextIO) -> int:
    import json
    import tempfile
    import time

    from .check import Checker, render_text
    from .hosts.programs import ProgramOptions
    from .hosts.pyodide import PyodideHost, open_distribution, open_inputs
    from .linker.engine import Engine

    began = time.perf_counter()
    dist = open_distribution(args.pyodide)
    with tempfile.TemporaryDirectory(prefix="dldbg-check-") as workdir:
        inputs = open_inputs(args.files, dist, workdir)
        host = PyodideHost(dist, inputs, ProgramOptions(library_path=args.library_path))
        engine = Engine(host, **({"cache_dir": None} if args.no_cache else {}))
        from .progress import ProgressLine

        if ProgressLine.wanted(sys.stderr):  # Pyodide's main: seconds of compiling when not cached
            engine.listeners.append(ProgressLine(sys.stderr))
        host.load_main()
        reports = Checker(host, engine).check(inputs)
    if args.json:
        for report in reports:
            print(json.dumps(report.to_json(dist)), file=stdout)
    else:
        print(render_text(dist, reports, time.perf_counter() - began), file=stdout)
    _spare_the_exit()
    return 0 if reports and all(r.ok for r in reports) else 1


def _run(args, parser, stdout: TextIO, stderr: TextIO) -> int:
    """`dldbg run`, bounded by SIGINT and `--timeout`: either stops the running wasm (the
    engine rolls back a load it interrupts) and ends the run with one line and status 130 or
    124 (dldbg.session.interrupt.RunLimit)."""
    if args.trace == "help":
        from .trace import help_text

        print(help_text(), file=stdout)
        return 0
    if args.wheels and not (args.node and args.pyodide is not None):
        print(f"dldbg run: error: unrecognized arguments: {' '.join(args.wheels)} (several wheels: --node --pyodide)",
              file=stderr)
        return 2
    if not args.file and not (args.node and args.pyodide is not None):
        print("dldbg run: error: FILE is required", file=stderr)
        return 2
    started = _start_compile(args)  # before the imports and set-up that the compile can overlap
    from .session.interrupt import InterruptGuard, RunLimit

    engines: list = []
    limit = RunLimit(lambda: engines and engines[-1].interrupt(), args.timeout).start()
    guard = InterruptGuard(lambda: limit.fire("interrupted"))
    try:
        with guard.active():
            try:
                status = _run_engine(args, stdout, stderr, engines, started)
            except DldbgError:
                if limit.reason is None:
                    raise
                status = None
    finally:
        limit.close()
        guard.close()
    if limit.reason is not None:
        print(limit.message(), file=stderr)
        return limit.status
    return status


def _run_pyodide(args, stdout: TextIO, stderr: TextIO, engines: list, categories) -> int:
    """`dldbg run --pyodide VERSION|FOLDER FILE`: Pyodide's main, then FILE's libraries as its
    installer loads them (stopping at the first that fails: a one-line error, status 1)."""
    import tempfile

    from .hosts.programs import ProgramOptions
    from .hosts.pyodide import PyodideHost, open_distribution, open_inputs
    from .linker.engine import Engine
    from .trace import Tracer

    if args.invoke or args.program_args:
        print("dldbg run: error: --pyodide loads a wheel's libraries: no --invoke, no program arguments", file=stderr)
        return 2
    dist = open_distribution(args.pyodide)
    with tempfile.TemporaryDirectory(prefix="dldbg-run-") as workdir:
        inputs = open_inputs([args.file], dist, workdir)
        host = PyodideHost(dist, inputs, ProgramOptions(library_path=args.library_path))
        engine = Engine(host, **({"cache_dir": None} if args.no_cache else {}))
        engines.append(engine)
        if categories:
            engine.listeners.append(Tracer(stderr, categories))
        from .progress import ProgressLine

        if ProgressLine.wanted(stderr):  # the main's translation and compile when not cached: minutes
            engine.listeners.append(ProgressLine(stderr))
        host.run(engine, str(dist.main), [str(dist.main)])
        loaded = [m for m in engine.modules if m is not engine.main and m.state == "ready"]
        skipped = [lib.member for lib in inputs.libraries if not lib.pyodide_loads]
    print(f"{dist.label}: loaded {len(loaded)} libraries of {args.file} as loadDynlib does"
          + (f" (Pyodide's installer skips {', '.join(skipped)})" if skipped else ""), file=stdout)
    return 0


def _start_compile(args):
    """Begin compiling the program's main module (`dldbg run FILE`) on a worker thread as soon
    as it is parsed and its tier chosen, before the host, the engine and the session are
    imported and made: wasmtime compiles without the GIL, so that Python work (a tenth of a
    second or more) runs beside the compile instead of before it.  Only for a main whose host
    compiles the file's own bytes (the emscripten host; `--invoke`'s standalone host), not
    for one whose code is cached or that needs an exnref translation first.  Returns
    (ModuleFiles, tier, CompileCache) for `_run_engine`, or None; errors (a file that does not
    read or parse) are left to `_run_engine` to report."""
    if args.node or args.pyodide is not None or (args.invoke and args.program_args):
        return None
    import hashlib

    from .fetch import default_cache_dir
    from .hosts.programs import emscripten_main_style
    from .wasm.files import ModuleFiles

    try:
        limits = resource_limits(args.limits)
        folder = None if args.no_cache else default_cache_dir()
        files = ModuleFiles(limits, cache_dir=folder)
        data, wasm = files.get(args.file)
    except DldbgError:
        return None
    if not args.invoke and emscripten_main_style(wasm) != "3":
        return None  # another host, which may adapt the bytes before they compile (`Host.prepare`)
    import wasmtime

    from .linker.cache import CompileCache
    from .linker.tiers import make_config

    tier = _tier(args, wasm, data)
    config, settings = make_config(tier)
    cache = CompileCache(wasmtime.Engine(config), settings, folder, tier_up=tier == "winch")
    sha = wasm.sha256 or hashlib.sha256(data).hexdigest()
    if cache.eh_use(wasm, sha).encoding != "legacy":
        cache.start(data, sha)
    return files, tier, cache


def _run_engine(args, stdout: TextIO, stderr: TextIO, engines: list, started=None) -> int:
    """Load and run; each engine made is appended to `engines` (for the interrupt).  `started`:
    what `_start_compile` returned."""
    from .trace import Tracer, parse_categories

    categories = parse_categories(args.trace) if args.trace else None
    if args.node:
        return _run_node(args, stderr, engines, categories)
    if args.pyodide is not None:
        return _run_pyodide(args, stdout, stderr, engines, categories)

    from .hosts.programs import (
        NotAProgram,
        ProgramOptions,
        UnsupportedProgram,
        find_program_host,
        parse_dir,
        unrunnable_reason,
    )
    from .hosts.standalone import StandaloneHost
    from .linker.engine import Engine
    from .wasm.files import ModuleFiles

    from .linker.cache import default_cache_dir

    if started is not None:
        files, tier, engine_options = started[0], started[1], {"compile_cache": started[2]}
    else:
        # the host and the loader take the parse made here (kept in the cache folder for next time)
        files, tier, engine_options = ModuleFiles(resource_limits(args.limits), cache_dir=None if args.no_cache
                                                  else default_cache_dir()), None, {}
    limits = files.limits
    engine_options.update({"library_path": args.library_path, "bind_now": args.bind_now, "files": files,
                           "limits": limits})
    if args.no_cache:
        engine_options["cache_dir"] = None
    if args.program_args and args.invoke:
        print("dldbg run: error: program arguments after -- need a main program, not --invoke", file=stderr)
        return 2
    try:
        data, wasm = files.get(args.file)
    except WasmParseError as exc:
        raise DldbgError(f"{args.file}: read: {exc.message} at byte offset {exc.offset:#x}") from None
    engine_options["tier"] = tier or _tier(args, wasm, data)
    host_class = None if args.invoke else find_program_host(wasm, args.file)
    if host_class is None and not args.invoke:
        reason = unrunnable_reason(wasm, args.file)
        if reason is not None:
            raise UnsupportedProgram(reason)
        if wasm.dylink is None:
            raise NotAProgram(f"{args.file}: read: not a side module (no dylink.0 section) and no program host runs it")
        if args.program_args:
            raise NotAProgram(f"{args.file}: a side module, not a program: arguments after -- have no main to go to")
    if host_class is not None:
        options = ProgramOptions(
            dirs=[parse_dir(d) for d in args.dirs],
            env=dict(kv.partition("=")[::2] for kv in args.env),
            preload=args.preload,
            library_path=args.library_path,
        )
        engine = Engine(host_class(options), **engine_options)
    else:
        engine = Engine(StandaloneHost(), **engine_options)
    engines.append(engine)
    # the compiles start now, on worker threads, while the host sets up and the program runs:
    # the main's, and those of the libraries the program's last run loaded
    from .linker.tiers import last_run_modules

    engine.precompile(args.file)
    for library in last_run_modules(engine.cache.folder, args.file):
        engine.precompile(library)
    if categories:
        engine.listeners.append(Tracer(stderr, categories))
    from .progress import ProgressLine

    if ProgressLine.wanted(stderr):
        engine.listeners.append(ProgressLine(stderr))
    file_shas: dict[str, str] = {}  # path -> sha256 of the file, for the run's record
    engine.listeners.append(
        lambda e: file_shas.__setitem__(os.path.abspath(e.path), e.sha256) if e.kind == "module.read" else None)
    if _OWN_PROCESS:
        # what start-up made (modules, the parsed main, the host's tables) stays: the
        # collector's full passes need not walk it again while the program runs
        import gc

        gc.freeze()
        # and so does what each library the program loads makes (its parse, symbols, GOT
        # entries): in a load of 90,000 GOT.mem imports a collection of the older generation
        # walked the earlier libraries' objects again, a quarter of the load's CPU time
        engine.listeners.append(lambda e: gc.freeze() if e.kind == "load.done" else None)
        # and the loader's paused stages freeze what they made as they end, before a young
        # collection walks it (dldbg.nogc)
        from . import nogc

        nogc.freeze_at_resume = True
    try:
        status = _run_loaded(engine, host_class, args, stdout)
        from .linker.tiers import record_run

        # what this run loaded, for the next run's tier (a failed load keeps the last record)
        record_run(engine.cache.folder, args.file, [(m.path, file_shas[m.path], m.sha256)
                                                    for m in engine.modules if m.path in file_shas])
        return status
    finally:
        engine.cache.wait()  # the compiles' code written, and queued for the tier-up
        if engine.tier == "winch":
            from .linker.tiers import spawn_tier_up

            spawn_tier_up(engine.cache.folder)


def _run_node(args, stderr: TextIO, engines: list, categories) -> int:
    """`dldbg run --node MAIN.js -- ARGS`: the program under node with emscripten's own loader
    (dldbg.linker.node); its output is node's, the trace goes to stderr.  `dldbg run --node
    --pyodide VERSION|FOLDER [WHEEL...] -- PYTHON_ARGS`: Python in Pyodide (its exit status)."""
    from .linker.cache import default_cache_dir
    from .linker.node.engine import NodeEngine
    from .trace import Tracer

    unused = [name for name, value in (("--invoke", args.invoke), ("--dir", args.dirs), ("--env", args.env),
                                       ("--preload", args.preload), ("-L", args.library_path),
                                       ("--bind-now", args.bind_now)) if value]
    if unused:
        print(f"dldbg run: error: {', '.join(unused)}: not available with --node (the program's own glue loads and "
              f"runs it under node; docs/node.md)", file=stderr)
        return 2
    try:
        limits = resource_limits(args.limits)
    except DldbgError as exc:
        print(f"dldbg run: error: {exc}", file=stderr)
        return 2
    cache_dir = None if args.no_cache else default_cache_dir()
    if args.pyodide is not None:  # Python in real Pyodide under node, the wheels installed first
        from .hosts.pyodide import open_distribution
        from .linker.node.pyodide import PyodideNodeEngine

        engine = PyodideNodeEngine(open_distribution(args.pyodide), [args.file, *args.wheels] if args.file else [],
                                   cache_dir=cache_dir, limits=limits)
        args.file = engine.glue
    else:
        engine = NodeEngine(args.file, cache_dir=cache_dir, limits=limits)
    engines.append(engine)
    if categories:
        engine.listeners.append(Tracer(stderr, categories))
    return engine.run_program(args.file, [args.file, *args.program_args])


def _run_loaded(engine, host_class, args, stdout: TextIO) -> int:
    if host_class is not None:
        return engine.host.run(engine, args.file, [args.file, *args.program_args])
    modules = engine.load_startup([*args.preload, args.file])
    if not args.invoke:
        return 0
    target, call_args = args.invoke[0], args.invoke[1:]
    if target in modules[-1].exports:
        target = f"{modules[-1].name}!{target}"
    result = engine.call(target, call_args)
    _print_result(result, stdout)
    return 0


def _tier(args, wasm, data: bytes) -> str:
    """The compiler tier for `dldbg run` (see dldbg.linker.tiers)."""
    if args.tier != "auto":
        return args.tier
    from .linker.cache import CompileCache, default_cache_dir
    from .linker.tiers import choose_tier, make_config

    cache = None if args.no_cache else CompileCache(None, make_config("cranelift")[1], default_cache_dir())
    return choose_tier("auto", wasm, data, cache, args.file)


def _print_result(result, stdout: TextIO) -> None:
    if result is None:
        return
    values = result if isinstance(result, (list, tuple)) else [result]
    print(" ".join(repr(v) if isinstance(v, float) else str(v) for v in values), file=stdout)


#: set by `entry`: this process is dldbg's, and so are the garbage collector's settings
_OWN_PROCESS = False
#: the collector's youngest-generation threshold in the dldbg process (Python's is 700): start-up
#: and a load make objects by the hundred thousand, nearly all kept, and at 700 the collector
#: ran 170 times in a run of the SQLite workload (benchmarks/workload.py), 7% of its CPU time
GC_YOUNG_THRESHOLD = 10_000


def entry() -> None:
    """The `dldbg` executable.  A closed pipe (`dldbg inspect --json F | head -c 300`) ends dldbg
    as it ends cat or grep: SIGPIPE's default action, no message, status 141 in the shell
    (Python ignores SIGPIPE and raises BrokenPipeError instead)."""
    import _signal  # `signal` is this plus enums built at import time: a millisecond of start-up
    import gc

    global _OWN_PROCESS
    _OWN_PROCESS = True
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    if hasattr(_signal, "SIGPIPE"):
        _signal.signal(_signal.SIGPIPE, _signal.SIG_DFL)
    raise SystemExit(main())


if __name__ == "__main__":
    entry()
