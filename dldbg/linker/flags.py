"""dlopen mode flags, with musl's values as emscripten uses them.

Source: emscripten `system/lib/libc/musl/include/dlfcn.h` (RTLD_LAZY 1, RTLD_NOW 2,
RTLD_NOLOAD 4, RTLD_NODELETE 4096, RTLD_GLOBAL 256, RTLD_LOCAL 0); RTLD_DEFAULT is handle 0.
wasi-libc differs (RTLD_LOCAL 8): a host that serves wasi-libc programs translates its values.
"""

from __future__ import annotations

from ..errors import DlError

RTLD_LAZY = 1
RTLD_NOW = 2
RTLD_NOLOAD = 4
RTLD_NODELETE = 4096
RTLD_GLOBAL = 256
RTLD_LOCAL = 0

#: The pseudo-handle that searches the global scope (dlsym) / names the main program.
RTLD_DEFAULT = 0

FLAG_NAMES = {
    "RTLD_LAZY": RTLD_LAZY,
    "RTLD_NOW": RTLD_NOW,
    "RTLD_NOLOAD": RTLD_NOLOAD,
    "RTLD_NODELETE": RTLD_NODELETE,
    "RTLD_GLOBAL": RTLD_GLOBAL,
    "RTLD_LOCAL": RTLD_LOCAL,
}

#: emscripten's dynlink.c message for a mode with neither RTLD_LAZY nor RTLD_NOW.
BAD_MODE_MESSAGE = "invalid mode for dlopen(): Either RTLD_LAZY or RTLD_NOW is required"


def parse_flags(text: str) -> int:
    """`RTLD_NOW|RTLD_GLOBAL`, `now,global` or a number -> the flag bits.  Raises DlError."""
    text = text.strip()
    if not text:
        raise DlError("empty dlopen mode")
    try:
        return int(text, 0)
    except ValueError:
        pass
    value = 0
    for word in text.replace(",", "|").split("|"):
        word = word.strip().upper()
        name = word if word.startswith("RTLD_") else "RTLD_" + word
        if name not in FLAG_NAMES:
            raise DlError(f"unknown dlopen flag {word!r} (known: {', '.join(FLAG_NAMES)})")
        value |= FLAG_NAMES[name]
    return value


def describe_flags(flags: int) -> str:
    """The flag bits as `RTLD_NOW|RTLD_GLOBAL`."""
    names = [name for name, bit in FLAG_NAMES.items() if bit and flags & bit]
    if not flags & RTLD_GLOBAL:
        names.append("RTLD_LOCAL")
    rest = flags & ~sum(FLAG_NAMES.values())
    if rest:
        names.append(hex(rest))
    return "|".join(names)
