"""The progress line of long reads and compiles (dldbg.progress): shown on a terminal only,
with the share of the expected compile time, and erased when the work ends."""

from __future__ import annotations

import io
import threading
import time

from sessionkit import sample
from dldbg.cli import main
from dldbg.events import LoadStarted, ModuleCompiled, ModuleRead, ModuleTranslated
from dldbg.progress import ProgressLine


class Terminal(io.StringIO):
    def __init__(self):
        super().__init__()
        self.painted = threading.Event()

    def isatty(self):
        return True

    def write(self, text):
        if "compiling" in text:
            self.painted.set()
        return super().write(text)


def test_a_compile_shows_its_share_of_the_expected_time_then_the_line_is_erased():
    term = Terminal()
    progress = ProgressLine(term, delay=0.0)
    progress(LoadStarted("libbig.so", "/x/libbig.so", "RTLD_NOW", None, 1))
    progress(ModuleRead("libbig.so", "/x/libbig.so", 3 * 1048576, "0" * 64, None, 2.0))
    assert term.painted.wait(10)
    progress(ModuleCompiled("libbig.so", "/x/libbig.so", "compiled", 1.5))
    text = term.getvalue()
    assert "dldbg: compiling libbig.so (3.0 MiB): " in text and "% (" in text and "of about 2.0 s)" in text
    assert text.endswith("\r\x1b[K")  # erased


def test_cached_code_and_quick_work_show_nothing():
    term = Terminal()
    progress = ProgressLine(term)  # the real delay: one second
    progress(LoadStarted("lib.so", "/x/lib.so", "RTLD_NOW", None, 1))
    progress(ModuleRead("lib.so", "/x/lib.so", 100, "0" * 64, None, 0.0))
    progress(ModuleCompiled("lib.so", "/x/lib.so", "disk-cache", 0.001))
    time.sleep(0.05)
    assert term.getvalue() == ""
    assert not ProgressLine.wanted(io.StringIO())


def test_run_without_a_terminal_prints_no_progress(tmp_path, monkeypatch):
    monkeypatch.setenv("DLDBG_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("DLDBG_NO_TIER_UP", "1")
    out, err = io.StringIO(), io.StringIO()
    path = sample("clang16", "reloc", "libreloc.so")
    assert main(["run", path, "--invoke", "get_ctor_state"], stdout=out, stderr=err) == 0
    assert err.getvalue() == ""


def test_a_legacy_module_shows_its_translation_then_its_compile():
    term = Terminal()
    progress = ProgressLine(term, delay=0.0)
    progress(LoadStarted("libeh.so", "/x/libeh.so", "RTLD_NOW", None, 1))
    progress(ModuleRead("libeh.so", "/x/libeh.so", 1048576, "0" * 64, None, None, "legacy"))
    deadline = time.monotonic() + 10
    while "translating libeh.so (1.0 MiB) to exnref" not in term.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    progress(ModuleTranslated("libeh.so", "/x/libeh.so", "legacy", "exnref", 2.0, False, "wasm-opt",
                              1048576, "1" * 64, None))
    assert term.painted.wait(10)  # "compiling libeh.so"
    progress(ModuleCompiled("libeh.so", "/x/libeh.so", "compiled", 1.0))
    assert "translating libeh.so (1.0 MiB) to exnref" in term.getvalue()
    assert term.getvalue().endswith("\r\x1b[K")
