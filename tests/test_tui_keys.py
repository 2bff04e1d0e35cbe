"""The TUI driven by keys (Textual's Pilot): a failing dlopen stepped to its failure with the keys
the footer shows, a failing dlopen typed in the command bar and fixed, breakpoints toggled on
the selected event's kind, goto in the memory view, completion, the timeline filter, and the
four kinds of program (a side module alone, a WASI PIE main that dlopens, an emscripten main
with side modules, a failing load)."""

from __future__ import annotations

import os

import pytest

from catalogue import ROOT
from tuikit import SIZE, new_app, output_text, press, relative_sample, screen_text, type_line
from dldbg.tui.widgets import CommandBar, EventTimeline, ModulesTree, StatusBar


@pytest.fixture(autouse=True)
def in_repository(monkeypatch):
    monkeypatch.chdir(ROOT)


def status(app) -> str:
    return str(app.query_one("#status-text").render())


def footer_keys(app) -> dict[str, str]:
    """key -> description of the bindings the footer shows."""
    return {b.binding.key_display or b.binding.key: b.binding.description
            for b in app.active_bindings.values() if b.binding.show}


async def step_until(app, pilot, predicate, key: str = "n", limit: int = 30) -> int:
    """Press `key` until `predicate()` holds; returns how many presses it took."""
    for count in range(1, limit + 1):
        await press(app, pilot, key)
        if predicate():
            return count
    raise AssertionError(f"not reached after {limit} presses of {key!r}:\n{screen_text(app)}")


async def test_a_failing_load_stepped_to_its_failure_by_the_footer_keys():
    """`dldbg libmissing_data.so`: a user who only knows the footer presses n (next) until the
    load fails, sees the unresolved GOT entry while it is stopped there, the failure, and the
    `why` diagnosis, which names the symbol and says nothing defines it."""
    app = new_app(relative_sample("clang16", "missing_symbol", "libmissing_data.so"))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        keys = footer_keys(app)
        for key in ("s", "n", "f", "c", "r", "b", "g", "w", ":", "q"):
            assert key in keys, keys
        assert keys["n"] == "Next" and keys["b"] == "Break on kind" and keys["g"] == "Goto"
        assert "NOT STARTED" in status(app)

        # n steps into `run`: the engine stops at the first event of the load
        await press(app, pilot, "n")
        assert "PAUSED" in status(app) and "event #0 load.start" in status(app)
        assert "(dldbg) tbreak *" in output_text(app) and "(dldbg) run" in output_text(app)

        # next, stage by stage, to the import nothing defines
        await step_until(app, pilot, lambda: "import.unresolved" in status(app))
        timeline = app.query_one(EventTimeline)
        assert timeline.current.event.kind == "import.unresolved"
        assert timeline.marked == timeline.current.index
        tree = app.query_one(ModulesTree)
        assert "▶ libmissing_data.so loading" in str(tree.root.children[0].label)

        # while stopped there, the GOT shows the entry unresolved
        await press(app, pilot, "3")
        got = app.page("got")
        row = next(r for r in got.rows_data if r["symbol"] == "missing_data")
        assert row["value"] == -1 and "UNRESOLVED" in row["flags"]
        assert "GOT.mem.missing_data" in screen_text(app)

        # on to the failure: the status says so, the tree marks the stage, `why` ran
        await step_until(app, pilot, lambda: "LOAD FAILED" in status(app))
        text = status(app)
        assert "undefined symbol 'missing_data'" in text
        label = str(tree.root.children[0].label)
        assert "✗ libmissing_data.so failed at imports" in label
        out = output_text(app)
        assert "error: " in out and "undefined symbol 'missing_data' (GOT.mem)" in out
        assert "(dldbg) why" in out
        assert "missing_data: wanted by libmissing_data.so as GOT.mem (not weak)" in out
        assert "no loaded module defines it" in out
        assert app.query_one(StatusBar).has_class("failed")

        # w asks again
        before = out.count("missing_data: wanted by")
        await press(app, pilot, "w")
        assert output_text(app).count("missing_data: wanted by") == before + 1

        # q ends the session
        await press(app, pilot, "q")
    assert app.bridge.ended.is_set()
    assert app.bridge.session.quitting


