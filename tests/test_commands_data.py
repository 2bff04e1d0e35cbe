"""gdb's data commands over linker objects: print, set var, display, info functions/variables,
watch, condition, commands, start, set table (interposition), help on a command prefix.

Expected values come from the samples' C sources (samples/src/reloc, samples/src/fptr):
own_data = 7, dep_data = 42, tbl.p_dep = &dep_data, fa(x) = x + 100, fb(x) = x * 2.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from sessionkit import Captured, sample

RELOC = ("clang16", "reloc", "libreloc.so")
FPTR = ("clang16", "fptr", "libfptr_b.so")


def loaded(which=RELOC):
    c = Captured(sample(*which))
    c.ok(f"dlopen {which[2]}")
    c.take_out()
    return c


def test_print_symbol_address_got_global_slot_and_arithmetic():
    c = loaded()
    engine = c.session.engine
    address = engine.dlsym(0, "own_data")
    r = c.ok("print own_data")
    assert r.data["value"] == 7 and r.text.startswith("$1 = 7 ") and f"{address:#x}" in r.text
    r = c.ok("p &own_data")
    assert r.data["value"] == address and r.text == f"$2 = {address:#x} <libreloc.so!own_data>"
    r = c.ok("p/x GOT.mem.dep_data")
    assert r.data["value"] == engine.dlsym(0, "dep_data") and r.text.startswith(f"$3 = {engine.dlsym(0, 'dep_data'):#x}")
    assert c.ok("p *GOT.mem.dep_data").data["value"] == 42
    slot = engine.dlsym(0, "dep_square")
    r = c.ok("p dep_square")
    assert r.data["value"] == slot and "libreloc_dep.so!dep_square (i32) -> (i32)" in r.text
    assert "dep_square" in c.ok(f"p table[{slot}]").text
    # tbl.p_dep was relocated to &dep_data; the string field is the 8th word
    assert c.ok("p tbl == &dep_data").data["value"] == 1
    assert c.ok("p/s *(&tbl + 28)").text.endswith('"hello"')
    assert c.ok("p/x own_data + 4 * 2").text.endswith("= 0xf")
    assert c.ok("p/t 5").text.endswith("= 101") and c.ok("p/o 8").text.endswith("= 010")
    assert c.ok("p/c 65").text.endswith("= 65 'A'")
    assert c.ok("p -7 / 2").data["value"] == -3  # C division
    assert c.ok("p own_data-1").data["value"] == 6 and c.ok("p libreloc.so!own_data*2").data["value"] == 14
    assert c.ok("p {u8} (&own_data)").data["value"] == 7
    n = len(c.session.values)
    assert c.ok(f"p ${n} + 1").data["value"] == c.session.values[n - 1] + 1
    assert c.ok("p $sp").data["what"] == "global"
    c.fails("p no_such_symbol")
    c.fails("p 1 +")
    c.fails("p/q 1")


def test_set_var_writes_memory_got_globals_and_slots():
    c = loaded()
    engine = c.session.engine
    c.ok("set var own_data = 5")
    assert c.ok("call get_own_data_ptr_ok").data["result"] == 0  # *tbl.p_own == 7 no longer holds
    c.ok("set var own_data = 7")
    assert c.ok("call get_own_data_ptr_ok").data["result"] == 1
    c.ok("set var {i16} &own_data = -1")
    assert engine.read_memory(engine.dlsym(0, "own_data"), 4) == b"\xff\xff\x00\x00"
    c.fails("set var {u8} &own_data = 0x1ffff")
    old = engine.got.value("dep_data")
    c.ok("set var GOT.mem.dep_data = &own_data")
    assert engine.got.value("dep_data") == engine.dlsym(0, "own_data")
    c.ok(f"set var GOT.mem.dep_data = {old}")
    sp = c.ok("p $sp").data["value"]
    c.ok("set var $sp = $sp - 16")
    assert c.ok("p $sp").data["value"] == sp - 16
    c.fails("set var 1 + 2 = 3")
    c.fails("set var own_data")
    kinds = [e.event.kind for e in c.session.log.entries]
    assert kinds.count("memory.set") == 3 and kinds.count("got.update") >= 2


def test_set_table_interposes_for_later_calls_and_is_an_event():
    c = loaded(FPTR)
    engine = c.session.engine
    assert c.ok("call fa_call_through_ptr").data["result"] == 105
    slot = engine.dlsym(0, "fa")
    r = c.ok("set table fa fb")
    assert r.data == {"slot": slot, "old": "libfptr_a.so!fa", "new": "libfptr_b.so!fb", "old_type": "(i32) -> (i32)",
                      "type": "(i32) -> (i32)"}
    assert c.ok("call fa_call_through_ptr").data["result"] == 10  # a function pointer to fa now reaches fb
    assert c.ok("call fa 5").data["result"] == 10  # and so does `call fa`
    assert "interposed by the debugger; was libfptr_a.so!fa" in c.ok(f"table {slot}").text
    events = [e.event for e in c.session.log.entries if e.event.kind == "table.set"]
    assert [(e.slot, e.old, e.new) for e in events] == [(slot, "libfptr_a.so!fa", "libfptr_b.so!fb")]
    c.ok(f"set var table[{slot}] = libfptr_a.so!fa")  # undo, by MODULE!NAME through set var
    assert c.ok("call fa 5").data["result"] == 105
    assert "interposed" not in c.ok(f"table {slot}").text
    c.fails("set table fa own_data_does_not_exist")
    c.fails("set table 100000 fb")


def test_info_functions_and_variables_across_modules():
    c = loaded()
    r = c.ok("info functions dep")
    assert {(row["module"], row["name"]) for row in r.data} >= {("libreloc_dep.so", "dep_square"),
                                                               ("libreloc.so", "apply_dep_fn")}
    assert all("dep" in row["name"] for row in r.data)
    r = c.ok("info variables")
    names = {(row["module"], row["name"]) for row in r.data}
    assert {("libreloc.so", "own_data"), ("libreloc.so", "tbl"), ("libreloc_dep.so", "dep_data")} <= names
    assert "libreloc_dep.so:" in r.text
    assert c.ok("info functions zzz_nothing").data == []


def test_watch_stops_at_the_data_segment_the_relocation_and_a_set():
    c = Captured(sample(*RELOC))
    results = c.run("watch own_data", "watch tbl", "dlopen libreloc.so", "where", "continue", "where", "continue",
                    "set var own_data = 9", "where", "continue")
    out = c.out.getvalue()
    assert "Watchpoint 1, event #" in out and "instantiate (instantiate) libreloc.so" in out
    assert "own_data: old value = 0, new value = 7" in out
    assert "Watchpoint 2, event #" in out and "reloc.apply (reloc) libreloc.so" in out
    tbl = c.session.engine.dlsym(0, "dep_data")
    assert f"tbl: old value = 0, new value = {tbl}" in out
    assert "memory.set" in out and "own_data: old value = 7, new value = 9" in out
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]


def test_condition_and_commands_on_a_breakpoint():
    c = Captured(sample(*RELOC))
    c.run("break got.create", "condition 1 $_event.symbol == \"dep_data\"", "commands 1", "silent",
          "p/x GOT.mem.dep_data", "continue", "end", "info breakpoints", "dlopen libreloc.so")
    out = c.out.getvalue()
    assert "stop only if $_event.symbol == \"dep_data\"" in out and "> p/x GOT.mem.dep_data" in out
    assert "Breakpoint 1," not in out  # silent
    assert out.count("$1 = 0x") == 1  # stopped once: at dep_data's update, not at dep_square's
    assert c.session.breakpoints.get(1).hits == 1
    assert "handle 2: libreloc.so" in out
    c.fails("condition 9 1")


def test_display_is_shown_at_every_stop():
    c = Captured(sample(*RELOC))
    c.run("display/x GOT.mem.dep_data", "break got.create symbol=dep_.*", "dlopen libreloc.so", "continue", "undisplay 1",
          "continue")
    out = c.out.getvalue()
    assert out.count("1: /x GOT.mem.dep_data = 0x") == 2  # two stops before undisplay, none after
    assert c.ok("info display").text == "no displays"


def test_start_stops_at_the_first_event_of_run():
    c = Captured(sample(*RELOC))
    c.run("start", "where", "continue")
    out = c.out.getvalue()
    assert "Breakpoint 1, event #0 load.start (read)" in out
    assert "loaded libreloc_dep.so, libreloc.so" in out or "loaded libreloc.so" in out
    assert len(c.session.breakpoints) == 0


def test_help_lists_the_subcommands_of_a_prefix():
    c = Captured()
    r = c.ok("help info")
    names = [cmd["name"] for cmd in r.data["commands"]]
    assert "info functions" in names and "info got" in names and "info variables" in names
    assert "set table" in [cmd["name"] for cmd in c.ok("help set").data["commands"]]
    assert "Assign to an lvalue" in c.ok("help set var").text
    c.fails("help nosuchthing")


def test_json_batch_prints_structured_values(capsys):
    from dldbg.cli import main

    status = main(["--batch", "--json", "--no-cache", "-ex", "dlopen libreloc.so", "-ex", "p/x own_data",
                   "-ex", "info variables own", "-ex", "set var own_data = 8", sample(*RELOC)])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    results = {r["command"]: r for r in lines if r["type"] == "result"}
    assert status == 0
    assert results["p/x own_data"]["result"]["value"] == 7 and results["p/x own_data"]["result"]["text"] == "0x7 " \
        "(libreloc.so!own_data: " + results["p/x own_data"]["result"]["location"] + ")"
    assert results["info variables own"]["result"][0]["name"] == "own_data"
    assert any(r["type"] == "event" and r["event"]["kind"] == "memory.set" for r in lines)


def test_watch_stops_at_the_constructor_that_writes(tmp_path):
    """A constructor's write is seen at its ctor.call event (a side module built with clang 16)."""
    if shutil.which("clang-16") is None or shutil.which("wasm-ld-16") is None:
        pytest.skip("clang-16 and wasm-ld-16 are needed to build this side module")
    (tmp_path / "ctor.c").write_text("static volatile int seed = 42;  /* not folded into the data segment */\n"
                                     "int ctor_value = 5;\n"
                                     "__attribute__((constructor)) static void init(void) { ctor_value = seed; }\n")
    for cmd in (["clang-16", "--target=wasm32-unknown-emscripten", "-fPIC", "-fvisibility=default", "-O1", "-c", "ctor.c",
                 "-o", "ctor.o"],
                ["wasm-ld-16", "--experimental-pic", "-shared", "ctor.o", "-o", "libctor.so"]):
        subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True)
    c = Captured(str(tmp_path / "libctor.so"))
    c.run("watch ctor_value", "dlopen libctor.so", "continue")
    out = c.out.getvalue()
    assert "ctor_value: old value = 0, new value = 5" in out  # the data segment, at instantiate
    assert "ctor.call (ctors) libctor.so" in out and "ctor_value: old value = 5, new value = 42" in out
