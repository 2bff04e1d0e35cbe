"""Differential test: dldbg's wasm reader against `wasm-objdump -h` / `-x` (wabt 1.0.32).

For every sample side module (samples/out/<toolchain>/**/*.so, except the deliberately broken
ones) and every generated input of conftest.ReaderInputs, the objdump text is parsed by the small
parser below and compared field by field with `read_module_file`.

Known wabt 1.0.32 limits, accounted for here:
- `start=` in `-h` is the payload start (after the section size LEB; for a custom section that is
  the custom section's name length byte); `end=` is payload start + size.
- a single-instruction `ref.func` / `ref.null` init expression is printed with a stale `i32=`
  value (objdump does not record the type), so only numeric and `global.get` expressions are compared.
- the `elem[N]` numbers printed for element items carry over between segments; only the items
  themselves are compared.
- dylink.0 RUNTIME_PATH and unknown subsections are skipped by wabt, and tables with an
  initializer expression are not readable by it (`hand_table_init` is left out here).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dldbg.wasm import read_module_file
from dldbg.wasm.dylink import describe_symbol_flags
from dldbg.wasm.reader import WasmModule
from dldbg.wasm.types import ConstExpr, GlobalType, MemoryType, TableType

ROOT = Path(__file__).resolve().parent.parent
SAMPLES_OUT = Path(os.environ.get("DLDBG_SAMPLES_OUT", ROOT / "samples" / "out"))

#: conftest.ReaderInputs names that wabt 1.0.32 can read (not hand_table_init).
GENERATED = ("c_basic", "c_libdep", "c_tls_weak_needed", "wat_features", "wat_side", "wat_dylink",
             "wat_legacy_dylink")


def sample_modules() -> list[Path]:
    if not SAMPLES_OUT.is_dir():
        return []
    return sorted(
        p for p in SAMPLES_OUT.glob("*/**/*.so")
        if p.is_file() and p.relative_to(SAMPLES_OUT).parts[0] != "broken"
    )


INPUTS = [pytest.param(("generated", name), id=name) for name in GENERATED] + [
    pytest.param(("sample", p), id=str(p.relative_to(SAMPLES_OUT))) for p in sample_modules()
]


# --------------------------------------------------------------------------------------------
# The wasm-objdump text parser
# --------------------------------------------------------------------------------------------

# wabt's GetSectionName -> the reader's Section.name (custom sections use their own name).
_SECTION_NAMES = {
    "Type": "type", "Import": "import", "Function": "function", "Table": "table", "Memory": "memory",
    "Global": "global", "Export": "export", "Start": "start", "Elem": "elem", "Code": "code",
    "Data": "data", "DataCount": "datacount", "Tag": "tag",
}


@dataclass
class OdSection:
    name: str  # reader spelling: "type", ..., or the custom section's name
    start: int
    end: int
    size: int
    count: int | None  # `count: N` (and DataCount's count)
    start_func: int | None  # the Start section's `start: N`


@dataclass
class OdDetails:
    imports: list[dict] = field(default_factory=list)
    functions: list[tuple[int, int]] = field(default_factory=list)  # (func index, sig)
    tables: list[dict] = field(default_factory=list)
    memories: list[dict] = field(default_factory=list)
    tags: list[tuple[int, int]] = field(default_factory=list)
    globals: list[dict] = field(default_factory=list)
    exports: list[tuple[str, int, str]] = field(default_factory=list)  # (kind, index, name)
    start: int | None = None
    data_count: int | None = None
    elements: list[dict] = field(default_factory=list)
    data: list[dict] = field(default_factory=list)
    customs: list[str] = field(default_factory=list)
    dylink: dict | None = None
    names: dict[str, dict[int, str]] = field(default_factory=lambda: {"func": {}, "global": {}, "dataseg": {}})
    module_name: str | None = None


_HEADER_RE = re.compile(r"^\s*(\w+) start=(\w+) end=(\w+) \(size=(\w+)\) (.*)$")
_BLOCK_RE = re.compile(r"^([A-Za-z]+)(?:\[(\d+)\])?:$")
_MEMORY_RE = re.compile(r"^pages: initial=(\d+)(?: max=(\d+))?( shared)?( i64)?$")
_TABLE_RE = re.compile(r"^type=(\S+) initial=(\d+)(?: max=(\d+))?$")


def parse_headers(text: str) -> list[OdSection]:
    sections = []
    for line in text.splitlines():
        m = _HEADER_RE.match(line)
        if not m:
            continue
        kind, start, end, size, rest = m.groups()
        count = start_func = None
        if kind == "Custom":
            assert rest.startswith('"') and rest.endswith('"'), line
            name = rest[1:-1]
        else:
            name = _SECTION_NAMES[kind]
            if rest.startswith("count: "):
                count = int(rest[len("count: "):])
            elif rest.startswith("start: "):
                start_func = int(rest[len("start: "):])
        sections.append(OdSection(name, int(start, 16), int(end, 16), int(size, 16), count, start_func))
    return sections


def parse_init_expr(text: str) -> tuple | None:
    """wabt's init expression text -> normalized ops (see `reader_expr`); None if not comparable."""
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        ops = []
        for token in text[1:-1].split(", "):
            m = re.match(r"^(\S+)(?: (-?\d+))?(?: <.*>)?$", token)
            if not m:
                return None
            op, imm = m.group(1), m.group(2)
            ops.append(_normalize(op, None if imm is None else int(imm)))
        return tuple(ops)
    m = re.match(r"^(i32|i64|global|f32|f64)=(\S+)(?: <.*>)?$", text)
    if not m:
        return None  # `null`, `ref.func:N`, v128
    kind, value = m.groups()
    if kind == "global":
        return (("global.get", int(value)),)
    if kind in ("f32", "f64"):
        return ((f"{kind}.const", float.fromhex(value)),)
    return (_normalize(f"{kind}.const", int(value)),)


