"""How `print` and `display` show a value (dldbg.session.expr's Value): the formatted value,
then what it is (a data symbol's location, a slot's function, a GOT entry's provider)."""

from __future__ import annotations

from ..linker.got import UNDEFINED_ADDR
from .addresses import place, slot_info
from .errors import CommandError
from .expr import Memory, Value, format_value
from .memview import _c_literal


def show(session, value: Value, fmt: str | None) -> str:
    """`value` as print shows it: the formatted value, then what it is."""
    engine = session.engine
    v = value.value
    size = value.lvalue.size if isinstance(value.lvalue, Memory) else 4
    if fmt == "s":
        address = v
        if not isinstance(address, int):
            raise CommandError("/s needs an address")
        return f"{address:#x} {_c_literal(engine.read_cstring(address))}"
    if fmt == "a" or (fmt is None and value.what == "address"):
        where = place(engine, v).short() if isinstance(v, int) else ""
        return f"{v:#x}" + (f" <{where}>" if where and where not in ("heap", "stack", "null-guard") else "")
    if fmt is None and value.what == "got":
        entry = engine.got.get(value.lvalue.symbol)
        if v == UNDEFINED_ADDR:
            return f"-1 (unresolved {entry.got}.{entry.symbol})"
        if entry.got == "GOT.mem":
            where = place(engine, v & 0xFFFFFFFF).short()
            return f"{v & 0xFFFFFFFF:#x}" + (f" <{where}>" if where else "") + f" ({entry.got}.{entry.symbol}, provider " \
                f"{entry.provider or '-'})"
        return f"{v} ({slot_text(engine, v)}; {entry.got}.{entry.symbol}, provider {entry.provider or '-'})"
    text = format_value(v, fmt, size)
    if value.what in ("function", "slot") and fmt is None:
        return f"{text} ({slot_text(engine, v)})"
    if value.lvalue is not None and value.what in ("data", "global"):
        return f"{text} ({value.name + ': ' if value.name else ''}{value.lvalue.describe(engine)})"
    return text


def slot_text(engine, slot: int) -> str:
    try:
        return slot_info(engine, slot).text()
    except CommandError:
        return f"slot {slot}: outside the table"


def show_display(session, d) -> dict:
    """One display's line: `N: EXPR = value`, or the error in place of the value."""
    label = f"{d.number}: {'/' + d.format + ' ' if d.format else ''}{d.expression}"
    try:
        value = session.evaluate(d.expression)
        return {"number": d.number, "expression": d.expression, "value": value.value,
                "text": f"{label} = {show(session, value, d.format)}"}
    except CommandError as exc:
        return {"number": d.number, "expression": d.expression, "error": str(exc), "text": f"{label} = <{exc}>"}
    except Exception as exc:  # memory out of range and the like: a display never fails a stop
        return {"number": d.number, "expression": d.expression, "error": str(exc), "text": f"{label} = <{exc}>"}
