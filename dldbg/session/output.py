"""What commands return and how the session shows it: text for people, JSON lines for programs.

A command returns a `Reply` (JSON-ready `data` and the `text` a person reads); the session
wraps it in a `CommandResult` and hands it to its Printer, together with events, stops and
messages.  `JsonPrinter` writes one object per line, each with `"schema": 1` and a `"type"`:
`result` (`command`, `ok`, then `result` or `error`), `event` (`event`: the logged event),
`stop` (`stop`: the pause), `message` (`text`), `trace` (`line`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, TextIO

from ..textsafe import printable
from .paths import Shortener

SCHEMA = 1


@dataclass
class Reply:
    """A command's outcome: `data` for `--json`, `text` (lines) for people."""

    data: Any = None
    text: str = ""


def as_reply(value) -> Reply:
    """What a command returned, as a Reply: a Reply as it is; a string or a number is both the
    text and the data (a plugin command may return one); anything else is data only."""
    if isinstance(value, Reply):
        return value
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return Reply(value, str(value))
    return Reply(value)


@dataclass
class CommandResult:
    """One executed command line.  `error` is the one-line message when `ok` is False;
    `details` are extra lines (a trap's wasm backtrace)."""

    command: str
    ok: bool
    data: Any = None
    text: str = ""
    error: str | None = None
    details: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        out: dict = {"schema": SCHEMA, "type": "result", "command": self.command, "ok": self.ok}
        if self.ok:
            out["result"] = self.data
        else:
            out["error"] = self.error
            if self.details:
                out["details"] = self.details
        return out


def _jsonable(value):
    return json.loads(json.dumps(value, default=_default))


def _default(value):
    if hasattr(value, "to_json"):
        return value.to_json()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


class TextPrinter:
    """Results on `out`, errors and warnings on `err`; events are not shown (the trace plugin
    prints them when asked).  Paths under the current folder are shown relative to it (as the
    TUI and the docs show them); `--json` keeps them absolute."""

    json = False

    def __init__(self, out: TextIO, err: TextIO, *, cwd: str | None = None):
        self.out = out
        self.err = err
        self.shorten = Shortener(cwd, bare=False)

    def _write(self, stream: TextIO, text: str) -> None:
        text = printable(self.shorten(text), keep="\n\t")  # line breaks and tabs are dldbg's own
        stream.write(text if text.endswith("\n") else text + "\n")
        stream.flush()

    def echo(self, line: str, prompt: str = "(dldbg) ") -> None:
        self._write(self.out, prompt + line)

    def result(self, result: CommandResult) -> None:
        if result.ok:
            if result.text:
                self._write(self.out, result.text)
        else:
            self._write(self.err, "\n".join([f"error: {result.error}", *result.details]))

    def event(self, entry) -> None:
        pass

    def stop(self, pause) -> None:
        self._write(self.out, pause.describe())

    def message(self, text: str) -> None:
        self._write(self.out, text)

    def trace(self, line: str) -> None:
        self._write(self.err, line)

    def warning(self, text: str) -> None:
        self._write(self.err, f"warning: {text}")


class JsonPrinter:
    """One JSON object per line on `out`; warnings also go to `err` as text."""

    json = True

    def __init__(self, out: TextIO, err: TextIO):
        self.out = out
        self.err = err

    def _emit(self, obj: dict) -> None:
        self.out.write(json.dumps(_jsonable(obj)) + "\n")
        self.out.flush()

    def echo(self, line: str, prompt: str = "") -> None:
        pass

    def result(self, result: CommandResult) -> None:
        self._emit(result.to_json())

    def event(self, entry) -> None:
        self._emit({"schema": SCHEMA, "type": "event", "event": entry.to_json()})

    def stop(self, pause) -> None:
        self._emit({"schema": SCHEMA, "type": "stop", "stop": pause.to_json()})

    def message(self, text: str) -> None:
        self._emit({"schema": SCHEMA, "type": "message", "text": text})

    def trace(self, line: str) -> None:
        self._emit({"schema": SCHEMA, "type": "trace", "line": line})

    def warning(self, text: str) -> None:
        self.err.write(f"warning: {text}\n")
        self.err.flush()
