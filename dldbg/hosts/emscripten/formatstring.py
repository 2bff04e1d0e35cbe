"""The JavaScript printf of emscripten 3.1.6 (`library_formatString.js`), and JS puts.

A main module built with `-sMAIN_MODULE=2` keeps only the libc it uses itself; a side module
that calls `printf` or `puts` then gets the glue's JavaScript versions, which format in JS and
print with `out()` (so a final newline is dropped and added back, bytes are Latin-1 chars).
"""

from __future__ import annotations

import math
import struct

from .registry import js


def _re_sign(value: int, bits: int) -> int:
    if value <= 0:
        return value
    half = 1 << (bits - 1)
    if value >= half and (bits <= 32 or value > half):
        value -= 2 * half
    return value


def _un_sign(value: int, bits: int) -> int:
    return value if value >= 0 else (1 << bits) + value


def _js_number(value: int) -> int | float:
    """A 64-bit integer as JS holds it: a double (convertI32PairToI53)."""
    return value if abs(value) < 1 << 53 else float(value)


def _js_decimal(value) -> str:
    """JS `Number.prototype.toString(10)` of an integral value below 1e21."""
    if isinstance(value, int):
        return str(value)
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole = mantissa.split(".")[0]
    frac = mantissa.split(".")[1] if "." in mantissa else ""
    exp = int(exponent) if exponent else 0
    text = (whole + frac).lstrip("0") or "0"
    text = text + "0" * (exp - len(frac)) if exp >= len(frac) else str(int(value))
    return ("-" if value < 0 else "") + text


def _js_exponential(x: float, digits: int) -> str:
    text = f"{x:.{digits}e}"
    mantissa, exp = text.split("e")
    return f"{mantissa}e{exp[0]}{int(exp[1:])}"


