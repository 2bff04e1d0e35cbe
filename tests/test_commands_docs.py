"""The generated debugger docs match the code: the command reference comes from the registry,
and the guide's example sessions are the debugger's real output."""

import subprocess
import sys
from pathlib import Path

from dldbg.commands import builtin_registry
from dldbg.plugins import make_plugin_manager

ROOT = Path(__file__).resolve().parent.parent


def test_command_reference_is_current():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-command-docs.py"), "--check"])
    assert result.returncode == 0, "docs/commands.md is stale: run scripts/gen-command-docs.py"


def test_guide_sessions_are_current():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen-guide-sessions.py"), "--check"])
    assert result.returncode == 0, "docs/guide.md's sessions are stale: run scripts/gen-guide-sessions.py"


def test_every_command_help_ends_with_examples():
    registry = builtin_registry()
    make_plugin_manager(entry_points=False).hook.dldbg_register_commands(registry=registry)
    for cmd in registry.commands.values():
        tail = cmd.help.rstrip().rsplit("Examples:", 1)
        assert len(tail) == 2 and tail[1].strip(), cmd.name
        assert cmd.summary.endswith("."), cmd.name


def test_every_help_example_parses():
    """Every example in the commands' help (and so in docs/commands.md) is accepted by its
    command's parser (`catch load -t missing` was refused: issue 11, bug 7)."""
    registry = builtin_registry()
    make_plugin_manager(entry_points=False).hook.dldbg_register_commands(registry=registry)
    for cmd in registry.commands.values():
        for example in cmd.parser.examples:
            command, argv = registry.parse(example)
            command.parse(list(argv))
