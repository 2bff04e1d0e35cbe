"""What a newcomer hit in the TUI (issue 11), each driven by keys as a user does (Pilot)."""

from __future__ import annotations

import pytest

from catalogue import ROOT
from tuikit import SIZE, new_app, output_text, press, relative_sample, screen_text, type_line


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
