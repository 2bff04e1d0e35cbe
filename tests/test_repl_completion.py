"""Completion without a terminal: `suggest()` over the registry and a loaded session."""

from __future__ import annotations

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from dldbg.repl.completion import SessionData, suggest
from dldbg.repl.prompt import DldbgCompleter
from sessionkit import Captured, sample


@pytest.fixture(scope="module")
def loaded():
    c = Captured(sample("clang16", "reloc", "libreloc.so"))
    c.ok("dlopen libreloc.so")
    c.ok("break got")
    return c


def words(c, text):
    return [s.text for s in suggest(c.session.registry, SessionData(c.session), text)]


def test_first_word_is_a_command(loaded):
    first = words(loaded, "")
    assert {"break", "call", "dlopen", "info", "x", "why", "trace"} <= set(first)
    assert words(loaded, "dlo") == ["dlopen"]


def test_second_word_of_multiword_commands(loaded):
    assert {"got", "modules", "symbols", "imports", "exports"} <= set(words(loaded, "info "))
    assert words(loaded, "info g") == ["got"]
    assert words(loaded, "set ") == ["auto-load", "got", "mem", "table", "var", "variable"]
    assert words(loaded, "reloc ") == ["diff"]


def test_modules_symbols_and_functions(loaded):
    assert words(loaded, "info got ") == ["libreloc.so", "libreloc_dep.so"]
    assert words(loaded, "info imports libreloc_") == ["libreloc_dep.so"]
    assert words(loaded, "call get_ctor") == ["get_ctor_ok", "get_ctor_runs", "get_ctor_state"]
    assert "own_data" in words(loaded, "x/4xw own")
    assert "dep_data" in words(loaded, "lookup dep_d")
    assert words(loaded, "dlsym libreloc.so own_") == ["own_data", "own_fn"]


def test_event_filters(loaded):
    kinds = words(loaded, "break ")
    assert {"got", "got.update", "load", "libs", "*"} <= set(kinds)
    assert words(loaded, "break got ") == ["module=", "stage=", "kind=", "symbol="]
    assert words(loaded, "break got module=libreloc_") == ["module=libreloc_dep.so"]
    assert "stage=imports" in words(loaded, "events got stage=im")
    assert words(loaded, "catch ") == ["fail", "load", "unload"]


def test_paths_flags_options_breakpoints(loaded, tmp_path, monkeypatch):
    (tmp_path / "libone.so").write_bytes(b"")
    (tmp_path / "deps").mkdir()
    monkeypatch.chdir(tmp_path)
    assert words(loaded, "dlopen libo") == ["libone.so"]
    assert words(loaded, "dlopen d") == ["deps/"]
    assert words(loaded, "dlopen ./d") == ["./deps/"]
    assert words(loaded, "dlopen libone.so RTLD_N") == ["RTLD_NOW", "RTLD_NOLOAD", "RTLD_NODELETE"]
    assert words(loaded, "lookup -") == ["--help", "--slot", "-h", "-t"]
    assert words(loaded, "delete ") == ["1"]
    assert "info" in words(loaded, "help i")
    assert words(loaded, "help info g") == ["got"]


def test_prompt_toolkit_completer_positions(loaded):
    completer = DldbgCompleter(loaded.session)
    found = list(completer.get_completions(Document("call get_ctor_s"), CompleteEvent()))
    assert [(c.text, c.start_position) for c in found] == [("get_ctor_state", -len("get_ctor_s"))]


def test_library_names_come_from_the_program_folder_and_the_search_path(tmp_path, monkeypatch):
    """dlopen NAME searches -L, the program's folder, LD_LIBRARY_PATH and the current folder:
    completion offers the libraries of all of them, each name once, with the folder it is in."""
    (tmp_path / "L").mkdir()
    (tmp_path / "L" / "libfromdashl.so").write_bytes(b"")
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "libfromenv.so.1").write_bytes(b"")
    (tmp_path / "env" / "notes.txt").write_bytes(b"")
    (tmp_path / "cwd").mkdir()
    (tmp_path / "cwd" / "libhere.wasm").write_bytes(b"")
    monkeypatch.chdir(tmp_path / "cwd")
    c = Captured(sample("clang16", "reloc", "libreloc.so"), library_path=[str(tmp_path / "L")],
                 environ={"LD_LIBRARY_PATH": str(tmp_path / "env")})
    found = {s.text: s.meta for s in suggest(c.session.registry, SessionData(c.session), "dlopen lib")}
    assert {"libfromdashl.so", "libfromenv.so.1", "libhere.wasm", "libreloc.so", "libreloc_dep.so"} <= set(found)
    assert "notes.txt" not in found and found["libhere.wasm"] == ""
    assert found["libreloc.so"].endswith("samples/out/clang16/reloc")
    assert words(c, "dlopen librel") == ["libreloc.so", "libreloc_dep.so"]


def test_dlopen_modes_complete_in_every_spelling(loaded):
    assert words(loaded, "dlopen x RTLD_NOW|RTLD_G") == ["RTLD_NOW|RTLD_GLOBAL"]
    assert words(loaded, "dlopen x RTLD_NOW|") == ["RTLD_NOW|RTLD_NOLOAD", "RTLD_NOW|noload", "RTLD_NOW|RTLD_NODELETE",
                                                    "RTLD_NOW|nodelete", "RTLD_NOW|RTLD_GLOBAL", "RTLD_NOW|global",
                                                    "RTLD_NOW|RTLD_LOCAL", "RTLD_NOW|local"]
    assert words(loaded, "dlopen x now,gl") == ["now,global"]
    assert words(loaded, "dlopen x NOW|LO") == ["NOW|LOCAL"]
    assert words(loaded, "dlopen x rtld_l") == ["rtld_lazy", "rtld_local"]
    assert words(loaded, "dlopen x lazy,n") == ["lazy,noload", "lazy,nodelete"]  # not now: one of LAZY and NOW
    from dldbg.linker.flags import parse_flags

    for typed in ("dlopen x ", "dlopen x RTLD_NOW|", "dlopen x now,", "dlopen x NOW|", "dlopen x rtld_"):
        for mode in words(loaded, typed):
            parse_flags(mode)  # every completion is a mode dlopen accepts
