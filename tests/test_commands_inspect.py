"""Inspection and memory commands give the values the samples' C sources define.

reloc (samples/src/reloc/reloc.c): own_data = 7; tbl is { &dep_data, &dep_array[2], dep_square,
&own_data, &own_static, own_fn, triple, "hello" } after relocation; dep_data = 42.
"""

from __future__ import annotations

import json

import pytest

from sessionkit import Captured, sample

TOOLCHAINS = ("clang16", "clang14", "emcc", "zig")


@pytest.fixture(params=TOOLCHAINS)
def reloc(request):
    c = Captured(sample(request.param, "reloc", "libreloc.so"))
    c.ok("dlopen libreloc.so")
    return c


def test_x_reads_relocated_data(reloc):
    engine = reloc.session.engine
    own = reloc.ok("dlsym own_data").data["value"]
    dep = reloc.ok("dlsym dep_data").data["value"]
    assert reloc.ok("x/1dw own_data").data["values"] == [7]
    assert reloc.ok("x/4xb own_data").data["values"] == [7, 0, 0, 0]
    words = reloc.ok("x/8xw tbl").data["values"]
    assert words[0] == dep and words[3] == own
    assert words[1] == reloc.ok("dlsym dep_array").data["value"] + 8
    assert words[5] == reloc.ok("dlsym own_fn").data["value"]          # a table slot
    string_address = words[7]
    assert engine.read_memory(string_address, 6) == b"hello\0"
    assert reloc.ok(f"x/s {string_address}").data["strings"][0]["string"] == "hello"
    annotated = reloc.ok("x/1a tbl").text
    assert "<libreloc_dep.so!dep_data>" in annotated
    # x without an address goes on after the last unit shown
    first = reloc.ok("x/2xw tbl")
    again = reloc.ok("x")
    assert again.data["address"] == first.data["address"] + 8


def test_set_mem_then_call_sees_it(reloc):
    before = reloc.ok("call get_dep_value").data["result"]
    assert before == 42
    result = reloc.ok("set mem dep_data 1000")
    assert result.data["before"] == (42).to_bytes(4, "little").hex()
    assert reloc.ok("call get_dep_value").data["result"] == 1000
    reloc.ok('set mem bss_array "ab\\0"')
    assert reloc.ok("x/s bss_array").data["strings"][0]["string"] == "ab"
    reloc.ok("set mem bss_array -u h 0x1234 0x5678")
    assert reloc.ok("x/2xh bss_array").data["values"] == [0x1234, 0x5678]


def test_lookup_address_symbol_and_slot(reloc):
    own = reloc.ok("dlsym own_data").data["value"]
    where = reloc.ok(f"lookup {own + 2}")
    assert where.data["address"]["text"] == "libreloc.so!own_data+0x2"
    slot = reloc.ok("dlsym own_fn").data["value"]
    info = reloc.ok(f"lookup -t {slot}")
    assert (info.data["module"], info.data["function"], info.data["type"]) == ("libreloc.so", "own_fn", "(i32) -> (i32)")
    sym = reloc.ok("lookup dep_data")
    assert sym.data["global"] == "libreloc_dep.so"
    assert sym.data["got"]["value"] == reloc.ok("dlsym dep_data").data["value"]
    assert sym.data["got"]["importers"] == ["libreloc.so"]


def test_info_modules_is_a_memory_map(reloc):
    data = reloc.ok("info modules").data
    mods = {m["name"]: m for m in data["modules"]}
    assert set(mods) == {"libreloc.so", "libreloc_dep.so"}
    assert mods["libreloc.so"]["needed"] == ["libreloc_dep.so"]
    assert all(m["state"] == "ready" and m["scope"] == "global" for m in mods.values())
    kinds = [r["kind"] for r in data["regions"]]
    assert kinds[:2] == ["null-guard", "stack"] and kinds.count("data") == 2
    starts = [r["start"] for r in data["regions"]]
    assert starts == sorted(starts)
    region = next(r for r in data["regions"] if r["owner"] == "libreloc.so")
    assert (region["start"], region["size"]) == (mods["libreloc.so"]["memory_base"], mods["libreloc.so"]["memory_size"])


