"""Which function a `call` (or `set table ... FUNC`) names: a table slot, `module!name`, or a
name, the same way for every engine backend (dldbg.linker.engine, dldbg.linker.node)."""
from __future__ import annotations

from ..errors import CallError


def is_slot(target) -> bool:
    """Whether `target` names a table slot (an int, or a string of one)."""
    return isinstance(target, int) or (isinstance(target, str) and target.strip().lstrip("-").isdigit())


def resolve_function(engine, target, live_states=("ready",)) -> tuple[object, object, str]:
    """(function, its FuncType, a label) for `target`: a table slot, `module!name`, or a name
    looked up in the global scope, then in every module whose state is in `live_states`.

    A function whose own table slot the debugger interposed (`set table`) resolves to what that
    slot holds now, as calls through its function pointer do.  `engine` has `table` (`get`,
    `size`, `slot_of`, `interposed`), `module_named`, `modules`, `global_scope` and
    `func_type_of`.  Raises CallError."""
    table = engine.table
    if is_slot(target):
        slot = int(target)
        func = table.get(slot) if table is not None and 0 <= slot < table.size else None
        if func is None:
            raise CallError(f"table slot {slot} holds no function")
        return func, engine.func_type_of(func), f"slot {slot}"
    if "!" in target:
        modname, name = target.split("!", 1)
        mod = engine.module_named(modname)
        if mod is None:
            raise CallError(f"no loaded module named {modname}")
        candidates = [mod.exports.get(name)]
    else:
        candidates = [engine.global_scope.lookup(target)]
        candidates += [m.exports.get(target) for m in engine.modules if m.state in live_states]
    for sym in candidates:
        if sym is not None and sym.kind == "func":
            slot = table.slot_of(sym.key) if table is not None and table.interposed else None
            if slot is not None and slot in table.interposed:
                func = table.get(slot)
                if func is not None:
                    return func, engine.func_type_of(func), f"{sym.module}!{sym.name} (slot {slot}, interposed)"
            return sym.extern, sym.func_type, f"{sym.module}!{sym.name}"
    raise CallError(f"no function named {target} in the loaded modules")
