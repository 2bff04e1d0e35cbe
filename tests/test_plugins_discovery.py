"""Plugins are found through the `dldbg.plugins` entry point and `--plugin FILE.py`; their
commands join the registry, their hooks see events, stops and the session's start and end."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from dldbg.cli import main
from dldbg.plugins import BUNDLED, ENTRY_POINT_GROUP, PluginLoadError, make_plugin_manager
from sessionkit import Captured, sample

ROOT = Path(__file__).resolve().parent.parent

HELLO = '''
from dldbg.commands import parser
from dldbg.plugins import hookimpl
from dldbg.session.output import Reply

SEEN = []


@hookimpl
def dldbg_register_commands(registry):
    p = parser("hello", "Say hello from an installed plugin.", ["hello", "hello world"])
    p.add_argument("who", nargs="?", default="dldbg")

    @registry.command(p, category="session", plugin="hello")
    def hello(session, who):
        return Reply({"hello": who, "events": len(SEEN)}, f"hello, {who} ({len(SEEN)} events seen)")


@hookimpl
def dldbg_event(session, entry):
    SEEN.append(entry.index)
'''


def fake_distribution(folder: Path, module: str = "fake_hello_plugin") -> Path:
    """An installed distribution (dist-info on sys.path) with a `dldbg.plugins` entry point."""
    (folder / f"{module}.py").write_text(HELLO)
    info = folder / "fake_dldbg_hello-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-dldbg-hello\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nhello = {module}\n")
    return folder


def test_entry_point_plugin_is_discovered_and_its_command_runs(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(fake_distribution(tmp_path)))
    pm = make_plugin_manager()
    assert pm.get_plugin("hello") is not None
    c = Captured(sample("clang16", "reloc", "libreloc.so"), plugins=pm)
    c.ok("dlopen libreloc_dep.so")
    result = c.ok("hello world")
    assert result.data["hello"] == "world" and result.data["events"] == len(c.session.log)
    assert any(r["name"] == "hello" and r["commands"] == ["hello"] for r in c.ok("info plugins").data)


def test_entry_point_plugin_from_the_command_line(tmp_path):
    """The real console script, with the fake distribution on PYTHONPATH."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(fake_distribution(tmp_path)), os.environ.get("PYTHONPATH", "")]))
    script = Path(sys.executable).with_name("dldbg")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "dldbg"]
    proc = subprocess.run([*cmd, "--batch", "--json", "-ex", "hello plugin"], env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    [result] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert result["result"] == {"hello": "plugin", "events": 0}


def test_bundled_plugins_are_registered_as_entry_points():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = project["project"]["entry-points"][ENTRY_POINT_GROUP]
    assert declared == dict(BUNDLED)
    setuptools = project["tool"]["setuptools"]
    assert setuptools["package-dir"] == {"dldbg_plugins": "plugins"} and "plugins" not in setuptools["packages"]
    # every folder of the source holding Python is a listed package
    folders = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "dldbg").rglob("*.py")}
    assert folders | {"dldbg_plugins"} == set(setuptools["packages"])


def test_the_bundled_plugins_import_as_dldbg_plugins():
    """Installed, the bundled plugins are the package dldbg_plugins, not a top-level `plugins`
    that any other project's folder of that name would shadow (issue 11, deliverable 7)."""
    import importlib.util

    spec = importlib.util.find_spec("dldbg_plugins.doctor")  # installed (a copy) or editable (the source)
    assert spec is not None and Path(spec.origin).read_bytes() == (ROOT / "plugins" / "doctor.py").read_bytes()
    for _name, module in BUNDLED:
        assert module.startswith("dldbg_plugins.")


FILE_PLUGIN = '''
from dldbg.plugins import hookimpl

LOG = []


@hookimpl
def dldbg_session_start(session):
    LOG.append("start")


@hookimpl
def dldbg_stop(session, pause):
    LOG.append(("stop", pause.entry.event.kind))


@hookimpl
def dldbg_event(session, entry):
    if entry.event.kind == "load.done":
        raise RuntimeError("plugin bug")


@hookimpl
def dldbg_session_end(session):
    LOG.append("end")
    session.printer.message("file plugin saw " + ", ".join(str(x) for x in LOG))
'''


def test_plugin_file_hooks_and_a_failing_hook(tmp_path):
    path = tmp_path / "watcher.py"
    path.write_text(FILE_PLUGIN)
    out, err = io.StringIO(), io.StringIO()
    status = main(["--batch", "--plugin", str(path), "-ex", "tbreak load.start", "-ex", "dlopen libreloc_dep.so",
                   "-ex", "continue", "-ex", "echo after", sample("clang16", "reloc", "libreloc.so")], stdout=out, stderr=err)
    assert status == 0, err.getvalue()
    assert "warning: plugin watcher failed in dldbg_event: RuntimeError: plugin bug" in err.getvalue()
    assert "handle 1: libreloc_dep.so" in out.getvalue() and "after" in out.getvalue()
    assert out.getvalue().rstrip().endswith("file plugin saw start, ('stop', 'load.start'), end")


def test_a_plugin_file_that_does_not_load(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("raise ImportError('no such thing')\n")
    with pytest.raises(PluginLoadError, match="bad.py: ImportError: no such thing"):
        make_plugin_manager([str(bad)], entry_points=False)
    out, err = io.StringIO(), io.StringIO()
    assert main(["--batch", "--plugin", str(bad), "-ex", "echo x"], stdout=out, stderr=err) == 1
    assert "bad.py" in err.getvalue() and out.getvalue() == ""


def test_a_plugin_cannot_take_a_command_name(tmp_path):
    path = tmp_path / "clash.py"
    path.write_text(HELLO.replace('parser("hello"', 'parser("dlopen"'))
    c = Captured(plugins=make_plugin_manager([str(path)], entry_points=False))
    assert "already registered" in c.err.getvalue()
    assert c.session.registry.get("dlopen").plugin is None
