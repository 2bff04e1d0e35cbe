"""Resource limits: what a module may ask for before dldbg refuses it with a clear error.

Real modules stay far below every limit; a damaged or hostile one (a MEM_INFO memoryalignment
of 2^94, a table of 2^31 slots, `/dev/zero` as a library) fails its load at the stage that asks,
naming the limit and how to raise it, instead of exhausting memory or time.

| name | default | unit | checked against |
|---|---|---|---|
| `file_size` | 512 MiB | bytes | a module file's size (only regular files are read) |
| `memory_size` | 1 GiB | bytes | MEM_INFO memorysize; a memory import's minimum |
| `memory_alignment` | 16 | log2 of bytes | MEM_INFO memoryalignment (2^16 = one wasm page) |
| `table_size` | 4,194,304 | slots | MEM_INFO tablesize; a table import's minimum |
| `imports` | 100,000 | entries | the import section's count (wasmparser's MAX_WASM_IMPORTS) |
| `exports` | 100,000 | entries | the export section's count (wasmparser's MAX_WASM_EXPORTS) |

Raise one with `--limit NAME=VALUE` (dldbg run, dldbg inspect, the debugger) or the
environment variable `DLDBG_LIMITS="NAME=VALUE,..."`; sizes take K, M and G suffixes (powers
of 1024).
"""

from __future__ import annotations

import os

from .errors import DldbgError
from .frozen import Frozen, set_field

ENV_VAR = "DLDBG_LIMITS"
_SUFFIXES = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


class ResourceLimits(Frozen):
    """See the module docstring for each field's meaning and unit."""

    __slots__ = ("file_size", "memory_size", "memory_alignment", "table_size", "imports", "exports")

    def __init__(self, file_size: int = 512 << 20, memory_size: int = 1 << 30, memory_alignment: int = 16,
                 table_size: int = 1 << 22, imports: int = 100_000, exports: int = 100_000):
        set_field(self, "file_size", file_size)
        set_field(self, "memory_size", memory_size)
        set_field(self, "memory_alignment", memory_alignment)
        set_field(self, "table_size", table_size)
        set_field(self, "imports", imports)
        set_field(self, "exports", exports)

    def with_overrides(self, specs) -> "ResourceLimits":
        """A copy with `NAME=VALUE` settings applied (an iterable of strings, each of which may
        hold several, comma-separated).  Raises DldbgError for an unknown name or a bad value."""
        known = self._fields
        changes = {}
        for spec in specs:
            for item in filter(None, (part.strip() for part in spec.split(","))):
                name, sep, value = item.partition("=")
                name = name.strip().replace("-", "_")
                if not sep or name not in known:
                    raise DldbgError(f"--limit {item}: expected NAME=VALUE with NAME one of {', '.join(sorted(known))}")
                changes[name] = parse_size(value.strip(), f"--limit {item}")
        return ResourceLimits(*(changes.get(name, getattr(self, name)) for name in known))

    def describe(self, name: str) -> str:
        """How to raise limit `name`, for error messages."""
        return f"dldbg's limit {name}={getattr(self, name)}; raise it with --limit {name}=N or {ENV_VAR}"


def parse_size(text: str, what: str) -> int:
    """`4096`, `0x1000`, `64K`, `512M`, `2G` -> an integer.  Raises DldbgError."""
    scale = _SUFFIXES.get(text[-1:].lower(), 1)
    digits = text[:-1] if scale != 1 else text
    try:
        value = int(digits, 0) * scale
    except ValueError:
        raise DldbgError(f"{what}: {text!r} is not a number") from None
    if value < 0:
        raise DldbgError(f"{what}: a limit cannot be negative")
    return value


def default_limits(environ=None) -> ResourceLimits:
    """The defaults with `DLDBG_LIMITS` applied.  Raises DldbgError for a bad setting."""
    spec = (os.environ if environ is None else environ).get(ENV_VAR, "")
    return ResourceLimits().with_overrides([spec]) if spec else ResourceLimits()
