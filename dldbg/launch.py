"""`dldbg [--repl|--tui] [options] [FILE] [-- ARGS]`: the debugger's command line, and the
launcher that builds the session (its command registry, its plugins, its printer) and hands it
to a front end: the TUI on a terminal, the REPL with --repl, else the batch runner.

`-x FILE` (a command file) and `-ex CMD` run in command-line order, before the prompt; while the
engine is stopped they are what it reads, so a command file can stop inside a load, inspect and
continue.  `--batch` exits after them (status 1 if any command failed).  Without a terminal
(stdin not a tty) dldbg never prompts: it runs the commands, then (without --batch) the command
lines stdin gives, as gdb does, and exits at its end.  `~/.dldbginit` runs first, and
`./.dldbginit` where `set auto-load safe-path` allows it (`--nx`: neither; see
dldbg.session.initfile).  `--json` writes one JSON object per line for every command result,
stop and event.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import TextIO

from .cliargs import HelpFormatter, positive_seconds

EPILOG = """Examples:
  dldbg samples/out/clang16/missing_symbol/libmissing_data.so
  dldbg -ex 'catch load' -ex 'dlopen libmissing_data.so' -ex 'info got' -ex continue -ex why --batch FILE
  dldbg --batch --json -ex 'dlopen libreloc.so' -ex 'call get_ctor_state' samples/out/clang16/reloc/libreloc.so
  dldbg -x session.dldbg --batch FILE
  dldbg --plugin myplugin.py FILE
  dldbg MAIN.wasm -- input.txt
  dldbg --pyodide 314.0.7 pkg-1.0-cp314-cp314-pyemscripten_2026_0_wasm32.whl
  dldbg --node --pyodide 314.0.7 pkg.whl -- -c 'import pkg'
