"""A command line whose words look like no option is parsed without argparse's machinery
(dldbg.commands.registry._plain_parse: argparse compiles a regular expression for each
command's first parse, a fifth of a millisecond of a session's first `dlopen`); argparse stays
the parser of record: every other line, and every error and help text, is argparse's.  These
tests hold the shortcut to argparse's results for every command, and count its use."""

from __future__ import annotations

import argparse
import io
import re

import pytest

from dldbg.commands import builtin_registry
from dldbg.commands.registry import _plain_parse
from dldbg.plugins import make_plugin_manager
from dldbg.session import Session, TextPrinter
from dldbg.session.errors import CommandError, HelpShown
from dldbg.session.tokens import tokenize

#: word lists tried on every command beside its own examples
WORDS = ([], ["a"], ["a", "b"], ["a", "b", "c"], ["a", "b", "c", "d"], ["1"], ["1", "2"], ["7", "x"], ["0x10"],
         ["load"], ["got"], ["name=foo"], ["libfoo.so", "now"], ["libfoo.so", "RTLD_NOW|RTLD_LOCAL"], [""],
         ["-1"], ["-u"], ["--", "a"], ["-h"], ["a", "-t"])


def _registry():
    """The built-in commands and those of the bundled plugins."""
    session = Session(None, registry=builtin_registry(), cache_dir=None,
                      printer=TextPrinter(io.StringIO(), io.StringIO()), plugins=make_plugin_manager(entry_points=False))
    return session.registry


def _outcome(parse, argv):
    try:
        return "ok", vars(parse(list(argv)))
    except (CommandError, HelpShown) as exc:
        return type(exc).__name__, str(exc)


def _cases(registry):
    for name, command in sorted(registry.commands.items()):
        used = len(name.split())
        examples = [tokenize(example)[used:] for example in command.parser.examples
                    if tokenize(example)[:used] == name.split()]
        for argv in [*examples, *WORDS]:
            yield command, argv


def test_the_shortcut_gives_what_argparse_gives_for_every_command():
    shortcut = 0
    for command, argv in _cases(_registry()):
        fast = _plain_parse(command.parser, list(argv))
        reference = _outcome(command.parse_with_argparse, argv)
        if fast is not None:
            shortcut += 1
            assert reference == ("ok", vars(fast)), (command.name, argv)
            for key, value in vars(fast).items():  # the same objects: a Token stays a Token (quoted or not)
                assert type(value) is type(reference[1][key]), (command.name, argv, key)
        assert _outcome(command.parse, argv) == reference, (command.name, argv)
    assert shortcut > 100


@pytest.mark.parametrize("line", ["dlopen libfoo.so", "dlopen libz.so now,global", "call f 1 2", "info got",
                                  "x/4xw 0x10", "delete 1 2", "step 3"])
def test_a_plain_line_compiles_no_regular_expression(line, monkeypatch):
    registry = builtin_registry()
    command, argv = registry.parse(line)
    compiled = []
    compile_ = re.compile
    monkeypatch.setattr(re, "compile", lambda *a, **k: compiled.append(a[0]) or compile_(*a, **k))
    monkeypatch.setattr(argparse.ArgumentParser, "_parse_known_args",
                        lambda *a, **k: pytest.fail(f"argparse parsed {line!r}"))
    command.parse(list(argv))
    assert compiled == []


@pytest.mark.parametrize("line, error", [
    ("dlopen", "dlopen: the following arguments are required: path (usage: dlopen [-h] path [flags])"),
    ("dlopen a b c", "dlopen: unrecognized arguments: c (usage: dlopen [-h] path [flags])"),
    ("step x", "step: argument count: invalid int value: 'x' (usage: step [-h] [count])"),
])
def test_errors_stay_argparse_s(line, error):
    registry = builtin_registry()
    command, argv = registry.parse(line)
    with pytest.raises(CommandError) as raised:
        command.parse(list(argv))
    assert str(raised.value) == error


def test_a_line_without_quotes_escapes_or_comments_splits_as_the_scanner_splits_it():
    import random

    from dldbg.session.tokens import _scan

    rng = random.Random(13)
    alphabet = "ab/.-=|,0x1 \t\u00a0\u2003\x1c\n\r\u00e9"
    lines = ["dlopen libfoo.so", "  info   got  ", "", "x/4xw 0x10", *("".join(rng.choice(alphabet) for _ in range(
        rng.randrange(30))) for _ in range(2000))]
    for line in lines:
        fast, scanned = tokenize(line), _scan(line, False)
        assert fast == scanned and [w.quoted for w in fast] == [w.quoted for w in scanned], repr(line)
        assert all(type(w) is type(s) for w, s in zip(fast, scanned))


def test_a_session_s_registry_starts_with_its_name_index():
    """The index of command names is made once per process and grows with a plugin's
    commands: a session's first command does not make it again."""
    registry = _registry()
    assert "trace" in registry.commands  # a bundled plugin's command, added to the session's copy
    assert registry._names_key == registry._key()
    assert any(name == "trace" for _parts, name in registry._split_names()[1])


def test_names_typed_in_full_or_in_part_find_the_same_commands_as_before():
    """Whole names are looked up directly; prefixes, ambiguities and quoted words as before."""
    registry = builtin_registry()
    found = {line: registry.parse(line)[0].name for line in (
        "info modules", "i mod", "info got -u", "dlopen x", "r", "x/4xw 0x10", "set var x = 1", "info", "s")
        if _parses(registry, line)}
    assert found["info modules"] == found["i mod"] == "info modules"
    assert found["info got -u"] == "info got" and found["dlopen x"] == "dlopen" and found["r"] == "run"
    assert found["x/4xw 0x10"] == "x" and found["set var x = 1"] == "set var"
    for line, error in (("'info modules'", "unknown command 'info modules'"), ("info", "needs more words"),
                        ("nosuch", "unknown command 'nosuch'")):
        with pytest.raises(CommandError, match=re.escape(error)):
            registry.parse(line)


def _parses(registry, line):
    try:
        registry.parse(line)
        return True
    except CommandError:
        return False
