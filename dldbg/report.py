"""`dldbg inspect`: what a module declares for dynamic linking, from the binary alone.

Field names and order follow `wasm-objdump -x` for dylink.0 (mem_size, mem_p2align,
table_size, table_p2align, needed_dynlibs, export/import info) so the two can be compared.
Imports are grouped as a loader sees them: env, GOT.mem, GOT.func, WASI, other.
"""

from __future__ import annotations

from .hosts.programs import emscripten_main_style, program_kind
from .wasm.dylink import describe_symbol_flags
from .textsafe import printable
from .wasm.reader import WasmModule

IMPORT_GROUPS = ("env", "GOT.mem", "GOT.func", "WASI", "other")
WASI_MODULES = ("wasi_snapshot_preview1", "wasi_unstable")


def import_group(module: str) -> str:
    if module in ("env", "GOT.mem", "GOT.func"):
        return module
    return "WASI" if module in WASI_MODULES else "other"


def _describe_import(wasm: WasmModule, imp) -> str:
    if imp.kind == "func":
        return f"func {wasm.types[imp.desc]}"
    if imp.kind == "global":
        return f"global {'mut ' if imp.desc.mutable else ''}{imp.desc.val_type}"
    if imp.kind == "memory":
        lim = imp.desc.limits
        return f"memory min {lim.min} pages" + (f" max {lim.max}" if lim.max is not None else "") + (" shared" if lim.shared else "")
    if imp.kind == "table":
        lim = imp.desc.limits
        return f"table {imp.desc.elem_type} min {lim.min} slots" + (f" max {lim.max}" if lim.max is not None else "")
    return f"tag {wasm.types[imp.desc]}"


def _describe_export(wasm: WasmModule, exp) -> str:
    if exp.kind == "func":
        return f"func {wasm.func_type(exp.index)}"
    if exp.kind == "global":
        gtype = wasm.global_type(exp.index)
        own = exp.index >= wasm.num_imported_globals
        if own and not gtype.mutable:
            value = wasm.globals[exp.index - wasm.num_imported_globals].init.evaluate()
            tls = exp.name in wasm.tls_exports
            what = "TLS offset" if tls else "data offset"
            return f"global {gtype.val_type} ({what} {value if value is not None else '?'})"
        return f"global {'mut ' if gtype.mutable else ''}{gtype.val_type}"
    return exp.kind


def emscripten_unimplemented(wasm: WasmModule) -> list[str] | None:
    """For an emscripten main module: its JS-library imports that dldbg's emscripten host does
    not implement (they trap when called); None for other modules.  Imports the glue only
    forwards to side modules (main.js's `external symbol` stubs) are not listed."""
    style = emscripten_main_style(wasm)
    if style is None:
        return None
    from .hosts.emscripten.layout import find_js, read_layout
    from .hosts.emscripten.registry import WASI_MODULES, implemented

    external: frozenset[str] = frozenset()
    if style == "3" and wasm.path and find_js(wasm.path):  # a 3.1.6 main.js (later glues differ)
        external = read_layout(wasm.path, wasm).external_symbols
    return [f"{imp.module}.{imp.field}" for imp in wasm.imports
            if imp.kind == "func" and imp.module in ("env", *WASI_MODULES)
            and not implemented(imp.field) and imp.field not in external]


def module_kind(wasm: WasmModule) -> str:
    """What the module is, for the first line of `dldbg inspect`: "emscripten main" (with the
    emscripten generation), "CoWasm kernel", "WASI main", "side module", or "no dylink.0
    section (not a side module)".  A main program with dylink.0 (a PIE main) is a main."""
    kind = program_kind(wasm, wasm.path or "")
    if kind == "emscripten main":
        style = emscripten_main_style(wasm)
        return ("emscripten main module (emscripten 3.x: exports stackSave/stackRestore)" if style == "3" else
                "emscripten main module (emscripten 4 or newer: exports _emscripten_stack_restore)")
    if kind is not None:
        return kind
    return "side module" if wasm.dylink else "no dylink.0 section (not a side module)"


