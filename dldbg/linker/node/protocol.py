"""dldbg's end of the node hooks' protocol (docs/node.md): JSON lines over two pipes.

node writes one line per hook to the *events* pipe and blocks (fs.readSync) on the *replies*
pipe until dldbg writes `{"op": "continue"}`; before that, dldbg may write requests (`read`,
`write`, `memory`, `table`, `got`, `eval`), each answered on the events pipe by one
`{"reply": {"ok": true, "value": ...}}` or `{"reply": {"ok": false, "error": "..."}}` line.
"""

from __future__ import annotations

import base64
import json
import os

from ...errors import DldbgError


class ProtocolError(DldbgError):
    """node broke the protocol or went away while dldbg waited for it."""


class Channel:
    """The two pipes, from dldbg's side: `hooks()` yields node's hook lines; while node waits
    on one (`waiting`), `request` asks it something and `resume` lets it go on."""

    def __init__(self, events_fd: int, replies_fd: int):
        self._reader = os.fdopen(events_fd, "rb")
        self._replies = os.fdopen(replies_fd, "wb", buffering=0)
        self.waiting = False

    def _line(self) -> dict | None:
        line = self._reader.readline()
        if not line:
            return None
        try:
            return json.loads(line)
        except ValueError:
            raise ProtocolError(f"node hooks: not a JSON line: {line[:80]!r}") from None

    def hooks(self):
        """node's hook lines, as dicts, until node ends (or closes the pipe)."""
        while True:
            msg = self._line()
            if msg is None:
                return
            if "hook" not in msg:
                raise ProtocolError(f"node hooks: expected a hook line, got {str(msg)[:80]}")
            self.waiting = True
            yield msg

    def _send(self, obj: dict) -> None:
        try:
            self._replies.write((json.dumps(obj) + "\n").encode())
        except (BrokenPipeError, OSError) as exc:
            raise ProtocolError(f"node went away: {exc}") from None

    def request(self, op: str, **fields):
        """Ask the stopped program; returns the reply's value.  Raises DldbgError with node's
        error, or when node is not stopped at a hook."""
        if not self.waiting:
            raise DldbgError(f"{op}: the program is running under node; its state can be read only while it is "
                             f"stopped at an event")
        self._send({"op": op, **fields})
        msg = self._line()
        if msg is None or "reply" not in msg:
            raise ProtocolError(f"node hooks: no reply to {op}")
        reply = msg["reply"]
        if not reply.get("ok"):
            raise DldbgError(f"{op}: {reply.get('error')}")
        return reply.get("value")

    def read(self, address: int, size: int) -> bytes:
        return base64.b64decode(self.request("read", address=address, size=size))

    def resume(self) -> None:
        if self.waiting:
            self.waiting = False
            self._send({"op": "continue"})

    def close(self) -> None:
        for f in (self._reader, self._replies):
            try:
                f.close()
            except OSError:
                pass
