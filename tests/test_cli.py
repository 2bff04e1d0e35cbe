"""`dldbg inspect` and `dldbg run` as a user runs them: output, exit status, trace lines, cache."""

from __future__ import annotations

import ast
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from catalogue import OUT, TOOLCHAINS, built
from dldbg.cli import main
from dldbg.events import CATEGORIES


def run(argv, env=None):
    out, err = io.StringIO(), io.StringIO()
    return main(argv, stdout=out, stderr=err), out.getvalue(), err.getvalue()


def sample(toolchain: str, scenario: str, name: str) -> str:
    path = built(scenario, toolchain) / name
    if not path.exists():
        pytest.skip(f"{path} is not built")
    return str(path)


def console_script() -> list[str]:
    script = Path(sys.executable).with_name("dldbg")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dldbg"]


@pytest.mark.parametrize("toolchain", TOOLCHAINS)
def test_inspect_json_groups_imports(toolchain):
    status, out, _ = run(["inspect", "--json", sample(toolchain, "chain", "libchain_a.so"),
                          sample(toolchain, "weak", "libweak_undef.so")])
    assert status == 0
    chain, weak = (json.loads(line) for line in out.splitlines())
    assert chain["dylink"]["needed"] == ["libchain_b.so"]
    assert chain["dylink"]["runtime_path"] == ["$ORIGIN/deps"]
    assert chain["dylink"]["first"] is True
    assert set(chain["imports"]) == {"env", "GOT.mem", "GOT.func", "WASI", "other"}
    assert any(i["field"] == "memory" for i in chain["imports"]["env"])
    weak_fields = {i["field"] for group in weak["imports"].values() for i in group if i["weak"]}
    assert {"wu_func", "wu_data"} <= weak_fields
    assert all(i["module"] == "GOT.mem" for i in weak["imports"]["GOT.mem"])


def test_inspect_text_matches_objdump_field_names():
    status, out, _ = run(["inspect", sample("clang16", "reloc", "libreloc.so")])
    assert status == 0
    for field in ("mem_size     :", "mem_p2align  :", "table_size   :", "table_p2align:", "needed_dynlibs[1]:", "- libreloc_dep.so"):
        assert field in out
    assert "start function: none" in out


@pytest.mark.parametrize("name", ["truncated.so", "not_wasm.so", "bad_leb.so"])
def test_inspect_malformed_is_one_line(name):
    path = OUT / "broken" / name
    if not path.exists():
        pytest.skip("broken samples not built")
    status, out, err = run(["inspect", str(path)])
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"dldbg: error: {path}: read: ")
    assert "byte offset 0x" in err


def test_run_prints_result_and_exit_status():
    assert run(["run", "--no-cache", sample("clang16", "reloc", "libreloc.so"), "--invoke", "apply_own_fn", "5"])[:2] == (0, "1005\n")
    assert run(["run", "--no-cache", sample("clang16", "reloc", "libreloc.so"), "--invoke", "get_dep_eighth"])[:2] == (0, "5.25\n")
    status, out, err = run(["run", "--no-cache", sample("clang16", "reloc", "libreloc.so"), "--invoke", "no_such_function"])
    assert status == 1 and "no function named no_such_function" in err
    status, out, err = run(["run", "--no-cache", sample("clang16", "reloc", "libreloc.so"), "--invoke", "apply_own_fn"])
    assert status == 1 and "takes 1 argument" in err


def test_trap_prints_wasm_backtrace():
    status, _, err = run(["run", "--no-cache", sample("clang16", "missing_symbol", "libmissing_func.so"), "--invoke", "call_missing"])
    assert status == 1
    assert "undefined symbol 'does_not_exist'" in err.splitlines()[0]


def test_trace_all_shows_every_stage():
    status, _, err = run(["run", "--no-cache", "--trace", sample("clang16", "reloc", "libreloc.so"), "--invoke", "get_ctor_ok"])
    assert status == 0
    seen = {line.split("]")[0].removeprefix("dldbg[") for line in err.splitlines()}
    assert {"libs", "memory", "table", "symbols", "got", "reloc", "ctors"} <= seen
    assert "NEEDED libreloc_dep.so -> " in err
    assert "__wasm_apply_data_relocs ran (loader): " in err


def test_trace_categories_filter_and_help():
    status, _, err = run(["run", "--no-cache", "--trace=got", sample("clang16", "reloc", "libreloc.so")])
    assert status == 0 and err and all(line.startswith("dldbg[got]: ") for line in err.splitlines())
    status, out, _ = run(["run", "--trace=help"])
    assert status == 0 and all(c in out for c in CATEGORIES)
    status, _, err = run(["run", "--trace=nonsense", sample("clang16", "reloc", "libreloc.so")])
    assert status == 1 and "unknown trace categories: nonsense" in err


