"""Helpers for the debugger tests: sample paths and sessions that print into strings."""

from __future__ import annotations

import io

import pytest

from catalogue import built
from dldbg.commands import builtin_registry
from dldbg.plugins import make_plugin_manager
from dldbg.session import Session, TextPrinter


def sample(toolchain: str, scenario: str, name: str) -> str:
    path = built(scenario, toolchain) / name
    if not path.exists():
        pytest.skip(f"{path} is not built (python samples/build.py)")
    return str(path)


class Captured:
    """A Session whose printer writes into `out` and `err` (StringIO)."""

    def __init__(self, program: str | None = None, **options):
        self.out, self.err = io.StringIO(), io.StringIO()
        options.setdefault("cache_dir", None)
        options.setdefault("plugins", make_plugin_manager(entry_points=False))
        options.setdefault("registry", builtin_registry())
        self.session = Session(program, printer=TextPrinter(self.out, self.err), **options)

    def run(self, *lines: str) -> list:
        """Queue `lines` and run them (a stop reads the following lines); returns the results."""
        results = []
        original = self.session.execute

        def record(line):
            result = original(line)
            if result is not None:
                results.append(result)
            return result

        self.session.execute = record
        try:
            self.session.pending.extend((line, "test") for line in lines)
            self.session.run_commands()
        finally:
            self.session.execute = original
        return results

    def ok(self, line: str):
        """Run one line; it must succeed.  Returns the CommandResult."""
        result = self.session.execute(line)
        assert result is not None and result.ok, (line, result and result.error, self.err.getvalue())
        return result

    def fails(self, line: str):
        result = self.session.execute(line)
        assert result is not None and not result.ok, (line, result and result.text)
        return result

    def take_out(self) -> str:
        text = self.out.getvalue()
        self.out.seek(0)
        self.out.truncate()
        return text
