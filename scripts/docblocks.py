"""What the doc generators share (scripts/gen-guide-sessions.py, gen-pyodide-doc.py,
gen-tui-captures.py): the generated blocks of a page, a dldbg command run in the repository
shown as a transcript, and `--check` (exit 1 if the page is out of date)."""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent

#: `<!-- session NAME -->` ... `<!-- end session -->`: the real output of a command
SESSION_BLOCK = re.compile(r"(<!-- session (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end session -->)", re.S)


def shell_quote(arg: str) -> str:
    return arg if re.fullmatch(r"[\w./=+:,-]+", arg) else "'" + arg.replace("'", "'\\''") + "'"


def run_dldbg(argv: list[str]) -> str:
    """What `dldbg ARGV` prints (stdout and stderr interleaved, as a terminal shows them), run in
    the repository's folder."""
    from dldbg.cli import main

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        stream = io.StringIO()
        main(argv, stdout=stream, stderr=stream)
    finally:
        os.chdir(cwd)
    return stream.getvalue()


def transcript(argv: list[str], text: str) -> str:
    """A fenced block: `$ dldbg ARGV` and what it printed."""
    return f"```\n$ dldbg {' '.join(shell_quote(a) for a in argv)}\n{text}```\n"


def fill(text: str, block: re.Pattern, produce: Callable[[str], str]) -> str:
    """`text` with the body of each `block` (groups 1 and 4 around it kept) replaced by `produce(NAME)`."""
    return block.sub(lambda m: m.group(1) + produce(m.group("name")) + m.group(4), text)


def refresh(target: Path, render: Callable[[str], str]) -> int:
    """Rewrite `target` with `render`, or with `--check` only compare: 0, or 1 if it is stale."""
    current = target.read_text()
    text = render(current)
    if "--check" in sys.argv:
        if text != current:
            print(f"{target.relative_to(ROOT)} is stale: run scripts/{Path(sys.argv[0]).name}", file=sys.stderr)
            return 1
        return 0
    target.write_text(text)
    return 0
