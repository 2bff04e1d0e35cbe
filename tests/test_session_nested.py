"""A stop inside a dlopen that wasm code made through a host import.

libdlopener.so (samples/src/nested_dlopen) imports env.dlopen and env.dlsym; the debugger's
host serves them with the engine's dl API (dldbg.session.host).  open_and_call(x) dlopens
libnested_target.so, looks up target_twice and calls it through the table.  The session must
stop at a GOT event of that nested load while open_and_call's wasm frames are live, serve
inspection commands there (memory reads included), step on, and let the program finish with the
right result (2 * x).
"""

from __future__ import annotations

import os
import signal
import threading

import pytest
import wasmtime

from dldbg.session.host import DebuggerHost
from dldbg.wasm.types import FuncType
from sessionkit import Captured, sample

TOOLCHAINS = ("clang16", "clang14", "emcc")


@pytest.mark.parametrize("toolchain", TOOLCHAINS)
def test_stop_at_got_event_of_nested_load_then_finish(toolchain):
    opener = sample(toolchain, "nested_dlopen", "libdlopener.so")
    c = Captured(opener)
    results = c.run(
        "dlopen libdlopener.so",
        "break got.create module=libnested_target.so symbol=target_data",
        "tbreak reloc module=libnested_target.so",  # reloc.apply (LLD 16) or reloc.start (LLD 14)
        "call open_and_call 21",
        # stopped at got.create GOT.mem.target_data, inside the host import
        "where",
        "info got libnested_target.so",
        "x/1dw target_data",
        "step",
        "continue",
        # stopped after the nested module's data relocations
        "x/1xw target_data_ptr",
        "x/1dw target_data",
        "continue",
        "call target_value",
    )
    by_command = {r.command: r for r in results}
    stops = [line for line in c.out.getvalue().splitlines() if ", event #" in line]
    assert stops[0].startswith("Breakpoint 1, event #") and "got.create (imports) libnested_target.so" in stops[0]

    where = by_command["where"].data
    assert where["stopped"] is True
    stop = where["stops"][0]
    assert stop["frames"] == ["libnested_target.so"]
    assert stop["command"] == "call open_and_call 21"   # wasm code made this dlopen
    assert stop["event"]["symbol"] == "target_data"
    # the stop happened while `call open_and_call 21` was running: wasm code made this dlopen
    assert c.session.log[stop["index"]].event.module == "libnested_target.so"

    got = by_command["info got libnested_target.so"].data
    entry = next(r for r in got if r["symbol"] == "target_data")
    target = c.session.engine.module_named("libnested_target.so")
    assert entry["value"] == target.memory_base + _data_offset(target, "target_data")

    first_read, second_read = [r for r in results if r.command == "x/1dw target_data"]
    assert first_read.ok and second_read.ok
    assert first_read.data["address"] == entry["value"]
    assert first_read.data["values"] == [0]          # the region is zeroed until instantiation
    assert second_read.data["values"] == [21]        # int target_data = 21, after instantiation
    ptr = by_command["x/1xw target_data_ptr"].data
    assert ptr["values"] == [entry["value"]]         # target_data_ptr = &target_data, relocated

    call = by_command["call open_and_call 21"]
    assert call.ok, call.error
    assert call.data["result"] == 42
    assert by_command["call target_value"].data["result"] == 21
    assert c.session.pauses == [] and c.session.failed_commands == 0


def _data_offset(mod, name: str) -> int:
    exp = mod.wasm.export_map[name]
    return mod.wasm.globals[exp.index - mod.wasm.num_imported_globals].init.evaluate()


def test_next_and_finish_inside_the_nested_load():
    opener = sample("clang16", "nested_dlopen", "libdlopener.so")
    c = Captured(opener)
    results = c.run(
        "dlopen libdlopener.so",
        "catch load nested_target",
        "call open_and_call 5",
        "next", "next", "finish",
        "where",
        "continue",
    )
    stops = [line for line in c.out.getvalue().splitlines() if ", event #" in line and not line.startswith("[")]
    assert stops[0].startswith("Breakpoint 1") and "load.start" in stops[0]
    assert stops[1].startswith("Next") and "(read)" not in stops[1]
    assert stops[-1].startswith("Finish") and "load.done" in stops[-1]
    assert next(r for r in results if r.command == "call open_and_call 5").data["result"] == 10


def test_string_argument_goes_through_guest_memory():
    """`call f "text"` copies the string into guest memory (NUL-terminated) and passes its address."""
    opener = sample("clang16", "nested_dlopen", "libdlopener.so")
    c = Captured(opener)
    c.ok("dlopen libdlopener.so")
    result = c.ok('call string_length "hello, wasm"')
    assert result.data["result"] == 11
    address = result.data["strings"][0]["address"]
    assert c.session.engine.read_memory(address, 12) == b"hello, wasm\0"
    escaped = c.ok(r'call string_length "a\tb\x41\n"')
    assert escaped.data["result"] == 5


