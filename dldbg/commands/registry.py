"""The command registry: every command declared once, with its argument parser.

A command is a function `func(session, **arguments) -> Reply | None` whose keyword parameters
are its parser's destinations, registered with `@registry.command(parser, category=...,
aliases=..., complete=...)`.  Help, the REPL's completion, the TUI's command bar, `-ex`, command
files, plugins and the generated command reference all read the same Registry.

Names may have several words (`info got`, `reloc diff`); each word may be abbreviated to a
unique prefix (`i mod` = `info modules`), as in gdb.  `x/16xb ADDR` is `x` with `/16xb` as its
first argument.
"""

from __future__ import annotations

import argparse
import inspect
import re
import textwrap
from dataclasses import dataclass, field
from typing import Callable

from ..session.errors import CommandError, HelpShown
from ..session.tokens import Token, tokenize

#: Help groups, in the order `help` lists them.
CATEGORIES = {
    "running": "Running: load libraries, look up symbols, call functions, start the program",
    "breakpoints": "Breakpoints: stop at linker events",
    "stepping": "Stepping: go on from a stop",
    "inspecting": "Inspecting: modules, symbols, the GOT, the table, the event log",
    "memory": "Memory: examine and change linear memory, the GOT and globals",
    "diagnosis": "Diagnosis: explain failures",
    "tracing": "Tracing: LD_DEBUG-style lines and trace files",
    "session": "Session: help, command files, plugins, quitting",
}

#: Completion kinds a command may ask for (see dldbg.repl.completion).
COMPLETION_KINDS = ("module", "symbol", "function", "path", "library", "filter", "command", "breakpoint", "handle",
                    "flags", "words")


HELP_WIDTH = 92


class HelpFormatter(argparse.HelpFormatter):
    """A fixed width (help reads the same everywhere, and the generated reference is stable);
    description paragraphs are wrapped, the Examples block is kept as written."""

    def __init__(self, prog: str):
        super().__init__(prog, width=HELP_WIDTH, max_help_position=30)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        out = []
        for para in text.split("\n\n"):
            lines = para.splitlines()
            if para.startswith("Examples:") or any(line.startswith("  ") for line in lines):
                out.append("\n".join(indent + line for line in lines))
            else:
                out.append(textwrap.fill(" ".join(para.split()), width, initial_indent=indent, subsequent_indent=indent))
        return "\n\n".join(out)


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser that raises instead of exiting or printing.

    Usage errors raise CommandError (one line: `NAME: message (usage: ...)`); `-h` raises
    HelpShown with the help text.
    """

    def __init__(self, name: str, description: str, examples: list[str], **kwargs):
        epilog = "Examples:\n" + "\n".join(f"  {e}" for e in examples)
        super().__init__(prog=name, description=description, epilog=epilog, add_help=True, allow_abbrev=False,
                         exit_on_error=False, formatter_class=HelpFormatter, **kwargs)
        self.examples = list(examples)

    def error(self, message: str):
        usage = " ".join(self.format_usage().split())
        raise CommandError(f"{self.prog}: {message} ({usage})")

    def exit(self, status=0, message=None):
        raise HelpShown(self.format_help())

    def print_help(self, file=None):
        raise HelpShown(self.format_help())

    def print_usage(self, file=None):
        raise HelpShown(self.format_usage())


def parser(name: str, description: str, examples: list[str]) -> CommandParser:
    """A command's parser; `description` (first line = the summary) and `examples` become its help."""
    return CommandParser(name, description, examples)


