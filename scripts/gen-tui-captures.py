#!/usr/bin/env python3
"""Refresh the text captures of the TUI in docs/tui.md (`--check`: exit 1 if they are out of date).

Each block between `<!-- tui-capture NAME -->` and `<!-- end tui-capture -->` is the screen
(160x45) of `dldbg samples/out/clang16/missing_symbol/libmissing_data.so` after the keys of
CAPTURES[NAME], pressed in order from the start (Textual's Pilot, with the tests' settings:
times and cache hits shown as constants, no cursor blink, the repository as the current folder).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from docblocks import ROOT, fill, refresh

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

TARGET = ROOT / "docs" / "tui.md"
PROGRAM = "samples/out/clang16/missing_symbol/libmissing_data.so"
#: keys pressed from the start, the captures in order (each goes on from the one before)
CAPTURES = {"unresolved": ("n", "n", "n", "n", "n", "3"), "failed": ("n", "n", "1")}

_BLOCK = re.compile(r"(<!-- tui-capture (?P<name>\w+) -->\n```\n)(?P<body>.*?)(```\n<!-- end tui-capture -->)", re.S)


async def _screens() -> dict[str, str]:
    from tuikit import SIZE, new_app, press, screen_text

    screens = {}
    app = new_app(PROGRAM)
    async with app.run_test(size=SIZE) as pilot:
        await app.settled(pilot)
        for name, keys in CAPTURES.items():
            await press(app, pilot, *keys)
            screens[name] = "\n".join(line.rstrip() for line in screen_text(app).split("\n")) + "\n"
    return screens


def render(text: str) -> str:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        screens = asyncio.run(_screens())
    finally:
        os.chdir(cwd)
    return fill(text, _BLOCK, screens.__getitem__)


if __name__ == "__main__":
    raise SystemExit(refresh(TARGET, render))
