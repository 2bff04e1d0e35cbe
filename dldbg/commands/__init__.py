"""The debugger's commands: the registry (dldbg.commands.registry) and the built-in command
modules, each declaring its commands once.  Plugins add theirs through the
`dldbg_register_commands` hook."""

from __future__ import annotations

from .registry import CATEGORIES, Command, CommandParser, HelpShown, Registry, parser

#: the built-in command modules, imported by `builtin_registry()` (explicitly, as pwndbg does)
MODULES = ("running", "breakpoints", "stepping", "inspecting", "memory", "data", "session")

BUILTIN = Registry()
command = BUILTIN.command
_loaded = False


def builtin_registry() -> Registry:
    """A copy of the built-in commands, for one session (plugins add to the copy)."""
    global _loaded
    if not _loaded:
        import importlib

        for name in MODULES:
            importlib.import_module(f"{__name__}.{name}")
        BUILTIN._split_names()  # the name index, made once: each session's copy starts with it
        _loaded = True
    return BUILTIN.copy()


__all__ = ["BUILTIN", "CATEGORIES", "Command", "CommandParser", "HelpShown", "Registry", "builtin_registry",
           "command", "parser"]