def test_failing_dlopen_from_wasm_is_explained():
    """open_named("libnot_here.so"): the dlopen wasm made fails, returns NULL, and `why` lists
    the paths that were searched."""
    opener = sample("clang16", "nested_dlopen", "libdlopener.so")
    c = Captured(opener)
    c.ok("dlopen libdlopener.so")
    assert c.ok('call open_named "libnot_here.so"').data["result"] == 0
    why = c.ok("why")
    files = why.data["files"]
    assert files[0]["name"] == "libnot_here.so"
    assert os.path.join(os.path.dirname(opener), "libnot_here.so") in files[0]["tried"]
    assert "libnot_here.so: dlopen of dlopen, not found" in why.text or "not found; tried" in why.text
    handle = c.ok('call open_named "libnested_target.so"').data["result"]
    assert handle == c.session.engine.module_named("libnested_target.so").handle


class SpinHost(DebuggerHost):
    """DebuggerHost plus env.notify_started, which tells the test that spin() is running."""

    started = threading.Event()

    def resolve_import(self, module, imp):
        if imp.module == "env" and imp.field == "notify_started" and module.wasm.types[imp.desc] == FuncType((), ()):
            func = wasmtime.Func(self._engine.store, wasmtime.FuncType([], []), lambda: self.started.set())
            return func, "test host"
        return super().resolve_import(module, imp)


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals need the main thread")
def test_ctrl_c_stops_running_wasm_and_the_session_goes_on():
    """SIGINT while spin() loops in wasm (no host calls): the epoch interrupt stops it, the call
    fails with `interrupted`, and the session keeps working."""
    opener = sample("clang16", "nested_dlopen", "libdlopener.so")
    SpinHost.started = threading.Event()
    c = Captured(opener, host_factory=lambda session: SpinHost())
    c.ok("dlopen libdlopener.so")

    def press_ctrl_c():
        SpinHost.started.wait()
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=press_ctrl_c, daemon=True)
    thread.start()
    result = c.fails("call spin")
    thread.join()
    assert "interrupted" in result.error
    assert any("libdlopener.so!spin" in frame for frame in result.details)
    assert c.ok("call opener_id").data["result"] == 7
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_stale_interrupt_does_not_stop_the_next_load():
    """Ctrl-C with no wasm running bumps the epoch; the next command's wasm (here LLD 14 start
    functions, which run inside instantiation) must still run."""
    c = Captured(sample("clang14", "reloc", "libreloc.so"))
    c.session.interrupt()
    c.ok("dlopen libreloc.so")
    assert c.ok("call get_ctor_state").data["result"] == 46


CTOR_SPIN = """
void notify_started(void);
volatile int counter;
__attribute__((constructor)) static void forever(void) { notify_started(); for (;;) counter++; }
int answer(void) { return 42; }
"""


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals need the main thread")
def test_ctrl_c_stops_a_looping_constructor_of_a_dlopen(tmp_path):
    """The session's SIGINT watcher starts when the loader is about to call the constructor
    (Engine.before_wasm), not with the command: Ctrl-C still stops a constructor that loops
    without host calls; the load fails and is rolled back, and the session goes on."""
    import shutil
    import subprocess

    for tool in ("clang-16", "wasm-ld-16"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not found (scripts/test installs clang-16 and lld-16)")
    (tmp_path / "ctorspin.c").write_text(CTOR_SPIN)
    subprocess.run(["clang-16", "--target=wasm32-unknown-emscripten", "-fPIC", "-fvisibility=default", "-O1", "-c",
                    "ctorspin.c", "-o", "ctorspin.o"], cwd=tmp_path, check=True)
    subprocess.run(["wasm-ld-16", "--experimental-pic", "-shared", "--unresolved-symbols=import-dynamic",
                    "ctorspin.o", "-o", "libctorspin.so"], cwd=tmp_path, check=True)
    SpinHost.started = threading.Event()
    c = Captured(str(tmp_path / "libctorspin.so"), host_factory=lambda session: SpinHost())

    def press_ctrl_c():
        SpinHost.started.wait()
        os.kill(os.getpid(), signal.SIGINT)

    forced = []

    def rescue():  # had SIGINT not reached the loop, the test must fail, not hang
        forced.append(True)
        c.session.engine.interrupt()

    thread = threading.Thread(target=press_ctrl_c, daemon=True)
    thread.start()
    watchdog = threading.Timer(20, rescue)
    watchdog.start()
    try:
        result = c.fails("dlopen libctorspin.so")
    finally:
        watchdog.cancel()
    thread.join()
    assert not forced, "SIGINT did not stop the constructor"
    assert "interrupted" in result.error and "ctors" in result.error, result.error
    assert c.session.engine.module_named("libctorspin.so") is None or \
        c.session.engine.module_named("libctorspin.so").state == "failed"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert c.ok("info modules")
