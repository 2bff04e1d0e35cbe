"""SIGINT and `--timeout` stop `dldbg run` and batch mode while wasm loops (issue 12).

The modules are built here with clang-16 as side modules: libspin.so (`spin` loops forever,
`answer` returns 42) and libctorspin.so (its constructor loops forever).  dldbg runs in a
child process; the test waits until the loop runs (a trace line), then sends SIGINT.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

SPIN = """
volatile int counter;
int spin(void) { for (;;) counter++; return 0; }
int answer(void) { return 42; }
"""
CTOR_SPIN = """
volatile int counter;
__attribute__((constructor)) static void forever(void) { for (;;) counter++; }
int answer(void) { return 42; }
"""
#: what "stops within 1 s" is checked against: generous, as the test machine may be busy
STOP_BOUND = 3.0


@pytest.fixture(scope="module")
def libs(tmp_path_factory) -> Path:
    for tool in ("clang-16", "wasm-ld-16"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not found (scripts/test installs clang-16 and lld-16)")
    folder = tmp_path_factory.mktemp("spin")
    for name, source in (("spin", SPIN), ("ctorspin", CTOR_SPIN)):
        (folder / f"{name}.c").write_text(source)
        subprocess.run(["clang-16", "--target=wasm32-unknown-emscripten", "-fPIC", "-fvisibility=default", "-O1",
                        "-c", f"{name}.c", "-o", f"{name}.o"], cwd=folder, check=True)
        subprocess.run(["wasm-ld-16", "--experimental-pic", "-shared", f"{name}.o", "-o", f"lib{name}.so"],
                       cwd=folder, check=True)
    return folder


def interrupt_when(argv: list[str], ready: str) -> tuple[int, str, str, float]:
    """Run dldbg, send SIGINT 0.3 s after stderr or stdout shows `ready`; (status, stdout,
    stderr, seconds from the signal to the exit)."""
    proc = subprocess.Popen([sys.executable, "-m", "dldbg", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    seen = []
    watchdog = threading.Timer(30, proc.kill)  # `ready` never showing must not hang the tests
    watchdog.start()
    try:
        for line in proc.stdout:
            seen.append(line)
            if ready in line:
                break
        time.sleep(0.3)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=10)
        took = time.monotonic() - sent
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"dldbg {' '.join(argv)} did not stop within 10 s of SIGINT")
    finally:
        watchdog.cancel()
    assert ready in "".join(seen), "".join(seen)
    return proc.returncode, "".join(seen) + rest, "", took


def test_sigint_stops_a_looping_invoke(libs):
    status, out, _, took = interrupt_when(["run", "--no-cache", "--trace=libs", str(libs / "libspin.so"),
                                           "--invoke", "spin"], "loaded, handle")
    assert status == 130
    assert out.endswith("dldbg: interrupted (SIGINT): stopped the running wasm\n")
    assert "Traceback" not in out
    assert took < STOP_BOUND


def test_sigint_in_batch_mode_stops_the_run_and_rolls_back_the_load(libs):
    """A constructor that loops: SIGINT stops it, the load is rolled back (load.fail with what
    was undone), no later command runs, the status is 130."""
    status, out, _, took = interrupt_when(
        ["--batch", "--json", "--no-cache", "-ex", "dlopen libctorspin.so", "-ex", "call answer",
         str(libs / "libctorspin.so")], '"reloc.apply"')
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert status == 130 and took < STOP_BOUND
    fail = next(e["event"] for e in lines if e["type"] == "event" and e["event"]["kind"] == "load.fail")
    assert fail["module"] == "libctorspin.so" and fail["failed_stage"] == "ctors" and fail["rolled_back"]
    assert [r["command"] for r in lines if r["type"] == "result"] == ["dlopen libctorspin.so"]
    assert out.endswith("dldbg: interrupted (SIGINT): stopped the running wasm\n")


def test_timeout_bounds_run_and_batch(libs):
    run = subprocess.run([sys.executable, "-m", "dldbg", "run", "--no-cache", "--timeout", "1", str(libs / "libspin.so"),
                          "--invoke", "spin"], capture_output=True, text=True, timeout=30)
    assert run.returncode == 124
    assert run.stderr.endswith("dldbg: error: timed out after 1 s (--timeout): stopped the running wasm\n")
    batch = subprocess.run([sys.executable, "-m", "dldbg", "--batch", "--no-cache", "--timeout", "1", "-ex",
                            "dlopen libspin.so", "-ex", "call spin", "-ex", "call answer", str(libs / "libspin.so")],
                           capture_output=True, text=True, timeout=30)
    assert batch.returncode == 124 and "answer() = 42" not in batch.stdout
    assert batch.stderr.endswith("dldbg: error: timed out after 1 s (--timeout): stopped the running wasm\n")
    ok = subprocess.run([sys.executable, "-m", "dldbg", "run", "--no-cache", "--timeout", "20", str(libs / "libspin.so"),
                         "--invoke", "answer"], capture_output=True, text=True, timeout=30)
    assert (ok.returncode, ok.stdout) == (0, "42\n")
    bad = subprocess.run([sys.executable, "-m", "dldbg", "run", "--timeout", "0", str(libs / "libspin.so")],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "not a positive number of seconds" in bad.stderr
