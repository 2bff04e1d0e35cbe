#!/usr/bin/env python3
"""Refresh the example sessions in docs/guide.md (`--check`: exit 1 if they are out of date).

Each block between `<!-- session NAME -->` and `<!-- end session -->` is the real output of the
debugger run below (stdout and stderr interleaved as a terminal shows them), with the
repository's path removed so that it reads the same on every machine.
"""

from __future__ import annotations

import sys

from docblocks import ROOT, SESSION_BLOCK, fill, refresh, run_dldbg, transcript

sys.path.insert(0, str(ROOT))

TARGET = ROOT / "docs" / "guide.md"
NESTED = "samples/out/clang16/nested_dlopen"

SESSIONS = {
    "failing-dlopen": ["--batch", "--echo", "--no-cache", "-x", "plugins/examples/failing-dlopen.dldbg",
                       f"{NESTED}/libneeds_helper.so"],
    "nested-dlopen": ["--batch", "--echo", "--no-cache", "-ex", "dlopen libdlopener.so",
                      "-ex", "break got.create module=libnested_target.so symbol=target_data",
                      "-ex", "call open_and_call 21", "-ex", "where", "-ex", "info modules", "-ex", "info got",
                      "-ex", "finish", "-ex", "x/1dw target_data", "-ex", "x/1a target_data_ptr", "-ex", "continue",
                      "-ex", "table", f"{NESTED}/libdlopener.so"],
    "gdb-habits": ["--batch", "--echo", "--no-cache", "-ex", "watch tbl", "-ex", "display/x GOT.mem.dep_data",
                   "-ex", "break got.create symbol=dep_.*", "-ex", "condition 2 $_event.got == \"GOT.func\"",
                   "-ex", "commands 2", "-ex", "silent", "-ex", "p $_event.symbol", "-ex", "continue", "-ex", "end",
                   "-ex", "dlopen libreloc.so", "-ex", "p tbl", "-ex", "p tbl == &dep_data", "-ex", "continue",
                   "-ex", "info variables dep_", "-ex", "info functions get_dep", "-ex", "p/x own_data + 1",
                   "-ex", "set var own_data = 8", "-ex", "call get_own_data_ptr_ok",
                   "samples/out/clang16/reloc/libreloc.so"],
    "interposition": ["--batch", "--echo", "--no-cache", "-ex", "dlopen libfptr_b.so", "-ex", "call fa_call_through_ptr",
                      "-ex", "p fa", "-ex", "set table fa fb", "-ex", "call fa_call_through_ptr", "-ex", "call fa 5",
                      "-ex", "table", "-ex", "events table.set", "samples/out/clang16/fptr/libfptr_b.so"],
}


def run(argv: list[str]) -> str:
    text = run_dldbg(argv).replace(str(ROOT) + "/", "").replace(str(ROOT), ".")
    return transcript([a for a in argv if a != "--no-cache"], text)


if __name__ == "__main__":
    raise SystemExit(refresh(TARGET, lambda text: fill(text, SESSION_BLOCK, lambda name: run(SESSIONS[name]))))
