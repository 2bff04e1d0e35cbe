"""dldbg's end of the node hooks' protocol (docs/node.md): JSON lines over two pipes.

node writes one line per hook to the *events* pipe and blocks (fs.readSync) on the *replies*
pipe until dldbg writes `{"op": "continue"}`; before that, dldbg may write requests (`read`,
`write`, `memory`, `table`, `got`, `slot`, `eval`, `call`, `dlopen`, `dlsym`, `slotof`, `setgot`,
`setslot`, `sp`, `setsp`; docs/node.md), each answered on the events pipe by one
`{"reply": {"ok": true, "value": ...}}` or `{"reply": {"ok": false, "error": "..."}}` line.
"""

from __future__ import annotations

import base64
import json
import os

from ...errors import DldbgError


class ProtocolError(DldbgError):
    """node broke the protocol or went away while dldbg waited for it."""


class RequestFailed(DldbgError):
    """node answered a request with an error: `message` is node's text (the glue's or V8's),
    `detail` what the hooks add (for `call`: the JavaScript exception's class, whether it is a
    wasm trap, the wasm frames of its stack)."""

    def __init__(self, op: str, message: str, detail: dict | None):
        self.op = op
        self.reason = message
        self.detail = detail or {}
        super().__init__(f"{op}: {message}")


class Channel:
    """The two pipes, from dldbg's side: `hooks()` yields node's hook lines; while node waits
    on one (`waiting`), `request` asks it something and `resume` lets it go on.

    A request may run the program's code (`call`, `dlopen`): the hooks it reaches report and
    stop as at any other time, before the request's reply; `request` hands each such hook
    line to `on_hook` (node is then waiting in that inner hook) and resumes it after, so
    stops nest (a breakpoint inside a dlopen typed while stopped)."""

    def __init__(self, events_fd: int, replies_fd: int, on_hook=None):
        self._reader = os.fdopen(events_fd, "rb")
        self._replies = os.fdopen(replies_fd, "wb", buffering=0)
        self.waiting = False
        self.on_hook = on_hook
        self.fail_next: str | None = None

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
        self.waiting = False  # node works on it (and may reach hooks)
        failed = None  # an error of an inner hook's listener: raised once the reply is in
        while True:
            msg = self._line()
            if msg is None:
                raise ProtocolError(f"node ended while answering {op}")
            if "reply" in msg:
                break
            if "hook" not in msg:
                raise ProtocolError(f"node hooks: expected the reply to {op}, got {str(msg)[:80]}")
            self.waiting = True
            try:
                if self.on_hook is not None:
                    self.on_hook(msg)
            except Exception as exc:  # noqa: BLE001 - kept for after the reply (the pipe stays in step)
                failed = failed or exc
                self.fail_next = self.fail_next or str(exc)  # `abort`: the hooked function fails in the glue
            finally:
                self.resume()
        self.waiting = True  # back in the hook that was asked
        if failed is not None:
            raise failed
        reply = msg["reply"]
        if not reply.get("ok"):
            raise RequestFailed(op, str(reply.get("error")), reply.get("detail"))
        return reply.get("value")

    def read(self, address: int, size: int) -> bytes:
        return base64.b64decode(self.request("read", address=address, size=size))

    def resume(self) -> None:
        """Let node go on from its hook; with `fail_next` set, the hooked function fails with
        that message instead of running (a module above dldbg's limits)."""
        if self.waiting:
            self.waiting = False
            fail, self.fail_next = self.fail_next, None
            self._send({"op": "continue", **({"fail": fail} if fail else {})})

    def close(self) -> None:
        for f in (self._reader, self._replies):
            try:
                f.close()
            except OSError:
                pass
