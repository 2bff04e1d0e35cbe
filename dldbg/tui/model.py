"""Provides what the TUI shows, computed without Textual or wasmtime: pure functions and small
incremental models over the session's event log and the state snapshots the bridge sends.

* `LoadTracker` follows the event log and knows, for each module, which loader stages its
  latest load went through and how each ended (done, in progress, failed, not reached).
* `event_row`, `event_message` and `event_fields` render one logged event for the timeline and
  the detail pane.
* `Shortener` (dldbg.session.paths) shows paths relative to the current folder.
* `hex_line` formats 16 bytes of linear memory; `region_at` finds the region of an address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..events import STAGES, Event
from ..session.paths import Shortener  # noqa: F401  (the panes' path display)

#: the stages of a load, in pipeline order (the last three are not load stages)
LOAD_STAGES = tuple(s for s in STAGES if s not in ("call", "dlclose"))

_PREFIX = re.compile(r"^dldbg\[[a-z]+\]: ")


# -- events ---------------------------------------------------------------------------------
def event_message(event: Event) -> str:
    """The trace line of `event` without its `dldbg[CATEGORY]: MODULE: ` prefix."""
    from ..trace import describe

    text = _PREFIX.sub("", describe(event), count=1)
    head = f"{event.module}: "
    return text[len(head):] if text.startswith(head) else text


#: style of each event kind in the timeline (Rich style names)
KIND_STYLES = {
    "load.start": "bold",
    "load.done": "bold green",
    "load.fail": "bold red",
    "import.unresolved": "red",
    "call.trap": "bold red",
    "got.create": "cyan",
    "got.update": "cyan",
    "reloc.apply": "yellow",
    "reloc.start": "yellow",
    "memory.alloc": "blue",
    "memory.grow": "blue",
    "table.grow": "blue",
    "ctor.call": "magenta",
    "tls.init": "magenta",
    "symbols.publish": "green",
    "import.bind": "cyan",
    "module.release": "dim",
}


def kind_style(event: Event) -> str:
    if event.kind == "import.unresolved" and getattr(event, "action", "") != "error":
        return "yellow"
    if event.kind == "needed.resolved" and getattr(event, "path", None) is None:
        return "red"
    return KIND_STYLES.get(event.kind, "")


_HEX_FIELDS = re.compile(r"(base|address|^value$|^old$|^new$|^handle_ptr$)")


def _field_text(name: str, value) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower() if isinstance(value, bool) else "-"
    if isinstance(value, int):
        if _HEX_FIELDS.search(name) and value >= 0:
            return f"{value:#x}"
        return str(value)
    if isinstance(value, float):
        return f"{value:.6f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_field_text(name, v) for v in value) if value else "(none)"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def event_fields(event: Event) -> list[tuple[str, str]]:
    """(field, text) pairs for the detail pane; relocation changes one per line."""
    out: list[tuple[str, str]] = []
    data = event.to_json()
    for key, value in data.items():
        if key in ("kind", "stage", "module"):
            continue
        if key == "changes":
            out.append(("changes", f"{len(value)} words" if value else "no words changed"))
            for address, old, new in value[:64]:
                out.append(("", f"[{address:#x}] {old:#x} -> {new:#x}"))
            if len(value) > 64:
                out.append(("", f"... {len(value) - 64} more"))
            continue
        if key in ("tried", "rolled_back", "leaked", "symbols", "shadowed", "backtrace") and isinstance(value, list):
            out.append((key, f"({len(value)})" if value else "(none)"))
            for item in value[:64]:
                out.append(("", str(item)))
            if len(value) > 64:
                out.append(("", f"... {len(value) - 64} more"))
            continue
        out.append((key, _field_text(key, value)))
    return out


def event_address(event: Event) -> int | None:
    """An address in linear memory the event is about (for `goto`), if any."""
    for name in ("memory_base", "tls_base"):
        value = getattr(event, name, None)
        if isinstance(value, int) and value >= 0:
            return value
    if event.kind in ("got.create", "got.update") and getattr(event, "got", "") == "GOT.mem":
        value = getattr(event, "value", None) if event.kind == "got.create" else getattr(event, "new", None)
        if isinstance(value, int) and value > 0:
            return value
    changes = getattr(event, "changes", None)
    if changes:
        return changes[0][0]
    return None


# -- loads and their stages -----------------------------------------------------------------
@dataclass
class StageInfo:
    """One stage of one load: `status` is done, current, failed or pending."""

    name: str
    status: str = "done"
    first: int = -1
    count: int = 0
    note: str = ""


@dataclass
class ModuleLoad:
    """The latest load of a module seen in the log.  `status`: loading, loaded, failed,
    rolled-back (a load of its request failed), released."""

    name: str
    path: str = ""
    status: str = "loading"
    attempts: int = 0
    first: int = -1
    requested_by: str | None = None
    stages: dict[str, StageInfo] = field(default_factory=dict)
    current: str | None = None
    reason: str = ""
    extras: int = 0

    def ordered(self) -> list[StageInfo]:
        """Stages in pipeline order (as the log saw them), then the ones not reached yet."""
        seen = list(self.stages.values())
        if self.status != "loading":
            return seen
        after = False
        pending = []
        for name in LOAD_STAGES:
            if name == self.current:
                after = True
                continue
            if after and name not in self.stages:
                pending.append(StageInfo(name, "pending"))
        return seen + pending


class LoadTracker:
    """Follows an event log (`feed(entries)` with the entries not seen yet)."""

    def __init__(self) -> None:
        self.modules: dict[str, ModuleLoad] = {}
        self.seen = 0
        #: bumped whenever something visible changed
        self.version = 0

    def feed(self, entries) -> None:
        for entry in entries:
            self._one(entry.index, entry.event)
            self.seen = entry.index + 1
        self.version += 1

    def _one(self, index: int, e: Event) -> None:
        if e.kind == "load.start":
            mod = self.modules.get(e.module)
            if mod is None:
                mod = self.modules[e.module] = ModuleLoad(e.module)
            else:  # a new attempt: forget the old stages, keep the place in the tree
                mod.stages.clear()
                mod.reason = ""
            mod.path, mod.status, mod.first, mod.requested_by = e.path, "loading", index, e.requested_by
            mod.attempts += 1
            mod.current = None
        mod = self.modules.get(e.module)
        if mod is None:
            return
        if e.stage in ("call", "dlclose"):
            mod.extras += 1
            if e.kind == "module.release":
                mod.status = "released"
            return
        if e.kind == "load.fail":
            self._fail(mod, index, e)
            return
        if mod.status != "loading":
            # late events of a finished load (e.g. a startup load's relocations after load.done)
            stage = mod.stages.get(e.stage)
            if stage is None:
                stage = mod.stages[e.stage] = StageInfo(e.stage, "done", index)
            stage.count += 1
            return
        stage = mod.stages.get(e.stage)
        if mod.current is not None and mod.current != e.stage and mod.current in mod.stages:
            mod.stages[mod.current].status = "done"
        if stage is None:
            stage = mod.stages[e.stage] = StageInfo(e.stage, "current", index)
        stage.status = "current"
        stage.count += 1
        mod.current = e.stage
        if e.kind == "import.unresolved" and getattr(e, "action", "") == "error":
            stage.note = f"unresolved {e.import_module}.{e.field}"
        if e.kind == "load.done":
            stage.status = "done"
            mod.status = "loaded"
            for other in mod.stages.values():
                if other.status == "current":
                    other.status = "done"
            mod.current = None

    def _fail(self, mod: ModuleLoad, index: int, e: Event) -> None:
        failed = e.failed_stage
        # every load still in progress is undone with the request
        for other in self.modules.values():
            if other.status == "loading" and other is not mod:
                other.status = "rolled-back"
                for st in other.stages.values():
                    if st.status == "current":
                        st.status = "done"
                other.current = None
        mod.status = "failed"
        mod.reason = e.reason
        for st in mod.stages.values():
            if st.status == "current":
                st.status = "done"
        stage = mod.stages.get(failed)
        if stage is None:
            stage = mod.stages[failed] = StageInfo(failed, "failed", index)
        stage.status = "failed"
        stage.note = e.reason
        stage.count += 1
        mod.current = None


# -- memory ---------------------------------------------------------------------------------
#: colours of module regions in the hex view, in load order
REGION_COLOURS = ("#5fafff", "#87d75f", "#ffaf5f", "#d787ff", "#5fd7d7", "#ffd75f", "#ff87af", "#afafff")
KIND_COLOURS = {"stack": "#6c7a89", "null-guard": "#4e4e4e", "heap": "#a8a8a8", "tls": "#d7af87"}


def region_colours(regions) -> dict[str, str]:
    """owner -> colour for data regions (modules in the order their regions appear)."""
    out: dict[str, str] = {}
    for r in regions:
        if r.kind == "data" and r.owner not in out:
            out[r.owner] = REGION_COLOURS[len(out) % len(REGION_COLOURS)]
    return out


def region_at(regions, address: int):
    """The region holding `address` (a module's data or TLS before heap blocks), or None."""
    found = None
    for r in regions:
        if r.start <= address < r.end and (found is None or r.kind in ("data", "tls")):
            found = r
    return found


def printable(byte: int) -> str:
    return chr(byte) if 32 <= byte < 127 else "."


def hex_line(address: int, data: bytes | None) -> str:
    """`0x00100400  00 01 ... 0f  ................` (no colours); None: not read yet."""
    if data is None:
        return f"{address:#010x}  " + " ".join(["··"] * 8) + "  " + " ".join(["··"] * 8)
    cells = [f"{b:02x}" for b in data] + ["  "] * (16 - len(data))
    text = "".join(printable(b) for b in data)
    return f"{address:#010x}  {' '.join(cells[:8])}  {' '.join(cells[8:])}  {text}"
