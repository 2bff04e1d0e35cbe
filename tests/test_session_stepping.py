"""Breakpoints, filters and stepping on real loads.

The chain sample is a NEEDED chain libchain_a.so -> deps/libchain_b.so -> deps/libchain_c.so:
every dependency is loaded completely (to its load.done) inside the needed stage of the module
that needs it, so `next` from a's needed stage must step over b's and c's loads, and `finish`
inside c must stop at c's load.done.
"""

from __future__ import annotations

import pytest

from dldbg.session.errors import CommandError
from dldbg.session.filters import parse_filter
from sessionkit import Captured, sample


def stops(c) -> list[tuple[str, int, str, str, str]]:
    """(reason word, event index, kind, stage, module) of every stop printed so far."""
    out = []
    for line in c.out.getvalue().splitlines():
        if ", event #" in line and not line.startswith("["):
            head, rest = line.split(", event #", 1)
            index, kind, stage, module = rest.split()[:4]
            out.append((head.split()[0], int(index), kind, stage.strip("()"), module))
    return out


@pytest.fixture
def chain():
    return Captured(sample("clang16", "chain", "libchain_a.so"))


def test_next_steps_over_needed_loads_and_finish_ends_the_load(chain):
    chain.run("catch load libchain_a", "dlopen libchain_a.so", "next", "next", "finish", "continue")
    got = stops(chain)
    assert [s[0] for s in got] == ["Breakpoint", "Next", "Next", "Finish"]
    assert got[0][2:] == ("load.start", "read", "libchain_a.so")
    assert got[1][2:] == ("needed.resolved", "needed", "libchain_a.so")
    # the second `next` skipped b's and c's complete loads and stopped at a's next stage
    assert got[2][3:] == ("memory", "libchain_a.so")
    skipped = [chain.session.log[i].event for i in range(got[1][1] + 1, got[2][1])]
    assert [(e.kind, e.module) for e in skipped if e.kind == "load.done"] == [
        ("load.done", "libchain_c.so"), ("load.done", "libchain_b.so")]
    assert got[3][2:] == ("load.done", "done", "libchain_a.so")


def test_breakpoint_wins_over_next_and_finish_returns_from_a_nested_load(chain):
    chain.run("catch load libchain_a", "break needed.resolved module=libchain_c.so",
              "catch load libchain_c", "dlopen libchain_a.so", "next", "next", "finish", "where", "continue")
    got = stops(chain)
    assert [(s[0], s[2], s[4]) for s in got] == [
        ("Breakpoint", "load.start", "libchain_a.so"),
        ("Next", "needed.resolved", "libchain_a.so"),
        ("Breakpoint", "load.start", "libchain_c.so"),
        ("Finish", "load.done", "libchain_c.so"),
    ]
    assert "loads in progress (outermost first):\n  1. libchain_a.so\n  2. libchain_b.so" in chain.out.getvalue()


def test_step_counts_events(chain):
    chain.run("catch load libchain_a", "dlopen libchain_a.so", "step", "step 4", "continue")
    got = stops(chain)
    assert [s[1] for s in got] == [got[0][1], got[0][1] + 1, got[0][1] + 5]


def test_temporary_ignore_and_disabled_breakpoints(chain):
    chain.run("tbreak load.done", "break load.start -i 1", "break load -d", "dlopen libchain_a.so",
              "continue", "continue", "continue")
    got = stops(chain)
    assert [(s[0], s[2], s[4]) for s in got] == [
        ("Breakpoint", "load.start", "libchain_b.so"),   # breakpoint 2 ignored a's load.start
        ("Breakpoint", "load.start", "libchain_c.so"),
        ("Breakpoint", "load.done", "libchain_c.so"),     # the temporary one, once
    ]
    listing = chain.ok("info breakpoints").text
    assert "1:" not in listing and "2: break load.start" in listing and "disabled" in listing
    bp2 = chain.session.breakpoints.get(2)
    assert bp2.hits == 3 and bp2.ignore == 0


def test_filters_match_fields_symbols_and_numbers():
    reloc = Captured(sample("clang16", "reloc", "libreloc.so"))
    reloc.ok("dlopen libreloc.so")
    events = [e.event for e in reloc.session.log.entries]
    publish = parse_filter(["symbols", "symbol=get_ctor_.*"])
    assert [e.module for e in events if publish.matches(e)] == ["libreloc.so"]
    dep = next(e for e in events if e.kind == "got.create" and e.symbol == "dep_data")
    by_value = parse_filter(["got.create", f"value={dep.value:#x}"])
    assert [e.symbol for e in events if by_value.matches(e)] == ["dep_data"]
    assert parse_filter(["got"]).kinds == ("got.create", "got.update")
    assert set(parse_filter(["libs"]).kinds) >= {"load.start", "load.done", "module.read"}
    assert parse_filter(["import.*", "how=host"]).matches(
        next(e for e in events if e.kind == "import.resolve" and e.how == "host"))
    selected = reloc.session.log.select(["-3"])
    assert [e.index for e in selected] == [len(events) - 3, len(events) - 2, len(events) - 1]
    assert [e.event.kind for e in reloc.session.log.select(["0-1"])] == ["load.start", "module.read"]


@pytest.mark.parametrize(("words", "message"), [
    (["gott"], "unknown event kind 'gott'"),
    (["got", "modul=x"], "no event of kind got has a field 'modul'"),
    (["got", "symbol=("], "bad regular expression"),
    (["got", "x"], "expected KEY=REGEX"),
])
def test_bad_filters_are_one_line_errors(words, message):
    with pytest.raises(CommandError, match=message.replace("(", r"\(")):
        parse_filter(words)


def test_stepping_commands_need_a_stop(chain):
    for line in ("step", "next", "finish", "continue", "abort"):
        result = chain.fails(line)
        assert "not stopped" in result.error


def test_abort_rolls_the_load_back(chain):
    chain.run("break memory.alloc module=libchain_b.so", "dlopen libchain_a.so", "abort")
    assert chain.session.engine.modules == []
    assert chain.session.engine.by_handle == {}
    fail = chain.session.log[-1].event
    assert fail.kind == "load.fail" and "aborted by the debugger" in fail.reason
    assert chain.session.last_failure.source == "load"
    chain.run("delete", "dlopen libchain_a.so", "call a_value")
    assert "a_value() = 100" in chain.out.getvalue()
