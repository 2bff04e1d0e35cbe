"""LD_DEBUG-style rendering of engine events: one greppable line per event.

Categories are LD_DEBUG keywords (`--trace=libs,got`); `all` selects every one and `help`
lists them, as `LD_DEBUG=help` does.
"""

from __future__ import annotations

from typing import Callable, TextIO

from .errors import DldbgError
from .events import CATEGORIES, Event
from .textsafe import printable

CATEGORY_HELP = {
    "libs": "library search, reading, compiling, instantiation, load results, dlclose",
    "memory": "static data and TLS allocation, memory growth, debugger writes",
    "table": "table growth and slot reservation, debugger slot writes (interposition)",
    "symbols": "import bindings, lazy binding, symbol publication",
    "got": "GOT entries created and updated",
    "reloc": "data relocations, with every word they changed",
    "tls": "thread-local storage initialisation",
    "ctors": "constructors called, with their time",
    "calls": "traps in calls into wasm, with the wasm backtrace",
}


def parse_categories(text: str | None) -> frozenset[str]:
    """`None`/`all` -> every category; `libs,got` -> those.  Raises DldbgError on an unknown one."""
    if text is None or text == "all":
        return frozenset(CATEGORIES)
    chosen = {word.strip() for word in text.split(",") if word.strip()}
    if "all" in chosen:
        return frozenset(CATEGORIES)
    unknown = chosen - set(CATEGORIES)
    if unknown:
        raise DldbgError(f"unknown trace categories: {', '.join(sorted(unknown))} (valid: {', '.join(CATEGORIES)}, all, help)")
    return frozenset(chosen)


def help_text() -> str:
    lines = ["Valid options for --trace=CATEGORIES (comma separated):", ""]
    lines += [f"  {name:<9}{text}" for name, text in CATEGORY_HELP.items()]
    lines += [f"  {'all':<9}all previous options combined", "", "Each line is `dldbg[CATEGORY]: MODULE: message`."]
    return "\n".join(lines)


def _hex(value: int | None) -> str:
    """Addresses and slots in hex; -1 (emscripten's UNDEFINED_ADDR) as itself."""
    if value is None:
        return "-"
    return str(value) if value < 0 else hex(value)


def _changes(changes) -> str:
    if not changes:
        return "no words changed"
    shown = ", ".join(f"[{a:#x}] {o:#x} -> {n:#x}" for a, o, n in changes[:8])
    more = f" (+{len(changes) - 8} more)" if len(changes) > 8 else ""
    return f"{len(changes)} words: {shown}{more}"


