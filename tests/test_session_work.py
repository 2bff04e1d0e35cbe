"""What a debugger Session adds to one command (issue 13, a dlopen through a Session against
bare wasmtime-py): its SIGINT guard, the command's parse and its result line.  Work is
counted, not timed (timings are in benchmarks/per_load.py)."""

from __future__ import annotations

import argparse
import contextlib
import io
import threading
from pathlib import Path

import pytest

from dldbg.commands import builtin_registry
from dldbg.plugins import make_plugin_manager
from dldbg.session import Session, TextPrinter

RELOC_DEP = Path(__file__).resolve().parent.parent / "samples" / "out" / "clang16" / "reloc" / "libreloc_dep.so"


def _session(tmp_path) -> Session:
    return Session(None, registry=builtin_registry(), cache_dir=str(tmp_path),
                   printer=TextPrinter(io.StringIO(), io.StringIO()), plugins=make_plugin_manager(entry_points=False))


def test_a_command_makes_no_context_manager_generator_for_its_sigint_guard(tmp_path, monkeypatch):
    # `InterruptGuard.active` was a contextlib.contextmanager: a generator and a manager object
    # for every command
    made = []
    init = contextlib._GeneratorContextManager.__init__

    def counting(self, func, args, kwds):
        if func.__module__.startswith("dldbg.session"):
            made.append(func.__qualname__)
        init(self, func, args, kwds)

    monkeypatch.setattr(contextlib._GeneratorContextManager, "__init__", counting)
    session = _session(tmp_path)
    try:
        for line in ("info modules", f"dlopen {RELOC_DEP}", "call dep_square 7"):
            assert session.execute(line).ok, line
    finally:
        session.close()
    assert made == []


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals need the main thread")
def test_the_sigint_guard_still_nests_and_restores_the_handler(tmp_path):
    import signal

    session = _session(tmp_path)
    before = signal.getsignal(signal.SIGINT)
    try:
        with session.interrupts_active():
            inside = signal.getsignal(signal.SIGINT)
            assert inside is not before
            with session.interrupts_active():
                assert session.execute(f"dlopen {RELOC_DEP}").ok
                assert session.execute("call dep_square 3").data["result"] == 9  # the watcher started here
            assert signal.getsignal(signal.SIGINT) == inside
        assert signal.getsignal(signal.SIGINT) == before
        assert not session.interrupts._saved and not session.interrupts._watching
    finally:
        session.close()


def test_a_plain_dlopen_line_is_parsed_without_argparse_s_value_calls(monkeypatch):
    # a positional argument without a type or choices is the word itself: argparse's
    # `_get_values` (and its `_get_value`, `_registry_get`, `_check_value`) was called for each
    registry = builtin_registry()
    calls = []
    get_values = argparse.ArgumentParser._get_values
    monkeypatch.setattr(argparse.ArgumentParser, "_get_values",
                        lambda self, action, strings: calls.append(action.dest) or get_values(self, action, strings))
    for line, expected in ((f"dlopen {RELOC_DEP}", {"path": str(RELOC_DEP), "flags": None}),
                           ("dlopen libz.so now,global", {"path": "libz.so", "flags": "now,global"})):
        command, argv = registry.parse(line)
        assert vars(command.parse(list(argv))) == expected
    assert calls == []
    command, argv = registry.parse("step 3")  # a typed argument: argparse's conversion, as before
    assert vars(command.parse(list(argv))) == {"count": 3} and calls == ["count"]


class _Counted(list):
    """A list that counts how often it is looked through."""

    def __init__(self, items, seen):
        super().__init__(items)
        self.seen = seen

    def __iter__(self):
        self.seen.append(len(self))
        return super().__iter__()


def test_a_one_word_command_looks_through_no_name_of_several_words():
    registry = builtin_registry()
    seen: list[int] = []
    by_length = registry._split_names()
    for n in list(by_length):
        if n > 1:
            by_length[n] = _Counted(by_length[n], seen)
    assert registry.parse(f"dlopen {RELOC_DEP}")[0].name == "dlopen"
    assert registry.parse("x/4xw 0x10 8")[0].name == "x"
    assert seen == []
    assert registry.parse("i mod")[0].name == "info modules"  # names of several words: looked through
    assert seen


def test_a_dlopen_describes_its_flags_once(tmp_path, monkeypatch):
    from dldbg.commands import running

    described = []
    describe = running.describe_flags
    monkeypatch.setattr(running, "describe_flags", lambda mode: described.append(mode) or describe(mode))
    session = _session(tmp_path)
    try:
        result = session.execute(f"dlopen {RELOC_DEP}")
    finally:
        session.close()
    assert result.ok and result.data["flags"] == "RTLD_LAZY|RTLD_GLOBAL" and "RTLD_LAZY|RTLD_GLOBAL" in result.text
    assert len(described) == 1


