"""Snapshots of the TUI's important screens (pytest-textual-snapshot; SVGs in __snapshots__/).

After a deliberate change of the screen, review the report and accept the new pictures with
`python -m pytest tests/test_tui_snapshots.py --snapshot-update`.  Event times and cache hits
are replaced by constants (tuikit.steady), the terminal size is fixed and the cursor does not
blink, so a run shows the same pixels every time.
"""

from __future__ import annotations

import pytest

from catalogue import ROOT
from tuikit import SIZE, new_app, press, relative_sample


@pytest.fixture(autouse=True)
def in_repository(monkeypatch):
    monkeypatch.chdir(ROOT)


def status(app) -> str:
    return str(app.query_one("#status-text").render())


def steps(*keys: str, until=None, then: tuple[str, ...] = (), step: str = "n"):
    """A `run_before`: settle, press `keys`, then `step` until `until(app)` holds, then `then`."""

    async def run_before(pilot) -> None:
        app = pilot.app
        await app.settled(pilot)
        await press(app, pilot, *keys)
        if until is not None:
            for _ in range(30):
                if until(app):
                    break
                await press(app, pilot, step)
            assert until(app), status(app)
        await press(app, pilot, *then)

    return run_before


def missing_data():
    return new_app(relative_sample("clang16", "missing_symbol", "libmissing_data.so"))


def test_before_the_program_starts(snap_compare):
    assert snap_compare(missing_data(), run_before=steps(), terminal_size=SIZE)


def test_stopped_at_the_import_nothing_defines_with_the_got(snap_compare):
    run_before = steps(until=lambda app: "import.unresolved" in status(app), then=("3",))
    assert snap_compare(missing_data(), run_before=run_before, terminal_size=SIZE)


def test_the_failure_and_the_why_diagnosis(snap_compare):
    run_before = steps(until=lambda app: "LOAD FAILED" in status(app))
    assert snap_compare(missing_data(), run_before=run_before, terminal_size=SIZE)


def test_an_emscripten_program_with_side_modules_and_its_memory(snap_compare):
    """The memory view goes to the main's static data (1024): the stack top would show argv[0],
    the absolute path of main.js (as node passes it), which depends on where the checkout is."""
    app = new_app(relative_sample("emcc", "em_loadtime", "main.wasm"))
    assert snap_compare(app, run_before=steps("r", "g", *"1024", "enter"), terminal_size=SIZE)


def test_a_side_module_stopped_inside_a_nested_needed_load(snap_compare):
    app = new_app(relative_sample("clang16", "reloc", "libreloc.so"))
    def inside(app) -> bool:
        pause = app.state.pause
        return pause is not None and pause.module == "libreloc_dep.so" and pause.kind == "memory.alloc"

    run_before = steps(until=inside, then=("1",), step="s")
    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)
