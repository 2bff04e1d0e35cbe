"""The argparse parsers of `dldbg inspect|check|run` (dldbg.cli parses a plain `dldbg inspect
FILE...` without them: argparse, gettext and locale are a fifth of its start-up), and what the
debugger's parser (dldbg.launch) shares with them: the help formatter, `--timeout`'s type."""

from __future__ import annotations

import argparse
import os
import sys

from . import __version__
from .limits import ENV_VAR as LIMITS_ENV

EPILOG_INSPECT = """Examples:
  dldbg inspect libfoo.so
  dldbg inspect --json samples/out/clang16/reloc/*.so
"""

EPILOG_CHECK = """Examples:
  dldbg check --pyodide 314.0.7 librt-0.16.0-cp314-cp314-pyemscripten_2026_0_wasm32.whl
  dldbg check --pyodide path/to/pyodide-dist --json pkg/*.so
  dldbg check -L deps pkg.whl

Exit status: 0 when every library links and nothing is wrong, 1 otherwise.
"""

EPILOG_RUN = """Examples:
  dldbg run main.wasm -- arg1 arg2
  dldbg run --dir data::/data main.wasm -- /data/input.txt
  dldbg run libreloc.so --invoke get_answer
  dldbg run --preload libprovider.so -L deps libuser.so --invoke add 2 40
  dldbg run --trace=libs,got,reloc libreloc.so --invoke get_answer
  dldbg run --trace=help
  dldbg run --node --pyodide 314.0.7 pkg.whl -- -c 'import pkg'
"""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, the terminal's width found without `shutil`: argparse imports it
    (and through it zlib, bz2 and lzma) for every argument it adds, a few milliseconds of
    every `dldbg inspect`.  The width is shutil.get_terminal_size's: $COLUMNS, else the
    terminal's, else 80."""

    def __init__(self, prog, indent_increment=2, max_help_position=24, width=None):
        if width is None:
            width = _columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _columns() -> int:
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of `dldbg inspect|check|run ...`; with `command`, one that knows that
    subcommand only, which parses an argument list that starts with it as the full one does
    (argparse hands every argument after the word to the subcommand's parser) and costs
    `dldbg inspect` a millisecond less of start-up."""
    parser = argparse.ArgumentParser(
        prog="dldbg",
        description="A debugger for WebAssembly dynamic linking (the dylink.0 ABI).\n\n"
                    "The debugger: dldbg [--repl|--tui] [-x FILE] [-ex CMD] [--batch] [--json] FILE [-- ARGS]\n"
                    "(`dldbg --help-debugger` lists its options).",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("-V", "--version", action="version", version=f"dldbg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, add in (("inspect", _add_inspect), ("check", _add_check), ("run", _add_run)):
        if command in (None, name):
            add(sub)
    return parser


def _add_inspect(sub) -> None:
    p = sub.add_parser("inspect", help="show a module's dylink.0 metadata, imports and exports",
                       epilog=EPILOG_INSPECT, formatter_class=HelpFormatter)
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per file, one per line")
    _limit_option(p)


def _add_check(sub) -> None:
    p = sub.add_parser("check", help="will these wheels' libraries load in Pyodide? link them into its main and report every problem",
                       description="Link every extension module and shared library of the inputs (a .whl, an unpacked "
                       "folder or .so files) into Pyodide's main module, as Pyodide's loadDynlib does, and report every "
                       "undefined symbol, signature mismatch, missing NEEDED library (with the distribution package "
                       "that provides it), Python or platform tag mismatch, non-wasm file and exception-handling "
                       "encoding that differs from the main's.",
                       epilog=EPILOG_CHECK, formatter_class=HelpFormatter)
    p.add_argument("files", nargs="+", metavar="WHEEL_OR_SO")
    p.add_argument("--pyodide", metavar="VERSION|FOLDER", default=None,
                   help="the Pyodide to check against: an npm version, fetched once (default 314.0.7), or a "
                        "distribution folder (pyodide.asm.wasm and pyodide-lock.json)")
    p.add_argument("--json", action="store_true", help="one JSON object per library, one per line")
    p.add_argument("-L", dest="library_path", action="append", default=[], metavar="DIR",
                   help="search DIR for NEEDED libraries (repeatable)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the compiled-module cache")


def _add_run(sub) -> None:
    p = sub.add_parser("run", help="run a main program, or load side modules in the standalone host and call a function",
                       usage="dldbg run [OPTIONS] FILE [--invoke FUNC [ARGS...]] [-- PROGRAM_ARGS...]",
                       description="FILE is a main program (emscripten, WASI or CoWasm; its arguments "
                       "follow --) or a side module, loaded in the standalone host after the --preload "
                       "libraries, with their NEEDED libraries, as a program's start-up does; --invoke "
                       "FUNC then calls a function.",
                       epilog=EPILOG_RUN, formatter_class=HelpFormatter)
    p.add_argument("file", nargs="?", metavar="FILE")
    p.add_argument("wheels", nargs="*", help=argparse.SUPPRESS)  # --node --pyodide VERSION WHEEL...
    p.add_argument("--invoke", nargs="+", metavar=("FUNC", "ARGS"),
                   help="the function to call after loading, and its integer or float arguments")
    p.add_argument("--dir", dest="dirs", action="append", default=[], metavar="HOST[::GUEST]",
                   help="make a host folder visible to the program (repeatable)")
    p.add_argument("--env", action="append", default=[], metavar="K=V", help="set a program environment variable")
    p.add_argument("--preload", action="append", default=[], metavar="LIB", help="load LIB first (repeatable)")
    p.add_argument("-L", dest="library_path", action="append", default=[], metavar="DIR",
                   help="search DIR for NEEDED libraries (repeatable)")
    p.add_argument("--bind-now", action="store_true", help="resolve every function import at load time")
    p.add_argument("--node", action="store_true",
                   help="FILE is an emscripten program's JavaScript glue (MAIN.js): run it under node with "
                        "emscripten's own loader, hooked; with --pyodide: real Pyodide under node, the wheels "
                        "FILE... installed, Python running the arguments after -- (docs/node.md)")
    p.add_argument("--trace", metavar="CATEGORIES", nargs="?", const="all",
                   help="print an LD_DEBUG-style line per linker event to stderr (--trace=help lists categories)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the compiled-module cache")
    p.add_argument("--tier", choices=("auto", "cranelift", "winch"), default="auto",
                   help="the compiler: auto (default) starts a program without cached code on Winch, wasmtime's "
                        "baseline compiler, and caches Cranelift code for the next run; cranelift or winch force one")
    p.add_argument("--timeout", type=positive_seconds, metavar="SECONDS",
                   help="stop the run after SECONDS (exit status 124); Ctrl-C stops it at once (130)")
    p.add_argument("--pyodide", metavar="VERSION|FOLDER",
                   help="FILE is a wheel, an unpacked folder or a .so for Pyodide: load Pyodide's main (an npm "
                        "version, fetched once, or a distribution folder), then FILE's libraries as Pyodide's "
                        "loadDynlib does")
    _limit_option(p)


def positive_seconds(text: str) -> float:
    """A `--timeout` value: a positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _limit_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", dest="limits", action="append", default=[], metavar="NAME=VALUE",
                   help="raise a resource limit (file_size, memory_size, memory_alignment, table_size, imports, "
                        f"exports; sizes take K/M/G; repeatable; also ${LIMITS_ENV}); see docs/hardening.md")
