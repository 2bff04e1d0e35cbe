"""The debugger's command line: `dldbg [--repl|--tui] [options] FILE [-- ARGS]` with -x/-ex in
order, --batch exit status, --json lines, and no prompt without a terminal."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path


from dldbg.cli import main
from sessionkit import sample

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "plugins" / "examples" / "failing-dlopen.dldbg"


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    status = main(argv, stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_batch_json_dlopen_and_call():
    """The brief's example: every line is JSON; the results carry the handle and the value."""
    status, out, err = run(["--batch", "-ex", "dlopen libreloc.so", "-ex", "call apply_dep_fn 3", "--json",
                            sample("clang16", "reloc", "libreloc.so")])
    assert status == 0, err
    objects = [json.loads(line) for line in out.splitlines()]
    assert all(o["schema"] == 1 for o in objects)
    results = [o for o in objects if o["type"] == "result"]
    assert [(r["command"], r["ok"]) for r in results] == [("dlopen libreloc.so", True), ("call apply_dep_fn 3", True)]
    assert results[0]["result"]["module"] == "libreloc.so" and results[0]["result"]["handle"] == 2
    assert results[1]["result"]["result"] == 9
    events = [o["event"] for o in objects if o["type"] == "event"]
    assert [e["index"] for e in events] == list(range(len(events)))
    assert events[0]["kind"] == "load.start" and events[-1]["kind"] == "load.done"


def test_x_and_ex_run_in_command_line_order(tmp_path):
    script = tmp_path / "cmds.dldbg"
    script.write_text("# a comment\necho two\n\necho three\n")
    status, out, err = run(["--batch", "-ex", "echo one", "-x", str(script), "-ex", "echo four"])
    assert status == 0, err
    assert out.splitlines() == ["one", "two", "three", "four"]


def test_batch_status_is_1_when_a_command_failed_and_the_rest_still_run():
    status, out, err = run(["--batch", "-ex", "echo before", "-ex", "dlopen libnope.so", "-ex", "echo after",
                            sample("clang16", "reloc", "libreloc.so")])
    assert status == 1
    assert out.splitlines() == ["before", "after"]
    assert err.startswith("error: could not load dynamic lib: libnope.so")
    assert run(["--batch", "-ex", "echo fine"])[0] == 0


def test_json_stop_objects_and_errors():
    status, out, _ = run(["--batch", "--json", "-ex", "catch load", "-ex", "dlopen libreloc_dep.so", "-ex", "where",
                          "-ex", "continue", "-ex", "frobnicate", sample("clang16", "reloc", "libreloc.so")])
    assert status == 1
    objects = [json.loads(line) for line in out.splitlines()]
    stop = next(o for o in objects if o["type"] == "stop")["stop"]
    assert stop["reason"] == "breakpoint" and stop["breakpoint"] == 1 and stop["event"]["kind"] == "load.start"
    types = [o["type"] for o in objects]
    assert types.index("stop") < [i for i, o in enumerate(objects) if o.get("command") == "where"][0]
    bad = next(o for o in objects if o.get("command") == "frobnicate")
    assert bad["ok"] is False and "unknown command" in bad["error"]


def test_command_file_stops_inside_a_failing_dlopen():
    """The example session: stop at each stage of a failing dlopen, see the unresolved symbol and
    `why`, change memory while stopped, reload, call with a string argument."""
    program = sample("clang16", "nested_dlopen", "libneeds_helper.so")
    status, out, err = run(["--batch", "--json", "-x", str(EXAMPLE), program])
    objects = [json.loads(line) for line in out.splitlines()]
    stops = [o["stop"]["event"] for o in objects if o["type"] == "stop"]
    assert [(s["kind"], s["stage"]) for s in stops] == [
        ("load.start", "read"), ("memory.alloc", "memory"), ("import.resolve", "imports"), ("import.unresolved", "imports")]
    assert stops[-1]["field"] == "helper_data" and stops[-1]["action"] == "error"
    ordered = [o for o in objects if o["type"] == "result"]
    results = {o["command"]: o for o in ordered}
    assert results["set mem greeting_len 42"]["ok"]
    assert results["x/1dw greeting_len"]["result"]["values"] == [42]
    why = results["why"]["result"]
    assert why["symbols"][0]["symbol"] == "helper_data"
    assert [os.path.basename(s["path"]) for s in why["symbols"][0]["searchable"]] == ["libhelper.so"]
    assert results["call helper_value"]["result"]["result"] == 42
    assert results['call string_length "hello, wasm"']["result"]["result"] == 11
    failed = [o["command"] for o in ordered if not o["ok"]]
    assert failed == ["dlopen libneeds_helper.so"]      # the failing dlopen itself; the rest worked
    assert status == 1


