"""Provides `style(name)`: Rich styles parsed once (line-API widgets and pages draw the same few
styles on every repaint)."""

from __future__ import annotations

from rich.style import Style

_STYLES: dict[str, Style] = {}


def style(name: str) -> Style:
    """The Rich style `name` ("" is the null style), parsed on first use."""
    cached = _STYLES.get(name)
    if cached is None:
        cached = _STYLES[name] = Style.parse(name) if name else Style()
    return cached
