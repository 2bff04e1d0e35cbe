"""Splitting a command line into words.

Words are separated by whitespace.  `"..."` quotes with C escapes (`\\n`, `\\t`, `\\r`, `\\0`,
`\\\\`, `\\"`, `\\xHH`); `'...'` quotes literally; a `#` at the start of a word starts a comment.
Each word is a `Token`, a str that remembers whether any of it was quoted, so that `call f "12"`
passes a string while `call f 12` passes an integer.
"""

from __future__ import annotations

from .errors import CommandError

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'", "a": "\a", "b": "\b",
            "f": "\f", "v": "\v", "e": "\x1b"}

#: the characters that make a line more than words between spaces
_SPECIAL = frozenset("'\"\\#")


class Token(str):
    """A word of a command line.  `quoted`: some part of it was inside quotes."""

    #: a class default: an unquoted word (most) needs no instance attribute
    quoted: bool = False

    def __new__(cls, text: str, quoted: bool = False) -> "Token":
        token = str.__new__(cls, text)
        if quoted:
            token.quoted = True
        return token


def tokenize(line: str, *, partial: bool = False) -> list[Token]:
    """The words of `line`.

    Raises CommandError for an unterminated quote or a bad escape, unless `partial` (used for
    completion, where the line is still being typed): then the open word is returned as is.
    """
    if _SPECIAL.isdisjoint(line):  # no quote, escape or comment: the words between spaces
        make = str.__new__  # Token(word) without its Python-level __new__: an unquoted Token
        return [make(Token, word) for word in line.split()]
    return _scan(line, partial)


def _scan(line: str, partial: bool) -> list[Token]:
    """`tokenize`, a character at a time."""
    words: list[Token] = []
    i, n = 0, len(line)
    while i < n:
        while i < n and line[i].isspace():
            i += 1
        if i >= n:
            break
        if line[i] == "#":
            break
        text, quoted = [], False
        while i < n and not line[i].isspace():
            ch = line[i]
            if ch == "'":
                end = line.find("'", i + 1)
                if end < 0:
                    if not partial:
                        raise CommandError("unterminated ' quote")
                    end = n
                text.append(line[i + 1 : end])
                quoted, i = True, end + 1
            elif ch == '"':
                i += 1
                quoted = True
                while True:
                    if i >= n:
                        if not partial:
                            raise CommandError('unterminated " quote')
                        break
                    ch = line[i]
                    if ch == '"':
                        i += 1
                        break
                    if ch == "\\" and i + 1 < n:
                        text.append(_escape(line, i, partial))
                        i += 2 + (2 if line[i + 1] == "x" else 0)
                        continue
                    text.append(ch)
                    i += 1
            elif ch == "\\" and i + 1 < n:
                text.append(line[i + 1])
                i += 2
            else:
                text.append(ch)
                i += 1
        words.append(Token("".join(text), quoted))
    return words


def _escape(line: str, i: int, partial: bool) -> str:
    code = line[i + 1]
    if code == "x":
        digits = line[i + 2 : i + 4]
        try:
            return chr(int(digits, 16))
        except ValueError:
            if partial:
                return ""
            raise CommandError(f"bad escape \\x{digits}: two hex digits expected") from None
    if code in _ESCAPES:
        return _ESCAPES[code]
    if partial:
        return code
    raise CommandError(f"unknown escape \\{code}")


def quote(word: str) -> str:
    """`word` as it must be typed to come back from `tokenize` unchanged."""
    if word and not any(c.isspace() or c in "\"'\\#" for c in word):
        return word
    return "'" + word + "'" if "'" not in word else '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
