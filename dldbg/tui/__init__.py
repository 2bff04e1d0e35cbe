"""The Textual front end: `dldbg FILE` on a terminal (or `dldbg --tui FILE`).

`make_app(session)` (dldbg.tui.app) builds the app without running it; `run_tui(session)`
(dldbg.tui.launch) runs it on the terminal.  Only this package imports Textual; the command
line imports it lazily, so `dldbg run` and `dldbg inspect` never pay for it.
"""

from __future__ import annotations


def make_app(session, **options):
    from .app import make_app as _make_app

    return _make_app(session, **options)


def run_tui(session, **options) -> int:
    from .launch import run_tui as _run_tui

    return _run_tui(session, **options)


__all__ = ["make_app", "run_tui"]
