"""The TUI steps the node backend as it steps the wasmtime engine (issue 14): a breakpoint typed
in the command bar stops emscripten's own loader under node, `n` steps to its next event, the
modules tree follows, and `c` lets the program finish."""

from __future__ import annotations

import shutil

import pytest

from catalogue import OUT
from tuikit import SIZE, new_app, output_text, press, type_line
from dldbg.linker.node import node_engine_factory
from dldbg.tui.widgets import ModulesTree

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="no node")


def status(app) -> str:
    return str(app.query_one("#status-text").render())


async def test_the_tui_steps_emscriptens_own_loader(monkeypatch):
    folder = OUT / "emcc" / "em_loadtime"
    monkeypatch.chdir(folder)  # the glue opens its side modules relative to the current folder
    app = new_app("main.js", engine_factory=node_engine_factory(no_cache=True))
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        await press(app, pilot, ":")
        await type_line(app, pilot, "break module.read module=libem_greet.so")
        await press(app, pilot, "r")
        assert "PAUSED" in status(app) and "module.read" in status(app) and "libem_greet.so" in status(app)
        tree = app.query_one(ModulesTree)
        assert "libem_greet.so loading" in str(tree.root.children[0].label)
        await press(app, pilot, "n")  # greet's NEEDED entry: util's load starts
        assert "needed.resolved" in status(app)
        await press(app, pilot, "c")
        # node writes to descriptors 1 and 2, which the real TUI points at its output log
        # (dldbg.tui.launch.OutputCapture); under Pilot only the result line arrives
        assert "program exited with status 3" in output_text(app)
        assert "NOT STARTED" not in status(app)