async def test_a_failing_dlopen_typed_in_the_command_bar_then_fixed():
    """`catch load` and `dlopen libneeds_helper.so` typed at the command bar stop the load; n
    steps it to its failure; `why` says to load libhelper.so first; doing so makes the dlopen
    work, and `call helper_value` returns 42."""
    app = new_app(relative_sample("clang16", "nested_dlopen", "libneeds_helper.so"))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        await press(app, pilot, "colon")
        assert app.focused is app.query_one(CommandBar).input
        await type_line(app, pilot, "catch load libneeds")
        await press(app, pilot, "colon")  # a finished command gave the focus back to the timeline
        await type_line(app, pilot, "dlopen libneeds_helper.so")
        assert "PAUSED" in status(app) and "load.start" in status(app)
        assert app.focused is app.query_one(EventTimeline)

        await step_until(app, pilot, lambda: "LOAD FAILED" in status(app))
        out = output_text(app)
        assert "undefined symbol 'helper_data'" in out
        assert "hint: load libhelper.so first" in out

        for line in ("delete", "dlopen libhelper.so", "dlopen libneeds_helper.so", "call helper_value"):
            await press(app, pilot, "colon")
            await type_line(app, pilot, line)
        out = output_text(app)
        assert "handle 2: libneeds_helper.so" in out
        assert "helper_value() = 42" in out
        assert "IDLE" in status(app)
        labels = [str(node.label) for node in app.query_one(ModulesTree).root.children]
        assert any(label.startswith("✓ libneeds_helper.so") for label in labels), labels
        assert any(label.startswith("✓ libhelper.so") for label in labels), labels


async def test_b_toggles_a_breakpoint_on_the_selected_events_kind():
    app = new_app(relative_sample("clang16", "reloc", "libreloc.so"))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        await press(app, pilot, "r")
        timeline = app.query_one(EventTimeline)
        await press(app, pilot, "home")
        while timeline.current.event.kind != "got.create":
            await press(app, pilot, "down")
        await press(app, pilot, "b", "6")
        bps = app.state.breakpoints
        assert [(b.number, b.pattern, b.plain) for b in bps] == [(1, "got.create", True)]
        assert "break got.create" in screen_text(app)
        # the timeline marks the events it stops at
        assert timeline.breakpoints == bps
        # running again stops at the first got.create
        await press(app, pilot, "r")
        assert app.state.pause is not None and app.state.pause.kind == "got.create"
        assert app.state.pause.breakpoint == 1
        await press(app, pilot, "c")
        assert app.state.pause is not None and app.state.pause.kind == "got.create"
        # b on a got.create event again deletes it; c runs to the end
        await press(app, pilot, "b")
        assert app.state.breakpoints == ()
        await press(app, pilot, "c")
        assert app.state.pause is None and "IDLE" in status(app)


async def test_inspector_pages_keep_their_place_and_symbols_are_searched_with_slash():
    """The number keys switch pages of the one inspector pane; each page keeps its cursor and
    scroll position; `/` on the symbols page asks for a regular expression and the page shows
    only matching definitions (as `info symbols REGEX` does); elsewhere `/` filters the timeline."""
    app = new_app(relative_sample("clang16", "reloc", "libreloc.so"))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        await press(app, pilot, "r", "1")
        inspector = app.query_one("#inspector")
        inspector.focus()
        memory = app.page("memory")
        await press(app, pilot, "pagedown", "pagedown", "right")
        where, top = memory.address, memory.top
        assert top > 0 and f"at {where:#x}" in screen_text(app)

        await press(app, pilot, "4")
        symbols = app.page("symbols")
        assert app.active_tab == "symbols" and "symbols matching '.'" in screen_text(app)
        everything = sum(1 for line in symbols.lines if line[0] == "row")
        assert everything > 2
        await press(app, pilot, "slash")
        await pilot.press(*"^apply_")
        await press(app, pilot, "enter")
        names = [line[2][0].plain for line in symbols.lines if line[0] == "row"]
        assert names and all(name.startswith("apply_") for name in names), names
        assert len(names) < everything
        assert "symbols matching '^apply_'" in screen_text(app)
        assert f"{names[0]}" in screen_text(app)

        # back on the memory page: the same byte selected, scrolled where it was
        await press(app, pilot, "1")
        assert (memory.address, memory.top) == (where, top)
        assert f"at {where:#x}" in screen_text(app)
        # a click at the bottom of the scroll bar (the last column) scrolls to the end of memory
        region = inspector.content_region
        await pilot.click("#inspector", offset=(region.width - 1, region.height - 1))
        await app.settled(pilot)
        assert memory.top == memory.rows - inspector.body_rows
        assert f"{(memory.rows - 1) * memory.per_row:#010x}" in screen_text(app)

        # on a page without a search, / filters the timeline
        await press(app, pilot, "2", "slash")
        assert app.focused is app.query_one("#timeline-filter")