@dataclass
class Command:
    """A registered command.

    :ivar complete: completion kind per positional argument, in order (see COMPLETION_KINDS);
        the last one repeats for `nargs="*"` arguments.
    :ivar resumes: the command resumes a paused engine (step, next, finish, continue).
    :ivar repeatable: an empty line (REPL, TUI command bar) runs it again (gdb: most commands; not those that change
        the session's state once, such as run, dlopen, call, set, break).
    """

    name: str
    func: Callable
    parser: CommandParser
    category: str
    aliases: tuple[str, ...] = ()
    complete: tuple[str, ...] = ()
    resumes: bool = False
    repeatable: bool = True
    plugin: str | None = None
    _usage: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def summary(self) -> str:
        """The first sentence of the description."""
        text = " ".join((self.parser.description or "").split())
        m = re.match(r"^(.*?[.!?])(\s|$)", text)
        return m.group(1) if m else text

    @property
    def help(self) -> str:
        return self.parser.format_help()

    def run(self, session, argv: list[str]):
        """Parse `argv` and call the function.  Raises CommandError, HelpShown, DldbgError."""
        return self.func(session, **vars(self.parse(argv)))

    def parse(self, argv: list[str]) -> argparse.Namespace:
        """The arguments of `argv`.  Raises CommandError, HelpShown."""
        args = _plain_parse(self.parser, argv)
        return args if args is not None else self.parse_with_argparse(argv)

    def parse_with_argparse(self, argv: list[str]) -> argparse.Namespace:
        """`parse` by argparse itself, always.  Raises CommandError, HelpShown."""
        # options may stand between positionals (`catch load -t missing`), as gdb allows; a
        # parser with an argparse.REMAINDER argument (`call F ARGS...`) keeps them as they are,
        # and one without options (but -h) parses the same either way
        actions = self.parser._actions
        intermixed = (not any(a.nargs in (argparse.REMAINDER, argparse.PARSER) for a in actions)
                      and any(a.option_strings and not isinstance(a, argparse._HelpAction) for a in actions))
        saved = self.parser.usage
        if intermixed and saved is None:
            # parse_intermixed_args formats the usage line on every call (and with it looks up
            # gettext translations on disk) unless one is set: set the one it would make, once
            if self._usage is None:
                self._usage = self.parser.format_usage()[7:]
            self.parser.usage = self._usage
        try:
            args = self.parser.parse_intermixed_args(argv) if intermixed else self.parser.parse_args(argv)
        except argparse.ArgumentError as exc:  # exit_on_error=False raises these for some errors
            self.parser.error(str(exc))
        finally:
            self.parser.usage = saved
        return args


#: the most and the fewest words each kind of positional argument takes (argparse's nargs)
_NARGS = {None: (1, 1), argparse.OPTIONAL: (0, 1), argparse.ZERO_OR_MORE: (0, None),
          argparse.ONE_OR_MORE: (1, None), argparse.REMAINDER: (0, None)}
#: the kinds of positional argument whose value is one word (or the default, for `?`)
_ONE_WORD = (None, argparse.OPTIONAL)


def _plain_parse(cmd_parser: CommandParser, argv: list[str]) -> argparse.Namespace | None:
    """What argparse makes of `argv` when no word looks like an option (none starts with `-`),
    without argparse's machinery (its first parse compiles a regular expression per command,
    a fifth of a millisecond): each positional argument takes its words as argparse's greedy
    match gives them, values made and checked by argparse's own `_get_values` (a one-word
    argument without a type or choices is the word itself, as argparse makes it, without the
    calls), every option its default.  None when argparse must decide: a word starting with
    `-` (an option, `--`, a negative number, `-h`), too few or too many words, a value argparse
    refuses (its error message comes from argparse), a required option, or a positional
    argument that takes no word (whether argparse calls its action then differs between
    Python versions, except for `?` with no type).  `tests/test_commands_parse.py` compares it
    with argparse for every command."""
    if cmd_parser.fromfile_prefix_chars or cmd_parser._defaults \
            or any(word.startswith(tuple(cmd_parser.prefix_chars)) for word in argv):
        return None
    try:
        return _plain_namespace(cmd_parser, argv)
    except (argparse.ArgumentError, TypeError, ValueError):
        return None


