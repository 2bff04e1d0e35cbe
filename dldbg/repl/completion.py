"""Completion: what may come next on a command line.

`suggest(registry, data, text_before_cursor)` is pure (no prompt_toolkit): it returns the
Suggestions for the word under the cursor, using the command registry (command words, option
names, each positional argument's completion kind) and a `data` object that lists the session's
modules, symbols, functions, handles, breakpoints, paths and libraries (SessionData: the files of
the folders `dlopen` searches, not only the current folder's).  dlopen modes complete in every
spelling parse_flags takes (RTLD_NOW|RTLD_GLOBAL, now,global), after `|` or `,`.  `DldbgCompleter`
adapts it to prompt_toolkit.
"""

from __future__ import annotations

import argparse
import os
import re
from dataclasses import dataclass

from ..events import CATEGORIES, EVENT_KINDS, STAGES
from ..linker.flags import FLAG_NAMES
from ..session.errors import CommandError
from ..session.filters import SPECIAL_KEYS
from ..session.tokens import quote, tokenize


@dataclass(frozen=True)
class Suggestion:
    """`text` replaces the `-start` characters before the cursor; `meta` is shown beside it."""

    text: str
    start: int
    meta: str = ""


class SessionData:
    """What completion needs from a Session, read when asked (modules change after dlopen)."""

    def __init__(self, session):
        self.session = session

    @property
    def registry(self):
        return self.session.registry

    def _mods(self):
        return [m for m in self.session.engine.modules if m.state not in ("failed", "released")]

    def modules(self) -> list[str]:
        return [m.name for m in self._mods()]

    def handles(self) -> list[str]:
        return [str(m.handle) for m in self._mods() if m.handle is not None]

    def symbols(self) -> list[str]:
        names = set(self.session.engine.global_scope.symbols)
        for m in self._mods():
            names.update(m.exports)
        names.update(self.session.engine.got.entries)
        return sorted(names)

    def functions(self) -> list[str]:
        names = set()
        for m in self._mods():
            names.update(n for n, s in m.exports.items() if s.kind == "func")
        return sorted(names)

    def breakpoints(self) -> list[str]:
        return [str(bp.number) for bp in self.session.breakpoints]

    def paths(self, prefix: str) -> list[str]:
        return complete_path(prefix)

    def library_folders(self) -> list[str]:
        """Where `dlopen NAME` searches, in order: -L folders and the program's folder, then
        LD_LIBRARY_PATH, then the current folder (dldbg.linker.search)."""
        session = self.session
        env = os.environ if session.environ is None else session.environ
        folders = list(session.library_path) + [p for p in env.get("LD_LIBRARY_PATH", "").split(":") if p]
        folders.append(os.getcwd())
        out = []
        for folder in folders:
            folder = os.path.abspath(folder)
            if folder not in out:
                out.append(folder)
        return out

    def libraries(self, prefix: str) -> list[tuple[str, str]]:
        """(completion, where) for a library argument: with a `/`, paths; else the libraries
        of the search folders (each name once, with the first folder that has it) and the
        current folder's entries."""
        if "/" in prefix or prefix.startswith(("~", ".")):
            return [(p, "") for p in complete_path(prefix)]
        return complete_library(prefix, self.library_folders())


def complete_path(prefix: str) -> list[str]:
    """Files and folders (with a trailing /) whose path starts with `prefix`."""
    expanded = os.path.expanduser(prefix)
    folder, stem = os.path.split(expanded)
    try:
        names = sorted(os.listdir(folder or "."))
    except OSError:
        return []
    out = []
    for name in names:
        if not name.startswith(stem) or (name.startswith(".") and not stem.startswith(".")):
            continue
        path = os.path.join(folder, name) if folder else name
        if prefix.startswith("~") and expanded != prefix:
            path = prefix[: len(prefix) - len(stem)] + name
        out.append(path + "/" if os.path.isdir(os.path.join(folder or ".", name)) else path)
    return out


def complete_library(prefix: str, folders: list[str]) -> list[tuple[str, str]]:
    """Library files (`.so`, `.so.N`, `.wasm`) named `prefix...` in `folders`, the first folder
    that has a name winning, then the current folder's other entries (folders to walk into)."""
    found: dict[str, str] = {}
    cwd = os.getcwd()
    for folder in folders:
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            if name.startswith(prefix) and name not in found and _is_library(name) \
                    and os.path.isfile(os.path.join(folder, name)):
                found[name] = "" if folder == cwd else _short(folder)
    out = sorted(found.items())
    out += [(p, "") for p in complete_path(prefix) if p not in found and p.endswith("/")]
    return out


def _is_library(name: str) -> bool:
    return name.endswith((".so", ".wasm")) or ".so." in name


def _short(folder: str) -> str:
    try:
        rel = os.path.relpath(folder)
    except ValueError:
        return folder
    return rel if not rel.startswith("../..") else folder


#: the spellings parse_flags accepts for each flag, as completion offers them
def flag_words(current: str) -> list[str]:
    """Completions of a dlopen mode being typed: the flag word after the last `|` or `,`, in
    the spelling typed (RTLD_NOW, rtld_now, NOW, now), flags already given (and the other of
    LAZY/NOW, GLOBAL/LOCAL) left out."""
    cut = max(current.rfind("|"), current.rfind(","))
    head, stem = current[: cut + 1], current[cut + 1 :]
    given = {w.strip().upper().removeprefix("RTLD_") for w in re.split(r"[|,]", head) if w.strip()}
    for pair in ({"LAZY", "NOW"}, {"GLOBAL", "LOCAL"}):  # one of each pair makes sense
        if given & pair:
            given |= pair
    out = []
    for name in FLAG_NAMES:
        short = name.removeprefix("RTLD_")
        if short in given:
            continue
        forms = [name, short.lower()] if not stem else [name, name.lower(), short, short.lower()]
        out += [head + f for f in forms if f.startswith(stem)]
    return out