def test_second_run_is_served_from_the_cache(tmp_path):
    """The real console script, twice: the second run deserialises instead of compiling."""
    env = {**os.environ, "DLDBG_CACHE_DIR": str(tmp_path)}
    argv = console_script() + ["run", "--trace=libs", sample("zig", "reloc", "libreloc.so"), "--invoke", "get_ctor_ok"]
    first = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    second = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    assert first.stdout == second.stdout == "1\n"
    assert "libreloc.so: code compiled" in first.stderr
    assert "libreloc.so: code disk-cache" in second.stderr and "code compiled" not in second.stderr
    assert list((tmp_path / "compiled").glob("*.cwasm"))


def test_usage_errors_exit_2():
    assert run(["run"])[0] == 2
    assert run(["frobnicate"])[0] == 2


#: what `dldbg inspect` must not import (tests/test_cli.py), each a few milliseconds of start-up
NOT_IMPORTED_BY_INSPECT = (
    "wasmtime", "importlib.metadata",
    "shutil",  # and its compression modules: argparse imports it for the terminal's width
    "signal",  # its enums (the executable sets SIGPIPE through _signal)
    "dataclasses", "inspect", "ast", "dis",  # a dataclass costs a millisecond to create (dldbg.frozen)
    "dldbg.events", "dldbg.linker.engine",
    "argparse", "gettext", "locale",  # a plain `inspect FILE...` is parsed without argparse (cli.plain_inspect)
)


#: what a plain `dldbg inspect FILE` does not import either (`--json` does: the json module imports
#: `re`): `re` and its enums, several milliseconds where the start-up has not imported them
#: already (`python -m dldbg`; pip's `dldbg` script imports `re` itself)
NOT_IMPORTED_BY_PLAIN_INSPECT = ("re", "enum")