def _plain_namespace(cmd_parser: CommandParser, argv: list[str]) -> argparse.Namespace | None:
    positionals, namespace = [], argparse.Namespace()
    for action in cmd_parser._actions:
        if action.option_strings:
            if action.required:
                return None
            if action.dest is not argparse.SUPPRESS and action.default is not argparse.SUPPRESS \
                    and not hasattr(namespace, action.dest):
                default = action.default
                if isinstance(default, str):  # argparse converts a string default of an option not given
                    default = cmd_parser._get_value(action, default)
                setattr(namespace, action.dest, default)
        elif type(action) is not argparse._StoreAction or action.nargs not in _NARGS:
            return None
        else:
            positionals.append(action)
    if any(group.required for group in cmd_parser._mutually_exclusive_groups):
        return None
    left = len(argv)
    least = [_NARGS[a.nargs][0] for a in positionals]
    if sum(least) > left:
        return None
    start = 0
    for i, action in enumerate(positionals):
        most = _NARGS[action.nargs][1]
        room = left - sum(least[i + 1:])  # greedy, leaving the later arguments their least
        count = room if most is None else min(most, room)
        if count == 0 and (action.nargs != argparse.OPTIONAL or action.type is not None):
            return None
        if action.type is None and action.choices is None and action.nargs in _ONE_WORD:
            # what argparse's `_get_values` gives, without its calls: the word itself (the
            # `type` argparse registers for None is its identity function), or the default
            # for `?` without a word; no choices to check
            value = argv[start] if count else action.default
        else:
            value = cmd_parser._get_values(action, list(argv[start:start + count]))
        setattr(namespace, action.dest, value)
        start, left = start + count, left - count
    return namespace if left == 0 else None


