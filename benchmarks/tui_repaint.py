#!/usr/bin/env python3
"""Keypress to repaint in the TUI, with 100k events in the timeline and a 256 MiB memory.

    python benchmarks/tui_repaint.py [--events N] [--memory-mib M] [--presses P] [--budget MS]

Loads samples/out/clang16/reloc/libreloc.so (with its NEEDED library) in a session, grows the
linear memory to M MiB (default 256) and fills the event log to N events (default 100 000) with
copies of the load's real events.  Then it runs the TUI headless at 160x45 and, for each kind of
keypress, measures from sending the key to the end of the last repaint that changed what the
terminal shows.  Each repaint is rendered to terminal output as a real terminal driver would,
and applied to a model of the terminal's cells; a repaint that writes the same cells again (Textual
repaints scroll bars a frame later after a layout) is listed but not counted.  For the memory
view the time includes reading the newly visible bytes on the engine's thread; for the symbols
and imports inspectors, loading their rows from the engine.

Keys: in the timeline down, up, pagedown, pageup, end and home in turn; in the memory view
down, pagedown, pageup, end and home in turn (256 MiB apart); switching between the six
inspectors with 1-6.  Prints the median, 95th percentile and worst time for each kind of key
(and when the first repaint came, and the worst time to any repaint), and exits 1 if any
single press took longer than the budget (default 50 ms).  Not a test: timings depend on the
machine.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rich.cells import cell_len  # noqa: E402
from rich.segment import ControlType  # noqa: E402

from dldbg.commands import builtin_registry  # noqa: E402
from dldbg.plugins import make_plugin_manager  # noqa: E402
from dldbg.session import Session, TextPrinter  # noqa: E402
from dldbg.tui.app import make_app  # noqa: E402

SAMPLE = ROOT / "samples/out/clang16/reloc/libreloc.so"
#: timings of applying filters to the whole log (printed, not held to the budget)
FILTERS: dict[str, list] = {}
PAGE = 65536


def build_session(events: int, memory_mib: int) -> Session:
    session = Session(str(SAMPLE), registry=builtin_registry(), printer=TextPrinter(io.StringIO(), io.StringIO()),
                      cache_dir=None, plugins=make_plugin_manager(entry_points=False))
    result = session.execute("run")
    assert result is not None and result.ok, result
    engine = session.engine
    pages = memory_mib * 1024 * 1024 // PAGE - engine.memory.pages
    if pages > 0:
        engine.grow_memory(pages, "benchmark")
    real = list(session.log.entries)
    while len(session.log) < events:
        entry = real[len(session.log) % len(real)]
        session.log.append(entry.event, entry.time, entry.depth)
    return session


class Screen:
    """What the terminal shows: one (character, style) per cell, updated by Textual's output."""

    def __init__(self, console) -> None:
        self.console = console
        self.cells: dict[tuple[int, int], tuple[str, object]] = {}

    def apply(self, renderable) -> bool:
        """Write `renderable` (a compositor update) to the cells; True when any cell changed."""
        changed = False
        x = y = 0
        for segment in self.console.render(renderable):
            if segment.control:
                for control in segment.control:
                    if control[0] == ControlType.CURSOR_MOVE_TO:
                        x, y = control[1], control[2]
                    elif control[0] == ControlType.HOME:
                        x = y = 0
                continue
            for char in segment.text:
                if char == "\n":
                    x, y = 0, y + 1
                    continue
                cell = (char, segment.style)
                if self.cells.get((x, y)) != cell:
                    self.cells[(x, y)] = cell
                    changed = True
                x += max(cell_len(char), 1)
        return changed


class Stamps:
    """Wraps the app's `_display`: renders each update to terminal output (as the terminal driver
    does) and notes when; `settle` then applies the updates to a model of the terminal's cells to
    tell which of them changed what the terminal shows."""

    def __init__(self, app) -> None:
        self.app = app
        self.frames: list[tuple[float, object]] = []
        self.screen = Screen(app.console)
        self.screen.apply(app.screen._compositor.render_full_update())  # what is on the terminal now
        self.original = app._display
        app._display = self.display

    def display(self, screen, renderable) -> None:
        if os.environ.get("TUI_BENCH_DEBUG"):
            print("   dirty:", sorted({type(w).__name__ + "#" + str(w.id) for w in screen._dirty_widgets}))
        self.original(screen, renderable)
        if renderable is None:
            return
        console = self.app.console
        if hasattr(renderable, "render_segments"):
            output = renderable.render_segments(console)
        else:
            output = "".join(segment.text for segment in console.render(renderable))
        if output:
            self.frames.append((time.perf_counter(), renderable))

    def settle(self, start: float) -> tuple[list[float], list[float]]:
        """(times of the repaints since `start`, times of those that changed a cell)."""
        times, changed = [], []
        for at, renderable in self.frames:
            if self.screen.apply(renderable) and at >= start:
                changed.append(at)
            if at >= start:
                times.append(at)
        self.frames.clear()
        return times, changed