"""


class _Ordered(argparse.Action):
    """-x and -ex append (kind, value) to one list, keeping command-line order."""

    def __call__(self, parser, namespace, values, option_string=None):
        items = list(getattr(namespace, self.dest, None) or [])
        items.append((self.const, values))
        setattr(namespace, self.dest, items)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dldbg", usage="dldbg [--repl|--tui] [options] [FILE] [-- ARGS]  |  dldbg {inspect,run} ...",
        description="Debug the dynamic linking of FILE (a side module, or a program a host runs): stop at any "
                    "linker stage, inspect and change memory, the table, the GOT and symbols, call functions. "
                    "`dldbg inspect` and `dldbg run` are the non-interactive tools.",
        epilog=EPILOG, formatter_class=HelpFormatter, allow_abbrev=False)
    p.add_argument("--help-debugger", action="help", help="show this help (also -h after any debugger option)")
    p.add_argument("file", nargs="?", metavar="FILE", help="side module or program")
    p.add_argument("wheels", nargs="*", help=argparse.SUPPRESS)  # --node --pyodide VERSION WHEEL...
    ui = p.add_mutually_exclusive_group()
    ui.add_argument("--repl", action="store_true", help="the prompt_toolkit REPL")
    ui.add_argument("--tui", action="store_true", help="the full-screen TUI (the default on a terminal)")
    p.add_argument("-x", dest="script", action=_Ordered, const="file", metavar="FILE",
                   help="run the commands of FILE (repeatable; - is stdin)")
    p.add_argument("-ex", dest="script", action=_Ordered, const="command", metavar="CMD",
                   help="run CMD (repeatable; -x and -ex run in command-line order)")
    p.add_argument("--batch", action="store_true", help="exit after the commands; status 1 if any failed")
    p.add_argument("--json", action="store_true", help="one JSON object per line for every result, stop and event")
    p.add_argument("--echo", action="store_true", help="print each command of -x/-ex before its output")
    p.add_argument("--plugin", action="append", default=[], metavar="FILE.py", help="load a plugin file (repeatable)")
    p.add_argument("--trace", nargs="?", const="all", metavar="CATEGORIES",
                   help="LD_DEBUG-style lines for these categories (as `trace CATEGORIES`)")
    p.add_argument("--preload", action="append", default=[], metavar="LIB", help="load LIB before FILE at `run`")
    p.add_argument("-L", dest="library_path", action="append", default=[], metavar="DIR",
                   help="search DIR for NEEDED and dlopen'd libraries (repeatable)")
    p.add_argument("--dir", dest="dirs", action="append", default=[], metavar="HOST[::GUEST]",
                   help="make a host folder visible to a main program (repeatable)")
    p.add_argument("--env", action="append", default=[], metavar="K=V", help="set a main program's environment variable")
    p.add_argument("--node", action="store_true",
                   help="FILE is an emscripten program's JavaScript glue (MAIN.js): run it under node with "
                        "emscripten's own loader, hooked; with --pyodide: real Pyodide under node, the wheels "
                        "FILE... installed, `run` runs Python with the arguments after -- (docs/node.md)")
    p.add_argument("--bind-now", action="store_true", help="resolve every function import at load time")
    p.add_argument("--no-cache", action="store_true", help="do not use the compiled-module cache")
    p.add_argument("-nx", "--nx", "-n", dest="nx", action="store_true",
                   help="do not run ~/.dldbginit or ./.dldbginit (gdb's -nx)")
    p.add_argument("--timeout", type=positive_seconds, metavar="SECONDS",
                   help="batch mode: stop after SECONDS (exit status 124); Ctrl-C stops the run at once (130)")
    p.add_argument("--pyodide", metavar="VERSION|FOLDER",
                   help="FILE is a wheel, an unpacked folder or a .so for Pyodide: `run` loads Pyodide's main "
                        "(an npm version, fetched once, or a distribution folder), then FILE's libraries as "
                        "Pyodide's loadDynlib does")
    p.add_argument("--limit", dest="limits", action="append", default=[], metavar="NAME=VALUE",
                   help="raise a resource limit (see `dldbg run --help`, docs/hardening.md)")
    return p


def debugger_main(argv: list[str], *, stdout: TextIO | None = None, stderr: TextIO | None = None,
                  stdin: TextIO | None = None) -> int:
    """Run the debugger; returns the exit status (0, 1 a command failed in batch mode, 2 usage)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    stdin = stdin or sys.stdin
    program_args: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, program_args = argv[:at], argv[at + 1 :]
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, usage errors
        return int(exc.code or 0)
    interactive = not args.batch and _isatty(stdin) and _isatty(stdout)
    # the TUI (dldbg.tui) on a terminal unless --repl; without a terminal, never (as the REPL)
    use_tui = interactive and not args.repl
    if args.tui and not interactive and not args.batch:
        print("dldbg: --tui needs a terminal (stdin and stdout); running the commands without it", file=stderr)

    from .commands import builtin_registry
    from .plugins import PluginLoadError, make_plugin_manager
    from .session.output import JsonPrinter, TextPrinter
    from .session.initfile import run_init_files, stdin_reader
    from .session.session import Session
    from .session.tokens import quote

    printer = (JsonPrinter if args.json else TextPrinter)(stdout, stderr)
    try:
        plugins = make_plugin_manager(args.plugin, warn=printer.warning)
    except PluginLoadError as exc:
        print(f"dldbg: error: plugin {exc}", file=stderr)
        return 1
    from .hosts.programs import parse_dir

    options = {"cache_dir": None} if args.no_cache else {}
    from .errors import DldbgError
    from .limits import default_limits

    try:
        options["limits"] = default_limits().with_overrides(args.limits)
    except DldbgError as exc:
        print(f"dldbg: error: {exc}", file=stderr)
        return 2
    node_pyodide = args.node and args.pyodide is not None
    if args.wheels and not node_pyodide:
        print(f"dldbg: error: unrecognized arguments: {' '.join(args.wheels)} (several wheels: --node --pyodide)",
              file=stderr)
        return 2
    program = args.file
    if args.node:
        if not args.file and not node_pyodide:
            print("dldbg: error: --node needs the program's glue (MAIN.js)", file=stderr)
            return 2
        unused = [name for name, value in (("--dir", args.dirs), ("--env", args.env), ("--preload", args.preload),
                                           ("-L", args.library_path), ("--bind-now", args.bind_now)) if value]
        if unused:
            print(f"dldbg: error: {', '.join(unused)}: not available with --node (the program's own glue loads and "
                  f"runs it under node; docs/node.md)", file=stderr)
            return 2
        if node_pyodide:  # Python in real Pyodide under node; the session's program is Pyodide's glue
            from .hosts.pyodide import open_distribution
            from .linker.node.pyodide import pyodide_engine_factory

            wheels = [args.file, *args.wheels] if args.file else []
            try:
                dist = open_distribution(args.pyodide)
                missing = next((w for w in wheels if not os.path.isfile(w)), None)
                if missing is not None:
                    raise DldbgError(f"{missing}: no such wheel file")
            except DldbgError as exc:
                print(f"dldbg: error: {exc.one_line()}", file=stderr)
                return 1
            program = str(dist.glue)
            options["engine_factory"] = pyodide_engine_factory(dist, wheels, no_cache=args.no_cache)
        else:
            from .linker.node import node_engine_factory

            options["engine_factory"] = node_engine_factory(no_cache=args.no_cache)
    workdir = None
    if args.pyodide is not None and not args.node:
        import tempfile

        from .errors import DldbgError
        from .hosts.pyodide import open_distribution, open_inputs, program_host

        workdir = tempfile.TemporaryDirectory(prefix="dldbg-pyodide-")
        try:
            dist = open_distribution(args.pyodide)
            inputs = open_inputs([args.file] if args.file else [], dist, workdir.name)
        except DldbgError as exc:
            workdir.cleanup()
            print(f"dldbg: error: {exc.one_line()}", file=stderr)
            return 1
        options["program_host"] = program_host(dist, inputs)
    session = Session(program, registry=builtin_registry(), program_args=program_args,
                      library_path=args.library_path, preload=args.preload,
                      bind_now=args.bind_now, plugins=plugins, printer=printer,
                      program_dirs=[parse_dir(d) for d in args.dirs],
                      program_env=dict(kv.partition("=")[::2] for kv in args.env), **options)
    session.echo = args.echo
    if not use_tui:  # the TUI shows its own compile bar
        from .progress import ProgressLine

        if ProgressLine.wanted(stderr):
            session.add_engine_listener(ProgressLine(stderr))
    status = 0
    try:
        for message in session.startup_errors:
            printer.result(_startup_failure(args.file, message))
            session.failed_commands += 1
        if not args.nx:
            run_init_files(session)
        if args.trace:
            session.pending.append((f"trace {args.trace}", "--trace"))
        for kind, value in args.script or []:
            line = f"source {quote(value)}" if kind == "file" else value
            session.pending.append((line, "-x" if kind == "file" else "-ex"))
        if use_tui:
            from .tui import run_tui

            status = run_tui(session)
        elif interactive:
            from .repl.prompt import run_repl

            run_repl(session)
        else:
            if not args.batch and not _isatty(stdin):  # gdb reads commands from a pipe
                session.interactive = stdin_reader(stdin)
            status = _run_batch(session, args.timeout, stderr)
    except KeyboardInterrupt:
        print("dldbg: interrupted", file=stderr)
        status = 130
    finally:
        session.close()
        if workdir is not None:
            workdir.cleanup()
    return status


def _run_batch(session, timeout: float | None, stderr: TextIO) -> int:
    """The commands without a prompt.  SIGINT or `--timeout` stops the running wasm (a load
    it interrupts is rolled back), runs no further command, and ends the run with one line
    and status 130 or 124 (dldbg.session.interrupt.RunLimit)."""
    from .session.interrupt import RunLimit

    session.limit = RunLimit(lambda: session.engine.interrupt(), timeout).start()
    try:
        with session.interrupts_active():
            session.run_commands()
    finally:
        session.limit.close()
    if session.limit.reason is not None:
        print(session.limit.message(), file=stderr)
        return session.limit.status
    return 1 if session.failed_commands else 0


def _startup_failure(file, message):
    from .session.output import CommandResult

    return CommandResult(f"file {file}", False, error=message)


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