def format_string(rt, fmt: int, varargs: int) -> bytes:
    """emscripten `formatString(format, varargs)`: the formatted bytes."""
    text = rt.cbytes(fmt) + b"\0\0\0"
    arg = varargs
    out = bytearray()

    def next_arg(kind: str):
        nonlocal arg
        if kind in ("double", "i64") and arg & 7:
            arg += 4
        if kind == "double":
            value = struct.unpack("<d", rt.read(arg, 8))[0]
            arg += 8
        elif kind == "i64":
            value = struct.unpack("<q", rt.read(arg, 8))[0]
            arg += 8
        else:
            value = rt.i32(arg)
            arg += 4
        return value

    i = 0
    while text[i] != 0:
        curr, start = text[i], i
        if curr != ord("%"):
            out.append(curr)
            i += 1
            continue
        nxt = text[i + 1]
        always_signed = left = alternative = zero_pad = pad_sign = False
        while True:
            if nxt == ord("+"):
                always_signed = True
            elif nxt == ord("-"):
                left = True
            elif nxt == ord("#"):
                alternative = True
            elif nxt == ord("0"):
                if zero_pad:
                    break
                zero_pad = True
            elif nxt == ord(" "):
                pad_sign = True
            else:
                break
            i += 1
            nxt = text[i + 1]
        width = 0
        if nxt == ord("*"):
            width = next_arg("i32")
            i += 1
            nxt = text[i + 1]
        else:
            while ord("0") <= nxt <= ord("9"):
                width = width * 10 + nxt - ord("0")
                i += 1
                nxt = text[i + 1]
        precision_set, precision = False, -1
        if nxt == ord("."):
            precision, precision_set = 0, True
            i += 1
            nxt = text[i + 1]
            if nxt == ord("*"):
                precision = next_arg("i32")
                i += 1
            else:
                while ord("0") <= text[i + 1] <= ord("9"):
                    precision = precision * 10 + text[i + 1] - ord("0")
                    i += 1
            nxt = text[i + 1]
        if precision < 0:
            precision, precision_set = 6, False
        size = None
        ch = chr(nxt)
        if ch == "h":
            if text[i + 2] == ord("h"):
                i += 1
                size = 1
            else:
                size = 2
        elif ch == "l":
            if text[i + 2] == ord("l"):
                i += 1
                size = 8
            else:
                size = 4
        elif ch in "Lqj":
            size = 8
        elif ch in "ztI":
            size = 4
        if size:
            i += 1
        nxt = text[i + 1]
        ch = chr(nxt)
        if ch in "diuoxXp":
            signed = ch in "di"
            size = size or 4
            value = next_arg("i64" if size == 8 else "i32")
            if size == 8 and ch == "u":
                value &= (1 << 64) - 1
            if size <= 4:
                limit = (1 << (8 * size)) - 1
                value = (_re_sign if signed else _un_sign)(value & limit, size * 8)
            if size == 8:
                value = _js_number(value)
            absolute = abs(value)
            prefix = ""
            if ch in "di":
                body = _js_decimal(_re_sign(value, 8 * size) if size <= 4 else value)
            elif ch == "u":
                body = _js_decimal(_un_sign(value, 8 * size) if size <= 4 else value)
                value = abs(value)
            elif ch == "o":
                body = ("0" if alternative else "") + format(int(absolute), "o")
            elif ch in "xX":
                prefix = "0x" if alternative and value != 0 else ""
                if value < 0:
                    value = -value
                    body = format(int(absolute) - 1, "x")
                    body = "".join(format(0xF - int(c, 16), "x") for c in body)
                    body = body.rjust(size * 2, "f")
                else:
                    body = format(int(absolute), "x")
                if ch == "X":
                    prefix, body = prefix.upper(), body.upper()
            else:  # p
                if absolute == 0:
                    body = "(nil)"
                else:
                    prefix, body = "0x", format(int(absolute), "x")
            if precision_set:
                body = body.rjust(precision, "0")
            if value >= 0:
                if always_signed:
                    prefix = "+" + prefix
                elif pad_sign:
                    prefix = " " + prefix
            if body.startswith("-"):
                prefix, body = "-" + prefix, body[1:]
            while len(prefix) + len(body) < width:
                if left:
                    body += " "
                elif zero_pad:
                    body = "0" + body
                else:
                    prefix = " " + prefix
            out += (prefix + body).encode("latin-1", errors="replace")
        elif ch in "fFeEgG":
            value = next_arg("double")
            if math.isnan(value):
                body, zero_pad = "nan", False
            elif math.isinf(value):
                body, zero_pad = ("-" if value < 0 else "") + "inf", False
            else:
                general = False
                effective = min(precision, 20)
                conv = ch
                if ch in "gG":
                    general = True
                    precision = precision or 1
                    exponent = int(_js_exponential(value, effective).split("e")[1])
                    if precision > exponent >= -4:
                        conv = "f" if ch == "g" else "F"
                        precision -= exponent + 1
                    else:
                        conv = "e" if ch == "g" else "E"
                        precision -= 1
                    effective = min(precision, 20)
                if conv in "eE":
                    body = _js_exponential(value, effective)
                    if body[-2] in "+-" and body[-3] in "eE":
                        body = body[:-1] + "0" + body[-1]
                else:
                    body = f"{value:.{effective}f}"
                    if body.startswith("-") and value == 0 and math.copysign(1, value) > 0:
                        body = body[1:]
                parts = body.split("e")
                if general and not alternative:
                    while len(parts[0]) > 1 and "." in parts[0] and parts[0][-1] in "0.":
                        parts[0] = parts[0][:-1]
                else:
                    if alternative and "." not in body:
                        parts[0] += "."
                    while precision > effective:
                        effective += 1
                        parts[0] += "0"
                body = parts[0] + ("e" + parts[1] if len(parts) > 1 else "")
                if conv == "E":
                    body = body.upper()
                if value >= 0:
                    if always_signed:
                        body = "+" + body
                    elif pad_sign:
                        body = " " + body
            while len(body) < width:
                if left:
                    body += " "
                elif zero_pad and body[0] in "-+":
                    body = body[0] + "0" + body[1:]
                else:
                    body = ("0" if zero_pad else " ") + body
            if nxt < ord("a"):
                body = body.upper()
            out += body.encode("latin-1", errors="replace")
        elif ch == "s":
            ptr = next_arg("i32")
            data = rt.cbytes(ptr) if ptr else b"(null)"
            length = min(len(data), precision) if precision_set else len(data)
            pad = b" " * max(width - length, 0)
            out += (data[:length] + pad) if left else (pad + data[:length])
        elif ch == "c":
            if left:
                out.append(next_arg("i32") & 0xFF)
            out += b" " * max(width - 1, 0)
            if not left:
                out.append(next_arg("i32") & 0xFF)
        elif ch == "n":
            rt.set_i32(next_arg("i32"), len(out))
        elif ch == "%":
            out.append(curr)
        else:
            out += text[start:i + 2]
        i += 2
    return bytes(out)


def _print_line(rt, data: bytes) -> int:
    string = data.decode("latin-1")
    if string.endswith("\n"):
        string = string[:-1]
    rt.out(string)
    return len(data)


@js("printf", "iii")
def _printf(rt, fmt, varargs):
    return _print_line(rt, format_string(rt, fmt, varargs))


@js("puts", "ii")
def _puts(rt, ptr):
    text = rt.cstr(ptr)
    string = text[:-1] if text.endswith("\n") else text
    rt.out(string)
    return len(text)