def _normalize(op: str, imm):
    """i32/i64 constants modulo 2**N: objdump prints data/elem offsets unsigned, globals signed."""
    if op == "i32.const":
        return (op, imm & 0xFFFFFFFF)
    if op == "i64.const":
        return (op, imm & 0xFFFFFFFFFFFFFFFF)
    return (op, imm)


_COMPARABLE_OPS = {"i32.const", "i64.const", "global.get", "i32.add", "i32.sub", "i32.mul",
                   "i64.add", "i64.sub", "i64.mul"}


def reader_expr(expr: ConstExpr) -> tuple | None:
    """The reader's ConstExpr in parse_init_expr's form; None when objdump cannot show it faithfully."""
    ops = []
    for op, imm in expr.ops:
        if op in ("f32.const", "f64.const") and len(expr.ops) == 1:
            ops.append((op, struct.unpack("<f" if op == "f32.const" else "<d", imm)[0]))
        elif op in _COMPARABLE_OPS:
            ops.append(_normalize(op, imm))
        else:
            return None
    return tuple(ops)


def parse_details(text: str) -> OdDetails:
    d = OdDetails()
    block = None
    custom_name = None
    dylink_list = None
    for line in text.splitlines():
        m = _BLOCK_RE.match(line)
        if m:
            block, custom_name, dylink_list = m.group(1), None, None
            continue
        if block is None or not line.startswith(" "):
            continue
        if block == "Custom":
            m = re.match(r'^ - name: "(.*)"$', line)
            if m and custom_name is None:
                custom_name = m.group(1)
                d.customs.append(custom_name)
                if custom_name in ("dylink.0", "dylink"):
                    d.dylink = {"needed": [], "exports": [], "imports": []}
                continue
            if custom_name in ("dylink.0", "dylink"):
                _dylink_line(d.dylink, line, dylink_list)
                m = re.match(r"^ - (needed_dynlibs|exports|imports)\[(\d+)\]:$", line)
                if m:
                    dylink_list = m.group(1)
                    d.dylink[dylink_list + "_count"] = int(m.group(2))
            elif custom_name == "name":
                m = re.match(r"^ - (func|global|dataseg)\[(\d+)\] <(.*)>$", line)
                if m:
                    d.names[m.group(1)][int(m.group(2))] = m.group(3)
                m = re.match(r"^ - module <(.*)>$", line)
                if m:
                    d.module_name = m.group(1)
        elif block == "Import":
            m = re.match(r"^ - (func|table|memory|global|tag)\[(\d+)\] (.*) <- (.*)$", line)
            assert m, f"unparsed import line: {line!r}"
            kind, index, desc, qualified = m.group(1), int(m.group(2)), m.group(3), m.group(4)
            entry = {"kind": kind, "index": index, "qualified": qualified}
            if kind in ("func", "tag"):
                entry["sig"] = int(re.match(r"^sig=(\d+)", desc).group(1))
            elif kind == "global":
                gm = re.match(r"^(\S+) mutable=([01])$", desc)
                entry["type"], entry["mutable"] = gm.group(1), gm.group(2) == "1"
            elif kind == "memory":
                entry.update(_memory(desc))
            else:
                entry.update(_table(desc))
            d.imports.append(entry)
        elif block == "Function":
            m = re.match(r"^ - func\[(\d+)\] sig=(\d+)", line)
            d.functions.append((int(m.group(1)), int(m.group(2))))
        elif block == "Table":
            m = re.match(r"^ - table\[(\d+)\] (type=\S+ initial=\d+(?: max=\d+)?)(?: <.*>)?$", line)
            d.tables.append({"index": int(m.group(1)), **_table(m.group(2))})
        elif block == "Memory":
            m = re.match(r"^ - memory\[(\d+)\] (.*)$", line)
            d.memories.append({"index": int(m.group(1)), **_memory(m.group(2))})
        elif block == "Tag":
            m = re.match(r"^ - tag\[(\d+)\] sig=(\d+)$", line)
            d.tags.append((int(m.group(1)), int(m.group(2))))
        elif block == "Global":
            m = re.match(r"^ - global\[(\d+)\] (\S+) mutable=([01])(?: <.*?>)? - init (.*)$", line)
            assert m, f"unparsed global line: {line!r}"
            d.globals.append({"index": int(m.group(1)), "type": m.group(2), "mutable": m.group(3) == "1",
                              "init_text": m.group(4), "init": parse_init_expr(m.group(4))})
        elif block == "Export":
            m = re.match(r'^ - (\w+)\[(\d+)\](?: <.*>)? -> "(.*)"$', line)
            assert m, f"unparsed export line: {line!r}"
            d.exports.append((m.group(1), int(m.group(2)), m.group(3)))
        elif block == "Start":
            m = re.match(r"^ - start function: (\d+)", line)
            d.start = int(m.group(1))
        elif block == "DataCount":
            d.data_count = int(re.match(r"^ - data count: (\d+)$", line).group(1))
        elif block == "Elem":
            m = re.match(r"^ - segment\[(\d+)\] flags=(\d+) table=(\d+) count=(\d+)(?: - init (.*))?$", line)
            if m:
                init = m.group(5)
                d.elements.append({"index": int(m.group(1)), "flags": int(m.group(2)), "table": int(m.group(3)),
                                   "count": int(m.group(4)), "init_text": init,
                                   "init": None if init is None else parse_init_expr(init), "items": []})
                continue
            m = re.match(r"^  - elem\[\d+\] = (?:func\[(\d+)\](?: <.*>)?|ref\.null (\S+))$", line)
            assert m, f"unparsed elem line: {line!r}"
            d.elements[-1]["items"].append(int(m.group(1)) if m.group(1) is not None else None)
        elif block == "Data":
            m = re.match(r"^ - segment\[(\d+)\](?: <.*?>)? (passive|memory=(\d+)) size=(\d+)(?: - init (.*))?$", line)
            if m:
                init = m.group(5)
                d.data.append({"index": int(m.group(1)), "passive": m.group(2) == "passive",
                               "memory": None if m.group(3) is None else int(m.group(3)), "size": int(m.group(4)),
                               "init_text": init, "init": None if init is None else parse_init_expr(init)})
    return d


