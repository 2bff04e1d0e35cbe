"""The debugger's commands through the node backend's protocol (issue 14, Deliver 3 and 4): `info
symbols`, `call` in V8, `dlopen`/`dlsym` through the glue's own loader (with stops inside),
`why` from the glue's own error, `$sp`, `set got`, `set table`, the main module in `info
modules`, `--limit` and node's stdin.

Expected values come from the programs' own output under plain node (scenario.json, recorded by
scripts/emscripten-conformance --record-samples), from their sources' constants as that output
shows them, or from the glue file itself (its `___stack_pointer` and `___memory_base`
literals), never from dldbg.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from catalogue import OUT, scenario

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="no node")

LOADTIME = OUT / "emcc" / "em_loadtime"
DLOPEN = OUT / "emcc" / "em_dlopen"


def node_stdout(name: str) -> str:
    return scenario(name)["emscripten_programs"][0]["node"]["stdout"]


def debug(folder, *commands, stop: str):
    """`dldbg --node main.js --batch --json` stopped at `stop`, running `commands` there; returns
    (results by command, failures by command, every JSON object, the process)."""
    argv = [sys.executable, "-m", "dldbg", "--node", "main.js", "--batch", "--json", "-ex", f"break {stop}", "-ex",
            "run"]
    for c in commands:
        argv += ["-ex", c]
    proc = subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=60)
    objs = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    ok = {o["command"]: o["result"] for o in objs if o.get("type") == "result" and o["ok"]}
    failed = {o["command"]: o["error"] for o in objs if o.get("type") == "result" and not o["ok"]}
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stdout
    return ok, failed, objs, proc


def glue_literal(folder, name: str) -> int:
    """The initial value the glue gives its WebAssembly.Global `name` (the main.js text)."""
    text = (folder / "main.js").read_text()
    return int(re.search(rf"var {name} = new WebAssembly\.Global\(\{{[^}}]*\}}, (\d+)\);", text).group(1))


def test_info_symbols_call_and_the_main_module():
    """At the start-up load of greet: the side modules' symbols with live slots, calls in V8 that
    give what the program prints, `$sp` and the main module as the glue set them up."""
    sp = glue_literal(LOADTIME, "___stack_pointer")
    ok, failed, _, proc = debug(LOADTIME, "info symbols util_", "info modules", "call greet_sum 4", "print $sp",
                                "set var $sp = $sp - 16", "print $sp", "set var $sp = $sp + 16",
                                stop="load.done module=libem_greet.so")
    assert not failed, failed
    rows = {r["name"]: r for r in ok["info symbols util_"]}
    assert set(rows) == {"util_counter", "util_label", "util_scale"}
    assert rows["util_label"]["kind"] == "data" and rows["util_scale"]["kind"] == "func"
    assert all(r["module"] == "libem_util.so" and r["binding"] == "global" for r in rows.values())
    assert re.fullmatch(r"slot \d+", rows["util_scale"]["value"])
    stdout = node_stdout("em_loadtime")
    assert f"sum {ok['call greet_sum 4']['result']}," in stdout  # "sum 30, counter 101, ..."
    assert ok["print $sp"]["value"] == sp - 16  # the last one: after `set var $sp = $sp - 16`
    mods = {m["name"]: m for m in ok["info modules"]["modules"]}
    assert mods["main.wasm"]["main"] and mods["main.wasm"]["state"] == "ready"
    assert mods["main.wasm"]["memory_base"] == glue_literal(LOADTIME, "___memory_base")
    assert mods["main.wasm"]["table_base"] == glue_literal(LOADTIME, "___table_base")
    # after greet's constructor, twice (the same layout each time): greet's string (its address
    # from the first run), the label at its address (util's constructor prints "util ctor"),
    # util_scale called by its slot
    stop = "ctor.call module=libem_greet.so"
    text = debug(LOADTIME, 'call greet "world"', stop=stop)[0]['call greet "world"']["result"]
    label, string = f"x/s {rows['util_label']['value']}", f"x/s {text:#x}"
    by_slot = f"call {rows['util_scale']['value'].split()[1]} 14"
    ok3, _, _, _ = debug(LOADTIME, 'call greet "world"', label, string, by_slot, stop=stop)
    assert ok3['call greet "world"']["result"] == text
    assert ok3[label]["strings"][0]["string"] == "util"
    assert ok3[string]["strings"][0]["string"] == "hello, world (1070)"  # the program's own line
    assert f"written by main: {ok3[by_slot]['result']}\n" in stdout  # util_scale(14)
    assert proc.returncode == 0
    assert proc.stdout.count("hello, world (1070)") == 1  # the program's own run is unchanged


def test_dlopen_and_dlsym_through_the_glue_while_stopped():
    """At the program's own dlopen of the plugin (the runtime is up): the glue's dlsym answers
    as the program's calls do, a missing library fails with the glue's message, a trap in a
    called function is an error and the program goes on; `set table` interposes a slot the
    program itself then calls through its dlsym."""
    ok, failed, objs, proc = debug(
        DLOPEN, "call plugin_name", "dlsym libem_plugin.so plugin_value", "dlsym libem_plugin.so no_such_symbol",
        "dlopen libem_async.so", "dlsym main_exported", "call main_exported", "dlclose 1",
        stop="load.done module=libem_plugin.so")
    stdout = node_stdout("em_dlopen")
    assert 'no_such_symbol: 0, dlerror: ' + failed["dlsym libem_plugin.so no_such_symbol"] + "\n" in stdout
    assert ok["dlopen libem_async.so"]["module"] == "libem_async.so"
    assert "async ctor\n" in proc.stdout.split("name em_plugin")[0]  # its constructor ran at the dlopen
    assert f"main_exported via dlopen(NULL): {ok['call main_exported']['result']}\n" in stdout
    assert "not available with the node backend" in failed["dlclose 1"]
    name_at = ok["call plugin_name"]["result"]
    value_at = ok["dlsym libem_plugin.so plugin_value"]["value"]
    slot = ok["dlsym main_exported"]["value"]
    ok2, failed2, objs2, proc2 = debug(
        DLOPEN, f"x/s {name_at:#x}", f"x/dw {value_at:#x}", "dlopen libnot_there_at_all.so",
        f"call plugin_apply {slot} 0", f"set table {slot} plugin_loads", "call main_exported",
        stop="load.done module=libem_plugin.so")
    assert f"name {ok2[f'x/s {name_at:#x}']['strings'][0]['string']}, " in stdout  # "name em_plugin, ..."
    assert f"value {ok2[f'x/dw {value_at:#x}']['values'][0]}\n" in stdout  # "value 42"
    assert failed2["dlopen libnot_there_at_all.so"].startswith("Could not load dynamic lib: libnot_there_at_all.so")
    enoent = "ENOENT: no such file or directory, open 'libnot_there_at_all.so'"
    assert enoent in failed2["dlopen libnot_there_at_all.so"]
    # main_exported () -> i32 called as plugin_apply's int (*)(int): V8's trap, as a call error
    assert "trapped: null function or function signature mismatch" in failed2[f"call plugin_apply {slot} 0"]
    trap = [o for o in objs2 if o.get("type") == "event" and o["event"]["kind"] == "call.trap"]
    assert trap and trap[0]["event"]["function"] == "libem_plugin.so!plugin_apply"
    # the slot now holds plugin_loads: `call main_exported` and the program's own dlsym(self,
    # "main_exported") reach it ("loads 1" is what plugin_loads returns under node)
    assert "loads 1\n" in stdout
    assert ok2["call main_exported"]["result"] == 1
    assert "main_exported via dlopen(NULL): 1\n" in proc2.stdout
    assert "main returns" in proc2.stdout
    assert proc2.returncode == 1  # --batch: commands failed (the dlopen and the trapping call, as expected)


def test_a_dlopen_typed_while_stopped_stops_inside_and_finishes():
    """The request loop is re-entrant: a breakpoint inside the dlopen's load stops there (a
    second level), `x` reads the library being loaded, `finish` runs to its load.done."""
    ok, failed, objs, proc = debug(
        LOADTIME, "break instantiate module=libem_plugin.so", "dlopen ../em_dlopen/libem_plugin.so now,local",
        "x/dw libem_plugin.so!plugin_value", "finish", "info modules", "continue", "call plugin_loads",
        stop="load.done module=libem_greet.so")
    stops = [o["stop"] for o in objs if o.get("type") == "stop"]
    assert [(s["event"]["kind"], s["event"]["module"], s["level"]) for s in stops] == [
        ("load.done", "libem_greet.so", 1), ("instantiate", "libem_plugin.so", 2), ("load.done", "libem_plugin.so", 2)]
    assert stops[1]["command"] == "dlopen ../em_dlopen/libem_plugin.so now,local"
    assert f"value {ok['x/dw libem_plugin.so!plugin_value']['values'][0]}\n" in node_stdout("em_dlopen")
    mods = {m["name"]: m for m in ok["info modules"]["modules"]}
    assert mods["libem_plugin.so"]["state"] == "ready" and mods["libem_plugin.so"]["scope"] == "local"
    assert ok["dlopen ../em_dlopen/libem_plugin.so now,local"]["module"] == "libem_plugin.so"
    assert ok["call plugin_loads"]["result"] == 0  # before the runtime starts: its constructor waits in __ATINIT__
    assert "plugin ctor (load 1)" in proc.stdout and "hello, world (1070)" in proc.stdout


def test_set_got_redirects_the_programs_data_access():
    """GOT.mem.util_counter pointed at util_label: util's constructor increments the word there
    ("util" read as a little-endian int) and prints it."""
    ok, failed, objs, proc = debug(LOADTIME, "set got util_counter libem_util.so!util_label",
                                   stop="load.done module=libem_util.so")
    assert not failed, failed
    updates = [o["event"] for o in objs if o.get("type") == "event" and o["event"]["kind"] == "got.update"
               and o["event"]["provider"] == "(debugger)"]
    assert len(updates) == 1 and updates[0]["symbol"] == "util_counter"
    assert f"util ctor: counter {int.from_bytes(b'util', 'little') + 1}\n" in proc.stdout


def test_why_explains_the_glues_undefined_symbol():
    ok, failed, _, _ = debug(LOADTIME, "dlopen ../missing_symbol/libmissing_data.so", "why",
                             stop="load.done module=libem_greet.so")
    assert "undefined symbol `missing_data`" in failed["dlopen ../missing_symbol/libmissing_data.so"]  # the glue's
    report = ok["why"]
    assert report["failure"]["module"] == "libmissing_data.so"
    wanted = report["symbols"][0]
    assert (wanted["symbol"], wanted["importer"], wanted["how"]) == ("missing_data", "libmissing_data.so", "GOT.mem")
    # a function import is bound lazily by the glue's stub: the call fails, `why` names it
    ok, failed, _, _ = debug(LOADTIME, "dlopen ../missing_symbol/libmissing_func.so",
                             "info imports libmissing_func.so", "info imports libem_greet.so", "call call_missing",
                             "why", stop="ctor.call module=libem_greet.so")
    rows = {r["import"]: r for r in ok["info imports libmissing_func.so"]["imports"]}
    assert (rows["env.does_not_exist"]["how"], rows["env.does_not_exist"]["state"]) == ("lazy", "lazy stub, unbound")
    assert rows["env.memory"]["provider"] == "(glue)"
    rows = {r["import"]: r for r in ok["info imports libem_greet.so"]["imports"]}
    # greet's printf is the main module's (emcc -O1 makes it iprintf), util_scale util's, through
    # the glue's JavaScript stub (the main module imports it too)
    assert (rows["env.iprintf"]["how"], rows["env.iprintf"]["provider"]) == ("global-scope", "main.wasm")
    assert (rows["env.util_scale"]["how"], rows["env.util_scale"]["provider"]) == ("glue-stub", "libem_util.so")
    assert "trapped: Aborted(Assertion failed: undefined symbol `does_not_exist`" in failed["call call_missing"]
    wanted = ok["why"]["symbols"][0]
    assert (wanted["symbol"], wanted["importer"], wanted["how"]) == ("does_not_exist", "libmissing_func.so",
                                                                     "function import")
    # emscripten's loader ignores RTLD_NOW and there is no --bind-now under node: no such advice
    lazy = [a for a in wanted["advice"] if a.startswith("function imports bind lazily")]
    assert lazy and "RTLD_NOW" not in lazy[0] and "whatever the dlopen mode" in lazy[0], wanted["advice"]


@pytest.mark.skipif(shutil.which("wasm-objdump") is None, reason="no wabt")
def test_limits_apply_to_the_modules_the_glue_reads():
    """A side module larger than --limit file_size, or with more imports than --limit imports,
    fails its load in the glue with dldbg's message; the program does not run on as if nothing
    happened."""
    size = os.path.getsize(LOADTIME / "libem_greet.so")
    proc = subprocess.run([sys.executable, "-m", "dldbg", "run", "--node", "--limit", f"file_size={size - 1}",
                           "main.js"], cwd=LOADTIME, capture_output=True, text=True, timeout=60)
    assert f"libem_greet.so: read: the module is {size} bytes, larger than the file_size limit of {size - 1}" \
        in proc.stderr
    assert proc.returncode not in (0, 3) and "hello, world" not in proc.stdout
    imports = subprocess.run(["wasm-objdump", "-j", "Import", "-x", "libem_greet.so"], cwd=LOADTIME,
                             capture_output=True, text=True).stdout
    count = int(re.search(r"Import\[(\d+)\]", imports).group(1))  # wabt's count, not dldbg's
    proc = subprocess.run([sys.executable, "-m", "dldbg", "run", "--node", "--limit", f"imports={count - 1}",
                           "main.js"], cwd=LOADTIME, capture_output=True, text=True, timeout=60)
    assert f"libem_greet.so: read: {count} imports is above the limit of {count - 1}" in proc.stderr
    assert "hello, world" not in proc.stdout


def test_node_reads_dev_null_in_the_debugger_and_stdin_under_run():
    from dldbg.commands import builtin_registry
    from dldbg.linker.node import node_engine_factory
    from dldbg.linker.node.engine import NodeEngine
    from dldbg.session import Session

    def watch(engine, seen):
        def listener(event):
            if event.kind == "load.start" and not seen:
                seen.append(os.readlink(f"/proc/{engine.process.pid}/fd/0"))
        return listener

    debugger, run = [], []
    cwd = os.getcwd()
    os.chdir(LOADTIME)
    read_end, write_end = os.pipe()  # dldbg's stdin: a pipe (not the /dev/null a test may have)
    saved = os.dup(0)
    os.dup2(read_end, 0)
    try:
        session = Session("main.js", registry=builtin_registry(), engine_factory=node_engine_factory(no_cache=True))
        session.engine.listeners.append(watch(session.engine, debugger))
        session.run_program()
        engine = NodeEngine("main.js", cache_dir=None)  # `dldbg run --node`
        engine.listeners.append(watch(engine, run))
        engine.run_program("main.js", ["main.js"])
        ours = os.readlink("/proc/self/fd/0")
    finally:
        os.dup2(saved, 0)
        for fd in (saved, read_end, write_end):
            os.close(fd)
        os.chdir(cwd)
    assert debugger == ["/dev/null"]
    assert run == [ours] and ours.startswith("pipe:")


#: every command that reads or changes the stopped program, as a user would type them at em_loadtime
SWEEP = ["dlsym util_scale", "dlsym 1 util_counter", "dlsym libem_greet.so greet", "dlerror", 'call strlen "hello"',
         "call 27 7", "watch util_counter", "watch GOT.mem.util_counter", "where", "info got libem_util.so",
         "info got --unresolved", "info symbols . --kind data", "info imports 1", "info exports 1",
         "info dylink libem_util.so", "lookup util_counter+4", "lookup -t 1", "lookup libem_util.so!util_scale",
         "table 1-8", "events -3", "reloc diff", "x/2a 0x501790", "x/3dw libem_util.so!util_counter", "x",
         "set mem util_counter -u b 1 2 3 4", "global __stack_pointer", "global libem_util.so!__tls_base",
         "global GOT.mem.util_counter", "global $sp 5248864", "p &util_counter", "p/x GOT.mem.util_counter",
         "p util_scale", "p table[27]", "p {u8} &util_counter", "set var util_counter = 5",
         "set var GOT.mem.util_counter = &util_counter", "set var table[3] = greet_sum", "set table 3 27",
         "display table[3]", "info functions util", "info variables ^util", "dlclose 1", "info modules"]


def test_every_command_answers_or_refuses_clearly():
    """Deliver 4: the commands reach the node backend through the engine interface; each one
    works or fails with a DldbgError's one line (debug() checks: no traceback, no internal
    error), and no front end, command or plugin knows which backend runs."""
    ok, failed, _, proc = debug(LOADTIME, *SWEEP, stop="load.done module=libem_greet.so")
    assert set(failed) == {"dlsym util_scale", "global libem_util.so!__tls_base", "dlclose 1"}, failed
    assert "dlsym LIBRARY util_scale" in failed["dlsym util_scale"]  # the glue's own dlsym would abort here
    assert ok["lookup -t 1"]["function"] == "__stdio_seek" and ok["lookup -t 1"]["module"] == "main.wasm"
    root = OUT.parents[1]
    for folder in ("dldbg/commands", "dldbg/session", "dldbg/tui", "dldbg/repl", "plugins"):
        for path in (root / folder).rglob("*.py"):
            text = path.read_text()
            assert not re.search(r"(from|import) \S*linker\.node|isinstance\([^)]*Node", text), path



def test_abort_fails_the_load_in_the_glue():
    """`abort` at a stop inside a dlopen typed while stopped: the glue's load fails (the module
    is failed, the dlopen an error) and the program runs on as under node; at a stop of the
    program's own start-up load: that load fails in the glue, as a failing library's would."""
    ok, failed, objs, proc = debug(LOADTIME, "break instantiate module=libem_plugin.so",
                                   "dlopen ../em_dlopen/libem_plugin.so", "abort", "info modules",
                                   stop="ctor.call module=libem_greet.so")
    assert "aborted by the debugger" in failed["dlopen ../em_dlopen/libem_plugin.so"]
    fails = [o["event"] for o in objs if o.get("type") == "event" and o["event"]["kind"] == "load.fail"]
    assert [f["module"] for f in fails] == ["libem_plugin.so"] and "aborted by the debugger" in fails[0]["reason"]
    assert {m["name"]: m["state"] for m in ok["info modules"]["modules"]}["libem_plugin.so"] == "failed"
    assert "plugin ctor" not in proc.stdout
    program = "".join(line for line in proc.stdout.splitlines(True) if not line.startswith("{"))
    assert program == node_stdout("em_loadtime")  # the program's own run, unchanged
    _, _, objs, proc = debug(LOADTIME, "abort", stop="instantiate module=libem_util.so")
    assert "Error: libem_util.so: instantiate: aborted by the debugger" in proc.stderr  # the glue's uncaught error
    assert "hello, world" not in proc.stdout
    assert [o["result"]["exit_status"] for o in objs if o.get("command") == "run"] != [3]