_FORMATS: dict[str, Callable] = {
    "glue.hooks": lambda e: f"glue instrumented: {len(e.hooked)} loader functions hooked ({', '.join(e.hooked)})"
                            + (f"; the glue has no {', '.join(n.split(' ')[0] for n in e.missing)}" if e.missing else "")
                            + (f"; stages not exposed: {', '.join(n.split(':')[0] for n in e.not_exposed)}"
                               if e.not_exposed else ""),
    "load.start": lambda e: f"load {e.path} [{e.flags}]" + (f" needed by {e.requested_by}" if e.requested_by else ""),
    "module.read": lambda e: f"read {e.size} bytes sha256 {e.sha256[:16]} " + (
        f"{e.dylink['format']}: mem_size={e.dylink['mem_size']} mem_p2align={e.dylink['mem_p2align']} "
        f"table_size={e.dylink['table_size']} needed=[{', '.join(e.dylink['needed'])}]"
        if e.dylink else "(no dylink.0: fixed addresses)"
    ),
    "module.translate": lambda e: (
        f"exception handling {e.from_encoding} -> {e.to_encoding} "
        + (f"from the cache in {e.seconds:.3f}s" if e.cached else f"in {e.seconds:.3f}s") + f" by {e.tool}"
        + f"; {e.size} bytes sha256 {e.sha256[:16]}"
    ),
    "module.compile": lambda e: f"code {e.source} in {e.seconds:.3f}s",
    "needed.resolved": lambda e: (
        f"NEEDED {e.name} -> " + (e.path + (" (already loaded)" if e.already_loaded else "") if e.path else "NOT FOUND")
        + f"; tried: {', '.join(e.tried)}"
    ),
    "memory.alloc": lambda e: (
        f"{e.purpose}: [{e.memory_base:#x}, {e.memory_base + e.size:#x}) {e.size} bytes, "
        f"alignment {e.alignment} ({e.allocator})"
    ),
    "memory.grow": lambda e: f"memory grown {e.pages_before} -> {e.pages_after} pages: {e.reason}",
    "table.grow": lambda e: f"table slots [{e.table_base}, {e.size_after}) added ({e.size_before} -> {e.size_after}): {e.reason}",
    "memory.set": lambda e: f"debugger wrote {e.size} bytes at {e.address:#x}: {e.old} -> {e.new} ({e.command})",
    "table.set": lambda e: f"debugger put {e.new} in table slot {e.slot} (was {e.old or 'empty'}): {e.command}",
    "import.resolve": lambda e: f"binding {e.import_module}.{e.field} ({e.import_kind}) -> {e.provider}!{e.symbol} [{e.how}]",
    "import.unresolved": lambda e: (
        f"unresolved {e.import_module}.{e.field} ({e.import_kind}{', weak' if e.weak else ''}): {e.action}"
    ),
    "got.create": lambda e: (
        f"new {e.got}.{e.symbol} = {_hex(e.value)}" + (f" from {e.provider}" if e.provider else " (unresolved)")
    ),
    "got.update": lambda e: f"{e.got}.{e.symbol}: {_hex(e.old)} -> {_hex(e.new)} ({e.reason})",
    "instantiate": lambda e: f"instantiated in {e.seconds:.3f}s" + (f"; start function {e.start_function} ran" if e.start_function else ""),
    "reloc.apply": lambda e: f"{e.function} ran ({e.where}): {_changes(e.changes)}",
    "reloc.start": lambda e: f"{e.function} ran ({e.where}): {_changes(e.changes)}",
    "tls.init": lambda e: f"TLS block {e.tls_base:#x} size {e.size} alignment {e.alignment}; symbols: {', '.join(e.symbols) or '-'}",
    "ctor.call": lambda e: f"{e.function} ran in {e.seconds:.6f}s",
    "symbols.publish": lambda e: (
        f"{len(e.symbols)} symbols published to the {e.scope} scope"
        + (f"; shadowed by earlier definitions: {', '.join(e.shadowed)}" if e.shadowed else "")
    ),
    "load.done": lambda e: f"loaded, handle {e.handle}, references {e.refcount}",
    "load.fail": lambda e: (
        f"load FAILED at {e.failed_stage}: {e.reason}; rolled back: {'; '.join(e.rolled_back) or 'nothing'}"
        + (f"; not undone: {'; '.join(e.leaked)}" if e.leaked else "")
    ),
    "import.bind": lambda e: f"lazy binding of {e.symbol} -> " + (e.provider or "NO DEFINITION"),
    "call.trap": lambda e: f"{e.function} trapped: {e.trap}" + "".join(f"; at {f}" for f in e.backtrace),
    "module.release": lambda e: f"released: {', '.join(e.released)}; kept: {', '.join(e.kept) or 'nothing'}",
}


def describe(event: Event) -> str:
    """`dldbg[CATEGORY]: MODULE: message`, one line: control characters in names escaped
    (dldbg.textsafe)."""
    render = _FORMATS.get(event.kind)
    message = render(event) if render else str(event.to_json())
    return printable(f"dldbg[{event.category}]: {event.module}: {message}")


class Tracer:
    """An event listener that writes the lines of the chosen categories to `stream`."""

    def __init__(self, stream: TextIO, categories: frozenset[str]):
        self.stream = stream
        self.categories = categories

    def __call__(self, event: Event) -> None:
        if event.category in self.categories:
            print(describe(event), file=self.stream, flush=True)