def test_text_transcript_of_the_example():
    program = sample("clang16", "nested_dlopen", "libneeds_helper.so")
    status, out, err = run(["--batch", "--echo", "-x", str(EXAMPLE), program])
    assert "(dldbg) why" in out
    assert "helper_data: wanted by libneeds_helper.so as GOT.mem (not weak)" in out
    assert "Breakpoint 2, event #" in out and "import.unresolved (imports) libneeds_helper.so" in out
    assert "error: could not load dynamic lib: libneeds_helper.so" in err


def test_startup_and_file_errors():
    status, out, err = run(["--batch", "-ex", "echo x", "/nonexistent/libzz.so"])
    assert status == 1 and "libzz.so: read:" in err and out == "x\n"
    status, out, err = run(["--batch", "-x", "/nonexistent/cmds"])
    assert status == 1 and "/nonexistent/cmds" in err


def test_program_arguments_need_a_main_program():
    status, out, err = run(["--batch", "-ex", "run", sample("clang16", "reloc", "libreloc.so"), "--", "a1"])
    assert status == 1 and "side module, not a program" in err


def test_usage_and_help():
    assert run(["--batch", "--frobnicate"])[0] == 2
    status, out, _ = run(["--help-debugger"])
    assert status == 0 and "-ex CMD" in out and "Examples:" in out


def test_trace_option_prints_ld_debug_lines():
    status, out, err = run(["--batch", "--trace=got", "-ex", "dlopen libreloc.so", sample("clang16", "reloc", "libreloc.so")])
    assert status == 0
    got_lines = [line for line in err.splitlines() if line.startswith("dldbg[got]: ")]
    assert got_lines and all("GOT." in line for line in got_lines)
    assert not any(line.startswith("dldbg[libs]") for line in err.splitlines())


def console_script() -> list[str]:
    script = Path(sys.executable).with_name("dldbg")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dldbg"]


def test_without_a_terminal_it_reads_commands_from_stdin_and_never_prompts():
    """stdin is a pipe: dldbg runs the command line's commands, then stdin's lines (as gdb does),
    does not prompt, and exits at the pipe's end (also with --tui, which needs a terminal)."""
    proc = subprocess.Popen([*console_script(), "--nx", "--tui", "-ex", "echo done", sample("clang16", "reloc", "libreloc.so")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate("dlopen libreloc.so\np own_data\n", timeout=120)  # a guard, not a measurement
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert out.splitlines()[0] == "done" and "handle 2: libreloc.so" in out and "$1 = 7 " in out
    assert "(dldbg)" not in out
    assert "--tui needs a terminal" in err


def test_batch_never_reads_stdin():
    """--batch exits after the command line's commands even when stdin is a pipe that stays open."""
    proc = subprocess.Popen([*console_script(), "--nx", "--batch", "-ex", "echo done", sample("clang16", "reloc", "libreloc.so")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        status = proc.wait(timeout=120)  # a guard, not a measurement: it hangs forever if it reads stdin
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdin.close()
    assert status == 0 and proc.stdout.read() == "done\n"


def test_init_files_home_first_then_the_current_folder_only_where_allowed(tmp_path, monkeypatch):
    """gdb's ~/.gdbinit and auto-load safe-path: ./.dldbginit runs only when ~/.dldbginit allowed its folder."""
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(project)
    (project / ".dldbginit").write_text("echo from the project\n")
    (home / ".dldbginit").write_text("echo from home\n")
    program = sample("clang16", "reloc", "libreloc.so")
    status, out, err = run(["--batch", "-ex", "echo from -ex", program])
    assert status == 0 and out == "from home\nfrom -ex\n"
    assert "declined by your auto-load safe-path" in err and f"add-auto-load-safe-path {project.resolve()}" in err
    (home / ".dldbginit").write_text(f"echo from home\nadd-auto-load-safe-path {project}\n")
    status, out, err = run(["--batch", "-ex", "echo from -ex", program])
    assert out.splitlines() == ["from home", f"auto-load safe-path: {project}", "from the project", "from -ex"], err
    status, out, err = run(["--batch", "--nx", "-ex", "echo from -ex", program])
    assert out == "from -ex\n" and err == ""
