"""The exception hierarchy: one root, `DldbgError`, and a subclass per failure kind.

Every error that reaches a user carries what is needed for a one-line message: the file, the
stage of the load that failed and, where there is one, the byte offset in the file.  wasmtime's
own exceptions are wrapped into these at the engine boundary, never let through.
"""

from __future__ import annotations


class DldbgError(Exception):
    """Root of every error dldbg raises on purpose."""

    def one_line(self) -> str:
        """The message as a single line, for `dldbg: error: ...` output."""
        return " ".join(str(self).split("\n"))


class WasmParseError(DldbgError):
    """Malformed wasm input.

    :ivar offset: byte offset in the file where reading failed.
    :ivar path: the file, when the reader was given one.
    """

    def __init__(self, message: str, offset: int, path: str | None = None):
        self.message = message
        self.offset = offset
        self.path = path
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}malformed wasm at byte offset {self.offset:#x}: {self.message}"

    def with_path(self, path: str) -> "WasmParseError":
        return WasmParseError(self.message, self.offset, path)


class LoadError(DldbgError):
    """A module could not be loaded.

    :ivar path: the module that failed (the innermost one, for a NEEDED chain).
    :ivar stage: the loader stage that failed (see `dldbg.events.STAGES`).
    :ivar reason: what went wrong, without the path and stage.
    :ivar offset: byte offset in the file, when the failure is tied to one.
    :ivar internal: True when a bug in dldbg (an unexpected exception, the `__cause__`) failed the load.
    """

    internal = False

    def __init__(self, path: str, stage: str, reason: str, offset: int | None = None):
        self.path = path
        self.stage = stage
        self.reason = reason
        self.offset = offset
        at = f" at byte offset {offset:#x}" if offset is not None else ""
        super().__init__(f"{path}: {stage}: {reason}{at}")


class UndefinedSymbolError(LoadError):
    """A required symbol has no definition (emscripten: `undefined symbol 'X'`)."""

    def __init__(self, path: str, stage: str, symbol: str, kind: str, offset: int | None = None):
        self.symbol = symbol
        self.kind = kind
        super().__init__(
            path,
            stage,
            f"undefined symbol '{symbol}' ({kind}). perhaps a side module was not linked in?",
            offset,
        )


class ModuleFileError(DldbgError):
    """A file that is not read as a module: missing, not a regular file (a device, a FIFO, a
    folder), larger than the file-size limit, or not starting with the wasm magic number.
    Nothing past the first 8 bytes is read before these checks.

    :ivar path: the file.
    :ivar reason: what is wrong with it.
    :ivar offset: 0 for a bad magic number or version, else None.
    """

    def __init__(self, path: str, reason: str, offset: int | None = None):
        self.path = path
        self.reason = reason
        self.offset = offset
        at = f" at byte offset {offset:#x}" if offset is not None else ""
        super().__init__(f"{path}: read: {reason}{at}")


class DlError(DldbgError):
    """A dl API call failed; the message is what `dlerror()` returns."""


class CallError(DldbgError):
    """Calling a wasm function failed (a trap, a bad argument or an unknown function).

    :ivar trap: the wasmtime trap message, when the call trapped.
    :ivar backtrace: frames as `module!function` strings, innermost first.
    """

    def __init__(self, message: str, trap: str | None = None, backtrace: tuple[str, ...] = ()):
        self.trap = trap
        self.backtrace = backtrace
        super().__init__(message)


class NotSupportedByBackend(DldbgError):
    """The engine backend in use cannot do what was asked (the node backend has no `dlclose`:
    emscripten's loader never unloads); the message names the operation, the backend and why."""


class BinaryenUnavailable(DldbgError):
    """No binaryen 119 or newer can be had to translate legacy exception handling to exnref
    (`wasm-opt --translate-to-exnref`): no such `wasm-opt` on PATH, and no node (or no npm and
    no cached copy) to run npm `binaryen`.  The message says how to get one."""


class TranslationError(DldbgError):
    """`wasm-opt --translate-to-exnref` failed, or its output lost the input's dylink.0."""


def internal_cause(exc: BaseException) -> BaseException | None:
    """The unexpected exception (a bug in dldbg) behind `exc`, if a LoadError in its cause chain
    is `internal`; for DLDBG_DEBUG=1, which shows its traceback."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, LoadError) and exc.internal:
            return exc.__cause__
        exc = exc.__cause__
    return None