def _dylink_line(dylink: dict, line: str, current_list: str | None) -> None:
    m = re.match(r"^ - (mem_size|mem_p2align|table_size|table_p2align)\s*: (\d+)$", line)
    if m:
        dylink[m.group(1)] = int(m.group(2))
        return
    if current_list is None:
        return
    m = re.match(r"^  - (.*)$", line)
    if not m:
        return
    if current_list == "needed_dynlibs":
        dylink["needed"].append(m.group(1))
    else:
        fm = re.match(r"^(.*) \[ (.*) \]$", m.group(1))
        assert fm, f"unparsed dylink {current_list} line: {line!r}"
        dylink[current_list].append((fm.group(1), fm.group(2)))


def _memory(desc: str) -> dict:
    m = _MEMORY_RE.match(desc)
    assert m, f"unparsed memory: {desc!r}"
    return {"min": int(m.group(1)), "max": None if m.group(2) is None else int(m.group(2)),
            "shared": bool(m.group(3)), "is64": bool(m.group(4))}


def _table(desc: str) -> dict:
    m = _TABLE_RE.match(desc)
    assert m, f"unparsed table: {desc!r}"
    return {"elem_type": m.group(1), "min": int(m.group(2)), "max": None if m.group(3) is None else int(m.group(3))}