@dataclass
class Registry:
    """Commands by name, plus their aliases."""

    commands: dict[str, Command] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    _names_key: tuple | None = field(default=None, init=False, repr=False, compare=False)
    _names_by_length: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    #: the first words of the names of several words (kept with `_names_by_length`)
    _heads: set = field(default_factory=set, init=False, repr=False, compare=False)

    def copy(self) -> "Registry":
        """The same commands, in a registry of its own (its name index copied, not made again)."""
        other = Registry(dict(self.commands), dict(self.aliases))
        if self._names_key == self._key():
            other._names_by_length = {n: list(names) for n, names in self._names_by_length.items()}
            other._heads = set(self._heads)
            other._names_key = self._names_key
        return other

    def add(self, command: Command) -> Command:
        """Raises ValueError when the name or an alias is taken (a plugin cannot replace a command)."""
        for name in (command.name, *command.aliases):
            if name in self.commands or name in self.aliases:
                raise ValueError(f"command name {name!r} is already registered")
        if command.category not in CATEGORIES:
            raise ValueError(f"unknown command category {command.category!r} (known: {', '.join(CATEGORIES)})")
        for kind in command.complete:
            if kind not in COMPLETION_KINDS:
                raise ValueError(f"unknown completion kind {kind!r}")
        desc = command.parser.epilog or ""
        if not desc.startswith("Examples:"):
            raise ValueError(f"the help of {command.name!r} must end with Examples:")
        current = self._names_key is not None and self._names_key == self._key()
        self.commands[command.name] = command
        for alias in command.aliases:
            self.aliases[alias] = command.name
        if current:  # the name index grows with the registry (a plugin's commands) instead of being made again
            for name in (command.name, *command.aliases):
                self._index(name)
            self._names_key = self._key()
        return command

    def command(self, cmd_parser: CommandParser, *, category: str, aliases=(), complete=(), resumes: bool = False,
                repeatable: bool = True, plugin: str | None = None):
        """Decorator: register `func(session, **arguments)` under `cmd_parser.prog`."""

        def register(func: Callable) -> Callable:
            params = set(inspect.signature(func).parameters) - {"session"}
            dests = {a.dest for a in cmd_parser._actions if a.dest != "help"}
            if params != dests:
                raise ValueError(f"{cmd_parser.prog}: parameters {sorted(params)} differ from the parser's {sorted(dests)}")
            self.add(Command(cmd_parser.prog, func, cmd_parser, category, tuple(aliases), tuple(complete),
                             resumes, repeatable, plugin))
            return func

        return register

    # -- lookup -------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Every command name and alias."""
        return sorted([*self.commands, *self.aliases])

    def get(self, name: str) -> Command | None:
        """A command by its exact name or alias."""
        return self.commands.get(self.aliases.get(name, name))

    def by_category(self) -> dict[str, list[Command]]:
        out: dict[str, list[Command]] = {c: [] for c in CATEGORIES}
        for cmd in sorted(self.commands.values(), key=lambda c: c.name):
            out[cmd.category].append(cmd)
        return out

    def match(self, words: list[str]) -> tuple[Command, int]:
        """The command the first words name, and how many words its name took.

        Each word may be a unique prefix of the name's word at that position (`i mod` is
        `info modules`); the longest name that matches wins, then the one with the most words
        typed in full.  Raises CommandError (unknown, ambiguous, or a name that needs more words).
        """
        by_length = self._split_names()
        longest = max(by_length, default=0)
        if words and longest > 1 and not any(head.startswith(words[0]) for head in self._heads):
            longest = 1  # no name of several words begins with the first word: none to look through
        for n in range(min(len(words), longest), 0, -1):
            first = words[0]
            typed = first if n == 1 else " ".join(words[:n])
            if (typed in self.commands or typed in self.aliases) and len(typed.split()) == n:
                return self.get(typed), n  # a whole name: typed in full, it beats every name it begins
            found = [(parts, name) for parts, name in by_length.get(n, ())
                     if parts[0].startswith(first) and all(parts[i].startswith(words[i]) for i in range(1, n))]
            if not found:
                continue
            commands = {self.aliases.get(name, name) for _, name in found}
            if len(commands) == 1:
                return self.get(commands.pop()), n
            exact = max(sum(parts[i] == words[i] for i in range(n)) for parts, _ in found)
            best = {self.aliases.get(name, name) for parts, name in found
                    if sum(parts[i] == words[i] for i in range(n)) == exact}
            if len(best) == 1:
                return self.get(best.pop()), n
            raise CommandError(f"ambiguous command {' '.join(words[:n])!r}: {', '.join(sorted(best))}")
        if not words:
            raise CommandError("empty command")
        longer = sorted(name for names in by_length.values() for parts, name in names
                        if len(parts) > len(words) and all(parts[i].startswith(words[i]) for i in range(len(words))))
        if longer:
            raise CommandError(f"{' '.join(words)!r} needs more words: {', '.join(longer)}")
        raise CommandError(f"unknown command {words[0]!r} (try `help`)")

    def _key(self) -> tuple:
        return tuple(self.commands), tuple(self.aliases)

    def _split_names(self) -> dict[int, list[tuple[list[str], str]]]:
        """(words, name) of every command name and alias, by their number of words; kept while
        the commands and aliases stay the same (`add` extends it)."""
        key = self._key()
        if self._names_key != key:
            self._names_by_length, self._heads = {}, set()
            for name in (*self.commands, *self.aliases):
                self._index(name)
            self._names_key = key
        return self._names_by_length

    def _index(self, name: str) -> None:
        parts = name.split()
        self._names_by_length.setdefault(len(parts), []).append((parts, name))
        if len(parts) > 1:
            self._heads.add(parts[0])

    def split_format(self, words: list[Token]) -> list[Token]:
        """`x/16xb ...` -> `x`, `/16xb`, ...: a first word COMMAND/SUFFIX of a known command."""
        if words and not words[0].quoted and "/" in words[0]:
            head, _, fmt = words[0].partition("/")
            if head and self.get(head) is not None:
                return [Token(head), Token("/" + fmt), *words[1:]]
        return list(words)

    def parse(self, line: str) -> tuple[Command, list[Token]]:
        """The command and its arguments on `line`.  Raises CommandError."""
        words = self.split_format(tokenize(line))
        command, used = self.match(words)
        return command, words[used:]

    def repetition(self, line: str | None) -> str | None:
        """What an empty line runs after `line` (gdb: Enter repeats the last command): `line`
        again, `x` alone after an `x` (it goes on after what it showed), or None when nothing
        repeats (no line yet, a line that does not parse, a command not `repeatable`)."""
        if line is None:
            return None
        try:
            command, _args = self.parse(line)
        except CommandError:
            return None
        if not command.repeatable:
            return None
        return "x" if command.name == "x" else line