async def measure(app, pilot, stamps: Stamps, keys: str | tuple, presses: int, results: dict, label: str) -> None:
    """Press `keys` in turn, `presses` times in all; note (first repaint, last repaint that
    changed what the terminal shows, last repaint) after each, in milliseconds."""
    times = results.setdefault(label, [])
    keys = (keys,) if isinstance(keys, str) else keys
    for number in range(presses):
        key = keys[number % len(keys)]
        await app.settled(pilot)
        stamps.settle(float("inf"))
        start = time.perf_counter()
        await pilot.press(key)
        await app.settled(pilot)
        after, changed = stamps.settle(start)
        if os.environ.get("TUI_BENCH_DEBUG"):
            print(label, key, [round((t - start) * 1000, 1) for t in after], "changed:",
                  [round((t - start) * 1000, 1) for t in changed])
        if changed:  # a key that changes nothing on the screen repaints nothing
            times.append(((after[0] - start) * 1000, (changed[-1] - start) * 1000, (after[-1] - start) * 1000))


async def run(args) -> dict[str, list[float]]:
    started = time.perf_counter()
    session = build_session(args.events, args.memory_mib)
    print(f"session: {len(session.log)} events, {session.engine.memory.data_len / 2**20:.0f} MiB of memory "
          f"({time.perf_counter() - started:.1f} s to build)")
    app = make_app(session, cursor_blink=False, cwd=str(ROOT))
    results: dict[str, list[float]] = {}
    async with app.run_test(size=(160, 45)) as pilot:
        started = time.perf_counter()
        await app.settled(pilot)
        print(f"TUI up with the log read: {time.perf_counter() - started:.2f} s")
        stamps = Stamps(app)
        timeline = app.query_one("#timeline")
        timeline.focus()
        await measure(app, pilot, stamps, "home", 1, {}, "warm-up")
        for key in ("down", "up", "pagedown", "pageup"):
            await measure(app, pilot, stamps, key, args.presses, results, f"timeline {key}")
        await measure(app, pilot, stamps, ("end", "home"), args.presses // 2, results, "timeline end/home")
        await measure(app, pilot, stamps, "1", 1, {}, "warm-up")
        app.show_tab("memory")
        app.query_one("#inspector").focus()
        await measure(app, pilot, stamps, "home", 1, {}, "warm-up")
        for key in ("down", "pagedown", "pageup"):
            await measure(app, pilot, stamps, key, args.presses, results, f"memory {key}")
        await measure(app, pilot, stamps, ("end", "home"), args.presses // 2, results, "memory end/home")
        app.query_one("#timeline").focus()
        await measure(app, pilot, stamps, ("2", "3", "4", "5", "6", "1"), args.presses, results,
                      "switch inspector tab")
        # for information (not a keypress of the budget): Enter in the timeline's filter
        for text in ("got", "import.unresolved action=error", "__wasm_call_ctors", ""):
            app.query_one("#timeline-filter").value = text
            app.query_one("#timeline-filter").focus()
            await measure(app, pilot, stamps, "enter", 1, FILTERS, f"filter {text or '(none)'!r}")
        app.bridge.stop()
    return results


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--memory-mib", type=int, default=256)
    p.add_argument("--presses", type=int, default=40)
    p.add_argument("--budget", type=float, default=50.0, help="milliseconds")
    args = p.parse_args(argv)
    os.chdir(ROOT)
    results = asyncio.run(run(args))
    worst = 0.0
    over = total = 0
    print(f"{'keypress':<24}{'n':>4}{'median':>9}{'p95':>8}{'worst':>8}   "
          f"{'first repaint: median':>22}{'worst':>7}   {'every repaint: worst':>21}")
    for label, stamps in results.items():
        if not stamps:
            continue
        first = sorted(t[0] for t in stamps)
        shown = sorted(t[1] for t in stamps)  # the budget: until the screen shows the key's effect
        last = sorted(t[2] for t in stamps)
        p95 = shown[min(len(shown) - 1, int(round(0.95 * (len(shown) - 1))))]
        worst = max(worst, shown[-1])
        over += sum(1 for t in shown if t > args.budget)
        total += len(shown)
        print(f"{label:<24}{len(shown):>4}{statistics.median(shown):>9.1f}{p95:>8.1f}{shown[-1]:>8.1f}   "
              f"{statistics.median(first):>22.1f}{first[-1]:>7.1f}   {last[-1]:>21.1f}")
    for label, stamps in FILTERS.items():
        if stamps:
            print(f"{label:<40} {stamps[0][1]:>8.1f} ms to filter {args.events} events and repaint (information)")
    verdict = "ok" if worst <= args.budget else "OVER BUDGET"
    print(f"keypress to repaint: worst {worst:.1f} ms, {over} of {total} presses over {args.budget:.0f} ms: {verdict}")
    return 0 if worst <= args.budget else 1


if __name__ == "__main__":
    raise SystemExit(main())
