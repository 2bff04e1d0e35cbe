"""An emscripten program sees its folder read-only: what it writes at `/` goes to a private
layer (emscripten's MEMFS under node keeps writes in memory), the host folder never changes;
a `--dir` folder is writable, and links still do not lead out of it.

The guest is tests/guests/em_writes.c, built here with emcc -sMAIN_MODULE=2: it creates,
overwrites, unlinks and renames files, writes through a host link, makes a link to /etc/passwd
and a folder, then lists its folder.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from catalogue import ROOT
from test_wasi_sandbox import LIBRARY, plant  # noqa: F401 (a fixture)
from dldbg.hosts.emscripten import EmscriptenHost
from dldbg.hosts.programs import ProgramOptions
from dldbg.linker.engine import Engine

GUEST = ROOT / "tests" / "guests" / "em_writes.c"
sys.path.insert(0, str(ROOT / "samples"))  # wasmedit


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    if shutil.which("emcc") is None:
        pytest.skip("emcc not found (scripts/test installs Debian's emscripten)")
    folder = tmp_path_factory.mktemp("em_writes")
    subprocess.run(["emcc", "-O0", "-sMAIN_MODULE=2", "-sWASM_BIGINT=1", str(GUEST), "-o", str(folder / "main.js")],
                   check=True, capture_output=True)
    return folder


def populate(folder: Path) -> None:
    (folder / "existing.txt").write_text("original")
    (folder / "gone.txt").write_text("bye")
    (folder / "old.txt").write_text("old")
    (folder / "target.txt").write_text("target")
    (folder / "hostlink.txt").symlink_to("target.txt")


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry under `folder`: a link's target, a file's bytes, or 'dir'."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        out[rel] = f"-> {os.readlink(path)}" if path.is_symlink() else "dir" if path.is_dir() else path.read_bytes().hex()
    return out


def run(program: Path, args=(), dirs=()) -> list[str]:
    out = io.BytesIO()
    host = EmscriptenHost(ProgramOptions(dirs=list(dirs)), stdout=out, stderr=out)
    status = host.run(Engine(host, cache_dir=None), str(program), [str(program), *args])
    assert status == 0, out.getvalue()
    return out.getvalue().decode().splitlines()


def test_the_program_folder_is_read_only_with_writes_in_a_private_layer(built, tmp_path):
    """Finding: the emscripten host mounted the program's folder read-write at `/`: the guest
    created and overwrote host files and made host links."""
    app = tmp_path / "app"
    shutil.copytree(built, app)
    populate(app)
    before = snapshot(app)
    lines = run(app / "main.wasm")
    assert snapshot(app) == before
    # ... and the program sees its own changes, as under MEMFS
    assert lines == [
        "/new.txt: created by the guest",
        "/existing.txt: overwritten by the guest",
        "symlink: 0",
        "/guestlink: Permission denied",  # /etc/passwd is not in its view
        "unlink: 0",
        "/gone.txt: No such file or directory",
        "rename: 0",
        "/renamed.txt: old",
        "mkdir: 0",
        "/newdir/inner.txt: inner",
        "listing: existing.txt guestlink hostlink.txt new.txt newdir renamed.txt target.txt",
    ]


def test_a_dir_folder_is_writable_but_links_do_not_lead_out(built, tmp_path):
    """`--dir HOST::/data` grants a writable host folder; a host link in it that points out of
    it is refused (EACCES), so the file outside keeps its bytes."""
    data = tmp_path / "data"
    data.mkdir()
    populate(data)
    (data / "target.txt").unlink()
    (tmp_path / "target.txt").write_text("outside")
    (data / "hostlink.txt").unlink()
    (data / "hostlink.txt").symlink_to("../target.txt")
    lines = run(built / "main.wasm", ["/data"], [(str(data), "/data")])
    assert "write /data/hostlink.txt: Permission denied" in lines
    assert (tmp_path / "target.txt").read_text() == "outside"
    after = snapshot(data)
    assert after["new.txt"] == b"created by the guest".hex()
    assert after["existing.txt"] == b"overwritten by the guest".hex()
    assert "gone.txt" not in after and "old.txt" not in after and after["renamed.txt"] == b"old".hex()
    assert after["guestlink"] == "-> /etc/passwd" and after["newdir/inner.txt"] == b"inner".hex()


@pytest.fixture(scope="module")
def dlopener(tmp_path_factory) -> Path:
    """tests/guests/em_dlopen_args.c built with emcc: it dlopens each argument."""
    if shutil.which("emcc") is None:
        pytest.skip("emcc not found (scripts/test installs Debian's emscripten)")
    folder = tmp_path_factory.mktemp("em_dlopen_args")
    subprocess.run(["emcc", "-O0", "-sMAIN_MODULE=2", "-sWASM_BIGINT=1", str(ROOT / "tests" / "guests" / "em_dlopen_args.c"),
                    "-o", str(folder / "main.js")], check=True, capture_output=True)
    return folder / "main.wasm"


def test_needed_entries_of_a_library_the_program_loads_stay_in_its_view(dlopener, plant, tmp_path):
    """A library in a writable --dir folder, whose RUNTIME_PATH names a host folder the program
    was not given: its NEEDED library is not found there (nor probed)."""
    import wasmedit

    data, outside = tmp_path / "data", tmp_path / "outside"
    (data / "ok").mkdir(parents=True)
    outside.mkdir()
    shutil.copy(LIBRARY, outside / "libsecret.so")
    (data / "libplant.so").write_bytes(wasmedit.add_runtime_path(plant, [str(outside)]))
    (data / "ok" / "libplant.so").write_bytes(plant)
    shutil.copy(LIBRARY, data / "ok" / "libsecret.so")
    lines = run(dlopener, ["/data/libplant.so", "/data/ok/libplant.so"], [(str(data), "/data")])
    text = "\n".join(lines)  # stdout, and the loader's error on stderr
    assert "/data/libplant.so: failed: Could not load dynamic lib: /data/libplant.so" in lines
    assert "NEEDED library libsecret.so not found" in text and str(outside) not in text
    assert "/data/ok/libplant.so: loaded" in lines