async def test_goto_shows_an_address_expression_in_the_memory_view():
    app = new_app(relative_sample("clang16", "reloc", "libreloc.so"))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        await press(app, pilot, "r", "g")
        await pilot.press(*"own_data+4")
        await press(app, pilot, "enter")
        hexview = app.page("memory")
        module = next(m for m in app.state.modules if m.name == "libreloc.so")
        assert module.memory_base <= hexview.address - 4 < module.memory_base + module.memory_size
        assert hexview.chunks, "the visible bytes were read"
        assert app.active_tab == "memory"
        assert f"{hexview.address - hexview.address % hexview.per_row:#010x}" in screen_text(app)
        # a bad expression is reported, the view stays
        where = hexview.address
        await press(app, pilot, "g")
        await pilot.press(*"no_such_symbol")
        await press(app, pilot, "enter")
        assert hexview.address == where


async def test_the_command_bar_completes_as_the_repl_does():
    app = new_app(relative_sample("clang16", "reloc", "libreloc.so"))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        bar = app.query_one(CommandBar)
        await press(app, pilot, "colon", "i", "n", "f", "o", "space", "g", "tab")
        assert bar.input.value == "info got "
        bar.input.value = ""
        await press(app, pilot, "i", "n", "f", "o", "space", "tab")
        assert bar.has_class("show-completions")
        shown = str(bar.query_one("#completions").render())
        for word in ("got", "modules", "symbols", "imports", "exports"):
            assert word in shown
        # Tab again takes the candidates in turn
        await press(app, pilot, "tab")
        first = bar.input.value
        await press(app, pilot, "tab")
        assert bar.input.value != first and bar.input.value.startswith("info ")
        # symbols of loaded modules complete too
        bar.input.value = ""
        await press(app, pilot, "escape", "r", "colon")
        await pilot.press(*"call get_ctor_st")
        await press(app, pilot, "tab")
        assert bar.input.value == "call get_ctor_state "
        await press(app, pilot, "enter")
        assert "get_ctor_state() = " in output_text(app)


async def test_the_timeline_filter_takes_event_filters_and_text():
    app = new_app(relative_sample("clang16", "reloc", "libreloc.so"))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        await press(app, pilot, "r")
        timeline = app.query_one(EventTimeline)
        everything = timeline.count
        await press(app, pilot, "slash")
        await type_line(app, pilot, "got module=libreloc.so")
        kinds = {timeline.entry_at(i).event.kind for i in range(timeline.count)}
        modules = {timeline.entry_at(i).event.module for i in range(timeline.count)}
        assert kinds <= {"got.create", "got.update"} and modules == {"libreloc.so"}
        assert 0 < timeline.count < everything
        assert app.focused is timeline
        # plain text is searched in the trace lines
        await press(app, pilot, "slash")
        filter_input = app.query_one("#timeline-filter")
        filter_input.value = ""
        await app.settled(pilot)
        assert timeline.count == everything
        await type_line(app, pilot, "__wasm_call_ctors")
        assert timeline.count >= 2
        assert all(timeline.entry_at(i).event.kind == "ctor.call" for i in range(timeline.count))


