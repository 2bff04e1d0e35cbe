"""Every scenario of samples/src, on every toolchain's build: `dldbg run` prints the value the C
source says, and every failing case exits 1 with one line naming the file and the stage.

Expectations come from each scenario.json (derived from the C sources and emscripten's loader
rules, not from dldbg's output).
"""

from __future__ import annotations

import io
import math

import pytest

from dldbg.cli import main
from catalogue import cases, run_argv

RUNS = cases("runs")
FAILURES = cases("failures")


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(argv, stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_samples_are_built():
    assert len(RUNS) > 100, "samples/out is missing: run python samples/build.py"
    assert {case.toolchain for case, _ in RUNS} >= {"emcc", "clang14", "clang16", "zig"}


@pytest.mark.parametrize(("case", "entry"), RUNS, ids=[f"{c.id}-{e['file']}-{e['invoke']}" for c, e in RUNS])
def test_run(case, entry):
    status, out, err = run(run_argv(case, entry))
    assert status == 0, err
    expect = entry["expect"]
    if isinstance(expect, float):
        assert math.isclose(float(out), expect, rel_tol=1e-6), out
    else:
        assert out.strip() == str(expect)


@pytest.mark.parametrize(("case", "entry"), FAILURES, ids=[f"{c.id}-{e['file']}" for c, e in FAILURES])
def test_failure(case, entry):
    status, out, err = run(run_argv(case, entry))
    assert status == 1, (out, err)
    lines = err.strip().splitlines()
    assert lines[0].startswith("dldbg: error: "), err
    assert "Traceback" not in err
    message = lines[0]
    assert entry["message_contains"] in message, message
    if entry["stage"] != "call":
        assert f": {entry['stage']}: " in message, message
        assert entry["file"].split("/")[-1] in message or any(
            lib in message for lib in entry.get("preload", [])
        ), message
