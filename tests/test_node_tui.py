"""The TUI steps the node backend as it steps the wasmtime engine (issue 14): a breakpoint typed
in the command bar stops emscripten's own loader under node, `n` steps to its next event, the
modules tree follows, and `c` lets the program finish."""

from __future__ import annotations

import shutil

import pytest
from textual import events

from catalogue import OUT
from tuikit import SIZE, new_app, output_text, press, type_line
from dldbg.linker.node import node_engine_factory
from dldbg.tui.widgets import ModulesTree
from test_node_backend import SHARED_KINDS

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


#: the keys of the comparison below (a line after ":" is pasted into the command bar): every
#: load.done, one `c` at a time (one `c` more than node needs: dldbg's engine also stops at the
#: main module's); then, run again, greet's load stage by stage: `n` steps over the NEEDED load
#: of util (deeper) to greet's memory, `f` goes to greet's load.done, `c` to the end
KEYS = [":", "break load.done", "r", "c", "c", "c", ":", "delete", ":", "break module.read module=libem_greet.so",
        "r", "n", "n", "n", "f", "c"]


async def stops_of(backend: str) -> list[list[tuple[str, str, tuple[str, ...]]]]:
    """The stops (event kind, module, the loads in progress) the TUI shows while KEYS are
    pressed in the TUI on the em_loadtime program with `backend`, one list per `r`; each run
    must end with the program's exit status (3)."""
    options = {"engine_factory": node_engine_factory(no_cache=True)} if backend == "node" else {}
    app = new_app("main.js" if backend == "node" else "main.wasm", **options)
    runs: list[list] = []
    seen = None
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        for before, key in zip([None, *KEYS], KEYS):
            if before == ":":  # pasted with its newline: the command bar runs it (quicker than typing)
                app.focused.post_message(events.Paste(key + "\n"))
                await app.settled(pilot)
                continue
            if key == "r":
                runs.append([])
            await press(app, pilot, key)
            pause = app.state.pause
            if pause is not None and pause.index != seen and key != ":":
                seen = pause.index
                runs[-1].append((pause.kind, pause.module, pause.frames))
        assert app.state.pause is None, backend
        assert output_text(app).count("program exited with status 3") == 2, backend
    return runs


async def test_the_tui_steps_both_backends_the_same_way(monkeypatch):
    """The same keys stop both backends at the same side-module events, in the same order,
    where the information exists in both (docs/node.md, "Differences from the wasmtime
    engine's events"): the kinds both report for a side module (test_node_backend.SHARED_KINDS).
    Left out: the main module's load and events (under node the glue, not emscripten's loader,
    instantiates it), and which loads are in progress at a stop after util's instantiation
    (under node util's load.done comes before greet's memory; dldbg's engine ends the start-up
    loads after the constructors)."""
    monkeypatch.chdir(OUT / "emcc" / "em_loadtime")

    def shared(stops):
        return [(kind, module) for kind, module, _ in stops if kind in SHARED_KINDS and module.endswith(".so")]

    node, wasmtime = await stops_of("node"), await stops_of("wasmtime")
    assert [shared(run) for run in node] == [shared(run) for run in wasmtime]
    assert shared(node[0]) == [("load.done", "libem_util.so"), ("load.done", "libem_greet.so")]
    # stopped at util's load.done inside greet's NEEDED load, in both
    assert {frames for kind, module, frames in node[0] + wasmtime[0]
            if module == "libem_util.so"} == {("libem_greet.so",)}
    # util's load was stepped over, not stopped in
    assert shared(node[1]) == [("module.read", "libem_greet.so"), ("needed.resolved", "libem_greet.so"),
                               ("memory.alloc", "libem_greet.so"), ("load.done", "libem_greet.so")]