async def test_selecting_a_module_shows_its_imports_and_exports():
    app = new_app(relative_sample("clang16", "reloc", "libreloc.so"))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        await press(app, pilot, "r")
        tree = app.query_one(ModulesTree)
        tree.focus()
        node = next(n for n in tree.root.children if str(n.label).startswith("✓ libreloc_dep.so"))
        tree.select_node(node)
        await app.settled(pilot)
        view = app.page("imports")
        assert view.module == "libreloc_dep.so"
        assert app.active_tab == "imports"
        assert "exports of libreloc_dep.so" in screen_text(app)


@pytest.mark.parametrize("case, modules, program_kind", [
    (("clang16", "reloc", "libreloc.so"), ["libreloc.so", "libreloc_dep.so"], "side module, standalone host"),
    (("clang16", "wasi_dlopen", "main_dlfcn.wasm"), ["main_dlfcn.wasm", "libneeded.so", "libplugin.so"],
     "WASI program"),
    (("zig", "wasi_dlopen", "main_dlfcn.wasm"), ["main_dlfcn.wasm", "libneeded.so", "libplugin.so"], "WASI program"),
    (("emcc", "em_loadtime", "main.wasm"), ["main.wasm", "libem_greet.so", "libem_util.so"], "emscripten program"),
    (("emcc", "em_dlopen", "main.wasm"), ["main.wasm", "libem_plugin.so", "libem_async.so"], "emscripten program"),
], ids=["side-module", "wasi-clang16", "wasi-zig", "emscripten-loadtime", "emscripten-dlopen"])
async def test_each_kind_of_program_runs_to_its_end_and_shows_its_modules(case, modules, program_kind):
    app = new_app(relative_sample(*case))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        assert program_kind in status(app)
        await press(app, pilot, "s")  # stops at the first event
        assert app.state.pause is not None and app.state.pause.index == 0
        await press(app, pilot, "c")
        assert app.state.pause is None, status(app)
        names = [m.name for m in app.state.modules]
        for name in modules:
            assert name in names, names
        labels = " ".join(str(n.label) for n in app.query_one(ModulesTree).root.children)
        for name in modules:
            assert f"✓ {name}" in labels, labels
        assert app.page("memory").memory_size > 0
        await press(app, pilot, "2")
        table = app.page("table")
        assert any(line[0] == "row" for line in table.lines), table.text
        assert "function" in screen_text(app)  # its column titles


async def test_a_long_compile_shows_what_is_compiling():
    """While Cranelift compiles a module (held here until the screen was checked), the status
    bar says which module, its size, and shows a progress bar; the program then runs on."""
    import threading

    path = relative_sample("clang16", "reloc", "libreloc.so")
    app = new_app(path)
    engine = app.bridge.session.engine
    release, original = threading.Event(), engine.cache.get

    def slow_get(data, sha256):
        release.wait(timeout=120)  # a guard: the test releases it
        return original(data, sha256)

    engine.cache.get = slow_get
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        await pilot.press("r")
        for _ in range(2000):  # until the UI saw the module read and not compiled yet
            await pilot.pause()
            if "compiling libreloc.so" in status(app):
                break
        text = status(app)
        assert "RUNNING" in text and f"compiling libreloc.so ({os.path.getsize(path) / 1e3:.1f} kB) with Cranelift" in text
        assert app.query_one(StatusBar).has_class("compiling")
        assert app.query_one("#compile").display
        assert "of ~" not in text  # no compile measured yet: how long it takes is not known
        release.set()
        await app.settled(pilot)
        assert "IDLE" in status(app) and not app.query_one(StatusBar).has_class("compiling")


