"""Paths as the user reads them: relative to the current folder (`samples/out/...`, not
`/home/me/src/dldbg/samples/out/...`), in the REPL, batch output and the TUI alike."""

from __future__ import annotations

import os
import re


class Shortener:
    """Replaces the current folder in displayed text: `CWD/x` -> `x`, and `CWD` alone -> `.`
    unless `bare` is False (then the folder itself stays absolute: a line to copy elsewhere,
    `add-auto-load-safe-path /home/me/proj`, must not become `.`)."""

    def __init__(self, cwd: str | None = None, *, bare: bool = True):
        cwd = os.path.abspath(cwd or os.getcwd())
        self.cwd = cwd
        if cwd == "/":
            self._pattern = None
        else:
            self._pattern = re.compile(re.escape(cwd) + (r"(/|(?=[\s,;:)\]'\"]|$))" if bare else "(/)"))

    def __call__(self, text: str) -> str:
        if self._pattern is None or self.cwd not in text:
            return text
        return self._pattern.sub(lambda m: "" if m.group(1) == "/" else ".", text)
