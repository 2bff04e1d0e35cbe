"""Every registered command runs on a loaded sample (pwndbg's test_commands idea): a typical use
succeeds, and running it bare never ends in an internal error or kills the session."""

from __future__ import annotations

import pytest

from dldbg.commands import builtin_registry
from dldbg.plugins import make_plugin_manager
from sessionkit import Captured, sample

RELOC = ("clang16", "reloc", "libreloc.so")

#: command -> (setup lines, lines that must succeed).  Stepping commands run while stopped.
STOPPED = ["catch load libreloc.so$", "dlopen libreloc.so"]
SMOKE = {
    "run": ([], ["run"]),
    "dlopen": ([], ["dlopen libreloc_dep.so", "dlopen libreloc.so RTLD_NOW|RTLD_GLOBAL"]),
    "dlsym": (["run"], ["dlsym own_data", "dlsym libreloc.so own_fn", "dlsym 1 dep_data", "dlsym RTLD_DEFAULT get_ctor_ok"]),
    "dlclose": (["dlopen libreloc.so", "dlopen libreloc_dep.so"], ["dlclose 1", "dlclose libreloc.so"]),
    "dlerror": (["run"], ["dlerror"]),
    "call": (["run"], ["call get_ctor_state", "call apply_dep_fn 7", "call libreloc.so!get_half_own", "call 2 3"]),
    "break": ([], ["break got symbol=dep_data", "break reloc module=libreloc.so", "break * stage=ctors", "b -t -d load"]),
    "tbreak": ([], ["tbreak load.done"]),
    "catch": ([], ["catch load", "catch unload libreloc", "catch fail -t"]),
    "delete": (["break got", "break load"], ["delete 1", "delete"]),
    "enable": (["break got -d"], ["enable 1", "enable"]),
    "disable": (["break got"], ["disable 1", "disable"]),
    "info breakpoints": (["break got", "catch load"], ["info breakpoints", "info break"]),
    "step": (STOPPED, ["step", "step 3", "continue"]),
    "next": (STOPPED, ["next", "next", "continue"]),
    "finish": (STOPPED, ["finish", "continue"]),
    "continue": (STOPPED, ["continue"]),
    "abort": (STOPPED, ["abort"]),
    "where": (STOPPED, ["where", "bt", "continue"]),
    "info modules": (["run"], ["info modules", "vmmap", "image list", "info sharedlibrary"]),
    "info got": (["run"], ["info got", "info got libreloc.so", "info got --unresolved", "got"]),
    "info symbols": (["run"], ["info symbols dep_", "info symbols . --kind data"]),
    "info imports": (["run"], ["info imports libreloc.so", "info imports 1"]),
    "info exports": (["run"], ["info exports libreloc.so"]),
    "info dylink": (["run"], ["info dylink libreloc.so"]),
    "lookup": (["run"], ["lookup own_data", "lookup own_data+4", "lookup -t 2", "lookup 0x100400", "lookup libreloc.so!own_fn"]),
    "table": (["run"], ["table", "table 1-3", "table 2"]),
    "events": (["run"], ["events", "events -5", "events 0-3", "events got module=libreloc.so", "events load -v"]),
    "reloc diff": (["run"], ["reloc diff", "reloc diff libreloc.so"]),
    "x": (["run"], ["x/4xw own_data", "x", "x/16xb tbl", "x/2a tbl", "x/s $sp-0", "x/3dw libreloc.so+0", "x/2fw own_data"]),
    "set mem": (["run"], ["set mem own_data 7", "set mem own_data -u b 1 2 3 4", "set mem bss_array \"hi\\0\""]),
    "set got": (["run"], ["set got own_data 0x100400", "set got own_fn 3"]),
    "global": (["run"], ["global __stack_pointer", "global $sp 0x8000", "global GOT.mem.own_data"]),
    "help": ([], ["help", "help x", "help info got", "help breakpoints", "x -h"]),
    "source": ([], []),  # tested in test_cli_debugger (needs a file)
    "echo": ([], ["echo hello", "echo"]),
    "quit": ([], ["quit"]),
    "info plugins": ([], ["info plugins"]),
    "why": (["dlopen libnot_here.so"], ["why"]),
    "trace": ([], ["trace all", "trace", "trace help", "trace libs,got", "trace off"]),
    "export": (["run"], ["export jsonl {tmp}/e.jsonl", "export chrome {tmp}/t.json", "export jsonl {tmp}/g.jsonl got"]),
    "audit": ([], ["audit libreloc.so"]),
    "start": ([], ["start", "continue"]),
    "print": (["run"], ["print own_data", "p &own_data", "p/x GOT.mem.dep_data", "p table[2]", "p $sp", "p 1 + 2 * 3",
                        "p", "inspect own_fn"]),
    "set var": (["run"], ["set var own_data = 8", "set variable {{u8}} &own_data = 1", "set var GOT.mem.own_data = 0",
                          "set var $sp = $sp", "set var table[2] = own_fn"]),
    "set table": (["run"], ["set table 2 own_fn", "set table 2 libreloc.so!own_fn", "set table 1 2"]),
    "display": (["run"], ["display own_data", "display/x tbl", "display"]),
    "undisplay": (["run", "display own_data", "display tbl"], ["undisplay 1", "undisplay"]),
    "info display": (["run", "display own_data"], ["info display"]),
    "info functions": (["run"], ["info functions", "info functions dep_"]),
    "info variables": (["run"], ["info variables", "info variables '^own'"]),
    "watch": ([], ["watch own_data", "watch 0x100400", "watch GOT.mem.dep_data", "run"]),
    "condition": (["break got"], ["condition 1 $_event.value > 0", "condition 1"]),
    "commands": (["break load.done"], ["commands 1", "info got", "end", "commands", "end", "run"]),
    "set auto-load safe-path": ([], ["set auto-load safe-path /tmp:~/src", "set auto-load safe-path"]),
    "add-auto-load-safe-path": ([], ["add-auto-load-safe-path /tmp"]),
    "show auto-load safe-path": (["add-auto-load-safe-path /tmp"], ["show auto-load safe-path"]),
}

#: setup lines that fail on purpose
EXPECTED_FAILURES = {"abort": ("dlopen libreloc.so",), "why": ("dlopen libnot_here.so",)}


def test_every_command_has_a_smoke_case():
    pm = make_plugin_manager(entry_points=False)
    registry = builtin_registry()
    pm.hook.dldbg_register_commands(registry=registry)
    assert set(SMOKE) == set(registry.commands)


@pytest.mark.parametrize("name", sorted(SMOKE))
def test_command_runs(name, tmp_path):
    setup, lines = SMOKE[name]
    c = Captured(sample(*RELOC))
    results = c.run(*setup, *(line.format(tmp=tmp_path) for line in lines))
    failed = [(r.command, r.error) for r in results if not r.ok and r.command not in EXPECTED_FAILURES.get(name, ())]
    assert not failed, (failed, c.err.getvalue())
    if name == "quit":
        assert c.session.quitting
    if lines and name not in ("quit", "source"):
        assert len(results) >= len(lines)


@pytest.mark.parametrize("name", sorted(SMOKE))
def test_command_bare_never_crashes(name):
    c = Captured(sample(*RELOC))
    c.run("run")
    result = c.session.execute(name)
    assert result is None or result.ok or (result.error and "internal error" not in result.error), result.error
    assert "Traceback" not in c.err.getvalue()
    if name != "quit":
        assert c.ok("echo still here").text == "still here"
