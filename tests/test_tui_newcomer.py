"""What a newcomer hit in the TUI (issue 11), each driven by keys as a user does (Pilot)."""

from __future__ import annotations

import pytest

from catalogue import ROOT
from textual import events

from tuikit import SIZE, new_app, output_text, press, relative_sample, screen_text, type_line
from dldbg.tui.widgets import CommandBar, EventTimeline, OutputLog


@pytest.fixture(autouse=True)
def in_repository(monkeypatch):
    monkeypatch.chdir(ROOT)


def status(app) -> str:
    return str(app.query_one("#status-text").render())


async def test_the_timeline_filter_is_shown_as_typed_in_the_pane_title():
    """bug 1: regex characters in a filter crashed the app (a Rich MarkupError: the text went
    into the border title as markup), and a simple filter vanished from the title."""
    app = new_app(relative_sample("clang16", "reloc", "libreloc.so"))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        await press(app, pilot, "r")
        for text in ("load module=lib.*", "got", "[bold]x"):
            await press(app, pilot, "slash")
            app.query_one("#timeline-filter").value = ""
            await type_line(app, pilot, text)
            assert f"Timeline [{text}]" in screen_text(app).splitlines()[2]
        assert app.is_running


async def test_an_emscripten_programs_output_reaches_the_output_pane():
    """bug 2: the emscripten host writes through Python's streams, which Textual captures
    while it runs: the program's lines were lost (WASI programs write to the descriptors)."""
    app = new_app(relative_sample("emcc", "em_loadtime", "main.wasm"))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        await press(app, pilot, "r")
        text = output_text(app)
        assert "program exited with status 3" in text
        assert "hello, world (1070)" in text and "done, exiting with 3" in text


async def test_fast_input_and_pastes_in_the_command_bar_run_each_line_once():
    """bug 5: two lines typed faster than the app handles them (tmux send-keys, a paste
    without bracketed paste) ran as one merged line, twice; a bracketed paste kept only its
    first line."""
    app = new_app(relative_sample("clang16", "reloc", "libreloc.so"))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        await press(app, pilot, "colon")
        for ch in "echo one\recho two\r":  # all queued before the app handles the first
            key = {"\r": "enter", " ": "space"}.get(ch, ch)
            app.post_message(events.Key(key, ch))
        await app.settled(pilot)
        await press(app, pilot, "colon")
        app.query_one(CommandBar).input.post_message(events.Paste("echo three\necho four\necho fi"))
        await app.settled(pilot)
        assert app.query_one(CommandBar).input.value == "echo fi"
        lines = output_text(app).splitlines()
        assert lines == ["(dldbg) echo one", "one", "(dldbg) echo two", "two", "(dldbg) echo three", "three",
                         "(dldbg) echo four", "four"], lines


async def test_focus_leaves_the_command_bar_when_its_command_is_done():
    """bug 9: after Enter the focus stayed in the command bar (n, c, q typed letters), Tab was
    trapped there, and a second `:` became part of the command."""
    app = new_app(relative_sample("clang16", "reloc", "libreloc.so"))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        bar, timeline = app.query_one(CommandBar), app.query_one(EventTimeline)
        await press(app, pilot, "colon", "colon")
        assert app.focused is bar.input and bar.input.value == ""
        await type_line(app, pilot, "catch load libreloc_dep")
        assert app.focused is timeline
        await press(app, pilot, "colon")
        await type_line(app, pilot, "dlopen libreloc.so")  # stops at the catchpoint
        assert app.state.pause is not None and app.focused is timeline
        await press(app, pilot, "n")  # a key, not a letter in the command bar
        assert "(dldbg) next" in output_text(app) and bar.input.value == ""
        await press(app, pilot, "colon", "tab")  # an empty line: Tab goes on to the next pane
        assert app.focused is not bar.input
        await press(app, pilot, "colon", "i", "n", "f", "o", "space", "g", "tab")  # a word: Tab completes
        assert app.focused is bar.input and bar.input.value == "info got "
        bar.input.value = ""
        await type_line(app, pilot, "commands 1")  # reads its lines: the bar keeps the focus until `end`
        await type_line(app, pilot, "echo caught")
        assert app.focused is bar.input
        await type_line(app, pilot, "end")
        assert app.focused is timeline


async def test_a_failing_dlopen_the_program_handles_is_no_load_failure():
    """bug 6: main_dlfcn.wasm's own dlopen("libmissing.so") fails on purpose and the program
    goes on (it prints PASSED): the TUI showed LOAD FAILED and ran `why` by itself, whose text
    read "dlopen of dlopen"."""
    app = new_app(relative_sample("clang16", "wasi_dlopen", "main_dlfcn.wasm"))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        await press(app, pilot, "r")
        assert "program exited with status 0" in output_text(app)
        assert "LOAD FAILED" not in status(app) and "IDLE" in status(app)
        assert "(dldbg) why" not in output_text(app)
        await press(app, pilot, "w")  # asked for, `why` still explains it
        text = output_text(app)
        assert "libmissing.so: dlopen in `run`, not found" in text and "dlopen of dlopen" not in text
        assert "the program handled the failure" in text


async def test_zoom_fills_the_screen_and_the_output_keeps_tables_readable():
    """bug 8: `z` left the zoomed pane at its own size on hatching (and the output log at its
    old width); the output log wrapped tables until they were unreadable."""
    app = new_app(relative_sample("clang16", "reloc", "libreloc.so"))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        await press(app, pilot, "r", "colon")
        await type_line(app, pilot, "info got")
        rows = [strip.text for strip in app.query_one(OutputLog).lines]
        assert any(row.startswith("entry") and "points to" in row for row in rows), rows  # one row, not wrapped
        for pane, title in (("#timeline", "Timeline"), ("#detail", "Event"), ("#output", "Output"),
                            ("#inspector", "1 Memory")):
            app.query_one(pane).focus()
            await press(app, pilot, "z")
            screen = screen_text(app)
            assert "╱" not in screen and title in screen.splitlines()[0] + screen.splitlines()[1], screen
            assert len(screen.splitlines()[0]) == SIZE[0]
            if pane == "#output":  # laid out again at the zoomed width
                assert any(strip.text.startswith("loaded libreloc.so as a program's start-up does")
                           for strip in app.query_one(OutputLog).lines)
            await press(app, pilot, "z")
            assert app.screen.maximized is None


async def test_an_80_by_24_terminal_shows_whole_hex_rows_and_every_key():
    """bug 8: at 80x24 the memory view's rows were cut and the footer lost its last keys."""
    app = new_app(relative_sample("clang16", "reloc", "libreloc.so"))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.settled(pilot)
        await press(app, pilot, "r")
        screen = screen_text(app)
        rows = [line for line in screen.splitlines() if "0x00100400  2a 00 00 00" in line]
        assert rows and "*......." in rows[0], screen  # the bytes and their characters
        footer = screen.splitlines()[-1]
        for key in ("s Step", "n Next", "c Cont", "r Run", "w Why", "q Quit"):
            assert key in footer, footer
