"""The plugin API (pluggy): hook specifications and the plugin manager.

A plugin is a module (or object) with functions marked `@hookimpl` named after the hooks
below; it only implements the ones it needs.  dldbg finds plugins in three places, in order:
the bundled ones (the repository's `plugins/` folder, installed as the `plugins` package), those
installed under the entry-point group `dldbg.plugins`, and files given with `--plugin FILE.py`.  A plugin's name is its entry-point
name (bundled: the module name; files: the file name without `.py`); a second plugin with a
name already taken is skipped.

    from dldbg.plugins import hookimpl
    from dldbg.commands import parser
    from dldbg.session.output import Reply

    @hookimpl
    def dldbg_register_commands(registry):
        p = parser("hello", "Say hello.", ["hello"])

        @registry.command(p, category="session", plugin="hello")
        def hello(session):
            return Reply({"hello": True}, "hello")

    @hookimpl
    def dldbg_event(session, entry):
        if entry.event.kind == "load.fail":
            session.printer.message(f"{entry.event.module} failed")

A hook that raises is reported as a warning and the session goes on.
"""

from __future__ import annotations

import importlib
import importlib.util
import os

import pluggy

PROJECT = "dldbg"
ENTRY_POINT_GROUP = "dldbg.plugins"
#: bundled plugins: (name, module)
BUNDLED = (("ldtrace", "dldbg_plugins.ldtrace"), ("export", "dldbg_plugins.export"),
           ("doctor", "dldbg_plugins.doctor"), ("example_session", "dldbg_plugins.example_session"))

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class DldbgHooks:
    """The hooks dldbg calls.  All run on the engine's thread, synchronously."""

    @hookspec
    def dldbg_register_commands(self, registry):
        """Add commands to a new session's registry: `registry.command(parser, category=...,
        plugin=NAME)(func)` (see dldbg.commands.registry).  Called once per session, before
        `dldbg_session_start`."""

    @hookspec
    def dldbg_session_start(self, session):
        """A session began (its engine exists, nothing is loaded yet)."""

    @hookspec
    def dldbg_session_end(self, session):
        """The session ends (after the last command)."""

    @hookspec
    def dldbg_event(self, session, entry):
        """A linker event happened; `entry` is its LoggedEvent (index, event, time, depth).
        Called before the session decides whether to stop there."""

    @hookspec
    def dldbg_stop(self, session, pause):
        """The engine stopped (a breakpoint or a step); `pause` is the Pause.  Called before the
        session waits for commands (the place for pwndbg-style context output)."""

    @hookspec
    def dldbg_command_result(self, session, result):
        """A command finished; `result` is its CommandResult (ok, data, text or error)."""


class PluginLoadError(Exception):
    """A plugin file or module could not be loaded."""


def load_plugin_file(path: str):
    """Import a plugin from a `.py` file; its name is the file name without `.py`.
    Raises PluginLoadError."""
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(f"dldbg_plugin_{name}", path)
    if spec is None or spec.loader is None:
        raise PluginLoadError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except FileNotFoundError:
        raise PluginLoadError(f"{path}: no such file") from None
    except Exception as exc:
        raise PluginLoadError(f"{path}: {type(exc).__name__}: {exc}") from None
    return name, module


def load_entry_points(pm: pluggy.PluginManager, warn=None) -> list[str]:
    """Register the plugins installed under `dldbg.plugins` whose names are free; returns their
    names.  One that fails to import is reported through `warn` and skipped."""
    from importlib.metadata import entry_points

    loaded = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken installed plugin must not stop the debugger
            if warn:
                warn(f"installed plugin {ep.name} ({ep.value}) could not be loaded: {type(exc).__name__}: {exc}")
            continue
        pm.register(plugin, name=ep.name)
        loaded.append(ep.name)
    return loaded


def make_plugin_manager(plugin_files=(), *, bundled: bool = True, entry_points: bool = True,
                        warn=None) -> pluggy.PluginManager:
    """A PluginManager with the bundled plugins, the installed ones and `plugin_files`.

    Raises PluginLoadError for a plugin file that cannot be loaded; a bundled or installed plugin
    that fails to import is reported through `warn(message)` (if given) and skipped.
    """
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(DldbgHooks)
    if bundled:
        for name, module_name in BUNDLED:
            try:
                module = importlib.import_module(module_name)
            except ImportError as exc:
                if warn:
                    warn(f"bundled plugin {name} is not available: {exc}")
                continue
            pm.register(module, name=name)
    if entry_points:
        load_entry_points(pm, warn)
    for path in plugin_files:
        name, module = load_plugin_file(path)
        if pm.get_plugin(name) is None:
            pm.register(module, name=name)
    return pm
