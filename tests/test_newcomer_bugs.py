"""What a newcomer hit in the debugger (issue 11), each reproduced on the bundled samples.

The TUI's own bugs are in test_tui_keys.py (Pilot); these are the session's, the commands' and
the command line's.
"""

from __future__ import annotations

from sessionkit import Captured, sample
from test_session_stepping import stops


def test_a_second_finish_ends_the_enclosing_load():
    """bug 4: stopped at a NEEDED library's load.done, `finish` goes on to the end of the load
    that needed it, not to the very next event."""
    c = Captured(sample("clang16", "chain", "libchain_a.so"))
    c.run("catch load libchain_c", "dlopen libchain_a.so", "finish", "finish", "finish", "continue")
    got = stops(c)
    assert [(s[0], s[2], s[4]) for s in got] == [
        ("Breakpoint", "load.start", "libchain_c.so"),
        ("Finish", "load.done", "libchain_c.so"),
        ("Finish", "load.done", "libchain_b.so"),
        ("Finish", "load.done", "libchain_a.so"),
    ]


def test_run_after_a_manual_dlopen_starts_afresh():
    """bug 3: `run` after `dlopen FILE` loads FILE again in a fresh engine: its events are
    logged, breakpoints stop, and its reference count is 1."""
    c = Captured(sample("clang16", "reloc", "libreloc.so"))
    c.ok("dlopen libreloc.so")
    before = len(c.session.log)
    c.run("catch load libreloc.so", "run", "continue")
    assert [s[0] for s in stops(c)] == ["Breakpoint"]
    assert len(c.session.log) > before
    mod = c.session.engine.module_named("libreloc.so")
    assert mod.refcount == 1
    assert "fresh engine" in c.out.getvalue() + c.err.getvalue()