async def test_a_compile_of_known_speed_fills_its_progress_bar():
    """Once the cache knows how fast this machine compiles, the bar fills with the elapsed time
    against the expected time (never reaching the end before the compile does)."""
    import threading

    path = relative_sample("clang16", "reloc", "libreloc.so")
    app = new_app(path, steady_events=False)
    cache = app.bridge.session.engine.cache
    size = os.path.getsize(path)
    cache.speed = size / 2.0  # this module: about 2 s
    release, original = threading.Event(), cache.get
    cache.get = lambda data, sha256: (release.wait(timeout=120), original(data, sha256))[1]
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        await pilot.press("r")
        while "compiling libreloc.so" not in status(app):
            await pilot.pause()
        bar = app.query_one("#compile")
        assert bar.total == 100
        first = bar.progress
        await pilot.pause(0.8)
        assert first < bar.progress < 99.5
        assert "of ~2.0 s" in status(app)
        release.set()
        await app.settled(pilot)
        assert "IDLE" in status(app)
    # the module's machine code is now in the cache: loading it again is not a compile
    import hashlib

    assert cache.expected_seconds(size, hashlib.sha256(open(path, "rb").read()).hexdigest()) == 0.0


async def test_the_command_bar_history_is_kept_across_sessions(tmp_path):
    """Lines typed in an earlier session (REPL or TUI: one history file) come back with Up, and
    the TUI's own lines are saved for the next session; gdb's commands work from the bar."""
    from prompt_toolkit.history import FileHistory

    from dldbg.repl.history import HistoryFile
    from dldbg.tui.app import make_app
    from tuikit import make_session

    path = tmp_path / "history"
    FileHistory(str(path)).store_string("echo from the repl")
    program = relative_sample("clang16", "reloc", "libreloc.so")
    app = make_app(make_session(program), cursor_blink=False, cwd=str(ROOT), history_file=HistoryFile(str(path)))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        bar = app.query_one(CommandBar)
        await press(app, pilot, "colon", "up")
        assert bar.input.value == "echo from the repl"
        bar.input.value = ""
        await type_line(app, pilot, "dlopen libreloc.so")
        if not bar.input.has_focus:  # Enter may give the focus back to the timeline
            await press(app, pilot, "colon")
        await type_line(app, pilot, "p/x own_data")
        assert "$1 = 0x7 " in output_text(app)
    assert list(FileHistory(str(path)).load_history_strings())[:3] == ["p/x own_data", "dlopen libreloc.so",
                                                                        "echo from the repl"]
    app = make_app(make_session(program), cursor_blink=False, cwd=str(ROOT), history_file=HistoryFile(str(path)))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        await press(app, pilot, "colon", "up")
        assert app.query_one(CommandBar).input.value == "p/x own_data"


async def test_gdb_commands_in_the_command_bar_watch_display_and_set_table():
    app = new_app(relative_sample("clang16", "reloc", "libreloc.so"))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        bar = app.query_one(CommandBar)
        for line in ("watch own_data", "display/x GOT.mem.dep_data", "dlopen libreloc.so"):
            if not bar.input.has_focus:
                await press(app, pilot, "colon")
            await type_line(app, pilot, line)
        out = output_text(app)
        assert "Watchpoint 1, event #" in out and "own_data: old value = 0, new value = 7" in out
        assert "1: /x GOT.mem.dep_data = 0x" in out
        for line in ("continue", "set table dep_square own_fn", "call apply_dep_fn 3", "info breakpoints"):
            if not bar.input.has_focus:
                await press(app, pilot, "colon")
            await type_line(app, pilot, line)
        out = output_text(app)
        assert "apply_dep_fn(3) = 1003" in out  # dep_square's slot now holds own_fn: 3 + 1000
        assert "1: watch own_data (i32 at 0x" in out


async def test_enter_on_an_empty_command_bar_repeats_the_last_command_as_gdb():
    """gdb: an empty line repeats the last command (the REPL's Registry.repetition), not one
    that changes the session once (call, dlopen, set ...)."""
    app = new_app(relative_sample("clang16", "reloc", "libreloc.so"))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        bar = app.query_one(CommandBar)

        async def enter(line: str) -> None:
            if not bar.input.has_focus:
                await press(app, pilot, "colon")
            await type_line(app, pilot, line)

        await enter("dlopen libreloc.so")
        await enter("p/x own_data")
        await enter("")
        out = output_text(app)
        assert "$1 = 0x7" in out and "$2 = 0x7" in out
        await enter("call apply_dep_fn 3")
        await enter("")
        assert output_text(app).count("apply_dep_fn(3) = ") == 1
