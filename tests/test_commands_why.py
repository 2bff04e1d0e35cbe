"""`why` (the doctor plugin) on the samples' failures: who wanted which symbol, who defines it,
near names, RTLD_LOCAL visibility, signature mismatches and the paths searched."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from dldbg.wasm.binary import encode_custom_section, encode_uleb
from sessionkit import Captured, sample


def why(c):
    return c.ok("why")


def test_nothing_failed_yet():
    c = Captured()
    assert "nothing has failed" in c.fails("why").error


def test_data_symbol_defined_by_a_library_that_is_not_loaded():
    c = Captured(sample("clang16", "nested_dlopen", "libneeds_helper.so"))
    c.fails("dlopen libneeds_helper.so")
    report = why(c)
    [wanted] = report.data["symbols"]
    assert (wanted["symbol"], wanted["importer"], wanted["how"], wanted["weak"]) == \
        ("helper_data", "libneeds_helper.so", "GOT.mem", False)
    assert c.session.log[wanted["event"]].event.kind == "import.unresolved"
    assert [os.path.basename(s["path"]) for s in wanted["searchable"]] == ["libhelper.so"]
    assert wanted["definitions"] == []
    assert report.data["failure"]["stage"] == "imports"
    assert "defined by " in report.text and "libhelper.so (not loaded; data)" in report.text
    # following the advice fixes it
    c.ok("dlopen libhelper.so")
    c.ok("dlopen libneeds_helper.so")
    assert c.ok("call helper_value").data["result"] == 42


def test_undefined_everywhere():
    c = Captured(sample("clang16", "missing_symbol", "libmissing_data.so"))
    c.fails("dlopen libmissing_data.so")
    [wanted] = why(c).data["symbols"]
    assert wanted["symbol"] == "missing_data" and not wanted["searchable"] and not wanted["definitions"]
    assert any("nothing dldbg can find defines missing_data" in a for a in wanted["advice"])


def test_missing_needed_library_lists_the_paths_tried():
    c = Captured(sample("clang16", "needed_missing", "libneeds_missing.so"))
    c.fails("dlopen libneeds_missing.so")
    report = why(c)
    [missing] = report.data["files"]
    event = next(e.event for e in c.session.log.entries if e.event.kind == "needed.resolved")
    assert (missing["name"], missing["how"], missing["wanted_by"]) == ("libnot_there.so", "NEEDED", "libneeds_missing.so")
    assert missing["tried"] == list(event.tried) and missing["tried"]
    assert "not found; tried:" in report.text


def test_dlopen_of_a_missing_file_lists_the_candidates(tmp_path):
    c = Captured(sample("clang16", "reloc", "libreloc.so"), library_path=[str(tmp_path)])
    c.fails("dlopen libnothing.so")
    [missing] = why(c).data["files"]
    assert missing["how"] == "dlopen"
    assert missing["tried"][0] == os.path.join(str(tmp_path), "libnothing.so")


def test_rtld_local_definition_is_not_visible():
    c = Captured(sample("clang16", "local", "liblocal_user.so"))
    c.ok("dlopen liblocal_a.so now,local")
    c.ok("dlopen liblocal_user.so")
    assert "shared_name" in c.fails("call user_call").error
    [wanted] = why(c).data["symbols"]
    assert (wanted["symbol"], wanted["importer"], wanted["how"]) == ("shared_name", "liblocal_user.so", "function import")
    [definition] = wanted["definitions"]
    assert definition["module"] == "liblocal_a.so" and definition["visible"] is False
    assert any("RTLD_LOCAL" in p for p in wanted["problems"])
    assert [os.path.basename(s["path"]) for s in wanted["searchable"]] == ["liblocal_b.so"]


def test_dlsym_of_a_near_name():
    c = Captured(sample("clang16", "reloc", "libreloc.so"))
    c.ok("dlopen libreloc.so")
    c.fails("dlsym libreloc.so get_ctor_stat")
    [wanted] = why(c).data["symbols"]
    assert wanted["how"] == "dlsym" and wanted["importer"] == "libreloc.so"
    assert "get_ctor_state" in wanted["near"]


PROVIDER = '(module (func (export "sig_f") (param i32) (result i32) local.get 0))'
USER = '(module (import "env" "sig_f" (func $f (result i32))) (func (export "use_f") (result i32) call $f))'


def _side_module(folder, name: str, wat: str) -> str:
    (folder / f"{name}.wat").write_text(wat)
    subprocess.run(["wat2wasm", f"{name}.wat", "-o", f"{name}.wasm"], cwd=folder, check=True)
    body = (folder / f"{name}.wasm").read_bytes()
    mem_info = bytes([1]) + encode_uleb(4) + bytes(4)  # MEM_INFO: all sizes 0
    (folder / name).write_bytes(body[:8] + encode_custom_section("dylink.0", mem_info) + body[8:])
    return str(folder / name)


@pytest.mark.skipif(shutil.which("wat2wasm") is None, reason="wat2wasm (wabt) is needed to build the mismatch modules")
def test_signature_mismatch(tmp_path):
    _side_module(tmp_path, "libsig_provider.so", PROVIDER)
    user = _side_module(tmp_path, "libsig_user.so", USER)
    c = Captured(user)
    c.ok("dlopen libsig_provider.so")
    c.fails("dlopen libsig_user.so now")
    report = why(c)
    [wanted] = report.data["symbols"]
    assert (wanted["symbol"], wanted["importer"], wanted["import_type"]) == ("sig_f", "libsig_user.so", "() -> (i32)")
    assert any("signature mismatch" in p and "(i32) -> (i32)" in p for p in wanted["problems"])
    assert "problem: signature mismatch" in report.text


THREE_MISSING = r"""
extern int nonexistent_fn(int);
extern int nonexistent_data;
extern int nonexistent_addr_fn(void);
int use(int x) { return nonexistent_fn(x) + nonexistent_data; }
void *fn_address(void) { return (void *)&nonexistent_addr_fn; }
"""


def _clang_side_module(folder, name: str, source: str) -> str:
    if shutil.which("clang-16") is None or shutil.which("wasm-ld-16") is None:
        pytest.skip("clang-16 and wasm-ld-16 are needed to build this side module")
    (folder / "src.c").write_text(source)
    for cmd in (["clang-16", "--target=wasm32-unknown-emscripten", "-fPIC", "-fvisibility=default", "-O1", "-c", "src.c", "-o", "src.o"],
                ["wasm-ld-16", "--experimental-pic", "-shared", "src.o", "-o", name]):
        subprocess.run(cmd, cwd=folder, check=True, capture_output=True)
    return str(folder / name)


@pytest.mark.parametrize("mode", ["now", "lazy"])
def test_why_names_every_unresolved_symbol_of_the_module(tmp_path, mode):
    """issue 11, bug 12: a function, a GOT.mem and a GOT.func symbol nobody defines are all
    named, whichever the load fails at first (RTLD_NOW: the function; lazily: the data)."""
    c = Captured(_clang_side_module(tmp_path, "libthree.so", THREE_MISSING))
    c.fails(f"dlopen libthree.so {mode}")
    report = why(c)
    named = {(w["symbol"], w["how"]) for w in report.data["symbols"]}
    assert named == {("nonexistent_fn", "function import"), ("nonexistent_data", "GOT.mem"),
                     ("nonexistent_addr_fn", "GOT.func")}
    for symbol in ("nonexistent_fn", "nonexistent_data", "nonexistent_addr_fn"):
        assert f"{symbol}: wanted by libthree.so" in report.text


def test_why_gives_each_unresolved_symbol_its_candidates_near_names_folders_and_signature(tmp_path):
    """issue 11, deliverable 4: a library in a -L folder defines the function with another
    type, the GOT.func function, and a near name of the data; each symbol says so, with the
    folders searched."""
    (tmp_path / "app").mkdir()
    (tmp_path / "deps").mkdir()
    importer = _clang_side_module(tmp_path / "app", "libuser.so", THREE_MISSING)
    _clang_side_module(tmp_path / "deps", "libprovider.so", r"""