# --------------------------------------------------------------------------------------------
# Running wasm-objdump
# --------------------------------------------------------------------------------------------

def objdump(path: Path, mode: str) -> str:
    tool = shutil.which("wasm-objdump")
    if tool is None:
        pytest.skip("wasm-objdump not found: install the wabt package (wabt 1.0.32)")
    proc = subprocess.run([tool, mode, str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, f"{path}: wasm-objdump {mode} failed: {proc.stderr.strip()}"
    return proc.stdout


@pytest.fixture
def module_path(request, reader_inputs) -> Path:
    source, value = request.param
    return reader_inputs.path(value) if source == "generated" else value


# --------------------------------------------------------------------------------------------
# The comparison
# --------------------------------------------------------------------------------------------

def compare(path: Path, headers: list[OdSection], details: OdDetails, mod: WasmModule) -> None:
    f = path.name

    # sections (-h)
    assert headers, f"{f}: sections: objdump -h output had no section lines"
    assert [s.name for s in headers] == [s.name for s in mod.sections], f"{f}: section names"
    for i, (od, rd) in enumerate(zip(headers, mod.sections)):
        where = f"{f}: section[{i}] {rd.name}"
        assert od.start == rd.payload_offset, f"{where}: start (payload offset)"
        assert od.end == rd.end, f"{where}: end"
        assert od.size == rd.size, f"{where}: size"
        if rd.name == "start":
            assert od.start_func == mod.start, f"{where}: start function"
        elif rd.name == "datacount":
            assert od.count == mod.data_count, f"{where}: data count"
        elif rd.id != 0:
            assert od.count == rd.count, f"{where}: count"

    # imports
    assert len(details.imports) == len(mod.imports), f"{f}: import count"
    per_kind: dict[str, int] = {}
    for i, (od, imp) in enumerate(zip(details.imports, mod.imports)):
        where = f"{f}: import[{i}] {imp.module}.{imp.field}"
        assert od["qualified"] == f"{imp.module}.{imp.field}", f"{where}: module.field"
        assert od["kind"] == imp.kind, f"{where}: kind"
        assert od["index"] == per_kind.get(imp.kind, 0), f"{where}: index in the {imp.kind} space"
        per_kind[imp.kind] = per_kind.get(imp.kind, 0) + 1
        if imp.kind in ("func", "tag"):
            assert od["sig"] == imp.desc, f"{where}: sig (type index)"
        elif imp.kind == "global":
            assert isinstance(imp.desc, GlobalType)
            assert (od["type"], od["mutable"]) == (imp.desc.val_type, imp.desc.mutable), f"{where}: global type/mutability"
        elif imp.kind == "memory":
            assert isinstance(imp.desc, MemoryType)
            lim = imp.desc.limits
            assert (od["min"], od["max"], od["shared"], od["is64"]) == (lim.min, lim.max, lim.shared, lim.is64), \
                f"{where}: memory limits"
        else:
            assert isinstance(imp.desc, TableType)
            lim = imp.desc.limits
            assert (od["elem_type"], od["min"], od["max"]) == (imp.desc.elem_type, lim.min, lim.max), \
                f"{where}: table type/limits"

    # defined functions, tables, memories, tags
    nfuncs = per_kind.get("func", 0)
    assert details.functions == [(nfuncs + i, t) for i, t in enumerate(mod.functions)], f"{f}: functions (index, sig)"
    ntables = per_kind.get("table", 0)
    assert [(t["index"], t["elem_type"], t["min"], t["max"]) for t in details.tables] == [
        (ntables + i, t.type.elem_type, t.type.limits.min, t.type.limits.max) for i, t in enumerate(mod.tables)
    ], f"{f}: tables"
    nmems = per_kind.get("memory", 0)
    assert [(m["index"], m["min"], m["max"], m["shared"], m["is64"]) for m in details.memories] == [
        (nmems + i, m.limits.min, m.limits.max, m.limits.shared, m.limits.is64) for i, m in enumerate(mod.memories)
    ], f"{f}: memories"
    ntags = per_kind.get("tag", 0)
    assert details.tags == [(ntags + i, t) for i, t in enumerate(mod.tags)], f"{f}: tags (index, sig)"

    # globals
    assert len(details.globals) == len(mod.globals), f"{f}: global count"
    nglobals = per_kind.get("global", 0)
    for i, (od, g) in enumerate(zip(details.globals, mod.globals)):
        where = f"{f}: global[{nglobals + i}]"
        assert od["index"] == nglobals + i, f"{where}: index"
        assert (od["type"], od["mutable"]) == (g.type.val_type, g.type.mutable), f"{where}: type/mutability"
        expected = reader_expr(g.init)
        if expected is not None:
            assert od["init"] == expected, f"{where}: init expression (objdump: {od['init_text']!r}, reader: {g.init})"

    # exports
    assert details.exports == [(e.kind, e.index, e.name) for e in mod.exports], f"{f}: exports (kind, index, name)"

    # start
    assert details.start == mod.start, f"{f}: start function index"
    assert details.data_count == mod.data_count, f"{f}: data count"

    # data segments
    assert len(details.data) == len(mod.data), f"{f}: data segment count"
    for i, (od, seg) in enumerate(zip(details.data, mod.data)):
        where = f"{f}: data segment[{i}]"
        assert od["index"] == i, f"{where}: index"
        assert od["passive"] == (seg.mode == "passive"), f"{where}: mode"
        assert od["size"] == len(seg.data), f"{where}: size"
        if seg.mode == "active":
            assert od["memory"] == seg.memory, f"{where}: memory index"
            expected = reader_expr(seg.offset_expr)
            if expected is not None:
                assert od["init"] == expected, \
                    f"{where}: offset expression (objdump: {od['init_text']!r}, reader: {seg.offset_expr})"

    # element segments
    assert len(details.elements) == len(mod.elements), f"{f}: element segment count"
    for i, (od, seg) in enumerate(zip(details.elements, mod.elements)):
        where = f"{f}: element segment[{i}]"
        assert od["index"] == i, f"{where}: index"
        assert od["table"] == seg.table, f"{where}: table index"
        passive_flag = bool(od["flags"] & 1)
        assert passive_flag == (seg.mode != "active"), f"{where}: mode ({seg.mode}, flags={od['flags']})"
        if seg.mode != "active":
            assert bool(od["flags"] & 2) == (seg.mode == "declarative"), f"{where}: passive/declarative"
        else:
            expected = reader_expr(seg.offset_expr)
            if expected is not None:
                assert od["init"] == expected, \
                    f"{where}: offset expression (objdump: {od['init_text']!r}, reader: {seg.offset_expr})"
        assert od["count"] == len(seg.items), f"{where}: item count"
        assert od["items"] == list(seg.items), f"{where}: function indices (None = ref.null)"

    # names (the name section only)
    assert details.names["func"] == mod.names.functions, f"{f}: function names (func[N] <name>)"
    assert details.names["global"] == mod.names.globals, f"{f}: global names"
    assert details.names["dataseg"] == mod.names.data_segments, f"{f}: data segment names"
    assert details.module_name == mod.names.module, f"{f}: module name"

    # dylink.0 / dylink
    assert (details.dylink is None) == (mod.dylink is None), f"{f}: dylink section present"
    if mod.dylink is not None:
        od, dl = details.dylink, mod.dylink
        where = f"{f}: {dl.format}"
        assert dl.format in details.customs, f"{where}: section name"
        assert od.get("mem_size") == dl.mem_size, f"{where}: mem_size"
        assert od.get("mem_p2align") == dl.mem_align, f"{where}: mem_p2align"
        assert od.get("table_size") == dl.table_size, f"{where}: table_size"
        assert od.get("table_p2align") == dl.table_align, f"{where}: table_p2align"
        assert od["needed"] == list(dl.needed), f"{where}: needed_dynlibs"
        assert od["exports"] == [(n, describe_symbol_flags(fl)) for n, fl in dl.export_info], \
            f"{where}: export info (name, flags text)"
        assert od["imports"] == [(f"{m}.{n}", describe_symbol_flags(fl)) for m, n, fl in dl.import_info], \
            f"{where}: import info (module.field, flags text)"
        # wabt 1.0.32 does not print RUNTIME_PATH; compare it only if a later wabt does.
        if "runtime_path" in od:
            assert od["runtime_path"] == list(dl.runtime_path), f"{where}: runtime_path"


@pytest.mark.parametrize("module_path", INPUTS, indirect=True)
def test_reader_matches_objdump(module_path: Path) -> None:
    headers = parse_headers(objdump(module_path, "-h"))
    details = parse_details(objdump(module_path, "-x"))
    compare(module_path, headers, details, read_module_file(module_path))


# --------------------------------------------------------------------------------------------
# The test can fail: the parser really parses, and a mismatch is caught
# --------------------------------------------------------------------------------------------

def test_objdump_parser_reads_known_module(reader_inputs) -> None:
    """Literal values for c_tls_weak_needed, independent of the reader."""
    path = reader_inputs.path("c_tls_weak_needed")
    headers = parse_headers(objdump(path, "-h"))
    details = parse_details(objdump(path, "-x"))
    f = path.name
    assert headers[0].name == "dylink.0" and headers[0].start == 10, f"{f}: first section header"
    assert len(details.imports) == 8, f"{f}: objdump parser found {len(details.imports)} imports, expected 8"
    assert details.imports[0] == {"kind": "memory", "index": 0, "qualified": "env.memory",
                                  "min": 1, "max": 65536, "shared": True, "is64": False}, f"{f}: memory import"
    assert {"kind": "func", "index": 1, "qualified": "env.maybe", "sig": 0} in details.imports, f"{f}: func import"
    assert ("func", 5, "use") in details.exports, f"{f}: export 'use'"
    assert details.start is not None and details.data_count == 2, f"{f}: start / data count"
    assert [d["passive"] for d in details.data] == [True, True], f"{f}: data segments"
    assert details.dylink == {
        "mem_size": 20, "mem_p2align": 2, "table_size": 0, "table_p2align": 0,
        "needed": ["c_libdep.so"], "needed_dynlibs_count": 1,
        "exports": [("tlsvar", "tls binding=global vis=default")], "exports_count": 1,
        "imports": [("env.maybe", "undefined binding=weak vis=default")], "imports_count": 1,
    }, f"{f}: dylink.0"
    assert details.names["func"][5] == "use", f"{f}: function names"


def test_objdump_parser_reads_extended_const(reader_inputs) -> None:
    path = reader_inputs.path("wat_features")
    details = parse_details(objdump(path, "-x"))
    f = path.name
    g0 = details.globals[0]
    assert g0["init_text"] == "(global.get 0 <__memory_base>, i32.const 4, i32.add)", f"{f}: global[3] init text"
    assert g0["init"] == (("global.get", 0), ("i32.const", 4), ("i32.add", None)), f"{f}: global[3] init"
    assert details.elements[0]["items"] == [1, 2] and details.elements[1]["items"] == [2, None], f"{f}: elem items"
    assert [e["flags"] for e in details.elements] == [0, 4, 6, 5, 3, 1], f"{f}: elem flags"
    assert details.tags == [(1, 2)], f"{f}: tags"


def test_comparison_detects_a_mismatch(reader_inputs) -> None:
    """objdump of one module against the reader's view of another must fail."""
    a, b = reader_inputs.path("c_basic"), reader_inputs.path("c_tls_weak_needed")
    headers, details = parse_headers(objdump(a, "-h")), parse_details(objdump(a, "-x"))
    compare(a, headers, details, read_module_file(a))  # the right pairing passes
    with pytest.raises(AssertionError, match="c_basic.so: section"):
        compare(a, headers, details, read_module_file(b))
    # a single wrong value deep in the module is caught too
    mod = read_module_file(b)
    headers_b, details_b = parse_headers(objdump(b, "-h")), parse_details(objdump(b, "-x"))
    details_b.dylink["exports"] = [("tlsvar", "binding=global vis=default tls")]
    with pytest.raises(AssertionError, match="export info"):
        compare(b, headers_b, details_b, mod)