def test_table_and_reloc_diff_agree_with_the_events(reloc):
    slots = {(s["module"], s["function"]) for s in reloc.ok("table").data}
    assert ("libreloc_dep.so", "dep_square") in slots and ("libreloc.so", "own_fn") in slots
    steps = reloc.ok("reloc diff libreloc.so").data
    logged = [e.event for e in reloc.session.log.entries if e.event.kind in ("reloc.apply", "reloc.start")
              and e.event.module == "libreloc.so"]
    assert [[(w["address"], w["old"], w["new"]) for w in s["words"]] for s in steps] == [list(e.changes) for e in logged]
    dep = reloc.ok("dlsym dep_data").data["value"]
    tbl = reloc.ok("dlsym tbl").data["value"]
    word = next(w for s in steps for w in s["words"] if w["address"] == tbl)
    assert word["new"] == dep and word["at"] == "libreloc.so!tbl" and "libreloc_dep.so!dep_data" in word["points_to"]


def test_set_got_and_global(reloc):
    own = reloc.ok("dlsym own_data").data["value"]
    changed = reloc.ok("set got dep_data own_data")
    assert changed.data["new"] == own
    assert reloc.ok("global GOT.mem.dep_data").data["value"] == own
    sp = reloc.ok("global __stack_pointer").data
    assert sp["mutable"] and sp["type"] == "i32"
    reloc.ok(f"global $sp {sp['value'] - 64}")
    assert reloc.ok("global __stack_pointer").data["value"] == sp["value"] - 64
    # the export behind a data symbol is an immutable global holding its offset from __memory_base
    assert "immutable i32 global" in reloc.fails("global libreloc.so!own_data 3").error


def test_info_got_flags_weak_zero_and_unresolved():
    c = Captured(sample("clang16", "weak", "libweak_undef.so"))
    c.ok("dlopen libweak_undef.so")
    rows = {r["symbol"]: r for r in c.ok("info got").data}
    assert rows["wu_data"]["value"] == 0 and "weak" in rows["wu_data"]["flags"]
    assert rows["wu_func"]["value"] == 0 and "weak" in rows["wu_func"]["flags"]
    c2 = Captured(sample("clang16", "nested_dlopen", "libneeds_helper.so"))
    c2.run("break import.unresolved action=error", "dlopen libneeds_helper.so", "info imports libneeds_helper.so", "continue")
    imports = json.dumps([r for r in c2.session.log.entries if r.event.kind == "import.unresolved"][0].to_json())
    assert "helper_data" in imports
    assert "GOT.mem.helper_data" in c2.out.getvalue() and "no GOT entry yet" in c2.out.getvalue()


def test_info_imports_and_exports_show_bindings():
    c = Captured(sample("clang16", "local", "liblocal_user.so"))
    c.ok("dlopen liblocal_a.so now,local")
    c.ok("dlopen liblocal_user.so")
    imports = {r["import"]: r for r in c.ok("info imports liblocal_user.so").data["imports"]}
    assert imports["env.shared_name"]["state"] == "lazy stub, unbound"   # a's is RTLD_LOCAL
    c.ok("dlopen liblocal_b.so")
    assert c.ok("call user_call").data["result"] == 2          # bound on the first call, to b
    imports = {r["import"]: r for r in c.ok("info imports liblocal_user.so").data["imports"]}
    assert imports["env.shared_name"]["state"] == "lazy stub, bound to liblocal_b.so"
    a = {r["name"]: r for r in c.ok("info exports liblocal_a.so").data["exports"]}
    assert a["shared_name"]["binding"] == "local"
    symbols = {(r["module"], r["binding"]) for r in c.ok("info symbols ^shared_name$").data}
    assert symbols == {("liblocal_a.so", "local"), ("liblocal_b.so", "global")}


def test_trap_prints_a_named_backtrace_and_the_session_goes_on():
    """A NULL function pointer in tbl.f_dep makes apply_dep_fn's call_indirect trap."""
    c = Captured(sample("clang16", "reloc", "libreloc.so"))
    c.ok("dlopen libreloc.so")
    c.ok("set mem tbl+8 0")
    result = c.fails("call apply_dep_fn 3")
    assert "apply_dep_fn trapped" in result.error
    assert result.details and "libreloc.so!apply_dep_fn" in result.details[0]
    assert "    #0 libreloc.so!apply_dep_fn" in c.err.getvalue()
    assert c.ok("call get_dep_value").data["result"] == 42


def test_lazy_binding_failure_names_the_symbol():
    c = Captured(sample("clang16", "missing_symbol", "libmissing_func.so"))
    c.ok("dlopen libmissing_func.so")
    result = c.fails("call call_missing")
    assert "undefined symbol 'does_not_exist' called from libmissing_func.so" in result.error
    assert c.ok("call no_call").data["result"] == 5