def inspect_module(wasm: WasmModule) -> dict:
    """A JSON-ready description: dylink metadata, grouped imports, exports, start function."""
    groups: dict[str, list] = {g: [] for g in IMPORT_GROUPS}
    weak = wasm.weak_imports
    for imp in wasm.imports:
        groups[import_group(imp.module)].append(
            {"module": imp.module, "field": imp.field, "kind": imp.kind, "type": _describe_import(wasm, imp),
             "weak": imp.field in weak, "offset": imp.offset}
        )
    return {
        "path": wasm.path,
        "size": wasm.size,
        "kind": module_kind(wasm),
        "program": program_kind(wasm, wasm.path or ""),
        "side_module": wasm.dylink is not None,
        "exception_handling": wasm.eh.to_json(),
        "dylink": None if wasm.dylink is None else {**wasm.dylink.to_json(), "offset": wasm.dylink.offset, "first": wasm.dylink_first},
        "imports": groups,
        "exports": [{"name": e.name, "kind": e.kind, "index": e.index, "type": _describe_export(wasm, e)} for e in wasm.exports],
        "start": None if wasm.start is None else {"index": wasm.start, "name": wasm.start_name},
        "sections": [{"name": s.name, "offset": s.offset, "size": s.size, "count": s.count} for s in wasm.sections],
        "emscripten_unimplemented": emscripten_unimplemented(wasm),
    }


def render_text(wasm: WasmModule) -> str:
    info = inspect_module(wasm)
    out = [f"{wasm.path}: {wasm.size} bytes, {info['kind']}",
           f"exception handling: {wasm.eh.describe()}"]
    d = wasm.dylink
    if d is not None:
        first = "" if wasm.dylink_first else "  ** not the first section: loaders reject this **"
        out.append(f"{d.format} section at {d.offset:#x}:{first}")
        out.append(f"  mem_size     : {d.mem_size}")
        out.append(f"  mem_p2align  : {d.mem_align}")
        out.append(f"  table_size   : {d.table_size}")
        out.append(f"  table_p2align: {d.table_align}")
        out += [f"  needed_dynlibs[{len(d.needed)}]:"] + [f"   - {n}" for n in d.needed] if d.needed else []
        out += [f"  runtime_path[{len(d.runtime_path)}]:"] + [f"   - {p}" for p in d.runtime_path] if d.runtime_path else []
        if d.export_info:
            out.append(f"  export_info[{len(d.export_info)}]:")
            out += [f"   - {n} [ {describe_symbol_flags(f)} ]" for n, f in d.export_info]
        if d.import_info:
            out.append(f"  import_info[{len(d.import_info)}]:")
            out += [f"   - {m}.{n} [ {describe_symbol_flags(f)} ]" for m, n, f in d.import_info]
        for unknown in d.unknown:
            out.append(f"  unknown subsection {unknown.id} at {unknown.offset:#x}: {len(unknown.payload)} bytes")
    total = sum(len(v) for v in info["imports"].values())
    out.append(f"imports ({total}):")
    for group, items in info["imports"].items():
        if items:
            out.append(f"  {group} ({len(items)}):")
            out += [f"    {i['module']}.{i['field']}: {i['type']}{'  [weak]' if i['weak'] else ''}" for i in items]
    out.append(f"exports ({len(info['exports'])}):")
    out += [f"  {e['name']}: {e['type']}" for e in info["exports"]]
    start = info["start"]
    missing = info["emscripten_unimplemented"]
    if missing is not None:
        out.append("emscripten imports not implemented: " + (", ".join(missing) if missing else "none"))
    out.append("start function: " + ("none" if start is None else f"func[{start['index']}] {start['name'] or ''}".rstrip()))
    return printable("\n".join(out), keep="\n")