int nonexistent_fn(void) { return 1; }
int nonexistent_addr_fn(void) { return 2; }
int nonexistent_dat = 3;
""")
    c = Captured(importer, library_path=[str(tmp_path / "deps")])
    c.fails("dlopen libuser.so now")
    report = why(c)
    symbols = {w["symbol"]: w for w in report.data["symbols"]}
    assert set(symbols) == {"nonexistent_fn", "nonexistent_data", "nonexistent_addr_fn"}
    provider = str(tmp_path / "deps" / "libprovider.so")
    fn = symbols["nonexistent_fn"]
    assert fn["import_type"] == "(i32) -> (i32)"
    assert fn["searchable"] == [{"path": provider, "kind": "func", "type": "() -> (i32)"}]
    assert any("signature mismatch" in p and "() -> (i32)" in p and "(i32) -> (i32)" in p for p in fn["problems"])
    assert symbols["nonexistent_addr_fn"]["how"] == "GOT.func"
    assert [s["path"] for s in symbols["nonexistent_addr_fn"]["searchable"]] == [provider]
    data = symbols["nonexistent_data"]
    assert data["how"] == "GOT.mem" and data["searchable"] == [] and "nonexistent_dat" in data["near"]
    for w in symbols.values():
        assert str(tmp_path / "deps") in w["searched"] and str(tmp_path / "app") in w["searched"]
    text = report.text
    for name in symbols:
        assert f"{name}: wanted by libuser.so" in text
    assert text.count("  searched: ") == 3 and "near names: nonexistent_dat" in text
