"""Names from a module are printed with their control characters escaped (issue 12): an
import named `imp ESC[2J ort` and an export holding an OSC title sequence (ESC ] 0;...BEL)
and a CR neither clear the screen, retitle the terminal nor overwrite the line in `inspect`,
error lines, trace lines or batch output; JSON keeps the exact names.

The module is built here with clang-16 (a side module; the names come from `import_name` and
`export_name` attributes)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

IMPORT = "imp\x1b[2Jort"
EXPORT = "exp\x1b]0;pwned\x07ort\rX"
SOURCE = r"""
__attribute__((import_module("env"), import_name("imp\x1b[2Jort"))) int evil_import(int);
__attribute__((export_name("exp\x1b]0;pwned\x07ort\rX"))) int evil_export(int x) { return evil_import(x) + 1; }
"""
ESCAPED_IMPORT = "imp\\x1b[2Jort"
ESCAPED_EXPORT = "exp\\x1b]0;pwned\\x07ort\\x0dX"
RAW = ("\x1b", "\x07", "\r")


@pytest.fixture(scope="module")
def evil(tmp_path_factory) -> Path:
    for tool in ("clang-16", "wasm-ld-16"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not found (scripts/test installs clang-16 and lld-16)")
    folder = tmp_path_factory.mktemp("evil")
    (folder / "evil.c").write_text(SOURCE)
    subprocess.run(["clang-16", "--target=wasm32-unknown-emscripten", "-fPIC", "-fvisibility=default", "-O1", "-c",
                    "evil.c", "-o", "evil.o"], cwd=folder, check=True)
    subprocess.run(["wasm-ld-16", "--experimental-pic", "-shared", "evil.o", "-o", "libevil.so"], cwd=folder, check=True)
    return folder / "libevil.so"


def dldbg(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dldbg", *argv], capture_output=True, text=True, timeout=120)


def strings(value) -> set[str]:
    """Every string in a JSON value."""
    if isinstance(value, str):
        return {value}
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return set().union(*(strings(v) for v in items)) if items else set()


def assert_safe(text: str) -> None:
    for char in RAW:
        assert char not in text, repr(text)


def test_inspect_escapes_names_and_json_keeps_them(evil):
    text = dldbg("inspect", str(evil))
    assert_safe(text.stdout)
    assert f"env.{ESCAPED_IMPORT}: func (i32) -> (i32)" in text.stdout
    assert f"{ESCAPED_EXPORT}: func (i32) -> (i32)" in text.stdout
    data = json.loads(dldbg("inspect", "--json", str(evil)).stdout)
    found = strings(data)
    assert any(IMPORT in s for s in found) and EXPORT in found


def test_error_and_trace_lines_escape_names(evil):
    run = dldbg("run", "--no-cache", "--bind-now", "--trace=symbols", str(evil))
    assert run.returncode == 1
    assert_safe(run.stderr)
    last = run.stderr.splitlines()[-1]
    assert last.startswith(f"dldbg: error: {evil}: imports: undefined symbol '{ESCAPED_IMPORT}' "
                           "(function). perhaps a side module was not linked in? at byte offset 0x")  # the import's
    assert any(ESCAPED_IMPORT in line and line.startswith("dldbg[symbols]") for line in run.stderr.splitlines())


def test_batch_output_escapes_names_and_json_keeps_them(evil):
    text = dldbg("--batch", "--no-cache", "-ex", "dlopen libevil.so", "-ex", "info symbols .", str(evil))
    assert_safe(text.stdout + text.stderr)
    assert ESCAPED_EXPORT in text.stdout
    lines = dldbg("--batch", "--json", "--no-cache", "-ex", "dlopen libevil.so", "-ex", "info symbols .", str(evil))
    result = [json.loads(line) for line in lines.stdout.splitlines()][-1]
    assert result["command"] == "info symbols ." and any(EXPORT in s for s in strings(result["result"]))


def test_tui_rows_and_titles_escape_names():
    """The TUI's pages (imports, exports, symbols, GOT, table) show cells as str or one-style
    Text: both are escaped before their widths are measured (the pages escape a name before
    making a Text of it, as rich drops BEL and CR; the rows catch an ESC left in a Text)."""
    from rich.text import Text

    from dldbg.tui.pages.rows import Column, Section

    section = Section((Column("name"), Column("kind")), [(Text(IMPORT, "bold"), EXPORT)],
                      title=Text(f"exports of {IMPORT}", "bold"))
    section.fit()
    (name, kind), = section.rows
    assert (name.plain, name.style, kind) == (ESCAPED_IMPORT, "bold", ESCAPED_EXPORT)
    assert section.title.plain == f"exports of {ESCAPED_IMPORT}"
    assert section.widths[:2] == [len(ESCAPED_IMPORT), len(ESCAPED_EXPORT)]


def test_printable_text_is_returned_without_the_expression(monkeypatch):
    """Text with nothing to escape (`str.isprintable`, with the kept characters left out) is
    returned as it is: the expression is neither compiled nor run (0.5 ms of `dldbg inspect`'s
    start-up); the rest is escaped as before."""
    import re

    from dldbg import textsafe

    runs = []
    sub = re.sub
    monkeypatch.setattr(re, "sub", lambda *args: runs.append(args) or sub(*args))
    assert textsafe.printable("libreloc.so: 2760 bytes, side module") == "libreloc.so: 2760 bytes, side module"
    assert textsafe.printable("two\nlines é\u4e2d", keep="\n") == "two\nlines é\u4e2d"
    assert runs == []
    assert textsafe.printable(IMPORT) == ESCAPED_IMPORT
    assert textsafe.printable("a\nb\u202e", keep="\n") == "a\nb\\u202e"
    assert textsafe.printable("tab\there") == "tab\\x09here"
    assert len(runs) == 3
