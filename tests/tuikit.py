"""Helpers for the TUI tests: sessions on the samples, apps that settle, the screen as text.

Everything here is deterministic: a fixed terminal size, no cursor blink, the compile cache
off, times and cache sources in events replaced by constants (they vary from run to run), and
the repository as the current folder (the TUI shows paths relative to it).
"""

from __future__ import annotations

import dataclasses
import io

from catalogue import ROOT
from sessionkit import sample
from dldbg.commands import builtin_registry
from dldbg.plugins import make_plugin_manager
from dldbg.session import Session, TextPrinter
from dldbg.tui.app import make_app

SIZE = (160, 45)

#: event fields whose values change from run to run, and the constant shown instead (compile
#: estimates depend on how fast earlier compiles in the session were)
VOLATILE = {"seconds": 0.0, "source": "compiled", "compile_estimate": None}


def steady(event):
    """`event` with its run-to-run varying fields (times, cache hits) set to constants."""
    changes = {name: value for name, value in VOLATILE.items() if hasattr(event, name)}
    return dataclasses.replace(event, **changes) if changes else event


def make_session(path: str | None, steady_events: bool = True, **options) -> Session:
    """A session on `path` (relative to the repository) whose log holds steady events (unless
    `steady_events` is False)."""
    options.setdefault("cache_dir", None)
    options.setdefault("plugins", make_plugin_manager(entry_points=False))
    options.setdefault("registry", builtin_registry())
    session = Session(path, printer=TextPrinter(io.StringIO(), io.StringIO()), **options)
    if steady_events:
        append = session.log.append
        session.log.append = lambda event, time, depth: append(steady(event), 0.0, depth)
    return session


def relative_sample(toolchain: str, scenario: str, name: str) -> str:
    """A sample's path relative to the repository (skips when it is not built)."""
    from pathlib import Path

    return str(Path(sample(toolchain, scenario, name)).resolve().relative_to(ROOT))


def new_app(path: str | None, steady_events: bool = True, **options):
    return make_app(make_session(path, steady_events, **options), cursor_blink=False, cwd=str(ROOT))


async def press(app, pilot, *keys: str) -> None:
    """Press each key and wait until the engine's thread and the app are idle."""
    for key in keys:
        await pilot.press(key)
        await app.settled(pilot)


async def type_line(app, pilot, line: str) -> None:
    """Type `line` and Enter (the command bar or a filter must have the focus)."""
    await pilot.press(*line)
    await press(app, pilot, "enter")


def screen_text(app) -> str:
    """The screen as plain text, one line per row."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip).rstrip() for strip in strips)


def output_text(app) -> str:
    """Everything the output log received (not only its visible part)."""
    return "\n".join(app.query_one("#output").plain)