def test_a_load_s_events_reach_plugins_without_the_generic_hook_call(tmp_path, monkeypatch):
    # `_hook` made a keyword dict, looked the hook up and built an argument list for every
    # implementation at every event; the calls are now made once per set of implementations
    calls = []
    hook = Session._hook
    monkeypatch.setattr(Session, "_hook", lambda self, name, **kw: calls.append(name) or hook(self, name, **kw))
    session = _session(tmp_path)
    try:
        session.execute("trace libs")
        assert session.execute(f"dlopen {RELOC_DEP}").ok
        made = session._event_calls
        assert session.execute("dlsym dep_square").ok
    finally:
        session.close()
    assert "dldbg_event" not in calls and "dldbg_command_result" in calls
    assert len(session.log) > 5 and session._event_calls is made  # made once for all the events
    assert "dldbg[libs]: libreloc_dep.so" in session.printer.err.getvalue()  # the bundled ldtrace still traces


def test_plugins_registered_later_and_with_fewer_arguments_get_every_event(tmp_path):
    from dldbg.plugins import hookimpl

    seen: dict[str, list] = {"both": [], "entry": [], "reversed": [], "broken": []}

    class Both:
        @hookimpl
        def dldbg_event(self, session, entry):
            seen["both"].append((session, entry.index))

    class EntryOnly:
        @hookimpl
        def dldbg_event(self, entry):
            seen["entry"].append(entry.index)

    class Reversed:
        @hookimpl
        def dldbg_event(self, entry, session):
            seen["reversed"].append((entry.index, session))

    class Broken:
        @hookimpl
        def dldbg_event(self, entry):
            seen["broken"].append(entry.index)
            raise RuntimeError("boom")

    session = _session(tmp_path)
    try:
        session.plugins.register(Both(), name="both")
        assert session.execute(f"dlopen {RELOC_DEP}").ok
        first = len(session.log)
        for plugin, name in ((EntryOnly(), "entry"), (Reversed(), "reversed"), (Broken(), "broken")):
            session.plugins.register(plugin, name=name)
        session.restart()
        assert session.execute(f"dlopen {RELOC_DEP}").ok
        session.plugins.unregister(name="both")
        session.restart()
        assert session.execute(f"dlopen {RELOC_DEP}").ok
    finally:
        session.close()
    everything = list(range(len(session.log)))
    assert [i for s, i in seen["both"]] == everything[: 2 * first] and all(s is session for s, _ in seen["both"])
    assert seen["entry"] == seen["broken"] == everything[first:]
    assert [i for i, s in seen["reversed"]] == everything[first:] and all(s is session for _, s in seen["reversed"])
    warnings = session.printer.err.getvalue()
    assert warnings.count("plugin broken failed in dldbg_event: RuntimeError: boom") == 1  # then counted
    assert f"plugin broken failed {2 * first} times in dldbg_event" in warnings


def test_the_depth_of_an_event_of_the_innermost_load_needs_no_search(tmp_path, monkeypatch):
    from dldbg.session.stepping import LoadStack

    searched = []
    depth_of = LoadStack.depth_of
    monkeypatch.setattr(LoadStack, "depth_of", lambda self, module: searched.append(module) or depth_of(self, module))
    session = _session(tmp_path)
    try:
        assert session.execute(f"dlopen {RELOC_DEP.parent / 'libreloc.so'}").ok  # NEEDED libreloc_dep.so
    finally:
        session.close()
    depths = {(e.event.module, e.depth) for e in session.log.entries}
    assert depths == {("libreloc.so", 1), ("libreloc_dep.so", 2)}
    assert searched == []


def test_a_plain_line_s_words_are_made_without_a_python_call_each(monkeypatch):
    # `Token(word)` ran Token.__new__ (a super() call and an instance attribute) for every word
    from dldbg.session import tokens

    made = []
    new = tokens.Token.__new__
    monkeypatch.setattr(tokens.Token, "__new__", lambda cls, text, quoted=False: made.append(text) or new(cls, text, quoted))
    words = tokens.tokenize(f"dlopen {RELOC_DEP} now")
    assert words == ["dlopen", str(RELOC_DEP), "now"] and made == []
    assert all(type(w) is tokens.Token and w.quoted is False and "quoted" not in vars(w) for w in words)
    quoted = tokens.tokenize("call f 'a b' 12")  # the scanner: quoted words remember it
    assert quoted == ["call", "f", "a b", "12"] and [w.quoted for w in quoted] == [False, False, True, False]
    assert made == ["call", "f", "a b", "12"]
