"""Shared pieces of the benchmarks: timing a command with its peak memory, interleaved
repeats, medians and ratios, the `.cache/bench` folder, the dldbg command.

Every figure is the median of R runs, the variants interleaved (run 1 of each, then run 2 of
each, ...) so that a change in the machine's load touches every variant alike.  Wall time is
what a user waits; CPU time (user + system, of the process and its children) is printed too
because it is less disturbed by other work on a shared machine.  Peak memory is the process's
maximum resident set (`wait4`'s ru_maxrss).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "bench"


@dataclass
class Sample:
    wall: float
    cpu: float
    peak_kib: int
    stdout: str
    stderr: str
    status: int


def measure(cmd: list[str], *, cwd=None, env=None, check: bool = True) -> Sample:
    """Run `cmd`; wall seconds, CPU seconds (user + system) and peak RSS in KiB, from wait4.

    Python may keep its bytecode (`PYTHONDONTWRITEBYTECODE` is dropped), as on a user's
    machine: otherwise every dldbg run compiles its sources again (about a tenth of a second).
    """
    env = dict(os.environ if env is None else env)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    began = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if check and proc.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, cmd))} exited {proc.returncode}\n{stderr[-2000:]}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, stdout, stderr, proc.returncode)


@dataclass
class Series:
    name: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def peak_mib(self) -> float:
        return max(s.peak_kib for s in self.samples) / 1024


def interleave(variants: dict[str, callable], repeats: int) -> dict[str, Series]:
    """Call each variant's function (returning a Sample) `repeats` times, interleaved."""
    series = {name: Series(name) for name in variants}
    for _ in range(repeats):
        for name, fn in variants.items():
            series[name].samples.append(fn())
    return series


def table(series: dict[str, Series], baseline: str | None = None) -> str:
    """Medians, peak memory, and ratios to `baseline` (wall and CPU)."""
    lines = [f"{'variant':34} {'wall s':>8} {'cpu s':>8} {'peak MiB':>9}" + ("   ratio wall  ratio cpu" if baseline else "")]
    base = series.get(baseline) if baseline else None
    for s in series.values():
        line = f"{s.name:34} {s.wall:8.3f} {s.cpu:8.3f} {s.peak_mib:9.1f}"
        if base is not None:
            line += f"   {s.wall / base.wall:9.2f}x {s.cpu / base.cpu:9.2f}x"
        lines.append(line)
    return "\n".join(lines)


def dldbg_command() -> list[str]:
    """The `dldbg` console script beside this Python, else `python -m dldbg`."""
    script = Path(sys.executable).with_name("dldbg")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dldbg"]


def need(tool: str) -> str:
    found = shutil.which(tool)
    if not found:
        raise SystemExit(f"{tool} is not installed (bash scripts/install-toolchains installs the toolchains)")
    return found