def _groups() -> list[str]:
    groups = sorted({k.split(".")[0] for k in EVENT_KINDS})
    return sorted(set(EVENT_KINDS) | set(groups) | set(CATEGORIES) | {"*"})


def _current_word(text: str) -> tuple[str, str]:
    """(the raw word being typed, its text once unquoted)."""
    if not text or text[-1].isspace():
        return "", ""
    m = re.search(r"(?:\"(?:[^\"\\]|\\.)*\"?|'[^']*'?|\S)+$", text)
    raw = m.group(0) if m else ""
    try:
        words = tokenize(raw, partial=True)
    except CommandError:
        words = []
    return raw, (words[0] if words else raw)


def _name_words(registry) -> list[list[str]]:
    return [name.split() for name in registry.names()]


def suggest(registry, data, text: str) -> list[Suggestion]:
    """Suggestions for the word before the cursor in `text`."""
    raw, current = _current_word(text)
    head = text[: len(text) - len(raw)]
    try:
        done = registry.split_format(tokenize(head, partial=True))
    except CommandError:
        return []
    start = -len(raw)
    if not done or _in_command_name(registry, done):
        return _command_words(registry, done, current, start)
    try:
        cmd, used = registry.match(list(done))
    except CommandError:
        return []
    args = list(done[used:])
    if current.startswith("-"):
        options = sorted(o for a in cmd.parser._actions for o in a.option_strings if o.startswith(current))
        return [Suggestion(o, start) for o in options]
    positional = [a for a in args if not a.startswith("-") and not (cmd.name == "x" and a.startswith("/"))]
    index = len(positional)
    if cmd.complete and cmd.complete[-1] == "command":  # `help info g`: command names, word by word
        return [s for s in _command_words(registry, positional, current, start)]
    candidates = _for_argument(cmd, index, data, current, positional)
    return [Suggestion(quote(c) if " " in c else c, start, meta) for c, meta in candidates if c.startswith(current)]


def _in_command_name(registry, done) -> bool:
    """Whether the words so far are a prefix of a longer command name, not a complete command."""
    try:
        registry.match(list(done))
    except CommandError:
        return True
    n = len(done)
    return any(len(parts) > n and all(parts[i] == done[i] for i in range(n)) and
               registry.get(" ".join(done)) is None for parts in _name_words(registry))


def _command_words(registry, done, current: str, start: int) -> list[Suggestion]:
    n = len(done)
    out: dict[str, str] = {}
    for parts in _name_words(registry):
        if len(parts) <= n or not all(parts[i].startswith(done[i]) for i in range(n)):
            continue
        word = parts[n]
        if word.startswith(current) and word not in out:
            cmd = registry.get(" ".join(parts)) if len(parts) == n + 1 else None
            out[word] = cmd.summary if cmd is not None else "..."
    return [Suggestion(w, start, meta) for w, meta in sorted(out.items())]


def _positional_actions(cmd) -> list[argparse.Action]:
    return [a for a in cmd.parser._actions if not a.option_strings]


def _for_argument(cmd, index: int, data, current: str, positional: list[str]) -> list[tuple[str, str]]:
    actions = _positional_actions(cmd)
    action = actions[index] if index < len(actions) else (actions[-1] if actions and actions[-1].nargs in ("*", "+", argparse.REMAINDER) else None)
    if action is not None and action.choices:
        return [(str(c), "") for c in action.choices]
    kinds = cmd.complete
    if not kinds:
        return []
    kind = kinds[index] if index < len(kinds) else (kinds[-1] if action is not None else None)
    if kind is None:
        return []
    return _values(kind, data, current, index == 0 or not positional, cmd_registry(cmd, data))


def cmd_registry(cmd, data):
    return getattr(data, "registry", None)


def _values(kind: str, data, current: str, first: bool, registry=None) -> list[tuple[str, str]]:
    if kind == "module":
        return [(m, "module") for m in data.modules()]
    if kind == "handle":
        return [(h, "handle") for h in data.handles()] + [(m, "module") for m in data.modules()] + [("RTLD_DEFAULT", "")]
    if kind == "symbol":
        return [(s, "") for s in data.symbols()]
    if kind == "function":
        return [(s, "function") for s in data.functions()]
    if kind == "path":
        return [(p, "") for p in data.paths(current)]
    if kind == "library":
        libraries = getattr(data, "libraries", None)
        return list(libraries(current)) if libraries is not None else [(p, "") for p in data.paths(current)]
    if kind == "breakpoint":
        return [(b, "breakpoint") for b in data.breakpoints()]
    if kind == "flags":
        return [(f, "") for f in flag_words(current)]
    if kind == "filter":
        key, eq, value = current.partition("=")
        if eq:
            values = {"module": data.modules, "symbol": data.symbols, "stage": lambda: list(STAGES),
                      "kind": lambda: sorted(EVENT_KINDS)}.get(key)
            return [(f"{key}={v}", "") for v in values()] if values else []
        keys = [(f"{k}=", "condition") for k in SPECIAL_KEYS]
        return ([(g, "event kind") for g in _groups()] + keys) if first else keys
    if kind == "command":
        if registry is None:
            return []
        return [(w, "") for w in sorted({n.split()[0] for n in registry.names()})]
    return []
