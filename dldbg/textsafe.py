"""Names from a module, made safe to print on a terminal.

A module's names (module, import, export and symbol names, NEEDED entries, custom section
names) are bytes the module's author chose: `ESC[2J` clears the screen, `ESC]0;...BEL`
retitles the terminal, a CR overwrites the line.  Every text output (trace lines, `inspect`,
error lines, REPL and batch output, the TUI) passes through `printable`, which writes each
control character as a Python-style escape (`\\x1b`, `\\r`, `\\u202e`); JSON output keeps the
exact strings.
"""

from __future__ import annotations

#: C0 and C1 controls, DEL, the line/paragraph separators and the bidirectional overrides and
#: isolates (which reorder what follows them on screen), and lone surrogates (undecodable bytes):
#: all of them characters that `str.isprintable` refuses
_UNSAFE = "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"


def _escape(match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, keep: str = "") -> str:
    """`text` with every control character escaped, except those in `keep` (e.g. "\\n" for a
    multi-line block whose line breaks are dldbg's own)."""
    probe = text
    for char in keep:
        probe = probe.replace(char, "")
    if probe.isprintable():  # nothing to escape, found in C (`re` takes 0.5 ms to compile _UNSAFE,
        return text           # and several to import where the start-up has not imported it)
    import re

    if not keep:
        return re.sub(_UNSAFE, _escape, text)
    return re.sub(_UNSAFE, lambda m: m.group() if m.group() in keep else _escape(m), text)
