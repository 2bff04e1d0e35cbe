"""Every runnable example in README.md and docs/*.md is run, and its shown output compared
(issue 11, deliverable 9), so the docs cannot drift from what dldbg prints.

* A transcript, a fenced block whose first line is `$ COMMAND` (continued by lines ending in
  `\\`; a block may hold several), runs COMMAND in a shell in the repository and compares what
  it prints (stdout and stderr, as a terminal interleaves them) with the rest of the block.  The
  repository's own path is removed first (the docs show paths relative to it).  In the shown
  output a line `...` (or `... (what was left out)`) stands for any lines, and ` ... ` inside a
  line for any text.
* A `sh` block's `dldbg` lines whose files all exist run too (their output is not shown): they
  must end with status 0, or 1 for `--batch` whose commands fail on purpose, and never with an
  internal error.
* A `python` block that names no file missing from the repository runs and must succeed.

The guide's `<!-- session -->` blocks are regenerated and checked by scripts/gen-guide-sessions.py
(tests/test_commands_docs.py); docs/commands.md by scripts/gen-command-docs.py; docs/tui.md's
screen captures by scripts/gen-tui-captures.py (below).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from catalogue import ROOT, pyodide_inputs

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
#: inputs some examples need that only a fetch brings (scripts/cowasm-python --fetch-only)
FETCHED = ".cache/"
TIMEOUT = 300


def blocks():
    """(id, kind, text, path) of every runnable-looking block."""
    for doc in DOCS:
        text = doc.read_text()
        for m in _FENCE.finditer(text):
            lang, body = m.group(1), m.group(2)
            line = text[: m.start()].count("\n") + 1
            before = text[: m.start()].rstrip().rsplit("\n", 1)[-1]
            where = f"{doc.relative_to(ROOT)}:{line}"
            if lang == "" and body.startswith("$ ") and not before.startswith("<!-- session "):
                # one block may show several commands, each with its output
                for k, part in enumerate(re.split(r"^(?=\$ )", body, flags=re.M)[1:]):
                    yield (f"{where}+{k}" if k else where), "transcript", part
            elif lang == "sh":
                for k, cmd in enumerate(body.splitlines()):
                    cmd = cmd.split("  #")[0].strip()
                    if cmd.startswith("dldbg ") and _files_exist(cmd):
                        yield f"{where}+{k}", "sh", cmd
            elif lang == "python" and _files_exist(body):
                yield where, "python", body


def _files_exist(text: str) -> bool:
    """Every file the example names (a word with a library or program suffix, or a path into
    the repository's folders) exists, in the repository or (a bare library name) beside a file
    it names, so that the example is not written about placeholders (`libfoo.so`)."""
    words = re.findall(r"[\w./-]+\.(?:so|wasm|dldbg|py)\b|(?:samples|plugins|docs|scripts)/[\w./-]+", text)
    folders = {ROOT} | {(ROOT / w).parent for w in words if "/" in w}
    return bool(words) and all(any((folder / w).exists() for folder in folders) for w in words)


CASES = list(blocks())


@pytest.fixture(scope="module")
def compile_cache() -> Path:
    """The user's compile cache, as a user running the examples has it (shared with
    tests/test_cowasm_python.py: CoWasm's Python is compiled once, not once per example)."""
    from dldbg.fetch import default_cache_dir

    return Path(default_cache_dir())


def _env(tmp_path, cache: Path) -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["DLDBG_CACHE_DIR"] = str(cache)
    env["HOME"] = str(tmp_path)  # no ~/.dldbginit of the machine's user (the cache is set above)
    env.pop("DLDBG_DEBUG", None)
    return env


def _shown_pattern(shown: str) -> re.Pattern:
    parts = []
    for line in shown.rstrip("\n").split("\n"):
        if line == "..." or line.startswith("... ("):
            parts.append(r"(?:[^\n]*\n)*?")
            continue
        parts.append(".*?".join(re.escape(piece) for piece in line.split(" ... ")) + r"\n")
    return re.compile("".join(parts), re.S)


def _normalised(text: str) -> str:
    return text.replace(str(ROOT) + "/", "").replace(str(ROOT), ".")


def test_the_docs_have_runnable_examples():
    kinds = {kind for _, kind, _ in CASES}
    assert kinds == {"transcript", "sh", "python"}, CASES
    assert any(where.startswith("README.md") for where, kind, _ in CASES if kind == "transcript")


@pytest.mark.parametrize("where, kind, text", CASES, ids=[c[0] for c in CASES])
def test_doc_example(where, kind, text, tmp_path, compile_cache):
    if FETCHED in text and not (ROOT / ".cache").exists():
        pytest.skip(f"{where} needs inputs fetched into .cache/ (scripts/cowasm-python --fetch-only)")
    if ".cache/pyodide/wheels/" in text:  # the real wheels of tests/pyodide/inputs.py, fetched when missing
        pyodide_inputs().ensure_wheels(log=lambda *a, **k: None)
    env = _env(tmp_path, compile_cache)
    if kind == "python":
        done = subprocess.run([sys.executable, "-c", text], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, f"{where}:\n{done.stderr}"
        return
    if kind == "sh":
        done = subprocess.run(text, shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT,
                              stdin=subprocess.DEVNULL)
        allowed = (0, 1) if "--batch" in shlex.split(text) else (0,)
        assert done.returncode in allowed, f"{where}: {text}\n{done.stdout}{done.stderr}"
        assert "internal error" not in done.stderr and "Traceback" not in done.stderr, done.stderr
        return
    lines = text.split("\n")
    command, rest = lines[0][2:], lines[1:]
    while command.endswith("\\"):
        command = command[:-1] + rest.pop(0).strip()
    shown = "\n".join(rest)
    done = subprocess.run(command, shell=True, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    printed = _normalised(done.stdout)
    assert _shown_pattern(shown).fullmatch(printed), f"{where}: `{command}` printed:\n{printed}\nthe doc shows:\n{shown}"


def test_the_tui_captures_are_the_screens_the_keys_give():
    """docs/tui.md's text captures of the screen are the TUI's real screens after their keys."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-tui-captures.py"), "--check"],
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, f"docs/tui.md's captures are stale: run scripts/gen-tui-captures.py\n{done.stderr}"
