"""Helpers shared by command modules: module arguments, ranges, text columns."""

from __future__ import annotations

import re

from ..session.errors import CommandError

_RANGE = re.compile(r"^(\d+)(?:(-)(\d*))?$")


def module_arg(session, name: str):
    """The loaded (or loading) module named `name` (file name, path or handle).  Raises CommandError."""
    mod = session.engine.module_named(name)
    if mod is None:
        for candidate in session.engine.modules:
            if candidate.name.startswith(name) or candidate.name.startswith("lib" + name):
                return candidate
        known = ", ".join(m.name for m in session.engine.modules if m.state != "released") or "none loaded"
        raise CommandError(f"no module {name!r} (modules: {known})")
    return mod


def search_pattern(regex: str | None) -> re.Pattern:
    """`regex` compiled (None: everything matches).  Raises CommandError on a bad expression."""
    try:
        return re.compile(regex or "")
    except re.error as exc:
        raise CommandError(f"bad regular expression {regex!r}: {exc}") from None


def live_exports(engine):
    """(module, name, Symbol) for every export of every module still loaded (not released or
    failed), in load order."""
    for mod in engine.modules:
        if mod.state in ("released", "failed"):
            continue
        for name, sym in mod.exports.items():
            yield mod, name, sym


def parse_range(text: str | None, size: int) -> range:
    """`N`, `N-M` (inclusive), `N-` (to `size`), or None (everything) -> a range.  Raises CommandError."""
    if text is None:
        return range(0, size)
    m = _RANGE.match(text)
    if not m:
        raise CommandError(f"bad range {text!r}: expected N, N-M or N-")
    start = int(m.group(1))
    if m.group(2) is None:
        return range(start, start + 1)
    end = int(m.group(3)) + 1 if m.group(3) else size
    return range(start, min(end, size))


def columns(rows: list[list[str]], headers: list[str] | None = None, indent: str = "") -> str:
    """Rows as left-aligned columns (the last column is not padded)."""
    table = ([headers] if headers else []) + [[str(c) for c in row] for row in rows]
    if not table:
        return ""
    widths = [max(len(row[i]) for row in table if i < len(row)) for i in range(max(len(r) for r in table))]
    lines = []
    for row in table:
        cells = [cell.ljust(widths[i]) if i < len(row) - 1 else cell for i, cell in enumerate(row)]
        lines.append(indent + "  ".join(cells).rstrip())
    return "\n".join(lines)


def hex_or_dash(value) -> str:
    return "-" if value is None else (str(value) if value < 0 else hex(value))
