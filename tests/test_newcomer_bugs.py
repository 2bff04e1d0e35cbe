"""What a newcomer hit in the debugger (issue 11), each reproduced on the bundled samples.

The TUI's own bugs are in test_tui_keys.py (Pilot); these are the session's, the commands' and
the command line's.
"""

from __future__ import annotations

import io
import json

from catalogue import ROOT
from dldbg.cli import main
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


# -- bug 10: consistent output ----------------------------------------------------------------
def test_text_output_shows_paths_relative_to_the_current_folder(monkeypatch):
    monkeypatch.chdir(ROOT)
    c = Captured(sample("clang16", "reloc", "libreloc.so"))
    c.ok("dlopen libreloc.so")
    out = c.take_out()
    assert "(samples/out/clang16/reloc/libreloc.so)" in out and str(ROOT) not in out


def test_lookup_shows_got_values_as_addresses_and_slots():
    c = Captured(sample("clang16", "reloc", "libreloc.so"))
    c.ok("dlopen libreloc.so")
    data = c.session.engine.got.value("own_data")
    assert f"GOT.mem.own_data = {data:#x} (provider" in c.ok("lookup own_data").text
    slot = c.session.engine.got.value("own_fn")
    assert f"GOT.func.own_fn = slot {slot} (provider" in c.ok("lookup own_fn").text


def test_examine_count_is_one_unless_given():
    """gdb: the format letters carry over to the next `x`, the count does not."""
    c = Captured(sample("clang16", "nested_dlopen", "libneeds_helper.so"))
    c.ok("dlopen libhelper.so")
    c.ok("dlopen libneeds_helper.so")
    assert len(c.ok("x/3dw greeting").text.split("\t")) == 4
    shown = c.ok("x/s greeting").text.splitlines()
    assert len(shown) == 1 and shown[0].endswith('"hello"')
    assert len(c.ok("x/2xw greeting").text.split("\t")) == 3
    assert len(c.ok("x greeting").text.split("\t")) == 2  # x ADDR: the last format, one unit


def test_an_emscripten_dlopen_shows_the_programs_mode():
    """emscripten ignores RTLD_NOW (functions still bind lazily) but the load shows the mode
    the program gave: em_dlopen's main calls dlopen("libem_plugin.so", RTLD_NOW)."""
    c = Captured(sample("emcc", "em_dlopen", "main.wasm"))
    c.run("run")
    starts = [e.event for e in c.session.log.entries if e.event.kind == "load.start"
              and e.event.module == "libem_plugin.so"]
    assert starts and starts[0].flags == "RTLD_NOW|RTLD_LOCAL"


def test_options_before_the_run_subcommand():
    out, err = io.StringIO(), io.StringIO()
    status = main(["--no-cache", "run", sample("clang16", "reloc", "libreloc.so"), "--invoke", "get_ctor_state"],
                  stdout=out, stderr=err)
    assert (status, err.getvalue()) == (0, "") and out.getvalue().strip().isdigit()


# -- bug 11: plugins --------------------------------------------------------------------------
PLUGIN = '''
from dldbg.commands import parser
from dldbg.plugins import hookimpl


@hookimpl
def dldbg_register_commands(registry):
    @registry.command(parser("hello", "Say hello.", ["hello"]), category="session")
    def hello(session):
        return "hello from a plugin"


@hookimpl
def dldbg_event(session, entry):
    raise ValueError("boom")
'''


def test_a_plugin_command_returning_a_string_prints_it_and_a_failing_hook_warns_once(tmp_path):
    (tmp_path / "strplugin.py").write_text(PLUGIN)
    program = sample("clang16", "reloc", "libreloc.so")
    out, err = io.StringIO(), io.StringIO()
    status = main(["--batch", "--plugin", str(tmp_path / "strplugin.py"), "-ex", "hello", "-ex", "dlopen libreloc.so",
                   program], stdout=out, stderr=err)
    assert status == 0 and out.getvalue().startswith("hello from a plugin\n")
    warnings = [line for line in err.getvalue().splitlines() if "ValueError: boom" in line]
    assert len(warnings) == 2, warnings  # the first failure, and the count at the end
    assert "failed in dldbg_event" in warnings[0] and " times in dldbg_event" in warnings[1]
    out = io.StringIO()
    main(["--batch", "--json", "--plugin", str(tmp_path / "strplugin.py"), "-ex", "hello", program],
         stdout=out, stderr=io.StringIO())
    assert json.loads(out.getvalue().splitlines()[0])["result"] == "hello from a plugin"
