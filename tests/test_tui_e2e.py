"""End to end: the real `dldbg` process on a terminal (tmux), driven by keys, read off the screen.

A user runs `dldbg libmissing_data.so`, presses n (the footer says `n Next`) until the load
fails, and reads the failure and the `why` diagnosis on the screen; q quits with status 0.
Waiting is for what the screen shows (with a generous guard against hangs), never for a time.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from catalogue import ROOT
from tuikit import relative_sample

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None,
                                reason="tmux is not installed (scripts/install-toolchains installs it)")

WIDTH, HEIGHT = 160, 45
GUARD = 120.0  # seconds: only so that a hang fails the test instead of blocking the suite


def dldbg_command() -> list[str]:
    script = Path(sys.executable).with_name("dldbg")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dldbg"]


class Terminal:
    """A tmux server of our own (its own socket) with one window running `command`."""

    def __init__(self, command: str, env: dict[str, str]):
        self.socket = f"dldbg-test-{os.getpid()}"
        self.env = env
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", str(WIDTH), "-y", str(HEIGHT),
                  command)

    def tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, env=self.env,
                              timeout=30)
        if done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "main")

    def send(self, key: str) -> None:
        self.tmux("send-keys", "-t", "main", key)

    def wait_for(self, predicate, what: str) -> str:
        deadline = time.monotonic() + GUARD
        while True:
            screen = self.screen()
            if predicate(screen):
                return screen
            if time.monotonic() > deadline:
                pytest.fail(f"the screen never showed {what}:\n{screen}")
            time.sleep(0.05)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, env=self.env, timeout=30)


def status_lines(screen: str) -> str:
    return "\n".join(screen.splitlines()[:2])


def output_pane(screen: str) -> str:
    """The text of the Output pane, its wrapped lines joined (whitespace collapsed)."""
    lines = screen.splitlines()
    top = next(i for i, line in enumerate(lines) if "╭─ Output" in line)
    column = lines[top].index("╭─ Output")
    body = []
    for line in lines[top + 1:]:
        cell = line[column:]
        if cell.startswith("╰"):
            break
        body.append(cell.strip("│▁▂▃▄▅▆▇█ "))
    return " ".join(" ".join(body).split())


def test_a_user_steps_a_failing_load_to_its_why_diagnosis_in_a_real_terminal(tmp_path):
    target = relative_sample("clang16", "missing_symbol", "libmissing_data.so")
    command = " ".join(shlex.quote(word) for word in [*dldbg_command(), target])
    env = {**os.environ, "DLDBG_CACHE_DIR": str(tmp_path / "cache"), "DLDBG_HISTORY": str(tmp_path / "history"),
           "TERM": "xterm-256color"}
    env.pop("TMUX", None)
    shell = f"cd {shlex.quote(str(ROOT))} && {command}; echo \"dldbg exited with status $?\"; sleep 600"
    term = Terminal(f"sh -c {shlex.quote(shell)}", env)
    try:
        screen = term.wait_for(lambda s: "NOT STARTED" in s and "q Quit" in s, "the session waiting to start")
        footer = next(line for line in screen.splitlines() if "q Quit" in line)
        for key in ("s Step", "n Next", "c Continue", "r Run", "b Break on kind", "g Goto", "w Why", "q Quit"):
            assert key in footer, footer

        for _ in range(30):
            before = status_lines(screen)
            term.send("n")
            # the next stop, or the end: a status that differs and is not the passing RUNNING
            screen = term.wait_for(lambda s, before=before: status_lines(s) != before and "RUNNING" not in status_lines(s),
                                   "the next stop")
            if "LOAD FAILED" in status_lines(screen):
                break
        else:
            pytest.fail(f"n never reached the failure:\n{screen}")
        screen = term.wait_for(lambda s: "near names" in s, "the why diagnosis")
        assert "undefined symbol 'missing_data' (GOT.mem)" in status_lines(screen)
        out = output_pane(screen)
        assert "(dldbg) why" in out
        assert "missing_data: wanted by libmissing_data.so as GOT.mem" in out
        assert "no loaded module defines it" in out
        assert "✗ libmissing_data.so faile" in screen  # the modules tree (its column cuts the line)

        term.send("q")
        screen = term.wait_for(lambda s: "dldbg exited with status" in s, "dldbg ending")
        assert "dldbg exited with status 0" in screen
    finally:
        term.close()
