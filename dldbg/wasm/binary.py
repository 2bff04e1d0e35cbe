"""Byte-level primitives of the wasm binary format: a bounds-checked cursor and LEB128 codecs.

Source of the encodings: the WebAssembly core specification, "Binary Format" (5.1 Conventions,
5.2 Values).  Every read checks its bounds and raises `WasmParseError` with the absolute byte
offset, so malformed input never surfaces as IndexError or UnicodeDecodeError.
"""

from __future__ import annotations

from ..errors import WasmParseError


def _max_leb_bytes(bits: int) -> int:
    """Longest allowed LEB128 encoding of an N-bit integer: ceil(N / 7) bytes (spec 5.2.2)."""
    return (bits + 6) // 7


class Cursor:
    """Reads `data[pos:end]`; offsets reported in errors are absolute positions in `data`."""

    __slots__ = ("data", "pos", "end")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None):
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def fail(self, message: str, offset: int | None = None) -> WasmParseError:
        return WasmParseError(message, self.pos if offset is None else offset)

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def at_end(self) -> bool:
        return self.pos >= self.end

    def u8(self) -> int:
        if self.pos >= self.end:
            raise self.fail("unexpected end of data")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def bytes(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise self.fail(f"{n} bytes requested, {self.remaining} left")
        value = self.data[self.pos : self.pos + n]
        self.pos += n
        return bytes(value)

    def uleb(self, bits: int = 32) -> int:
        """An unsigned LEB128 of at most `bits` bits (at most ceil(bits / 7) bytes)."""
        pos = self.pos
        if pos < self.end:
            byte = self.data[pos]
            if byte < 0x80:  # one byte, the common case: 7 bits fit any width read here
                self.pos = pos + 1
                return byte
        return self._leb(bits, signed=False)

    def sleb(self, bits: int = 32) -> int:
        """A signed LEB128 of at most `bits` bits."""
        pos = self.pos
        if pos < self.end:
            byte = self.data[pos]
            if byte < 0x80:  # one byte: bit 6 is the sign
                self.pos = pos + 1
                return byte - 0x80 if byte & 0x40 else byte
        return self._leb(bits, signed=True)

    def _leb(self, bits: int, signed: bool) -> int:
        start = self.pos
        result = shift = 0
        for _ in range(_max_leb_bytes(bits)):
            byte = self.u8()
            result |= (byte & 0x7F) << shift
            shift += 7
            if byte & 0x80:
                continue
            if signed:
                if byte & 0x40:
                    result -= 1 << shift
                if not -(1 << (bits - 1)) <= result < (1 << (bits - 1)):
                    raise self.fail(f"LEB128 value does not fit in s{bits}", start)
            elif result >> bits:
                raise self.fail(f"LEB128 value does not fit in u{bits}", start)
            return result
        raise self.fail("LEB128 value too long", start)

    def name(self) -> str:
        """A wasm `name`: u32 length, then that many bytes of UTF-8."""
        start = self.pos
        size = self.uleb()
        end = self.pos + size
        if end > self.end:
            raise self.fail(f"{size} bytes requested, {self.remaining} left")
        raw = bytes(self.data[self.pos : end])
        self.pos = end
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.fail(f"name is not valid UTF-8 ({exc.reason})", start) from None

    def sub(self, size: int) -> "Cursor":
        """A cursor over the next `size` bytes; this cursor moves past them."""
        if size < 0 or self.pos + size > self.end:
            raise self.fail(f"size {size} runs past the end ({self.remaining} bytes left)")
        child = Cursor(self.data, self.pos, self.pos + size)
        self.pos += size
        return child


def encode_uleb(value: int) -> bytes:
    """Unsigned LEB128 encoding of a non-negative integer."""
    if value < 0:
        raise ValueError("encode_uleb takes a non-negative integer")
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_sleb(value: int) -> bytes:
    """Signed LEB128 encoding."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40):
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def encode_name(text: str) -> bytes:
    raw = text.encode("utf-8")
    return encode_uleb(len(raw)) + raw


def encode_section(section_id: int, payload: bytes) -> bytes:
    return bytes([section_id]) + encode_uleb(len(payload)) + payload


def encode_custom_section(name: str, payload: bytes) -> bytes:
    return encode_section(0, encode_name(name) + payload)
