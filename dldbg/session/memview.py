"""`x/NFU`: gdb's examine formats over linear memory.

N is a count, F a format, U a unit; each part is optional and remembered between calls.
Formats: x hex, d signed decimal, u unsigned decimal, o octal, t binary, c character, f float
(w: f32, g: f64), a address (hex plus the symbol it points at), s C string.  Units: b 1 byte,
h 2, w 4, g 8.  Defaults: 1, x, w.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from .addresses import place, regions
from .errors import CommandError

UNITS = {"b": 1, "h": 2, "w": 4, "g": 8}
FORMATS = "xduotcfas"
PER_LINE = {1: 8, 2: 8, 4: 4, 8: 2}
_SPEC = re.compile(r"^/?(\d*)([a-z]*)$")


@dataclass(frozen=True)
class ExamineFormat:
    count: int = 1
    format: str = "x"
    unit: str = "w"

    def __str__(self) -> str:
        return f"/{self.count}{self.format}{self.unit}"


def parse_format(spec: str, last: ExamineFormat) -> ExamineFormat:
    """`/16xb`, `/s`, `/4` -> the format, taking the letters not given from `last`; the count
    is 1 unless given (gdb: `x/3dw` then `x/s` shows one string).  Raises CommandError."""
    m = _SPEC.match(spec)
    if not m:
        raise CommandError(f"bad format {spec!r}: expected /NFU (e.g. /16xb, /4dw, /s)")
    count = int(m.group(1)) if m.group(1) else 1
    fmt, unit = last.format, last.unit
    for letter in m.group(2):
        if letter in UNITS:
            unit = letter
        elif letter in FORMATS:
            fmt = letter
        else:
            raise CommandError(f"bad format letter {letter!r} in {spec!r} (formats: {FORMATS}; units: b h w g)")
    if count < 1:
        raise CommandError("the count must be at least 1")
    if fmt in ("c",) and not set(m.group(2)) & set(UNITS):
        unit = "b"
    if fmt == "a" and not set(m.group(2)) & set(UNITS):
        unit = "w"
    if fmt == "f" and unit not in ("w", "g"):
        if set(m.group(2)) & set(UNITS):
            raise CommandError("format f needs unit w (f32) or g (f64)")
        unit = "w"
    return ExamineFormat(count, fmt, unit)


def _render(value: int, size: int, fmt: str) -> str:
    bits = size * 8
    signed = value - (1 << bits) if value >> (bits - 1) else value
    if fmt == "x":
        return f"0x{value:0{size * 2}x}"
    if fmt == "d":
        return str(signed)
    if fmt == "u":
        return str(value)
    if fmt == "o":
        return f"0{value:o}" if value else "0"
    if fmt == "t":
        return f"{value:0{bits}b}"
    if fmt == "c":
        ch = chr(value) if 32 <= value < 127 else f"\\x{value:02x}"
        return f"{signed} '{ch}'"
    raise AssertionError(fmt)


def examine(engine, address: int, fmt: ExamineFormat) -> tuple[list[str], dict, int]:
    """Lines of output, a JSON-ready dict and the address after the last unit shown.

    Raises DldbgError when the range is outside linear memory.
    """
    all_regions = regions(engine)

    def label(at: int) -> str:
        where = place(engine, at, all_regions).short()
        return f"{at:#010x}" + (f" <{where}>" if where and where not in ("stack", "heap", "null-guard") else "") + ":"

    if fmt.format == "s":
        lines, strings = [], []
        for _ in range(fmt.count):
            raw = engine.read_cstring(address)
            text = raw.decode("utf-8", "backslashreplace")
            strings.append({"address": address, "string": text})
            lines.append(f"{label(address)}\t{_c_literal(raw)}")
            address += len(raw) + 1
        return lines, {"format": "s", "strings": strings}, address
    size = UNITS[fmt.unit]
    data = engine.read_memory(address, size * fmt.count)
    values = [int.from_bytes(data[i * size : (i + 1) * size], "little") for i in range(fmt.count)]
    if fmt.format == "f":
        code = "<f" if size == 4 else "<d"
        shown = [repr(struct.unpack(code, data[i * size : (i + 1) * size])[0]) for i in range(fmt.count)]
        json_values: list = [float(s) for s in shown]
    elif fmt.format == "a":
        shown = []
        for v in values:
            where = place(engine, v, all_regions).short()
            shown.append(f"0x{v:0{size * 2}x}" + (f" <{where}>" if where and where != "null-guard" else ""))
        json_values = values
    else:
        shown = [_render(v, size, fmt.format) for v in values]
        json_values = values
    per_line = 1 if fmt.format == "a" else PER_LINE[size]
    lines = []
    for i in range(0, len(shown), per_line):
        lines.append(f"{label(address + i * size)}\t" + "\t".join(shown[i : i + per_line]))
    data_out = {"format": fmt.format, "unit": fmt.unit, "size": size, "values": json_values}
    return lines, data_out, address + size * fmt.count


def _c_literal(raw: bytes) -> str:
    out = []
    for b in raw:
        ch = chr(b)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif 32 <= b < 127:
            out.append(ch)
        else:
            out.append({10: "\\n", 9: "\\t", 13: "\\r"}.get(b, f"\\x{b:02x}"))
    return '"' + "".join(out) + '"'
