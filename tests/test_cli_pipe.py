"""A closed pipe ends dldbg quietly, as it ends cat or grep (issue 12): no BrokenPipeError
traceback or `internal error` line, the process ends by SIGPIPE (status 141 in a shell)."""

from __future__ import annotations

import signal
import subprocess
import sys

from catalogue import OUT, ROOT


def read_then_close(argv: list[str], nbytes: int) -> tuple[bytes, int, str]:
    """Run dldbg with its stdout on a pipe, read `nbytes`, close the pipe (as `head -c` does);
    (what was read, the exit status, stderr).  The output is much larger than a pipe's buffer,
    so dldbg is still writing when the pipe closes."""
    proc = subprocess.Popen([sys.executable, "-m", "dldbg", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=ROOT)
    head = proc.stdout.read(nbytes)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    return head, proc.wait(timeout=60), err


def test_inspect_json_into_head():
    files = sorted(str(p) for p in OUT.glob("*/*/*.so"))  # about 120 modules, over 300 KB of JSON
    head, status, err = read_then_close(["inspect", "--json", *files], 300)
    assert head.startswith(b'{"path": ')
    assert err == ""
    assert status == -signal.SIGPIPE


def test_batch_into_head(tmp_path):
    commands = tmp_path / "many.dldbg"
    commands.write_text("info modules\n" * 3000)  # about 300 KB of output
    head, status, err = read_then_close(["--batch", "-ex", "dlopen libreloc.so", "-x", str(commands),
                                         str(OUT / "clang16" / "reloc" / "libreloc.so")], 80)
    assert head.startswith(b"handle ")
    assert err == ""
    assert status == -signal.SIGPIPE
