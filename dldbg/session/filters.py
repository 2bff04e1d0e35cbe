"""Event filters: which events a breakpoint stops at, and which `events` lists.

A filter is an event-kind pattern plus `KEY=REGEX` conditions, all of which must hold:

* the pattern is an event kind (`got.update`), the part before its dot (`got` = `got.create`
  and `got.update`; `load` = `load.start`, `load.done` and `load.fail`), a trace category
  (`libs`, `symbols`, ...; used when no kind starts with the word), a glob (`import.*`) or
  `*`/`all` for every event;
* `module=REGEX` matches the event's module name, `stage=REGEX` its loader stage,
  `kind=REGEX` its kind, `symbol=REGEX` any symbol the event names (the `symbol`, `field`,
  `name` or `function` field, or one of `symbols`); any other key names an event field
  (`how=lazy`, `action=error`, `value=0x10`: integers compare by value).

Regular expressions match the whole value (`re.fullmatch`), except where a filter is built with
`search=True` (`catch load REGEX`, like gdb, finds the REGEX anywhere in the path).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from dataclasses import dataclass, field

from ..events import CATEGORIES, EVENT_KINDS, EVENT_TYPES, Event
from .errors import CommandError

#: Event fields that hold symbol names (`symbol=` looks at all of them).
SYMBOL_FIELDS = ("symbol", "field", "name", "function", "symbols")
SPECIAL_KEYS = ("module", "stage", "kind", "symbol")


def kinds_for(pattern: str) -> tuple[str, ...]:
    """The event kinds a pattern selects, in EVENT_TYPES order.  Raises CommandError."""
    kinds = [cls.kind for cls in EVENT_TYPES]
    if pattern in ("*", "all", "any"):
        return tuple(kinds)
    if pattern in EVENT_KINDS:
        return (pattern,)
    if any(ch in pattern for ch in "*?["):
        chosen = [k for k in kinds if fnmatch.fnmatchcase(k, pattern)]
    else:
        chosen = [k for k in kinds if k.startswith(pattern + ".")]
        if not chosen and pattern in CATEGORIES:
            chosen = [cls.kind for cls in EVENT_TYPES if cls.category == pattern]
    if not chosen:
        groups = sorted({k.split(".")[0] for k in kinds})
        raise CommandError(f"unknown event kind {pattern!r} (kinds: {', '.join(kinds)}; "
                           f"groups: {', '.join(groups)}; categories: {', '.join(CATEGORIES)}; or *)")
    return tuple(chosen)


def _fields_of(kinds: tuple[str, ...]) -> set[str]:
    names: set[str] = set()
    for kind in kinds:
        names.update(f.name for f in dataclasses.fields(EVENT_KINDS[kind]))
    return names


@dataclass(frozen=True)
class Condition:
    """`key=regex`; `search` finds the regex anywhere instead of matching the whole value."""

    key: str
    regex: str
    search: bool = False

    def compiled(self) -> re.Pattern:
        return re.compile(self.regex)

    def holds(self, event: Event) -> bool:
        values = _values(event, self.key)
        if not values:
            return False
        pattern = self.compiled()
        number = _as_int(self.regex)
        for value in values:
            if number is not None and isinstance(value, int) and not isinstance(value, bool) and value == number:
                return True
            text = _text(value)
            if (pattern.search(text) if self.search else pattern.fullmatch(text)) is not None:
                return True
        return False

    def __str__(self) -> str:
        return f"{self.key}{'~' if self.search else '='}{self.regex}"


def _as_int(text: str) -> int | None:
    try:
        return int(text, 0)
    except ValueError:
        return None


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _values(event: Event, key: str) -> list:
    if key == "kind":
        return [event.kind]
    if key == "stage":
        return [event.stage]
    if key == "symbol":
        out: list = []
        for name in SYMBOL_FIELDS:
            value = getattr(event, name, None)
            if isinstance(value, (tuple, list)):
                out.extend(value)
            elif value is not None:
                out.append(value)
        return out
    if not hasattr(event, key):
        return []
    value = getattr(event, key)
    return list(value) if isinstance(value, (tuple, list)) else [value]


@dataclass(frozen=True)
class EventFilter:
    """A kind pattern and conditions; `matches(event)` when the kind is selected and all hold."""

    pattern: str = "*"
    kinds: tuple[str, ...] = field(default_factory=lambda: kinds_for("*"))
    conditions: tuple[Condition, ...] = ()

    def matches(self, event: Event) -> bool:
        return event.kind in self.kinds and all(c.holds(event) for c in self.conditions)

    def __str__(self) -> str:
        return " ".join([self.pattern, *(str(c) for c in self.conditions)])

    def to_json(self) -> dict:
        return {"pattern": self.pattern, "kinds": list(self.kinds),
                "conditions": [{"key": c.key, "regex": c.regex, "search": c.search} for c in self.conditions]}


def parse_filter(words: list[str], *, default_pattern: str = "*", extra: tuple[Condition, ...] = ()) -> EventFilter:
    """`[PATTERN] [KEY=REGEX ...]` -> an EventFilter.  Raises CommandError (unknown kind or key,
    bad regular expression)."""
    pattern = default_pattern
    rest = list(words)
    if rest and "=" not in rest[0]:
        pattern = rest.pop(0)
    kinds = kinds_for(pattern)
    known = _fields_of(kinds) | set(SPECIAL_KEYS)
    conditions = list(extra)
    for word in rest:
        key, eq, regex = word.partition("=")
        if not eq or not key:
            raise CommandError(f"expected KEY=REGEX, got {word!r} (the event kind, if any, comes first)")
        if key not in known:
            raise CommandError(f"no event of kind {pattern} has a field {key!r} (keys: {', '.join(sorted(known))})")
        try:
            re.compile(regex)
        except re.error as exc:
            raise CommandError(f"bad regular expression {regex!r} for {key}: {exc}") from None
        conditions.append(Condition(key, regex))
    for cond in extra:
        try:
            re.compile(cond.regex)
        except re.error as exc:
            raise CommandError(f"bad regular expression {cond.regex!r}: {exc}") from None
    return EventFilter(pattern, kinds, tuple(conditions))