def test_inspect_imports_neither_wasmtime_nor_dataclasses():
    """`dldbg inspect` reads the binary alone: start-up pays for no runtime and no package
    metadata (the version is a literal), nor for shutil or signal's enums, nor for dataclasses
    (the reader's values are `dldbg.frozen.Frozen` classes), nor for argparse (cli.plain_inspect);
    and it walks a small module's code without compiling the exception-handling scan's regular
    expression (dldbg.wasm.eh), nor importing `re`.  Checked in a fresh interpreter's
    sys.modules, through the executable's entry point, without `site` (whose import hooks, such
    as an editable install's, import `re` and more before dldbg starts)."""
    from catalogue import ROOT

    path = sample("clang16", "reloc", "libreloc.so")
    code = (f"import atexit, sys; sys.path.insert(0, {str(ROOT)!r}); sys.argv = ['dldbg', 'inspect', *sys.argv[1:]]; "
            f"atexit.register(lambda: print(repr((sorted(m for m in {NOT_IMPORTED_BY_INSPECT!r} if m in sys.modules), "
            f"sorted(m for m in {NOT_IMPORTED_BY_PLAIN_INSPECT!r} if m in sys.modules), "
            "sys.modules['dldbg.wasm.eh']._run_match)))); from dldbg.cli import entry; entry()")
    for options in ([], ["--json"]):
        done = subprocess.run([sys.executable, "-S", "-c", code, *options, path], capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        imported, imported_by_plain, run_match = ast.literal_eval(done.stdout.splitlines()[-1])
        assert (imported, run_match) == ([], None), options
        if not options:
            assert imported_by_plain == []
    assert json.loads(done.stdout.splitlines()[0])["dylink"] is not None


def test_inspect_spares_the_exit_its_collections():
    """The executable freezes what `dldbg inspect` made before the process ends, so that
    Python's finalization does not walk it with full collections; `main` in another program
    leaves the collector alone."""
    import gc

    path = sample("clang16", "reloc", "libreloc.so")
    code = ("import atexit, gc, sys; sys.argv = ['dldbg', 'inspect', sys.argv[1]]; "
            "atexit.register(lambda: print(gc.get_freeze_count() > 1000)); from dldbg.cli import entry; entry()")
    done = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "True"
    frozen = gc.get_freeze_count()
    assert run(["inspect", path])[0] == 0
    assert gc.get_freeze_count() == frozen


@pytest.mark.parametrize("argv", [
    ["inspect", "--json", "a.so", "b.so", "--limit", "exports=10"], ["inspect", "--help"], ["inspect"],
    ["check", "-L", "deps", "--pyodide", "314.0.7", "pkg.whl"], ["check", "--help"],
    ["run", "main.wasm", "--dir", "d::/d", "--tier", "winch"], ["run", "--invoke", "f", "1"], ["run", "--help"],
    ["run", "--tier", "fast", "x.wasm"],
])
def test_a_subcommand_is_parsed_by_its_own_parser_as_by_the_full_one(argv, capsys, monkeypatch):
    """`main` builds the parser of the subcommand it is given only (`build_parser(command)`,
    a millisecond of `dldbg inspect`'s start-up): same namespace, same help, same errors."""
    from dldbg import cli, cliargs

    built = []
    real = cliargs.build_parser
    monkeypatch.setattr(cliargs, "build_parser", lambda command=None: built.append(command) or real(command))
    results = []
    for command in (None, argv[0]):
        try:
            results.append(vars(real(command).parse_args(argv)))
        except SystemExit as exc:
            results.append(exc.code)
        results.append(capsys.readouterr())
    assert results[:2] == results[2:]
    main(argv, stdout=io.StringIO(), stderr=io.StringIO())
    assert built == ([] if cli.plain_inspect(argv) else [argv[0]])


#: words of `dldbg inspect` command lines, plain and not (options, abbreviations, `--`, help)
INSPECT_WORDS = ("a.so", "b.so", "--json", "--limit", "exports=10", "--limit=imports=5", "--limit=", "", "-", "--",
                 "-h", "--js", "-1", "--json=1")


def test_a_plain_inspect_line_is_parsed_as_argparse_parses_it():
    """`main` parses `inspect FILE... [--json] [--limit NAME=VALUE]...` without argparse
    (cli.plain_inspect); every line it takes gets argparse's namespace, and argparse parses
    (and helps, and fails on) every other, so output and errors are argparse's.  All lines
    of up to three of INSPECT_WORDS after `inspect`, and some longer ones."""
    import contextlib
    import itertools

    from dldbg import cli, cliargs

    lines = [list(words) for n in range(4) for words in itertools.product(INSPECT_WORDS, repeat=n)]
    lines += [["a.so", "b.so", "--json", "--limit", "exports=10", "--limit", "imports=1"],
              ["--limit", "a=1", "--json", "a.so", "b.so", "c.so"], ["a.so", "--json", "b.so", "--limit", "x=1"],
              ["--json", "a.so", "b.so", "--limit", "x=1", "c.so"], ["a b.so", "--limit", "-1"]]
    parser = cliargs.build_parser("inspect")
    plain = 0
    for words in lines:
        argv = ["inspect", *words]
        try:
            with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
                reference = vars(parser.parse_args(argv))
        except SystemExit as exc:
            reference = exc.code
        fast = cli.plain_inspect(argv)
        if fast is not None:
            plain += 1
            assert vars(fast) == reference, argv
    assert plain > 100


def test_the_dldbg_process_collects_garbage_less_often_and_freezes_its_start_up():
    """The executable (not `main` called in a program of its own) raises the collector's young
    threshold and, before the program runs, freezes what start-up made and has the loader's
    paused stages freeze what they make (dldbg.nogc): the settings are read back in the process
    after a run."""
    import gc

    path = sample("clang16", "reloc", "libreloc.so")
    code = ("import atexit, gc, sys; sys.argv = ['dldbg', 'run', sys.argv[1], '--invoke', 'get_ctor_state']; "
            "atexit.register(lambda: print(gc.get_threshold()[0], gc.get_freeze_count() > 0, "
            "sys.modules['dldbg.nogc'].freeze_at_resume)); "
            "from dldbg.cli import entry; entry()")
    done = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DLDBG_NO_TIER_UP": "1"})
    assert done.returncode == 0, done.stderr
    from dldbg.cli import GC_YOUNG_THRESHOLD

    assert done.stdout.splitlines()[-1] == f"{GC_YOUNG_THRESHOLD} True True"
    from dldbg import nogc

    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    assert run(["run", path, "--invoke", "get_ctor_state"])[0] == 0  # in-process: left alone
    assert (gc.get_threshold(), gc.get_freeze_count(), nogc.freeze_at_resume) == (threshold, frozen, False)


def test_the_dldbg_process_freezes_what_each_load_of_the_program_made():
    """A library the program dlopens is frozen once loaded, as start-up is: the collector's
    older generations are not walked again for it (the freezes are counted in the process)."""
    main = built("em_dlopen", "emcc") / "main.wasm"
    if not main.exists():
        pytest.skip(f"{main} is not built (python samples/build.py)")
    code = ("import gc, sys; calls = []; freeze = gc.freeze; "
            "gc.freeze = lambda: (calls.append(1), freeze())[1]; "
            "import atexit; atexit.register(lambda: print('freezes', len(calls))); "
            "sys.argv = ['dldbg', 'run', sys.argv[1]]; from dldbg.cli import entry; entry()")
    done = subprocess.run([sys.executable, "-c", code, str(main)], capture_output=True, text=True, timeout=120,
                          cwd=main.parent, env={**os.environ, "DLDBG_NO_TIER_UP": "1"})
    assert "libem_plugin.so" in done.stdout + done.stderr
    # start-up, then libem_plugin.so (dlopen) and libem_async.so (emscripten_dlopen) at their load.done
    assert int(done.stdout.splitlines()[-1].split()[1]) >= 3, done.stdout
