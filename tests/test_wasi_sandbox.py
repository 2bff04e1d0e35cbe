"""A WASI program's dlopen stays inside its view: its `--dir` folders and the folders the host
chose (-L, the program's own folder), as wasmtime's WASI sandbox holds for `path_open`.

The guest is tests/guests/dlopen_args.c (built here with clang-16 as a non-PIC WASI main): it
dlopens each argument and prints `NAME: loaded` or `NAME: failed: DLERROR`.  The library it
loads is a real clang-16 side module (samples/out/clang16/wasi_dlopen/libneeded.so).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dldbg.hosts.programs import ProgramOptions
from dldbg.hosts.wasi import WasiHost
from dldbg.linker.engine import Engine

from catalogue import ROOT, built

GUEST = ROOT / "tests" / "guests" / "dlopen_args.c"
LIBRARY = built("wasi_dlopen", "clang16") / "libneeded.so"


@pytest.fixture(scope="module")
def guest(tmp_path_factory) -> Path:
    for tool in ("clang-16", "wasm-ld-16"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not found (scripts/test installs clang-16 and lld-16)")
    folder = tmp_path_factory.mktemp("guest")
    obj, out = folder / "dlopen_args.o", folder / "dlopen_args.wasm"
    subprocess.run(["clang-16", "--target=wasm32-wasi", "-O1", "-g0", "-ffreestanding", "-fvisibility=default",
                    "-c", str(GUEST), "-o", str(obj)], check=True)
    subprocess.run(["wasm-ld-16", "--import-memory", "--import-table", "--export-dynamic", "--allow-undefined",
                    "--entry=_start", str(obj), "-o", str(out)], check=True)
    return out


@pytest.fixture(scope="module")
def plant(tmp_path_factory) -> bytes:
    """libplant.so (clang-16), whose NEEDED entry is libsecret.so (a copy of LIBRARY)."""
    folder = tmp_path_factory.mktemp("plant")
    shutil.copy(LIBRARY, folder / "libsecret.so")
    (folder / "plant.c").write_text("extern int needed_add(int, int);\nint plant(void) { return needed_add(1, 2); }\n")
    subprocess.run(["clang-16", "--target=wasm32-unknown-emscripten", "-fPIC", "-fvisibility=default", "-O1", "-c",
                    "plant.c", "-o", "plant.o"], cwd=folder, check=True)
    subprocess.run(["wasm-ld-16", "--experimental-pic", "-shared", "plant.o", "libsecret.so", "-o", "libplant.so"],
                   cwd=folder, check=True)
    return (folder / "libplant.so").read_bytes()


@pytest.fixture
def tree(tmp_path, guest, monkeypatch) -> Path:
    """tmp/app/{dlopen_args.wasm, data/libok.so}, tmp/outside/libsecret.so; the current folder
    is tmp/app/work (so `../../outside` and `../../../../etc` lead out of it)."""
    app = tmp_path / "app"
    (app / "data").mkdir(parents=True)
    (app / "work").mkdir()
    (tmp_path / "outside").mkdir()
    shutil.copy(guest, app / "dlopen_args.wasm")
    shutil.copy(LIBRARY, app / "data" / "libok.so")
    shutil.copy(LIBRARY, tmp_path / "outside" / "libsecret.so")
    monkeypatch.chdir(app / "work")
    return tmp_path


def results(capfd, tree: Path, names: list[str], dirs=()) -> dict[str, str]:
    """{name: 'loaded' or the dlerror text (its lines joined by '|')} of one run of the guest."""
    program = str(tree / "app" / "dlopen_args.wasm")
    engine = Engine(WasiHost(ProgramOptions(dirs=list(dirs))), cache_dir=None)
    status = engine.host.run(engine, program, [program, *names])
    out = capfd.readouterr().out.splitlines()
    assert len(out) == len(names), out
    found = {}
    for name, line in zip(names, out):
        assert line.startswith(name + ": ")
        found[name] = line[len(name) + 2:].removeprefix("failed: ")
    assert status == sum(v != "loaded" for v in found.values())
    return found


def unseen(name: str, dirs: str) -> str:
    return f"could not load dynamic lib: {name}|{name}: no such file in the program's view (its --dir folders: {dirs})"


DATA = [("data", "/data")]


def test_relative_names_are_not_read_from_the_hosts_current_folder(capfd, tree):
    """Finding: `../outside/libsecret.so` (relative to the host's current folder) loaded and ran."""
    os.chdir(tree / "app")  # so that ../outside/libsecret.so exists from the host's point of view
    got = results(capfd, tree, ["../outside/libsecret.so", "data/libok.so", "/data/libok.so",
                                "/data/../../outside/libsecret.so"], [(str(tree / "app" / "data"), "/data")])
    assert got["../outside/libsecret.so"] == unseen("../outside/libsecret.so", "/data")
    assert got["data/libok.so"] == "loaded"  # relative: read from the guest's `/`, which has /data
    assert got["/data/libok.so"] == "loaded"
    assert got["/data/../../outside/libsecret.so"] == unseen("/data/../../outside/libsecret.so", "/data")


def test_errors_do_not_tell_whether_a_host_file_exists(capfd, tree):
    """Finding: `../../../../etc/passwd` was read (`not a wasm module`) and a missing name gave
    another error, so the guest could probe the host."""
    names = ["../../../../etc/passwd", "../../../../etc/no-such-file-here", "../../outside/libsecret.so",
             "../../outside/no-such-lib.so", "/data/no-such-lib.so"]
    got = results(capfd, tree, names, [(str(tree / "app" / "data"), "/data")])
    for name in names:
        assert got[name] == unseen(name, "/data")


def test_a_symlink_inside_a_dir_does_not_lead_out(capfd, tree):
    """Finding: a symbolic link inside a `--dir` folder was followed out of it."""
    data = tree / "app" / "data"
    (data / "up.so").symlink_to("../../outside/libsecret.so")
    (data / "abs.so").symlink_to(tree / "outside" / "libsecret.so")
    (data / "etc").symlink_to("/etc")
    (data / "same.so").symlink_to("libok.so")  # a link that stays inside is followed
    (data / "sub").mkdir()
    (data / "sub" / "back.so").symlink_to("../libok.so")
    names = ["/data/up.so", "/data/abs.so", "/data/etc/passwd", "/data/same.so", "/data/sub/back.so",
             "/data/sub/../libok.so"]
    got = results(capfd, tree, names, [(str(data), "/data")])
    for name in names[:3]:
        assert got[name] == unseen(name, "/data")
    assert got["/data/same.so"] == got["/data/sub/back.so"] == got["/data/sub/../libok.so"] == "loaded"


def test_bare_names_are_not_searched_in_the_hosts_current_folder(capfd, tree):
    """A bare name is searched in -L, LD_LIBRARY_PATH and the program's folder, not in the
    host's current folder (the guest did not choose it)."""
    shutil.copy(LIBRARY, tree / "app" / "work" / "libcwd.so")
    shutil.copy(LIBRARY, tree / "app" / "libbeside.so")
    got = results(capfd, tree, ["libcwd.so", "libbeside.so"])
    assert got["libbeside.so"] == "loaded"
    assert got["libcwd.so"].startswith("could not load dynamic lib: ") and "read: No such file" in got["libcwd.so"]
    assert str(tree / "app" / "work") not in got["libcwd.so"]


def test_dev_zero_without_dir_is_not_read(tree):
    """Finding: with no `--dir`, `dlopen("../../../../dev/zero")` read without limit.  Run as
    `dldbg run` in a child limited to 2 GiB of data, so a regression ends quickly."""
    depth = len(Path.cwd().parts)
    name = "../" * depth + "dev/zero"

    def limit():
        import resource

        resource.setrlimit(resource.RLIMIT_DATA, (2 << 30, 2 << 30))

    proc = subprocess.run([sys.executable, "-m", "dldbg", "run", "--no-cache", str(tree / "app" / "dlopen_args.wasm"),
                           "--", name], capture_output=True, text=True, timeout=60, preexec_fn=limit)
    assert proc.stdout == f"{name}: failed: {unseen(name, 'none')}\n", proc.stderr
    assert proc.returncode == 1 and proc.stderr == ""


def test_needed_entries_of_a_library_the_program_loads_stay_in_its_view(capfd, tree, plant):
    """A library in a --dir folder the program can write may carry any RUNTIME_PATH: its NEEDED
    search still never leaves the program's view (nor tells what exists outside it)."""
    sys.path.insert(0, str(ROOT / "samples"))
    import wasmedit

    data = tree / "app" / "data"
    outside = tree / "outside"
    (data / "abs").mkdir()
    (data / "abs" / "libplant.so").write_bytes(wasmedit.add_runtime_path(plant, [str(outside)]))
    (data / "up").mkdir()
    (data / "up" / "libplant.so").write_bytes(wasmedit.add_runtime_path(plant, ["$ORIGIN/../../../outside"]))
    (data / "ok").mkdir()
    (data / "ok" / "libplant.so").write_bytes(plant)
    shutil.copy(LIBRARY, data / "ok" / "libsecret.so")
    got = results(capfd, tree, ["/data/abs/libplant.so", "/data/up/libplant.so", "/data/ok/libplant.so"],
                  [(str(data), "/data")])
    for name in ("/data/abs/libplant.so", "/data/up/libplant.so"):
        assert "NEEDED library libsecret.so not found" in got[name]
        assert str(outside) not in got[name]
    assert got["/data/ok/libplant.so"] == "loaded"
