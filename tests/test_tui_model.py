"""The TUI's parts that need no screen: the load tracker, the filters, the text helpers, the
worker-thread bridge to the session, and the rule that only the TUI imports Textual."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from catalogue import ROOT
from tuikit import make_session, relative_sample
from dldbg.tui.bridge import Answer, SessionBridge, SessionEnded, StateChanged
from dldbg.tui.model import LoadTracker, Shortener, event_address, hex_line


@pytest.fixture(autouse=True)
def in_repository(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_paths_are_shown_relative_to_the_current_folder():
    short = Shortener("/home/me/src")
    assert short("load /home/me/src/samples/x.so [RTLD_NOW]") == "load samples/x.so [RTLD_NOW]"
    assert short("searched folders: /home/me/src/a, /home/me/src") == "searched folders: a, ."
    assert short("/home/me/srcs/x and (/home/me/src)") == "/home/me/srcs/x and (.)"
    assert Shortener("/")("/etc/x") == "/etc/x"


def test_hex_lines():
    assert hex_line(0x100400, bytes(range(0x41, 0x51))) == (
        "0x00100400  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  ABCDEFGHIJKLMNOP")
    assert hex_line(0x10, b"\x00\xff") .startswith("0x00000010  00 ff")
    assert "··" in hex_line(0, None)


def run_session(path: str, *lines: str):
    session = make_session(path)
    for line in lines:
        session.execute(line)
    return session


def test_the_tracker_follows_each_modules_stages():
    session = run_session(relative_sample("clang16", "reloc", "libreloc.so"), "run")
    tracker = LoadTracker()
    tracker.feed(session.log.entries[:5])
    tracker.feed(session.log.entries[5:])
    assert set(tracker.modules) == {"libreloc.so", "libreloc_dep.so"}
    main = tracker.modules["libreloc.so"]
    assert main.status == "loaded" and main.requested_by is None
    stages = [s.name for s in main.ordered()]
    assert stages[0] == "read" and "needed" in stages and stages[-1] == "done"
    assert all(s.status == "done" for s in main.ordered())
    dep = tracker.modules["libreloc_dep.so"]
    assert dep.status == "loaded" and dep.requested_by == "libreloc.so"
    assert event_address(next(e.event for e in session.log.entries if e.event.kind == "memory.alloc")) == 0x100400


def test_the_tracker_marks_the_failed_stage_with_its_reason():
    session = run_session(relative_sample("clang16", "missing_symbol", "libmissing_data.so"), "run")
    tracker = LoadTracker()
    tracker.feed(session.log.entries)
    mod = tracker.modules["libmissing_data.so"]
    assert mod.status == "failed"
    failed = [s for s in mod.ordered() if s.status == "failed"]
    assert [s.name for s in failed] == ["imports"]
    assert "undefined symbol 'missing_data'" in failed[0].note


def test_a_stage_in_progress_and_the_stages_not_reached():
    session = make_session(relative_sample("clang16", "reloc", "libreloc.so"))
    session.execute("break memory.alloc module=libreloc_dep.so")
    seen = {}

    def wait(pause):
        tracker = LoadTracker()
        tracker.feed(session.log.entries)
        dep = tracker.modules["libreloc_dep.so"]
        seen["dep"] = [(s.name, s.status) for s in dep.ordered()]
        seen["main"] = tracker.modules["libreloc.so"].current
        pause.resume = __import__("dldbg.session.stepping", fromlist=["Resume"]).Resume("continue")

    session.wait = wait
    session.execute("run")
    assert seen["dep"][:3] == [("read", "done"), ("memory", "current"), ("table", "pending")]
    assert ("done", "pending") in seen["dep"]
    assert seen["main"] == "needed"


def test_timeline_filters_take_the_break_syntax_or_text():
    from dldbg.tui.app import filter_predicate

    session = run_session(relative_sample("clang16", "reloc", "libreloc.so"), "run")
    entries = session.log.entries
    got = filter_predicate("got module=libreloc_dep.so")
    assert all(e.event.kind.startswith("got.") and e.event.module == "libreloc_dep.so" for e in entries if got(e))
    text = filter_predicate("__WASM_CALL_CTORS")
    assert {e.event.kind for e in entries if text(e)} == {"ctor.call"}
    assert filter_predicate("  ") is None


class Notes:
    """A bridge sink that keeps the notes and can wait for one."""

    def __init__(self):
        self.items: list = []
        self.cond = threading.Condition()

    def __call__(self, note):
        with self.cond:
            self.items.append(note)
            self.cond.notify_all()

    def wait_for(self, predicate, what: str):
        deadline = time.monotonic() + 60  # a guard against hangs, not a measurement
        with self.cond:
            while True:
                found = [n for n in self.items if predicate(n)]
                if found:
                    return found[-1]
                if time.monotonic() > deadline:
                    raise AssertionError(f"no {what} among {self.items}")
                self.cond.wait(0.5)


def test_the_bridge_runs_the_session_on_its_thread_and_serves_a_stop():
    session = make_session(relative_sample("clang16", "nested_dlopen", "libneeds_helper.so"))
    bridge = SessionBridge(session)
    notes = Notes()
    threads = []
    bridge.start(notes)
    bridge.execute("catch load libneeds")
    bridge.execute("dlopen libneeds_helper.so")
    stop = notes.wait_for(lambda n: isinstance(n, StateChanged) and n.state.pause is not None, "stop")
    assert stop.state.pause.kind == "load.start" and stop.state.pause.breakpoint == 1
    assert stop.state.running == "dlopen libneeds_helper.so"

    # an inspection while stopped runs on the engine's thread
    bridge.ask(lambda s: (threading.current_thread().name, s.paused.entry.index), lambda v, e: threads.append(v))
    answer = notes.wait_for(lambda n: isinstance(n, Answer), "answer")
    answer.done(answer.value, answer.error)
    bridge.delivered()
    assert threads == [("dldbg-engine", stop.state.pause.index)]

    bridge.execute("continue")
    done = notes.wait_for(lambda n: isinstance(n, StateChanged) and n.state.failure_fresh and not n.state.busy,
                          "the failure")
    assert "undefined symbol 'helper_data'" in done.state.failure
    texts = "\n".join(item.text for item in bridge.take_output())
    assert "(dldbg) why" in texts and "hint: load libhelper.so first" in texts

    bridge.stop()
    notes.wait_for(lambda n: isinstance(n, SessionEnded), "the end")
    assert bridge.ended.is_set() and session.quitting


def test_quit_while_stopped_ends_the_session():
    session = make_session(relative_sample("clang16", "reloc", "libreloc.so"))
    bridge = SessionBridge(session)
    notes = Notes()
    bridge.start(notes)
    bridge.execute("catch load")
    bridge.execute("run")
    notes.wait_for(lambda n: isinstance(n, StateChanged) and n.state.pause is not None, "stop")
    bridge.stop()
    notes.wait_for(lambda n: isinstance(n, SessionEnded), "the end")
    assert session.quitting and not session.pauses


@pytest.mark.parametrize("argv", [
    ["inspect", "samples/out/clang16/reloc/libreloc.so"],
    ["run", "samples/out/clang16/reloc/libreloc.so", "--invoke", "get_ctor_state"],
    ["--batch", "-ex", "run", "samples/out/clang16/reloc/libreloc.so"],
], ids=["inspect", "run", "debugger-batch"])
def test_only_the_tui_imports_textual(argv):
    """`dldbg inspect`, `dldbg run` and the debugger without a terminal never import Textual."""
    code = ("import sys, io\nfrom dldbg.cli import main\n"
            f"status = main({argv!r}, stdout=io.StringIO(), stderr=io.StringIO())\n"
            "assert status == 0, status\n"
            "assert not [m for m in sys.modules if m == 'textual' or m.startswith('textual.')], 'textual imported'\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "DLDBG_CACHE_DIR": ""})
    assert done.returncode == 0, done.stderr
